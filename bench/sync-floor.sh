#!/bin/bash
# The machine's CPU per delivery spent by the durability protocol alone
# (bench/sync-floor.c): Dovecot's (message file, new/ and dovecot-uidlist
# synced) against Tern's (message file, cur/ and the index WAL synced) and
# the syncfs() group commit tried instead of Tern's last two syncs, 8 processes,
# 10,000 messages of 50 kB (the LMTP benchmark's corpus mean) into 100
# Maildirs, rounds alternating; prints the medians. Each run writes into a
# fresh directory that ext4 places like a top-level one (chattr +T on the
# parent): ext4 without a journal skips inodes freed in the last minutes,
# and allocating among the previous run's freed ones costs several times
# the syncs measured here.
#   bench/sync-floor.sh      ROUNDS=3 PROCS=8 COUNT=10000 USERS=100 SIZE=50000
#                            PROTOCOLS="dovecot tern syncfs"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
ROUNDS=${ROUNDS:-3}
PROCS=${PROCS:-8}
COUNT=${COUNT:-10000}
USERS=${USERS:-100}
SIZE=${SIZE:-50000}
DATA=$BENCH_HOME/sync-floor
BIN=$BENCH_HOME/sync-floor-bin
mkdir -p "$BENCH_HOME"
cc -std=c17 -O2 -Wall -Wextra -o "$BIN" "$HERE/sync-floor.c"
rm -rf "$DATA"
mkdir -p "$DATA"
chattr +T "$DATA" 2>/dev/null || true
OUT=$(mktemp)
trap 'rm -rf "$DATA" "$OUT"' EXIT
run=0
for round in $(seq 1 "$ROUNDS"); do
	for proto in ${PROTOCOLS:-dovecot tern syncfs}; do
		run=$((run + 1))
		sync
		"$BIN" "$proto" "$DATA/run$run" "$PROCS" "$COUNT" "$USERS" "$SIZE" | tee -a "$OUT"
	done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for p in dict.fromkeys(r["protocol"] for r in runs):
    rs = [r for r in runs if r["protocol"] == p]
    med[p] = {k: statistics.median(r[k] for r in rs)
              for k in ("msgs_per_s", "machine_cpu_ms_per_msg", "process_cpu_ms_per_msg")}
print("| protocol | msg/s | machine CPU ms/msg | process CPU ms/msg |")
print("|---|---|---|---|")
for p, m in med.items():
    print(f"| {p} | {m['msgs_per_s']:.0f} | {m['machine_cpu_ms_per_msg']:.3f} | {m['process_cpu_ms_per_msg']:.3f} |")
if "tern" in med and "dovecot" in med:
    d = med["tern"]["machine_cpu_ms_per_msg"] - med["dovecot"]["machine_cpu_ms_per_msg"]
    print(f"Tern's protocol costs {d:.3f} ms of machine CPU per message more than Dovecot's")
PY
