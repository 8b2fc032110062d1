"""Issue 8's login matrix: every SASL mechanism (and the IMAP LOGIN / POP3
USER+PASS commands) over IMAP AUTHENTICATE, POP3 AUTH and ManageSieve
AUTHENTICATE (after STARTTLS where TLS is needed), against every
backend: passwd-file, static passdb+userdb, SQL on SQLite and on a real
PostgreSQL, LDAP search+compare and LDAP auth-bind on a real slapd, and PAM
with a system user. One ternd per backend serves all of that backend's cells.

Mechanisms that need the stored secret (CRAM-MD5, SCRAM-*) succeed where
the passdb can hand it out and fail cleanly (NO [AUTHENTICATIONFAILED],
-ERR [AUTH], the log naming the passdb that can't) where it only verifies
(PAM, LDAP bind). OAUTHBEARER (an HS256 JWT) and EXTERNAL (a client
certificate) need only the user in the userdb. Each cell also checks a
wrong password, a bad token, a wrong channel binding or authorization
identity. Where a backend can store it, a second user has a {SCRAM-SHA-256}
password: PLAIN and SCRAM-SHA-256 work, SCRAM-SHA-1 and CRAM-MD5 fail and
the log says why. The mechanism clients and the servers come from the other
auth tests (test_sasl_mechs.py, test_auth_sql.py, ldaputil.py,
test_auth_pam.py).

SCRAM-SHA-1 runs without an initial response, SCRAM-SHA-256 with one (IMAP
SASL-IR, RFC 4959; POP3 AUTH's initial response, RFC 5034; ManageSieve's,
RFC 5804 §2.1)."""
import base64
import os
import pathlib
import pwd
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

import ldaputil
from conftest import Ternd, free_port
from imaputil import RawImap
from test_auth_ldap import ldap_block, quote, userdb as ldap_userdb
from test_auth_pam import PAM_DIR, UNIX_SERVICE, pam_config
from test_auth_sql import SCHEMA, Postgres, pg_bindir, pg_literal, sql_config
from test_sasl_mechs import (CramMd5, External, Login, OAuthBearer, Plain, Pop, Scram, b64,
                             claims_for, client_tls_context, imap_authenticate, jwt_hs256,
                             pop3_auth, ternctl_pw, tls_exporter)
from test_managesieve import RawSieve
from tlsutil import Pki, wait_log as tlsutil_wait_log

