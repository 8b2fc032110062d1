#!/bin/bash
# imaptest's stress mode against Dovecot and ternd, one after the other on
# the same machine, users and message source: for each of the default,
# own_msgs and own_flags checking modes it records imaptest's errors,
# commands per second and the servers' resident memory (all processes).
#   IMAPTEST=/path/to/imaptest bench/imaptest-stress.sh [SECS] [CLIENTS]
# imaptest (github.com/dovecot/imaptest) is not part of Tern: build it
# yourself outside this tree (its release-2.3 branch builds against
# Debian's dovecot-dev) and point IMAPTEST at the binary.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${1:-300}
CLIENTS=${2:-100}
IMAPTEST=${IMAPTEST:-$(command -v imaptest || true)}
if [ -z "$IMAPTEST" ] || [ ! -x "$IMAPTEST" ]; then
	echo "imaptest not found: set IMAPTEST=/path/to/imaptest" >&2
	exit 77
fi
export BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
SHARED=$(cd "$HERE/../../shared/bench" && pwd)
USER_N=${STRESS_USER:-1999}
OUT=$BENCH_HOME/results/imaptest-stress-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
"$HERE/setup.sh" >/dev/null

# the message source: 200 corpus messages as an mbox
MBOX=$BENCH_HOME/imaptest.mbox
if [ ! -s "$MBOX" ]; then
	python3 - "$BENCH_HOME/data/corpus/msgs/000" "$MBOX" <<'EOF'
import glob, sys
out = open(sys.argv[2] + ".tmp", "wb")
for path in sorted(glob.glob(sys.argv[1] + "/*"))[:200]:
    data = open(path, "rb").read().replace(b"\r\n", b"\n")
    out.write(b"From bench@example.org Thu Jan  1 00:00:00 2026\n")
    for line in data.split(b"\n"):
        # mboxrd quoting of body lines that look like separators
        out.write((b">" + line if line.lstrip(b">").startswith(b"From ") else line) + b"\n")
out.close()
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
EOF
fi

# resident memory (KiB) of a master process and all its descendants
rss_tree() {
	local pids
	pids=$(ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 } END {
			for (p in parent) { q = p; while (q != "" && q != root && q != 1 && q != 0) q = parent[q];
				if (q == root) print p } print root }')
	ps -o rss= -p "$(echo $pids | tr ' ' ',')" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

run_one() { # label port pidfile mode
	local label=$1 port=$2 pidfile=$3 mode=$4 log=$OUT/$1-$4.log
	local master peak=0 sum=0 samples=0
	master=$(cat "$pidfile")
	local extra=""
	[ "$mode" != default ] && extra=$mode
	"$IMAPTEST" host=127.0.0.1 port="$port" user="bench$USER_N" pass=pass \
		mbox="$MBOX" clients="$CLIENTS" secs="$SECS" $extra > "$log" 2>&1 &
	local tpid=$!
	while kill -0 "$tpid" 2>/dev/null; do
		local r; r=$(rss_tree "$master")
		[ "$r" -gt "$peak" ] && peak=$r
		sum=$((sum + r)); samples=$((samples + 1))
		sleep 2
	done
	wait "$tpid" || true
	local errors cmds
	errors=$(grep -c "Error:" "$log" || true)
	# imaptest's last "Totals" line holds the per-command counts
	cmds=$(awk '/^Totals:/ { t = 1; next } t && /^ *[0-9]+( +[0-9]+)+ *$/ { s = 0; for (i = 1; i <= NF; i++) s += $i; last = s } END { print last + 0 }' "$log")
	printf '| %s | %s | %d | %.0f | %d | %d |\n' "$label" "$mode" "$errors" \
		"$(echo "$cmds / $SECS" | bc -l)" "$((sum / (samples > 0 ? samples : 1) / 1024))" "$((peak / 1024))"
}

fresh_user() { # wipe the stress user's mail on both servers
	rm -rf "$BENCH_HOME/tern/var/mail/bench$USER_N" "$BENCH_HOME/dovecot/mail/bench$USER_N" \
		"$BENCH_HOME/dovecot/home/bench$USER_N" 2>/dev/null || true
}

echo "imaptest stress: $CLIENTS clients, $SECS s per mode, user bench$USER_N; logs in $OUT"
echo
echo "| server | mode | errors | commands/s | RSS avg MiB | RSS peak MiB |"
echo "|---|---|---|---|---|---|"
"$SHARED/servers/dovecot/start.sh" "$BENCH_HOME/dovecot" >/dev/null
for mode in default own_msgs own_flags; do
	fresh_user
	run_one dovecot 12143 "$BENCH_HOME/dovecot/run/master.pid" "$mode"
done
"$SHARED/servers/dovecot/stop.sh" "$BENCH_HOME/dovecot" >/dev/null || true
"$HERE/ternd-ctl.sh" start
for mode in default own_msgs own_flags; do
	fresh_user
	run_one ternd 13143 "$BENCH_HOME/tern/ternd.pid" "$mode"
done
"$HERE/ternd-ctl.sh" stop
