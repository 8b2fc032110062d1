#!/bin/bash
# The IMAP-core comparison (bench/core.py) for Dovecot and ternd in one run:
#   bench/run-core.sh [COUNT]      (default 20000 messages; the issue's figure is 100000)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BENCH_PROJECT=$(cd "$HERE/.." && pwd)
export BENCH_SHARED=$(cd "$BENCH_PROJECT/../shared/bench" && pwd)
export BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
export BENCH_DIR=$BENCH_SHARED
COUNT=${1:-20000}
"$HERE/setup.sh"
export BENCH_CORPUS=${BENCH_CORPUS:-$BENCH_HOME/data/corpus}
python3 "$BENCH_SHARED/corpus.py" --count "$COUNT" --out "$BENCH_CORPUS" >/dev/null
OUT=$BENCH_HOME/results/core-$(date +%Y%m%d-%H%M%S).jsonl
mkdir -p "$BENCH_HOME/results"
for profile in "$BENCH_SHARED/targets/dovecot.env" "$HERE/ours.env"; do
	( set -a; . "$profile"; set +a
	  bash -c "$BENCH_STOP_CMD" >/dev/null 2>&1 || true
	  bash -c "$BENCH_START_CMD"
	  python3 "$HERE/core.py" --count "$COUNT" --extra 200 --json-out "$OUT" | grep -v '^RESULT'
	  bash -c "$BENCH_STOP_CMD" )
done
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
a, b = rows[0], rows[1]
print("| metric | %s | %s | ratio |" % (a["target"], b["target"]))
print("|---|---|---|---|")
for k in a:
    if k in ("workload", "target", "time", "load_at_end") or not isinstance(a[k], (int, float)) or k not in b:
        continue
    ratio = b[k] / a[k] if a[k] else float("nan")
    print("| %s | %s | %s | %.2f |" % (k, a[k], b[k], ratio))
PY
