"""Privilege separation (issue 8, docs/decisions/0005-process-split.md):
login processes run as login_user, chrooted to base_dir/run/login, and
can reach neither mail nor passwords; mail processes run as the userdb's
uid; one auth process owns the passdb; any process can die and new logins
still work."""
import os
import pathlib
import pwd
import signal
import tempfile
import time

import pytest

from imaputil import RawImap, login

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def workers(srv, role):
    """pids of the ternd workers in role (--worker ROLE)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except OSError:
            continue
        ppid = int(status.split("PPid:")[1].split()[0])
        if ppid == srv.proc.pid and argv[:3] == [b"ternd", b"--worker", role.encode()]:
            pids.append(int(entry))
    return pids


def proc_ids(pid):
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    uid = int(status.split("Uid:")[1].split()[0])
    gid = int(status.split("Gid:")[1].split()[0])
    return uid, gid


def nobody_home(name):
    """A mail home for a userdb user running as nobody, outside the test's
    tmp_path (which nobody may not be able to reach): (pwent, home)."""
    vmail = pwd.getpwnam("nobody")
    base = pathlib.Path(tempfile.mkdtemp(prefix="tern-privsep-"))
    base.chmod(0o755)
    home = base / name
    home.mkdir()
    os.chown(home, vmail.pw_uid, vmail.pw_gid)
    return vmail, home


def add_user(srv, name, pw, home):
    with open(srv.passwd_path, "a") as f:
        f.write(f"{name}:{{PLAIN}}pw:{pw.pw_uid}:{pw.pw_gid}::{home}::\n")


def wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_login_processes_unprivileged_and_chrooted(ternd):
    login_pw = pwd.getpwnam("tern-login")
    pids = workers(ternd, "imap-login")
    assert len(pids) == 2
    # the second worker may still be starting (it drops root early in
    # its start)
    assert wait_for(lambda: all(proc_ids(p)[0] != 0 for p in pids))
    for pid in pids:
        assert proc_ids(pid) == (login_pw.pw_uid, login_pw.pw_gid)
        root = os.readlink(f"/proc/{pid}/root")
        assert root == str(ternd.base / "run" / "login")
        # the whole visible file system: the auth process's socket
        assert os.listdir(f"/proc/{pid}/root/") == ["auth"]
    # the passdb and the mail are outside the chroot; mail files aren't
    # readable by the login user even from outside it
    c = login(ternd)
    _, tagged = c.command("a", "APPEND INBOX {5+}\r\nhello")
    assert tagged.startswith(b"a OK"), tagged
    c.close()
    mail_files = [p for p in ternd.base.rglob("*") if p.is_file() and
                  ("/cur/" in str(p) or "/new/" in str(p))]
    assert mail_files
    for path in mail_files:
        st = os.stat(path)
        assert st.st_uid != login_pw.pw_uid
        assert not (st.st_mode & 0o004), path


def test_auth_process_owns_the_passdb(ternd):
    auth = workers(ternd, "auth")
    assert len(auth) == 1
    # login workers have no passdb open: only the auth socket and the
    # client connections
    for pid in workers(ternd, "imap-login"):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            assert "passwd" not in target, target


def test_mail_process_runs_as_userdb_uid(ternd_factory, tmp_path):
    vmail, home = nobody_home("carol")
    srv = ternd_factory(users={}).start()
    add_user(srv, "carol", vmail, home)
    c = RawImap(srv.imap_port)
    _, tagged = c.command("l", "LOGIN carol pw")
    assert tagged.startswith(b"l OK"), tagged
    _, tagged = c.command("s", "SELECT INBOX")
    assert tagged.startswith(b"s OK"), tagged
    mail = [p for p in workers(srv, "imap") if proc_ids(p)[0] == vmail.pw_uid]
    assert len(mail) == 1
    c.close()
    st = os.stat(home / "Maildir")
    assert st.st_uid == vmail.pw_uid
    # uid 0 from a userdb is refused
    with open(srv.passwd_path, "a") as f:
        f.write(f"root2:{{PLAIN}}pw:0:0::{home}::\n")
    c = RawImap(srv.imap_port)
    c.send(b"l LOGIN root2 pw\r\n")
    line = c.readline()
    assert b"BYE" in line or line == b"", line
    assert wait_for(lambda: "userdb uid 0 is not allowed" in srv.log_text())


def test_killing_workers_keeps_serving(ternd):
    # a session in a mail worker
    c = login(ternd)
    _, tagged = c.command("s", "SELECT INBOX")
    assert tagged.startswith(b"s OK")
    # the auth process dies: the session goes on, new logins work once the
    # master restarted it
    auth = workers(ternd, "auth")[0]
    os.kill(auth, signal.SIGKILL)
    _, tagged = c.command("n", "NOOP")
    assert tagged.startswith(b"n OK")
    assert wait_for(lambda: workers(ternd, "auth") and workers(ternd, "auth")[0] != auth)

    def can_login():
        d = RawImap(ternd.imap_port)
        _, t = d.command("l", "LOGIN alice secret")
        d.close()
        return t.startswith(b"l OK")
    assert wait_for(can_login)
    # the mail worker dies: its client is disconnected, new logins get a new one
    for pid in workers(ternd, "imap"):
        os.kill(pid, signal.SIGKILL)
    assert c.closed()
    assert can_login()
    # a login worker dies: the master replaces it
    before = workers(ternd, "imap-login")
    os.kill(before[0], signal.SIGKILL)
    assert wait_for(lambda: len(workers(ternd, "imap-login")) == 2 and
                    before[0] not in workers(ternd, "imap-login"))
    assert can_login()


def test_tls_session_is_relayed_by_the_login_process(ternd):
    c = RawImap(ternd.imaps_port, tls=True)
    _, tagged = c.command("l", "LOGIN alice secret")
    assert tagged.startswith(b"l OK")
    _, tagged = c.command("s", "SELECT INBOX")
    assert tagged.startswith(b"s OK")
    # the TLS keys stay in the login worker: the mail worker's socket for
    # this session is a Unix socket, not the TCP connection
    mail = workers(ternd, "imap")
    assert mail
    tcp_in_mail = []
    for pid in mail:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:"):
                inode = target[8:-1]
                with open("/proc/net/tcp") as f:
                    tcp = f.read()
                if f" {inode} " in tcp:
                    tcp_in_mail.append(inode)
    assert tcp_in_mail == []
    c.close()


def test_connection_limits_per_user_and_ip(ternd_factory):
    srv = ternd_factory(users={"alice": "secret", "bob": "pw"}, config_extra="""
