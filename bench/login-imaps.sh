#!/bin/bash
# IMAPS login rate, Dovecot (high-performance login mode) and ternd side by
# side: LOGIN + SELECT + LOGOUT sessions per second (bench/login-imaps.py).
#   bench/login-imaps.sh [run]      CLIENTS="20 100" DURATION=30 CERT=rsa|ec
#   bench/login-imaps.sh start|stop (both instances up, for profiling by hand)
# Both servers run as private instances under $BENCH_HOME/login-imaps, with
# the same certificate, users and mailbox contents.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_PROJECT=$(cd "$HERE/.." && pwd)
# ../shared/bench from the project's root (/work/shared from a worktree in /work/wt)
if [ -z "${BENCH_SHARED:-}" ]; then
	for d in "$BENCH_PROJECT/../shared/bench" "$BENCH_PROJECT/../../shared/bench"; do
		[ -d "$d" ] && { BENCH_SHARED=$(cd "$d" && pwd); break; }
	done
fi
export BENCH_SHARED
export BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
TERND=${TERND:-$BENCH_PROJECT/build/release/src/ternd/ternd}
CLIENTS=${CLIENTS:-"20 100"}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
CERT=${CERT:-rsa}               # rsa: RSA 2048; ec: ECDSA P-256
USER_BASE=${USER_BASE:-401}
USERS=${USERS:-300}
MSGS=${MSGS:-10}                # messages in every user's INBOX
PROCS=${PROCS:-}                # client processes (default: login-imaps.py's)
REPEAT=${REPEAT:-1}             # rounds; the ratios use the medians
EXTRA=${EXTRA:-}                # more login-imaps.py options, e.g. --resume
DOVECOT_PORT=${DOVECOT_PORT:-12994}
TERN_PORT=${TERN_PORT:-13994}
NCPU=$(nproc)

MODE=${1:-run}
W=$BENCH_HOME/login-imaps
DROOT=$W/dovecot
TROOT=$W/tern
if [ "$MODE" = stop ]; then
	"$DROOT/stop.sh" "$DROOT" >/dev/null 2>&1 || true
	[ -f "$TROOT/ternd.pid" ] && kill "$(cat "$TROOT/ternd.pid")" 2>/dev/null && rm -f "$TROOT/ternd.pid"
	exit 0
fi
[ -x "$TERND" ] || { echo "no ternd at $TERND (set TERND=, a release build)" >&2; exit 1; }
for port in "$DOVECOT_PORT" "$TERN_PORT"; do
	if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
		echo "port $port is busy (a previous run still up? see $W)" >&2; exit 1
	fi
done
mkdir -p "$W" "$BENCH_HOME/results"

# one certificate for both servers
KEY=$W/$CERT-key.pem
CRT=$W/$CERT-cert.pem
if [ ! -s "$CRT" ]; then
	case $CERT in
	rsa) alg=(-newkey rsa:2048) ;;
	ec) alg=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	*) echo "CERT is rsa or ec" >&2; exit 64 ;;
	esac
	openssl req -x509 "${alg[@]}" -nodes -days 3650 -subj /CN=bench.test \
		-keyout "$KEY" -out "$CRT" 2>/dev/null
	chmod 0644 "$CRT"; chmod 0600 "$KEY"
fi

# Dovecot: a second private instance made from the shared config (its
# plaintext listeners off) plus bench/login-imaps-dovecot.conf.in as local.conf
IMAP_PORT=0 POP3_PORT=0 LMTP_PORT=0 "$BENCH_SHARED/servers/dovecot/setup.sh" "$DROOT" 2000 >/dev/null
sed -e "s|@CERT@|$CRT|" -e "s|@KEY@|$KEY|" -e "s|@PORT@|$DOVECOT_PORT|" -e "s|@NCPU@|$NCPU|" \
	"$HERE/login-imaps-dovecot.conf.in" > "$DROOT/local.conf"
doveconf -c "$DROOT/dovecot.conf" -n > "$DROOT/doveconf-n.txt"

# ternd: bench/tern.conf.in plus bench/login-imaps-tern.conf.in, own base_dir
mkdir -p "$TROOT"
{ sed -e "s|@ROOT@|$TROOT|g" "$HERE/tern.conf.in"
  sed -e "s|@CERT@|$CRT|" -e "s|@KEY@|$KEY|" -e "s|@PORT@|$TERN_PORT|" -e "s|@NCPU@|$NCPU|" \
	"$HERE/login-imaps-tern.conf.in"; } > "$TROOT/tern.conf"
if [ ! -s "$TROOT/users" ]; then
	for i in $(seq 1 2000); do echo "bench$i:{PLAIN}pass::::::"; done > "$TROOT/users"
fi
"$TERND" --check "$TROOT/tern.conf"