MECHS = ["LOGIN-command", "PLAIN", "PLAIN-no-ir", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1",
         "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "OAUTHBEARER", "EXTERNAL"]
NEEDS_CREDENTIALS = {"CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}
MECHANISMS = ("PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS "
              "OAUTHBEARER EXTERNAL")
BACKENDS = ["passwd-file", "static", "sqlite", "pgsql", "ldap-compare", "ldap-bind", "pam"]
# the user with a {SCRAM-SHA-256} stored password (check_stored_scram)
SAM, SAM_PW = "sam", "sam-scram-pw"


# ---- what all backends share: JWT secret, client CA, mechanisms ----

class Common:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.secret = self.dir / "jwt-secret"
        self.secret.write_bytes(b"a shared secret for HS256\n")
        self.pki = Pki(self.dir / "pki")
        self.ca = self.pki.ca("clientca")
        self.contexts = {}
        self.sam_hash = ternctl_pw("SCRAM-SHA-256", SAM_PW)

    def jwt(self, user, secret=None):
        key = secret or self.secret.read_bytes().strip()
        return jwt_hs256(claims_for(user), secret=key)

    def cert_context(self, user):
        """A TLS client context presenting a certificate with CN=user,
        issued by the CA ternd trusts."""
        if user not in self.contexts:
            crt, key = self.pki.cert("client-" + user, f"/CN={user}", self.ca, client=True)
            self.contexts[user] = client_tls_context(str(crt), str(key))
        return self.contexts[user]

    def config(self):
        return f"""
auth.mechanisms = {MECHANISMS}
auth.oauth2_jwt_secret_file = {self.secret}
tls.verify_client = optional
tls.client_ca_file = {self.ca[0]}
"""


@pytest.fixture(scope="module")
def common(tmp_path_factory):
    return Common(tmp_path_factory.mktemp("matrix-common"))


def reachable_dir(prefix, uid, gid):
    """A directory outside pytest's root-only temp tree that uid can use."""
    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    os.chown(path, uid, gid)
    path.chmod(0o755)
    return path


# ---- the servers some backends need, started once ----

@pytest.fixture(scope="module")
def slapd(tmp_path_factory, common):
    if not os.path.exists(ldaputil.SLAPD):
        pytest.skip("slapd is not installed")
    d = tmp_path_factory.mktemp("matrix-slapd")
    srv = ldaputil.Slapd(d, d / "homes").start()
    try:
        srv.load_users()
        srv.ldapadd(f"""dn: uid={SAM},{ldaputil.PEOPLE}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: {SAM}
cn: Sam Example
sn: Example
uidNumber: 10099
gidNumber: {ldaputil.GID}
homeDirectory: {srv.homes / SAM}
userPassword: {common.sam_hash}
""")
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def postgres():
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pg = Postgres(bindir)
    try:
        pg.init()
        pg.start()
        pg.psql("CREATE DATABASE mail", db="postgres")
        pg.psql(SCHEMA)
        yield pg
    finally:
        pg.cleanup()


@pytest.fixture(scope="module")
def system_user():
    """(name, password) of a fresh system user with a home it owns and a
    PAM service file for pam_unix: created for this module, removed after."""
    if (os.geteuid() != 0 or shutil.which("useradd") is None or
            not any(pathlib.Path(d, "pam_unix.so").exists()
                    for d in ("/lib/x86_64-linux-gnu/security",
                              "/usr/lib/x86_64-linux-gnu/security",
                              "/lib/security", "/usr/lib/security"))):
        pytest.skip("needs root, useradd and pam_unix")
    name = "tm" + secrets.token_hex(4)
    password = "Pw-" + secrets.token_hex(6)
    base = reachable_dir("tern-matrix-pam-", 0, 0)
    home = base / name
    service = PAM_DIR / ("tern-test-" + secrets.token_hex(4))
    subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    try:
        pw = pwd.getpwnam(name)
        home.mkdir(mode=0o700)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True,
                       check=True, capture_output=True)
        service.write_text(UNIX_SERVICE)
        yield name, password, service.name
    finally:
        service.unlink(missing_ok=True)
        subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# ---- one ternd per backend ----

class Backend:
    def __init__(self, name, srv, user, password, credentials, everyone=False,
                 sam=False, blind_reason=None, passdb=None):
        self.name, self.srv = name, srv
        # the user of the matrix and that user's password
        self.user, self.password = user, password
        # can the passdb hand out the stored secret (CRAM-MD5, SCRAM)?
        self.credentials = credentials
        # does the userdb know every name (static)?
        self.everyone = everyone
        # is there a user SAM with a {SCRAM-SHA-256} stored password?
        self.sam = sam
        # without credentials: the reason logged for CRAM-MD5 and SCRAM
        # ("%s" is the mechanism)
        self.blind_reason = blind_reason
        # the passdb block's name, as the log shows it
        self.passdb = passdb


def sql_rows(homes, uid, gid, sam_hash):
    """(username, password, home, uid, gid, quota_rule, nologin, reason)."""
    return [("alice", "{PLAIN}secret", str(homes / "alice"), uid, gid, None, None, None),
            (SAM, sam_hash, str(homes / SAM), uid, gid, None, None, None)]


def setup_passwd_file(request, common, d):
    srv = Ternd(d, users={}, pop3=True, process_count=1, config_extra=common.config() + """
passdb users {
  driver = passwd-file
  args = passwd
}
userdb users {
  driver = passwd-file
  args = passwd
}
""")
    srv.passwd_path.write_text(f"alice:{{PLAIN}}secret::::::\n{SAM}:{common.sam_hash}::::::\n")
    return Backend("passwd-file", srv, "alice", "secret", credentials=True, sam=True,
                   passdb="users"), None


def setup_static(request, common, d):
    srv = Ternd(d, users={}, pop3=True, process_count=1, config_extra=common.config() + f"""
passdb everyone {{
  driver = static
  args = password={{PLAIN}}secret
}}
userdb everyone {{
  driver = static
  args = home={d}/homes/%u
}}
""")
    return Backend("static", srv, "alice", "secret", credentials=True, everyone=True), None


def setup_sqlite(request, common, d):
    srv = Ternd(d, users={}, pop3=True, process_count=1,
                config_extra=common.config() + sql_config("sqlite", "users.db"))
    db = sqlite3.connect(srv.base / "users.db")
    db.execute(SCHEMA)
    # NULL uid/gid: the mail process runs as the master's own
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   sql_rows(d / "homes", None, None, common.sam_hash))
    db.commit()
    db.close()
    return Backend("sqlite", srv, "alice", "secret", credentials=True, sam=True,
                   passdb="users"), None


