"""The auth process's credential cache (auth.cache_*) and `ternctl auth`:
cached passdb and userdb results, a changed password noticed at once,
cached "no such user", flushing, and testing a password the way an MTA
would, all against a running ternd."""
import imaplib
import subprocess

from conftest import TERNCTL


def ternctl(srv, *args):
    return subprocess.run([str(TERNCTL), "-c", str(srv.config_path), *args],
                          capture_output=True, text=True, timeout=30)


def can_login(srv, user, password):
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    try:
        m.login(user, password)
        m.logout()
        return True
    except imaplib.IMAP4.error:
        return False


def write_users(srv, users):
    srv.passwd_path.write_text("".join(f"{u}:{{PLAIN}}{p}::::::userdb_quota_rule=*:storage=5M\n"
                                       for u, p in users.items()))


CACHE = "auth {\n  cache_size = 1M\n  cache_ttl = 1h\n  cache_negative_ttl = 1h\n}\n"


def test_cache_serves_until_flushed(ternd_factory):
    srv = ternd_factory(config_extra=CACHE).start()
    assert can_login(srv, "alice", "secret")
    # a changed password is noticed at once: the cached hash doesn't match
    write_users(srv, {"alice": "new"})
    assert can_login(srv, "alice", "new")
    # a removed user is still served from the cache ...
    write_users(srv, {})
    assert can_login(srv, "alice", "new")
    # ... until the cache is flushed for her
    r = ternctl(srv, "auth", "cache", "flush", "alice")
    assert r.returncode == 0, r.stderr
    assert "cache entries flushed" in r.stdout
    assert int(r.stdout.split()[0]) >= 1
    assert not can_login(srv, "alice", "new")


def test_negative_cache(ternd_factory):
    srv = ternd_factory(config_extra=CACHE).start()
    assert not can_login(srv, "bob", "pw")
    write_users(srv, {"alice": "secret", "bob": "pw"})
    # "no such user" is remembered
    assert not can_login(srv, "bob", "pw")
    assert ternctl(srv, "auth", "cache", "flush").returncode == 0
    assert can_login(srv, "bob", "pw")


def test_no_cache_by_default(ternd):
    assert can_login(ternd, "alice", "secret")
    ternd.passwd_path.write_text("")
    assert not can_login(ternd, "alice", "secret")


def test_ternctl_auth_test(ternd):
    r = ternctl(ternd, "auth", "test", "alice", "secret")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "passdb: alice auth succeeded" in r.stdout
    assert "userdb: alice" in r.stdout
    r = ternctl(ternd, "auth", "test", "alice", "wrong")
    assert r.returncode == 1
    assert "auth failed" in r.stdout
    # userdb only
    write_users(ternd, {"alice": "secret"})
    r = ternctl(ternd, "auth", "test", "alice")
    assert r.returncode == 0
    assert "quota_rule=*:storage=5M" in r.stdout
    r = ternctl(ternd, "auth", "test", "nosuch")
    assert r.returncode == 67
    assert "not found" in r.stdout
    # the MTA socket logs it like any other attempt
    assert "proto=ternctl" in ternd.log_text() or "service=auth" in ternd.log_text()
    r = ternctl(ternd, "auth", "bogus")
    assert r.returncode == 64
