"""The sql passdb/userdb (docs/auth.md, issue 8) through real IMAP, POP3
and LMTP sessions: Dovecot-style queries against an SQLite file and against
a real PostgreSQL server that this module starts (initdb as an unprivileged
user, a private port and socket directory), password schemes SHA512-CRYPT
(stored without {SCHEME}), SSHA256 and PLAIN, userdb fields, hostile user
names, and a database that goes away: logins fail temporarily, not as a
wrong password, and work again once it is back."""
import base64
import glob
import hashlib
import imaplib
import os
import pwd
import pathlib
import poplib
import shutil
import smtplib
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

from conftest import free_port
from imaputil import RawImap

PASSWORDS = {"alice@example.com": "alice-pw", "bob@example.com": "bob pw",
             "carol@example.com": "carol-pw", "o'hara@example.com": "tara"}


def sha512_crypt(password):
    """A {SHA512-CRYPT} hash made by Dovecot's own tool where it is
    installed, so Tern is checked against a foreign implementation."""
    doveadm = shutil.which("doveadm")
    if doveadm is not None:
        r = subprocess.run([doveadm, "pw", "-s", "SHA512-CRYPT", "-p", password],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.startswith("{SHA512-CRYPT}$6$"):
            return r.stdout.strip()
    import crypt  # deprecated, but in every Python that lacks doveadm here
    return "{SHA512-CRYPT}" + crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


def ssha256(password):
    salt = os.urandom(8)
    digest = hashlib.sha256(password.encode() + salt).digest()
    return "{SSHA256}" + base64.b64encode(digest + salt).decode()


def mail_ids():
    """The uid/gid the userdb gives: as root an unprivileged account (mail
    processes run as the userdb's uid, and uid 0 is refused), else ours."""
    if os.getuid() == 0:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()


_made_homes = []


@pytest.fixture(autouse=True, scope="module")
def _remove_homes():
    yield
    for path in _made_homes:
        shutil.rmtree(path, ignore_errors=True)


def make_homes():
    """A directory for the users' homes that their uid can reach and write
    (pytest's own temp tree is root-only)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="tern-sql-homes-"))
    _made_homes.append(path)
    uid, gid = mail_ids()
    os.chown(path, uid, gid)
    path.chmod(0o755)
    return path


def user_rows(homes):
    """(username, password, home, uid, gid, quota_rule, nologin, reason)."""
    uid, gid = mail_ids()
    # alice's hash is stored without its {SCHEME}: the default CRYPT applies
    alice_hash = sha512_crypt(PASSWORDS["alice@example.com"]).split("}", 1)[1]
    rows = [
        ("alice@example.com", alice_hash, "*:storage=1G", None, None),
        ("bob@example.com", ssha256(PASSWORDS["bob@example.com"]), None, None, None),
        ("carol@example.com", "{PLAIN}carol-pw", "*:messages=10", None, None),
        ("o'hara@example.com", "{PLAIN}tara", None, None, None),
        ("dave@example.com", "{PLAIN}dave-pw", None, "Y", "Moved to another server"),
    ]
    return [(name, pw, str(homes / name), uid, gid, quota, nologin, reason)
            for name, pw, quota, nologin, reason in rows]


SCHEMA = ("CREATE TABLE users (username TEXT NOT NULL, password TEXT, home TEXT, "
          "uid INTEGER, gid INTEGER, quota_rule TEXT, nologin TEXT, reason TEXT)")
# the queries of a Dovecot dovecot-sql.conf.ext, unchanged
PASSWORD_QUERY = ("SELECT username AS user, password, nologin, reason, "
                  "quota_rule AS userdb_quota_rule FROM users WHERE username = '%u'")
USER_QUERY = "SELECT home, uid, gid, quota_rule FROM users WHERE username = '%u'"


def sql_config(sql_driver, connect):
    return f"""
passdb users {{
  driver = sql
  sql_driver = {sql_driver}
  sql_connect = {connect}
  sql_password_query = {PASSWORD_QUERY}
}}
userdb users {{
  driver = sql
  sql_driver = {sql_driver}
  sql_connect = {connect}
  sql_user_query = {USER_QUERY}
}}
"""


def imap_login(srv, user, password):
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    m.login(user, password)
    return m


def imap_login_reply(srv, user, password):
    """The tagged reply to LOGIN with user and password as quoted strings."""
    c = RawImap(srv.imap_port)
    quoted = [v.replace("\\", "\\\\").replace('"', '\\"') for v in (user, password)]
    _, tagged = c.command("a1", f'LOGIN "{quoted[0]}" "{quoted[1]}"')
    c.close()
    return tagged.decode(errors="replace")


def imap_login_literal_reply(srv, user, password):
    """LOGIN with the user name (bytes, maybe not UTF-8) as a literal."""
    c = RawImap(srv.imap_port)
    c.send(b"a1 LOGIN {%d}\r\n" % len(user))
    cont = c.readline()
    assert cont.startswith(b"+"), cont
    c.send(user + b' "' + password.encode() + b'"\r\n')
    _, tagged = c.read_until_tagged("a1")
    c.close()
    return tagged.decode(errors="replace")


def pop3_login(srv, user, password):
    p = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    try:
        p.user(user)
        p.pass_(password)
        return p.stat()
    finally:
        try:
            p.quit()
        except (poplib.error_proto, OSError):
            pass


def pop3_login_error(srv, user, password):
    p = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    try:
        p.user(user)
        p.pass_(password)
    except poplib.error_proto as e:
        return e.args[0].decode(errors="replace")
    finally:
        try:
            p.quit()
        except (poplib.error_proto, OSError):
            pass
    return None


def lmtp_deliver(srv, rcpt, subject):
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as s:
        s.sendmail("sender@example.net", [rcpt],
                   f"From: sender@example.net\r\nSubject: {subject}\r\n\r\nbody\r\n".encode())


def check_logins(srv, homes):
    """The checks both engines share: every scheme over IMAP and POP3,
    wrong passwords, unknown and hostile names, nologin, and LMTP delivery
    through the userdb with its extra fields."""
    for user, password in PASSWORDS.items():
        imap_login(srv, user, password).logout()
        assert (homes / user).is_dir(), user
    for user in ("alice@example.com", "bob@example.com", "carol@example.com"):
        assert pop3_login(srv, user, PASSWORDS[user]) == (0, 0)
    for user, password in (("alice@example.com", "bob pw"), ("bob@example.com", "bob"),
                           ("nosuch@example.com", "x")):
        assert "[AUTHENTICATIONFAILED]" in imap_login_reply(srv, user, password)
    assert "-ERR [AUTH]" in pop3_login_error(srv, "carol@example.com", "wrong")
    # names that would break out of '%u' are just unknown users (had the
    # OR matched, every row would have been a "multiple matches" error)
    for user in ("x' OR '1'='1", "'; DROP TABLE users; --", "\\'; DROP TABLE users; --",
                 "alice@example.com' --"):
        reply = imap_login_reply(srv, user, PASSWORDS["alice@example.com"])
        assert "[AUTHENTICATIONFAILED]" in reply, (user, reply)
    # a name that isn't UTF-8 is unknown too, not a database error
    for user in (b"\xff\xfe@example.com", b"caf\xc3@example.com", b"\xc3"):
        reply = imap_login_literal_reply(srv, user, "x")
        assert "[AUTHENTICATIONFAILED]" in reply, (user, reply)
    imap_login(srv, "alice@example.com", "alice-pw").logout()
    # a passdb extra field from a column: nologin (the right password,
    # but refused as disabled)
    reply = imap_login_reply(srv, "dave@example.com", "dave-pw")
    assert reply.startswith("a1 NO [AUTHORIZATIONFAILED]"), reply
    assert "user=dave@example.com event=auth result=fail mech=PLAIN proto=imap reason=nologin" \
        in srv.log_text()
    # LMTP finds the user in the sql userdb; the mail lands in its home
    lmtp_deliver(srv, "carol@example.com", "via sql userdb")
    m = imap_login(srv, "carol@example.com", "carol-pw")
    m.select("INBOX")
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"via sql userdb" in data[0][1]
    m.logout()
    # LMTP passes 8-bit local parts to the userdb as they are: one that
    # isn't UTF-8 is an unknown user, not a temporary failure
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as s:
        s.ehlo("client")
        assert s.mail("sender@example.net", ["SMTPUTF8"])[0] == 250
        s.sock.sendall(b"RCPT TO:<caf\xc3@example.com>\r\n")
        code, msg = s.getreply()
        assert code == 550, (code, msg)
    log = srv.log_text()
    assert ("event=auth_sql_userdb userdb=users user=carol@example.com "
            "fields=home,uid,gid,quota_rule") in log
    assert "multiple matches" not in log


def test_sqlite_passdb_userdb(ternd_factory, tmp_path):
    homes = make_homes()
    srv = ternd_factory(users={}, pop3=True, lmtp=True,
                        config_extra=sql_config("sqlite", "users.db"))
    # relative to base_dir
    db = sqlite3.connect(srv.base / "users.db")
    db.execute(SCHEMA)
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", user_rows(homes))
    db.commit()
    db.close()
    srv.start()
    check_logins(srv, homes)
    # the table survived the injection attempts
    db = sqlite3.connect(srv.base / "users.db")
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 5
    db.close()


def test_sqlite_file_replaced_and_missing(ternd_factory, tmp_path):
    """A new database file (written elsewhere and renamed over the old one)
    counts at the next login; a missing one is a temporary failure."""
    homes = make_homes()
    srv = ternd_factory(users={}, process_count=1, config_extra=sql_config("sqlite", "users.db"))
    path = srv.base / "users.db"

    def write_db(target, password):
        db = sqlite3.connect(target)
        db.execute(SCHEMA)
        db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ("erin@example.com", "{PLAIN}" + password, str(homes / "erin"),
                    *mail_ids(), None, None, None))
        db.commit()
        db.close()

    write_db(path, "first")
    srv.start()
    imap_login(srv, "erin@example.com", "first").logout()
    write_db(srv.base / "users.db.new", "second")
    os.rename(srv.base / "users.db.new", path)
    imap_login(srv, "erin@example.com", "second").logout()
    assert "[AUTHENTICATIONFAILED]" in imap_login_reply(srv, "erin@example.com", "first")
    path.unlink()
    assert "[UNAVAILABLE]" in imap_login_reply(srv, "erin@example.com", "second")
    assert "users.db" in srv.log_text()


def test_sql_multiple_rows_is_an_error(ternd_factory, tmp_path):
    srv = ternd_factory(users={}, config_extra=sql_config("sqlite", "users.db").replace(
        "WHERE username = '%u'", "WHERE username LIKE '%%' || '%d'"))
    db = sqlite3.connect(srv.base / "users.db")
    db.execute(SCHEMA)
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   user_rows(make_homes()))
    db.commit()
    db.close()
    srv.start()
    assert "[UNAVAILABLE]" in imap_login_reply(srv, "carol@example.com", "carol-pw")
    assert "multiple matches for user carol@example.com" in srv.log_text()


# --- PostgreSQL -------------------------------------------------------------

def pg_bindir():
    """The directory with initdb, pg_ctl and psql: Debian keeps them in
    /usr/lib/postgresql/VERSION/bin, off PATH."""
    candidates = []
    found = shutil.which("pg_ctl")
    if found is not None:
        candidates.append(os.path.dirname(os.path.realpath(found)))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0,
                  reverse=True)
    for d in candidates + versions:
        if all(os.path.exists(os.path.join(d, b)) for b in ("initdb", "pg_ctl", "psql")):
            return d
    return None


class Postgres:
    """A private PostgreSQL server in a temporary directory, run as an
    unprivileged user (PostgreSQL refuses root) on a free port, with its
    Unix socket in that directory."""

    USER = "nobody"
    GROUP = "nogroup"

    def __init__(self, bindir):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="tern-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.log = os.path.join(self.dir, "postgres.log")
        pw = __import__("pwd").getpwnam(self.USER)
        os.chmod(self.dir, 0o755)
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def run(self, *args, check=True):
        cmd = ["setpriv", f"--reuid={self.USER}", f"--regid={self.GROUP}", "--clear-groups",
               "--", os.path.join(self.bindir, args[0]), *args[1:]]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir,
                           env={"PATH": "/usr/bin:/bin", "LANG": "C", "TZ": "UTC"})
        if check and r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {r.stdout}{r.stderr}")
        return r

    def init(self):
        self.run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C", "--no-sync", "--no-instructions")

    def start(self):
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses='' -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self.run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "30", "start")

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def psql(self, sql, db="mail"):
        return self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir,
                        "-p", str(self.port), "-U", "postgres", "-d", db, "-At", "-c", sql).stdout

    def connect_string(self):
        return f"host={self.dir} port={self.port} dbname=mail user=postgres"

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def pg_literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pg = Postgres(bindir)
    try:
        pg.init()
        pg.start()
        pg.psql("CREATE DATABASE mail", db="postgres")
        pg.psql(SCHEMA)
        homes = make_homes()
        values = ", ".join("(" + ", ".join(pg_literal(v) for v in row) + ")"
                           for row in user_rows(homes))
        pg.psql(f"INSERT INTO users VALUES {values}")
        pg.homes = homes
        yield pg
    finally:
        pg.cleanup()


def test_pgsql_passdb_userdb(ternd_factory, postgres):
    srv = ternd_factory(users={}, pop3=True, lmtp=True,
                        config_extra=sql_config("pgsql", postgres.connect_string())).start()
    check_logins(srv, postgres.homes)
    assert postgres.psql("SELECT count(*) FROM users").strip() == "5"


def test_pgsql_connect_timeout(ternd_factory):
    """connect_timeout in sql_connect bounds a connect to a server that
    accepts TCP but never answers: the login fails temporarily, in time."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        srv = ternd_factory(users={}, process_count=1, config_extra=sql_config(
            "pgsql", f"host=127.0.0.1 port={port} dbname=mail connect_timeout=2")).start()
        start = time.monotonic()
        reply = imap_login_reply(srv, "alice@example.com", "x")
        elapsed = time.monotonic() - start
        assert "[UNAVAILABLE]" in reply, reply
        assert 1.5 < elapsed < 8, elapsed
        assert "connect failed" in srv.log_text()
        # within the back-off the next login fails at once
        start = time.monotonic()
        assert "[UNAVAILABLE]" in imap_login_reply(srv, "alice@example.com", "x")
        assert time.monotonic() - start < 1


