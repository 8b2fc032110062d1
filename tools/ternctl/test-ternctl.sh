#!/bin/sh
# Tests of ternctl's user and pw commands: output, exit statuses (0 ok,
# 64 usage, 67 no such user, 1 other) and the passwd-file they leave.
# usage: test-ternctl.sh PATH-TO-TERNCTL
ternctl=$1
dir=$(mktemp -d /tmp/test-ternctl.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
file=$dir/etc/users
passed=0
failed=0

# expect STATUS DESCRIPTION COMMAND...: runs COMMAND, checks its status
expect() {
	want=$1; what=$2; shift 2
	"$@" >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1)); echo "ok   $what"
	else
		failed=$((failed + 1)); echo "FAIL $what (status $got, expected $want)"
		cat "$dir/err"
	fi
}

check() {
	if eval "$2"; then
		passed=$((passed + 1)); echo "ok   $1"
	else
		failed=$((failed + 1)); echo "FAIL $1"
	fi
}

expect 64 "no command" "$ternctl"
expect 64 "unknown command" "$ternctl" frob
expect 0 "help" "$ternctl" --help
expect 0 "pw" "$ternctl" pw -s SSHA512 -p secret
check "pw output" 'grep -q "^{SSHA512}" "$dir/out"'
expect 0 "pw from stdin" sh -c "echo 'my pass' | '$ternctl' pw -s PLAIN"
check "pw stdin output" '[ "$(cat "$dir/out")" = "{PLAIN}my pass" ]'
expect 1 "pw empty stdin" sh -c "'$ternctl' pw </dev/null"
expect 64 "pw unknown scheme" "$ternctl" pw -s NOSUCH -p x
expect 0 "pw list" "$ternctl" pw -l
check "pw list output" 'grep -q "SHA512-CRYPT" "$dir/out"'

# without --passwd-file, the configuration's auth.passwd_file is used
printf 'base_dir = %s/var\nauth {\n  default_scheme = SSHA256\n}\n' "$dir" > "$dir/tern.conf"
expect 0 "user add from config" "$ternctl" -c "$dir/tern.conf" user add carol pw
check "config passwd-file written" 'grep -q "^carol:{SSHA256}" "$dir/var/passwd"'
expect 0 "config check" "$ternctl" config check "$dir/tern.conf"
expect 0 "config dump -n" "$ternctl" -c "$dir/tern.conf" config dump -n
check "config dump output" 'grep -q "default_scheme = SSHA256" "$dir/out"'
printf 'imap {\n  max_line_length = lots\n}\n' > "$dir/bad.conf"
expect 1 "config check bad" "$ternctl" config check "$dir/bad.conf"
expect 64 "config unknown subcommand" "$ternctl" config frob
expect 64 "user unknown subcommand" "$ternctl" user frob --passwd-file "$file"
expect 0 "user list missing file" "$ternctl" user list --passwd-file "$file"
expect 0 "user add generated" "$ternctl" user add alice --passwd-file "$file"
check "generated password printed" '[ "$(wc -c <"$dir/out")" -eq 17 ]'
check "file created 0640" '[ "$(stat -c %a "$file")" = 640 ]'
expect 0 "user add with password" "$ternctl" user add bob@example.com pw \
	--passwd-file "$file" --home /home/bob -s PLAIN
check "line written" 'grep -qx "bob@example.com:{PLAIN}pw::::/home/bob::" "$file"'
expect 1 "user add existing" "$ternctl" user add alice x --passwd-file "$file"
expect 64 "user add bad name" "$ternctl" user add "a b" x --passwd-file "$file"
expect 0 "user passwd" "$ternctl" user passwd bob@example.com new -s PLAIN --passwd-file "$file"
check "password changed" 'grep -qx "bob@example.com:{PLAIN}new::::/home/bob::" "$file"'
expect 0 "user passwd from stdin" sh -c "echo newer | '$ternctl' user passwd bob@example.com -s PLAIN --passwd-file '$file'"
check "password changed again" 'grep -q "^bob@example.com:{PLAIN}newer:" "$file"'
expect 67 "user passwd unknown" "$ternctl" user passwd nobody x --passwd-file "$file"
expect 0 "user list" "$ternctl" user list --passwd-file "$file"
check "list output" '[ "$(cat "$dir/out" | tr "\n" " ")" = "alice bob@example.com " ]'
expect 0 "user del" "$ternctl" user del alice --passwd-file "$file"
expect 67 "user del unknown" "$ternctl" user del alice --passwd-file "$file"
check "only bob left" '[ "$(grep -c . "$file")" = 1 ]'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
