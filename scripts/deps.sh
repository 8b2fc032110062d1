#!/bin/sh
# Installs the Debian packages Tern needs to build, run and test, printing
# what it installs. Usage: scripts/deps.sh build|check
# Not root: prints the missing packages and the command to install them.
set -eu

build_pkgs="build-essential clang cmake ninja-build pkg-config libssl-dev libsqlite3-dev
libgsasl-dev libcrypt-dev libargon2-dev zlib1g-dev libunistring-dev openssl
libldap-dev libpam0g-dev libpq-dev"
# SASL OAUTHBEARER/XOAUTH2: JSON (JWTs, introspection answers) and HTTP
build_pkgs="$build_pkgs libjson-c-dev libcurl4-openssl-dev"
# real clients and the reference server the tests compare against
check_pkgs="$build_pkgs libclang-rt-dev python3 python3-pytest curl isync offlineimap3
fetchmail getmail6 dovecot-imapd dovecot-pop3d
slapd ldap-utils postgresql postfix sieve-connect"

case "${1:-build}" in
	build) want=$build_pkgs ;;
	check) want=$check_pkgs ;;
	*) echo "usage: $0 build|check" >&2; exit 64 ;;
esac

# the unprivileged user of the login processes (login_user): ternd refuses
# to start as root without it
if [ "$(id -u)" = 0 ] && ! getent passwd tern-login >/dev/null; then
	echo "Creating the system user tern-login (login_user)"
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin tern-login
fi

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "Tern needs these Debian packages:$missing" >&2
	echo "Install them as root with:  apt-get install$missing" >&2
	exit 1
fi
echo "Installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# refresh the package lists when they are missing or a day old
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -qq
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# the tests start private Dovecot instances; the packaged system one is not ours to run
case "$missing" in
	*dovecot*) systemctl disable --now dovecot >/dev/null 2>&1 || pkill -x dovecot || true ;;
esac
# likewise the tests start private slapd instances (its init script stops only its own pid)
case "$missing" in
	*slapd*) systemctl disable --now slapd >/dev/null 2>&1 || service slapd stop >/dev/null 2>&1 || true ;;
esac
# likewise PostgreSQL: the sql tests run their own server in a temp dir
case "$missing" in
	*postgresql*) systemctl disable --now postgresql >/dev/null 2>&1 || true ;;
esac
# and Postfix: the SMTP AUTH and LMTP tests run private instances
case "$missing" in
	*postfix*) systemctl disable --now postfix >/dev/null 2>&1 || postfix stop >/dev/null 2>&1 || true ;;
esac
echo "Installed:$missing"