def test_pgsql_down_fails_temporarily_and_recovers(ternd_factory, postgres):
    """Runs last in this module: it stops the module's server."""
    srv = ternd_factory(users={}, pop3=True,
                        config_extra=sql_config("pgsql", postgres.connect_string())).start()
    # both workers connect
    for _ in range(4):
        imap_login(srv, "carol@example.com", "carol-pw").logout()
    postgres.stop()
    try:
        for _ in range(3):
            reply = imap_login_reply(srv, "carol@example.com", "carol-pw")
            assert "[UNAVAILABLE]" in reply, reply
            assert "AUTHENTICATIONFAILED" not in reply
        assert "[SYS/TEMP]" in pop3_login_error(srv, "carol@example.com", "carol-pw")
        log = srv.log_text()
        assert "event=auth_sql_disconnected engine=pgsql" in log
        assert "connect failed" in log
    finally:
        postgres.start()
    # back after the back-off (1 s at first, per process): wait until
    # logins on every worker pass
    deadline = time.monotonic() + 15
    ok_in_a_row = 0
    while ok_in_a_row < 6:
        reply = imap_login_reply(srv, "carol@example.com", "carol-pw")
        if reply.startswith("a1 OK"):
            ok_in_a_row += 1
            continue
        assert "[UNAVAILABLE]" in reply, reply
        assert time.monotonic() < deadline, "no recovery after PostgreSQL restarted"
        ok_in_a_row = 0
        time.sleep(0.3)
    imap_login(srv, "carol@example.com", "carol-pw").logout()
    while (error := pop3_login_error(srv, "carol@example.com", "carol-pw")) is not None:
        assert "[SYS/TEMP]" in error, error
        assert time.monotonic() < deadline, "POP3 didn't recover"
        time.sleep(0.3)
    assert "event=auth_sql_reconnected engine=pgsql" in srv.log_text()
