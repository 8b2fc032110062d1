#!/bin/bash
# The LMTP delivery benchmark of issue 9, Dovecot and ternd side by side in
# one run: 10,000 corpus messages over 8 parallel LMTP connections to 100
# users (../shared/bench/deliver.py) with a Sieve script active for every
# recipient, then delivery into a 90,000-message INBOX against an empty one
# (bench/lmtp-bigmbox.py). Prints the table with the ratios.
#   bench/lmtp-deliver.sh                 STEPS="deliver bigmbox" by default
#   COUNT=2000 STEPS=deliver TARGETS=ternd ROUNDS=1 bench/lmtp-deliver.sh
#   RCPTS=5 COUNT=2000 STEPS=deliver bench/lmtp-deliver.sh   (recipients per message)
# Targets: dovecot, ternd, ternd-notext (index_text_at_save = no, as the
# bench's Dovecot has no full-text index); TERN_CONF_EXTRA is appended to
# ternd's configuration.
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
RCPTS=${RCPTS:-1}
BIG=${BIG:-90000}
NEW=${NEW:-300}
STEPS=${STEPS:-"deliver bigmbox"}
TARGETS=${TARGETS:-"dovecot ternd ternd-notext"}
ROUNDS=${ROUNDS:-3}
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
# user n's home for target $1, made afresh (wipe) or kept, with the script
place_script() {
	local home
	case $1 in
	dovecot) home=$DOVECOT_ROOT/mail/bench$2 ;;
	ternd*) home=$TERN_ROOT/var/mail/bench$2 ;;
	esac
	[ "${3:-}" = wipe ] && rm -rf "$home"
	mkdir -p "$home"
	printf '%s' "$SCRIPT" > "$home/.dovecot.sieve"
	[ "$1" = dovecot ] && chown vmail:vmail "$home" "$home/.dovecot.sieve"
	return 0
}

# one server's run: restart on fresh storage for the 100 users, then the steps
run_target() {
	local tgt=$1 steps=$2 profile
	case $tgt in
	dovecot) profile=$BENCH_DIR/targets/dovecot.env ;;
	ternd | ternd-notext) profile=$HERE/ours.env ;;
	*) echo "unknown target $tgt" >&2; exit 64 ;;
	esac
	(
		set -a
		# shellcheck disable=SC1090
		. "$profile"
		set +a
		export BENCH_JSON_OUT=$OUT
		bash -c "$BENCH_STOP_CMD" </dev/null >/dev/null 2>&1
		if [ "$tgt" != dovecot ]; then
			BENCH_LABEL=$tgt
			sed -e "s|@ROOT@|$TERN_ROOT|g" "$HERE/tern.conf.in" > "$TERN_ROOT/tern.conf"
			[ -n "${TERN_CONF_EXTRA:-}" ] && printf '%b\n' "$TERN_CONF_EXTRA" >> "$TERN_ROOT/tern.conf"
			# Dovecot's bench instance has no full-text index at all
			[ "$tgt" = ternd-notext ] &&
				printf 'mail {\n  index_text_at_save = no\n}\n' >> "$TERN_ROOT/tern.conf"
		fi
		# the 100 users start without storage: an IMAP expunge (what
		# deliver.py's reset does) leaves each server's indexes and
		# caches behind, which would make every run differ from the last
		for n in $DELIVER_USERS; do place_script "$tgt" "$n" wipe; done
		for n in $BIG_USERS; do place_script "$tgt" "$n"; done
		bash -c "$BENCH_START_CMD" </dev/null >/dev/null 2>&1
		sleep 2
		for step in $steps; do
			case $step in
			deliver)
				python3 "$BENCH_DIR/deliver.py" --count "$COUNT" --conns "$CONNS" \
					--users 100 --user-base 101 --rcpts "$RCPTS"
				# ternd indexes the text in the background: its cost
				# after the replies counts too
				[ "$tgt" = dovecot ] ||
					python3 "$HERE/indexer-drain.py" --messages $((COUNT * RCPTS)) ;;
			bigmbox)
				python3 "$HERE/lmtp-bigmbox.py" --big "$BIG" --new "$NEW" ;;
			*) echo "unknown step $step" >&2; exit 64 ;;
			esac
		done
	)
}

# rounds alternate the servers, so that other load on a shared machine
# falls on all of them; the table shows medians and per-round ratios
for round in $(seq 1 "$ROUNDS"); do
	for tgt in $TARGETS; do
		if [ "$round" = 1 ]; then
			run_target "$tgt" "$STEPS"
		elif [[ " $STEPS " == *" deliver "* ]]; then
			run_target "$tgt" deliver
		fi
	done
done
echo
echo "results: $OUT"
python3 "$HERE/lmtp-bigmbox.py" --report "$OUT"