def setup_pgsql(request, common, d):
    pg = request.getfixturevalue("postgres")
    # an unprivileged uid this time, with homes it can reach
    nobody = pwd.getpwnam("nobody")
    homes = reachable_dir("tern-matrix-homes-", nobody.pw_uid, nobody.pw_gid)
    pg.psql("DELETE FROM users")
    values = ", ".join("(" + ", ".join(pg_literal(v) for v in row) + ")"
                       for row in sql_rows(homes, nobody.pw_uid, nobody.pw_gid,
                                           common.sam_hash))
    pg.psql(f"INSERT INTO users VALUES {values}")
    srv = Ternd(d, users={}, pop3=True, process_count=1,
                config_extra=common.config() + sql_config("pgsql", pg.connect_string()))
    return (Backend("pgsql", srv, "alice", "secret", credentials=True, sam=True,
                    passdb="users"),
            lambda: shutil.rmtree(homes, ignore_errors=True))


def setup_ldap_compare(request, common, d):
    slapd = request.getfixturevalue("slapd")
    # carol's userPassword is plaintext without a {SCHEME}; sam's is
    # {SCRAM-SHA-256}: ternd reads both and checks them itself
    srv = Ternd(d, users={}, pop3=True, process_count=1, config_extra=common.config() + ldap_block(
        "passdb", "people", slapd, default_password_scheme="PLAIN",
        ldap_pass_attrs="uid=user,userPassword=password") + ldap_userdb(slapd))
    return Backend("ldap-compare", srv, "carol", "carolpw", credentials=True, sam=True,
                   passdb="people"), None


def setup_ldap_bind(request, common, d):
    slapd = request.getfixturevalue("slapd")
    # anonymous search for the DN, then a bind as the user
    srv = Ternd(d, users={}, pop3=True, process_count=1, config_extra=common.config() + ldap_block(
        "passdb", "people", slapd, ldap_auth_bind="yes", ldap_bind_dn='""',
        ldap_bind_password='""') + ldap_userdb(slapd))
    # the passdb verifies by binding and hands out no password
    return Backend("ldap-bind", srv, "carol", "carolpw", credentials=False, sam=True,
                   blind_reason=("unknown user (passdb people can't hand out the "
                                 "credentials %s needs)")), None


def setup_pam(request, common, d):
    name, password, service = request.getfixturevalue("system_user")
    srv = Ternd(d, users={}, pop3=True, process_count=1,
                config_extra=common.config() + pam_config(service))
    return Backend("pam", srv, name, password, credentials=False, blind_reason=(
        "unknown user (passdb system can't hand out the credentials %s needs)")), None


SETUP = {"passwd-file": setup_passwd_file, "static": setup_static, "sqlite": setup_sqlite,
         "pgsql": setup_pgsql, "ldap-compare": setup_ldap_compare,
         "ldap-bind": setup_ldap_bind, "pam": setup_pam}


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory, common):
    d = tmp_path_factory.mktemp("matrix-" + request.param)
    b, cleanup = SETUP[request.param](request, common, d)
    b.common = common
    # ManageSieve, the third protocol of the matrix
    b.srv.sieve_port = free_port()
    b.srv.write_config(b.srv.config_extra + f"""
listener.managesieve.enabled = yes
listener.managesieve.port = {b.srv.sieve_port}
service.managesieve.process_count = 1
service.managesieve.max_userip_connections = 0
""")
    try:
        b.srv.start()
        yield b
    finally:
        try:
            b.srv.stop()
        finally:
            if cleanup is not None:
                cleanup()


