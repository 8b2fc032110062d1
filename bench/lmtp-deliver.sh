#!/bin/bash
# The LMTP delivery benchmark of issue 9, Dovecot and ternd side by side in
# one run: 10,000 corpus messages over 8 parallel LMTP connections to 100
# users (../shared/bench/deliver.py) with a Sieve script active for every
# recipient, then delivery into a 90,000-message INBOX against an empty one
# (bench/lmtp-bigmbox.py). Prints the table with the ratios.
#   bench/lmtp-deliver.sh                 STEPS="deliver bigmbox" by default
#   COUNT=2000 STEPS=deliver TARGETS=ternd bench/lmtp-deliver.sh
# SHARED_BENCH is the shared suite (default ../shared/bench), TERND the
# binary (default build/release), BENCH_HOME the instances' data.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BENCH_PROJECT=$(cd "$HERE/.." && pwd)
export BENCH_DIR=$(cd "${SHARED_BENCH:-$BENCH_PROJECT/../shared/bench}" && pwd)
export BENCH_HOME=${BENCH_HOME:-/var/tmp/tern-bench}
export BENCH_CORPUS=${BENCH_CORPUS:-$BENCH_HOME/data/corpus}
COUNT=${COUNT:-10000}
CONNS=${CONNS:-8}
BIG=${BIG:-90000}
NEW=${NEW:-300}
STEPS=${STEPS:-"deliver bigmbox"}
TARGETS=${TARGETS:-"dovecot ternd"}
DELIVER_USERS=$(seq 101 200)
BIG_USERS="3 4"
mkdir -p "$BENCH_HOME/results"
OUT=${RESULT_JSONL:-$BENCH_HOME/results/lmtp-$(date +%Y%m%d-%H%M%S).jsonl}

"$HERE/setup.sh" >/dev/null
python3 "$BENCH_DIR/corpus.py" --out "$BENCH_CORPUS" --count $((BIG > COUNT ? 100000 : COUNT)) | tail -1

# The user's Sieve script: evaluated for every message, never true for the
# corpus (whose messages must all stay in INBOX for the counts to verify).
SCRIPT='require ["fileinto"];
if anyof (header :contains "subject" "[SPAM]", header :is "X-Spam-Flag" "YES") {
  fileinto "Junk";
  stop;
}
keep;
'
DOVECOT_ROOT=$BENCH_HOME/dovecot
TERN_ROOT=$BENCH_HOME/tern
# Pigeonhole at LMTP for the bench's Dovecot, through the include_try hook
# of the shared dovecot.conf (the shared files stay untouched)
cat > "$DOVECOT_ROOT/local.conf" <<'EOF'
# written by bench/lmtp-deliver.sh: Sieve at LMTP delivery
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
EOF
for n in $DELIVER_USERS $BIG_USERS; do
	for home in "$DOVECOT_ROOT/mail/bench$n" "$TERN_ROOT/var/mail/bench$n"; do
		mkdir -p "$home"
		printf '%s' "$SCRIPT" > "$home/.dovecot.sieve"
	done
	chown vmail:vmail "$DOVECOT_ROOT/mail/bench$n" "$DOVECOT_ROOT/mail/bench$n/.dovecot.sieve"
done

for tgt in $TARGETS; do
	case $tgt in
	dovecot) profile=$BENCH_DIR/targets/dovecot.env ;;
	ternd) profile=$HERE/ours.env ;;
	*) echo "unknown target $tgt" >&2; exit 64 ;;
	esac
	(
		set -a
		# shellcheck disable=SC1090
		. "$profile"
		set +a
		export BENCH_JSON_OUT=$OUT
		bash -c "$BENCH_RESTART_CMD" </dev/null >/dev/null 2>&1
		sleep 2
		for step in $STEPS; do
			case $step in
			deliver)
				python3 "$BENCH_DIR/deliver.py" --count "$COUNT" --conns "$CONNS" \
					--users 100 --user-base 101 ;;
			bigmbox)
				python3 "$HERE/lmtp-bigmbox.py" --big "$BIG" --new "$NEW" ;;
			*) echo "unknown step $step" >&2; exit 64 ;;
			esac
		done
	)
done
echo
echo "results: $OUT"
python3 "$HERE/lmtp-bigmbox.py" --report "$OUT"
