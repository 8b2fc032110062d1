#!/bin/bash
# start | stop the benchmark's ternd instance (release build).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${BENCH_HOME:-/var/tmp/tern-bench}/tern
TERND=${TERND:-$HERE/../build/release/src/ternd/ternd}
case "${1:-}" in
start)
	[ -f "$ROOT/ternd.pid" ] && kill -0 "$(cat "$ROOT/ternd.pid")" 2>/dev/null && exit 0
	setsid "$TERND" -F -c "$ROOT/tern.conf" >>"$ROOT/ternd.log" 2>&1 < /dev/null &
	echo $! > "$ROOT/ternd.pid"
	for _ in $(seq 1 100); do
		(exec 3<>/dev/tcp/127.0.0.1/13143) 2>/dev/null && exit 0
		sleep 0.1
	done
	echo "ternd did not start; see $ROOT/ternd.log" >&2
	exit 1 ;;
stop)
	[ -f "$ROOT/ternd.pid" ] || exit 0
	pid=$(cat "$ROOT/ternd.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$ROOT/ternd.pid" ;;
*)
	echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