def managesieve_authenticate(conn, mech, client, initial=True):
    """Runs AUTHENTICATE (RFC 5804 §2.1); returns the final line."""
    first = client.initial()
    if initial and first is not None:
        conn.send(f'AUTHENTICATE "{mech}" "{b64(first)}"\r\n')
        first = None
    else:
        conn.send(f'AUTHENTICATE "{mech}"\r\n')
    while True:
        line = conn.read_item()
        if not line.startswith(b'"'):
            return line
        challenge = base64.b64decode(line[1:-1])
        if first is not None:
            answer, first = first, None
        else:
            answer = client.respond(challenge)
        conn.send(f'"{b64(answer)}"\r\n')


# ---- one connection, IMAP, POP3 or ManageSieve ----

class Session:
    def __init__(self, backend, proto, tls=False, context=None):
        self.proto, self.srv = proto, backend.srv
        self.logged_in = False
        if proto == "imap":
            port = self.srv.imaps_port if tls else self.srv.imap_port
            if tls:
                raw = socket.create_connection(("127.0.0.1", port), timeout=10)
                self.conn = RawImap.__new__(RawImap)
                context = context or client_tls_context()
                self.conn.sock, self.conn.buf = context.wrap_socket(raw), b""
                self.conn.greeting = self.conn.readline()
            else:
                self.conn = RawImap(port)
        elif proto == "managesieve":
            # no implicit-TLS port: STARTTLS, as ManageSieve clients do
            self.conn = RawSieve(self.srv.sieve_port)
            if tls:
                self.conn.starttls(context or client_tls_context())
        else:
            port = self.srv.pop3s_port if tls else self.srv.pop3_port
            self.conn = Pop(port, tls=tls, context=context)

    def authenticate(self, mech, client, initial=True):
        if self.proto == "imap":
            return self._result(imap_authenticate(self.conn, mech, client, sasl_ir=initial))
        if self.proto == "managesieve":
            return self._result(managesieve_authenticate(self.conn, mech, client, initial))
        return self._result(pop3_auth(self.conn, mech, client, initial_response=initial))

    def login_command(self, user, password):
        """IMAP LOGIN, or POP3 USER and PASS."""
        if self.proto == "imap":
            _, line = self.conn.command("a", f"LOGIN {quote(user)} {quote(password)}")
            return self._result(line)
        reply = self.conn.cmd(f"USER {user}")
        assert reply.startswith(b"+OK"), reply
        return self._result(self.conn.cmd(f"PASS {password}"))

    def _result(self, line):
        """"ok", "fail" (a clean authentication failure) or "other"."""
        self.line = line
        ok, fail = {"imap": (b"a OK", b"a NO [AUTHENTICATIONFAILED]"),
                    "pop3": (b"+OK", b"-ERR [AUTH]"),
                    "managesieve": (b'OK "Logged in."', b'NO "Authentication failed."')
                    }[self.proto]
        if line.startswith(ok):
            self.logged_in = True
            return "ok"
        if line.startswith(fail):
            return "fail"
        return "other"

    def use_mailbox(self):
        if self.proto == "imap":
            _, tagged = self.conn.command("s", "SELECT INBOX")
            assert tagged.startswith(b"s OK"), tagged
        elif self.proto == "managesieve":
            # the script storage, written as the user's uid
            assert self.conn.putscript("matrix", b"keep;\r\n")[0] == "OK"
            assert self.conn.command('SETACTIVE "matrix"')[1][0] == "OK"
            assert self.conn.command("LISTSCRIPTS")[0] == [b'"matrix" ACTIVE']
        else:
            assert self.conn.cmd("STAT") == b"+OK 0 0"

    def close(self):
        try:
            if self.logged_in:
                # POP3's QUIT releases the maildrop for the next cell
                if self.proto == "imap":
                    self.conn.command("z", "LOGOUT")
                elif self.proto == "managesieve":
                    assert self.conn.command("LOGOUT")[1][0] == "OK"
                else:
                    assert self.conn.cmd("QUIT").startswith(b"+OK")
        finally:
            self.conn.close()


# ---- one attempt of a mechanism ----