service imap {
  max_userip_connections = 3
  max_user_connections = 4
}
""").start()
    sessions = [login(srv) for _ in range(3)]
    # a fourth from the same address is refused after the login
    c = RawImap(srv.imap_port)
    c.send(b"l LOGIN alice secret\r\n")
    line = c.readline()
    assert line.startswith(b"* BYE [LIMIT]"), line
    assert c.closed()
    # other users are not affected
    login(srv, "bob", "pw").close()
    # a session that ends frees its place
    sessions.pop().command("o", "LOGOUT")
    assert wait_for(lambda: try_login(srv))
    assert "max_userip_connections=3" in srv.log_text()


def try_login(srv):
    c = RawImap(srv.imap_port)
    c.send(b"l LOGIN alice secret\r\n")
    line = c.readline()
    ok = line.startswith(b"l OK")
    c.close()
    return ok


def test_idle_mail_workers_exit(ternd_factory):
    srv = ternd_factory(config_extra="service imap {\n  mail_idle_timeout = 1s\n}\n").start()
    c = login(srv)
    assert wait_for(lambda: len(srv.worker_pids("imap")) == 1)
    # while it has a session it stays
    time.sleep(2.5)
    assert len(srv.worker_pids("imap")) == 1
    c.command("o", "LOGOUT")
    # without one it goes after the timeout, and a new login starts another
    assert wait_for(lambda: srv.worker_pids("imap") == [], timeout=10)
    login(srv).command("o", "LOGOUT")
    assert "event=worker_died" not in srv.log_text()


def test_managesieve_processes(ternd_factory):
    """ManageSieve's login worker is chrooted like imap-login; its
    sessions run as the userdb's uid and the scripts belong to the user."""
    from conftest import free_port
    from test_managesieve import RawSieve
    login_pw = pwd.getpwnam("tern-login")
    vmail, home = nobody_home("dora")
    port = free_port()
    srv = ternd_factory(users={}, config_extra=f"listener.managesieve.enabled = yes\n"
                                               f"listener.managesieve.port = {port}\n")
    add_user(srv, "dora", vmail, home)
    srv.start()
    pids = workers(srv, "managesieve-login")
    assert len(pids) == 2
    assert wait_for(lambda: all(proc_ids(p)[0] != 0 for p in pids))
    for pid in pids:
        assert proc_ids(pid) == (login_pw.pw_uid, login_pw.pw_gid)
        assert os.readlink(f"/proc/{pid}/root") == str(srv.base / "run" / "login")
    c = RawSieve(port)
    assert c.login("dora", "pw")[0] == "OK"
    assert c.putscript("s", b"keep;\r\n")[0] == "OK"
    assert c.command('SETACTIVE "s"')[1][0] == "OK"
    mail = [p for p in workers(srv, "managesieve") if proc_ids(p)[0] == vmail.pw_uid]
    assert len(mail) == 1
    c.close()
    for path in (home / "sieve", home / "sieve" / "s.sieve"):
        st = os.stat(path)
        assert (st.st_uid, st.st_mode & 0o077) == (vmail.pw_uid, 0), path
    assert os.lstat(home / ".dovecot.sieve").st_uid == vmail.pw_uid


def test_indexer_works_as_the_users_uid(ternd_factory):
    """The indexer process runs as root at nice 19 and indexes a user's
    deliveries as the userdb's uid: everything it leaves in the home
    belongs to the user, and its index is complete."""
    import sqlite3
    import smtplib
    vmail, home = nobody_home("erin")
    srv = ternd_factory(users={}, lmtp=True,
                        config_extra="indexer {\n delay = 100ms\n}\n")
    add_user(srv, "erin", vmail, home)
    srv.start()
    pids = workers(srv, "indexer")
    assert len(pids) == 1 and proc_ids(pids[0])[0] == 0
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as lmtp:
        for i in range(3):
            lmtp.sendmail("a@example.net", ["erin@example.org"],
                          f"Subject: s{i}\r\n\r\nbody{i}\r\n")

    def docs():
        db = sqlite3.connect(f"file:{home}/tern-index.db?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT count(*) FROM message_search").fetchone()[0]
        finally:
            db.close()
    assert wait_for(lambda: docs() == 3, timeout=20)
    assert wait_for(lambda: "event=text_indexed user=erin messages=3" in srv.log_text())
    for path in [home, *home.rglob("*")]:
        assert os.lstat(path).st_uid == vmail.pw_uid, path