tern_start() {
	(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	 setsid "$TERND" -F -c "$TROOT/tern.conf" >>"$TROOT/ternd.log" 2>&1 < /dev/null &
	 echo $! > "$TROOT/ternd.pid")
	for _ in $(seq 1 100); do
		(exec 3<>/dev/tcp/127.0.0.1/"$TERN_PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "ternd did not start; see $TROOT/ternd.log" >&2; return 1
}
tern_stop() {
	[ -f "$TROOT/ternd.pid" ] || return 0
	local pid; pid=$(cat "$TROOT/ternd.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$TROOT/ternd.pid"
}
stop_all() {
	"$DROOT/stop.sh" "$DROOT" >/dev/null 2>&1 || true
	tern_stop
}
[ "$MODE" = start ] || trap stop_all EXIT
"$DROOT/start.sh" "$DROOT" >/dev/null
tern_start
for _ in $(seq 1 50); do
	(exec 3<>/dev/tcp/127.0.0.1/"$DOVECOT_PORT") 2>/dev/null && break
	sleep 0.1
done
if [ "$MODE" = start ]; then
	echo "dovecot imaps :$DOVECOT_PORT ($DROOT), ternd imaps :$TERN_PORT ($TROOT)"
	exit 0
fi

OUT=$BENCH_HOME/results/login-imaps-$(date +%Y%m%d-%H%M%S)
PY="python3 $HERE/login-imaps.py --user-base $USER_BASE --users $USERS"
$PY --port "$DOVECOT_PORT" --label dovecot-2.3.19 --prefill "$MSGS"
$PY --port "$TERN_PORT" --label ternd --prefill "$MSGS"

# interleaved: at each level Dovecot, then ternd
for c in $(for _ in $(seq 1 "$REPEAT"); do echo $CLIENTS; done); do
	for t in dovecot ternd; do
		if [ $t = dovecot ]; then
			args=(--port "$DOVECOT_PORT" --label dovecot-2.3.19 --server-pidfile "$DROOT/run/master.pid")
		else
			args=(--port "$TERN_PORT" --label ternd --server-pidfile "$TROOT/ternd.pid")
		fi
		# shellcheck disable=SC2086
		$PY "${args[@]}" --clients "$c" --duration "$DURATION" --warmup "$WARMUP" \
			${PROCS:+--procs "$PROCS"} $EXTRA --json-out "$OUT.jsonl" | grep -v '^RESULT'
	done
done

python3 - "$OUT.jsonl" "$OUT.json" "$CERT" "$DROOT/doveconf-n.txt" "$TROOT/tern.conf" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cfg = {"cert": sys.argv[3], "dovecot_config": open(sys.argv[4]).read(), "ternd_config": open(sys.argv[5]).read()}
print("| clients | target | sessions/s | server CPU ms/session | client CPU ms/session | other tenants' CPU s | "
      "login p50/p99 ms | tls p50/p99 ms | select p50/p99 ms | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    lat = r["lat"]
    def pp(k):
        v = lat.get(k, {})
        return "%s/%s" % (v.get("p50_ms"), v.get("p99_ms"))
    print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
        r["clients"], r["target"], r["sessions_per_s"], r.get("server_cpu_ms_per_session"),
        r["client_cpu_ms_per_session"], r.get("other_cpu_s"), pp("login"), pp("tls"), pp("select"), r["errors"]))
print()
print("| clients | rounds | ternd/Dovecot sessions/s | ternd/Dovecot server CPU per session | TLS (Dovecot / ternd) |")
print("|---|---|---|---|---|")
by = {}
for r in rows:
    by.setdefault(r["clients"], {}).setdefault(r["target"], []).append(r)
pairs = []
med = lambda rs, k: statistics.median(r[k] for r in rs)
for c, d in by.items():
    if "ternd" not in d or "dovecot-2.3.19" not in d:
        continue
    t, v = d["ternd"], d["dovecot-2.3.19"]
    ratio = {"clients": c, "rounds": len(t),
             "sessions_per_s": round(med(t, "sessions_per_s") / med(v, "sessions_per_s"), 3),
             "server_cpu_per_session": round(med(t, "server_cpu_ms_per_session") /
                                             med(v, "server_cpu_ms_per_session"), 3)}
    pairs.append(ratio)
    tls = "%s %s / %s %s" % (v[0].get("tls_version"), v[0].get("tls_cipher"), t[0].get("tls_version"),
                             t[0].get("tls_cipher"))
    print("| %d | %d | %.2f | %.2f | %s |" % (c, len(t), ratio["sessions_per_s"], ratio["server_cpu_per_session"], tls))
json.dump({"workload": "login-imaps", "config": cfg, "rows": rows, "ratios": pairs}, open(sys.argv[2], "w"), indent=1)
print("\nresults: %s (.jsonl: raw rows)" % sys.argv[2])
PY