def attempt(backend, proto, mech, variant):
    """Runs one login; variant is "good" or a way of getting it wrong.
    Returns (session, result, client)."""
    user, password = backend.user, backend.password
    common = backend.common
    if variant == "wrong password":
        password += "-wrong"
    if mech == "EXTERNAL":
        cert_user = "nosuch-user" if variant == "unknown user" else user
        s = Session(backend, proto, tls=True, context=common.cert_context(cert_user))
        # a good login names itself over POP3 and nobody over IMAP
        # and ManageSieve
        authzid = {"good": user if proto == "pop3" else "",
                   "other authzid": "postmaster"}.get(variant, "")
        client = External(authzid)
        return s, s.authenticate(mech, client), client
    if mech == "SCRAM-SHA-256-PLUS":
        s = Session(backend, proto, tls=True)
        source = s
        if variant == "other binding":
            # a man in the middle: the binding of another TLS connection
            source = Session(backend, proto, tls=True)
        client = Scram("sha256", user, password, cb=tls_exporter(source.conn.sock))
        if source is not s:
            source.close()
        return s, s.authenticate(mech, client), client
    s = Session(backend, proto)
    if mech == "LOGIN-command":
        return s, s.login_command(user, password), None
    if mech == "OAUTHBEARER":
        port = {"imap": backend.srv.imap_port, "pop3": backend.srv.pop3_port,
                "managesieve": backend.srv.sieve_port}[proto]
        if variant == "bad token":
            token = common.jwt(user, secret=b"not the secret")
        elif variant == "unknown user":
            user = "nosuch-user"
            token = common.jwt(user)
        else:
            token = common.jwt(user)
        client = OAuthBearer(user, token, port=port)
        return s, s.authenticate(mech, client), client
    client, initial = {
        "PLAIN": (Plain(user, password), True),
        "PLAIN-no-ir": (Plain(user, password), False),
        "LOGIN": (Login(user, password), True),
        "CRAM-MD5": (CramMd5(user, password), True),
        "SCRAM-SHA-1": (Scram("sha1", user, password), False),
        "SCRAM-SHA-256": (Scram("sha256", user, password), True),
    }[mech]
    return s, s.authenticate(mech.replace("-no-ir", ""), client, initial), client


def negative_variants(backend, mech):
    if mech == "EXTERNAL":
        return ["other authzid"] + ([] if backend.everyone else ["unknown user"])
    if mech == "OAUTHBEARER":
        return ["bad token"] + ([] if backend.everyone else ["unknown user"])
    if mech == "SCRAM-SHA-256-PLUS":
        return ["other binding", "wrong password"]
    return ["wrong password"]


def log_mech(mech):
    """The mech= the auth process logs for a matrix row."""
    if mech == "LOGIN-command":
        return "PLAIN"
    return mech.replace("-no-ir", "")


class LogWatch:
    """Counts a log line before an attempt and waits for one more after
    it: the auth process logs after the answer went out."""

    def __init__(self, srv, text):
        self.srv, self.text = srv, text
        self.before = srv.log_text().count(text)

    def wait(self, timeout=5):
        deadline = time.monotonic() + timeout
        while self.srv.log_text().count(self.text) <= self.before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.text!r} was not logged again:\n"
                                     f"{self.srv.log_text()[-3000:]}")
            time.sleep(0.02)


# ---- the matrix ----

def expect_ok(backend, mech):
    return backend.credentials or mech not in NEEDS_CREDENTIALS


def blind_reason(backend, mech):
    return backend.blind_reason.replace("%s", mech)


def check_good(backend, mech, proto):
    srv = backend.srv
    if expect_ok(backend, mech):
        watch = LogWatch(srv, f"user={backend.user} event=auth result=ok "
                              f"mech={log_mech(mech)} proto={proto}")
    else:
        # the passdb only verifies passwords: the log says why it failed
        watch = LogWatch(srv, f"user={backend.user} event=auth result=fail "
                              f"mech={log_mech(mech)} proto={proto} "
                              f'reason="{blind_reason(backend, log_mech(mech))}"')
    s, result, client = attempt(backend, proto, mech, "good")
    try:
        if expect_ok(backend, mech):
            assert result == "ok", (backend.name, mech, proto, s.line)
            if isinstance(client, Scram):
                assert client.verified, "the server's signature was checked"
            s.use_mailbox()
        else:
            assert result == "fail", (backend.name, mech, proto, s.line)
            if isinstance(client, Scram):
                assert not client.verified
    finally:
        s.close()
    watch.wait()


