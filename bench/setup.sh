#!/bin/bash
# Prepares both benchmark targets: Debian's Dovecot (a private instance,
# through ../shared/bench/servers/dovecot/setup.sh) and a ternd instance
# with the same 2,000 users, under $BENCH_HOME. Idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "${SHARED_BENCH:-$HERE/../../shared/bench}" && pwd)
export BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
ROOT=$BENCH_HOME/tern
NUSERS=${NUSERS:-2000}

missing=""
for p in dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "Installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	# the packaged system instance is not ours to run
	systemctl disable --now dovecot >/dev/null 2>&1 || pkill -x dovecot || true
fi
"$SHARED/servers/dovecot/setup.sh" >/dev/null

mkdir -p "$ROOT"
sed -e "s|@ROOT@|$ROOT|g" "$HERE/tern.conf.in" > "$ROOT/tern.conf"
if [ ! -s "$ROOT/users" ] || [ "$(wc -l < "$ROOT/users")" -ne "$NUSERS" ]; then
	for i in $(seq 1 "$NUSERS"); do echo "bench$i:{PLAIN}pass::::::"; done > "$ROOT/users.tmp"
	mv "$ROOT/users.tmp" "$ROOT/users"
fi
echo "targets ready: dovecot (12143) and ternd (13143) under $BENCH_HOME"
