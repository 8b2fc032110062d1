#!/bin/bash
# Runs ../shared/bench workloads against Dovecot and ternd in one run, on
# the same machine and corpus, and prints the side-by-side table.
#   bench/run.sh [quick|full]     (WORKLOADS="append bigmbox" by default)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BENCH_PROJECT=$(cd "$HERE/.." && pwd)
SHARED=$(cd "$BENCH_PROJECT/../shared/bench" && pwd)
export BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
export WORKLOADS=${WORKLOADS:-"append"}
MODE=${1:-quick}
"$HERE/setup.sh"
mkdir -p "$BENCH_HOME/results"
export RESULT_JSON=${RESULT_JSON:-$BENCH_HOME/results/tern-$(date +%Y%m%d-%H%M%S)-$MODE.json}
"$SHARED/run.sh" "$MODE" dovecot "$HERE/ours.env"
python3 "$SHARED/compare.py" "$RESULT_JSON" --markdown