def check_negatives(backend, mech, proto):
    for variant in negative_variants(backend, mech):
        watch = LogWatch(backend.srv, f"event=auth result=fail mech={log_mech(mech)} "
                                      f"proto={proto}")
        s, result, client = attempt(backend, proto, mech, variant)
        try:
            assert result == "fail", (backend.name, mech, proto, variant, s.line)
            if isinstance(client, Scram):
                assert not client.verified
            if isinstance(client, OAuthBearer):
                # RFC 7628 §3.2.2: the error came as a challenge first
                assert client.error == {"status": "invalid_token", "schemes": "bearer"}
        finally:
            s.close()
        watch.wait()


STORED_SCRAM_CLIENTS = {
    "PLAIN": lambda: Plain(SAM, SAM_PW),
    "CRAM-MD5": lambda: CramMd5(SAM, SAM_PW),
    "SCRAM-SHA-1": lambda: Scram("sha1", SAM, SAM_PW),
    "SCRAM-SHA-256": lambda: Scram("sha256", SAM, SAM_PW),
}


def check_stored_scram(backend, mech, proto):
    """The user SAM, whose password is stored as {SCRAM-SHA-256}: PLAIN and
    SCRAM-SHA-256 work where the passdb hands the hash out, SCRAM-SHA-1
    and CRAM-MD5 can't use it and the log says so. slapd can't check a
    bind against such a userPassword: with auth-bind nothing works."""
    if mech not in STORED_SCRAM_CLIENTS or not backend.sam:
        return
    if not backend.credentials:
        want, line = "fail", (f"user={SAM} event=auth result=fail mech={mech} proto={proto}" +
                              ("" if mech == "PLAIN" else
                               f' reason="{blind_reason(backend, mech)}"'))
    elif mech in ("PLAIN", "SCRAM-SHA-256"):
        want, line = "ok", f"user={SAM} event=auth result=ok mech={mech} proto={proto}"
    else:
        want, line = "fail", (f"user={SAM} event=auth result=fail mech={mech} proto={proto} "
                              f'reason="passdb {backend.passdb}: stored as SCRAM-SHA-256, '
                              f"which {mech} can't use\"")
    watch = LogWatch(backend.srv, line)
    client = STORED_SCRAM_CLIENTS[mech]()
    s = Session(backend, proto)
    try:
        result = s.authenticate(mech, client)
        assert result == want, (backend.name, proto, mech, s.line)
        if want == "ok":
            s.use_mailbox()
        if isinstance(client, Scram):
            assert client.verified == (want == "ok")
    finally:
        s.close()
    watch.wait()


# ManageSieve has no plaintext login command, only AUTHENTICATE
MECH_PROTOS = [(mech, proto) for proto in ("imap", "pop3", "managesieve") for mech in MECHS
               if not (mech == "LOGIN-command" and proto == "managesieve")]


@pytest.mark.parametrize("mech,proto", MECH_PROTOS)
def test_login(backend, mech, proto):
    check_good(backend, mech, proto)
    check_negatives(backend, mech, proto)
    check_stored_scram(backend, mech, proto)


def test_ldap_bind_credentials_reason(request, tmp_path, common):
    """An auth-bind LDAP passdb never hands out passwords: CRAM-MD5 fails
    with the same reason as PAM. Its own ternd (a backend fixture with a
    subset of the params would upset pytest's grouping of the
    module-scoped servers)."""
    b, _ = setup_ldap_bind(request, common, tmp_path)
    b.srv.start()
    try:
        s = Session(b, "imap")
        try:
            assert s.authenticate("CRAM-MD5", CramMd5(b.user, b.password)) == "fail"
        finally:
            s.close()
        log = tlsutil_wait_log(b.srv, "event=auth result=fail mech=CRAM-MD5 proto=imap")
        assert ("reason=\"unknown user (passdb people can't hand out the credentials "
                "CRAM-MD5 needs)\"") in log
    finally:
        b.srv.stop()
