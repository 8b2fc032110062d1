"""ternctl against a running ternd: users added, changed and removed with
ternctl take effect at once, with no reload."""
import imaplib
import subprocess

import pytest

from conftest import TERNCTL


def ternctl(srv, *args, input=None):
    return subprocess.run([str(TERNCTL), "-c", str(srv.config_path), *args],
                          capture_output=True, text=True, input=input, timeout=30)


def can_login(srv, user, password):
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    try:
        m.login(user, password)
        m.logout()
        return True
    except imaplib.IMAP4.error:
        return False


def test_user_add_passwd_del_while_running(ternd):
    assert not can_login(ternd, "bob", "hunter2")
    out = ternctl(ternd, "user", "add", "bob", "hunter2")
    assert out.returncode == 0, out.stderr
    assert can_login(ternd, "bob", "hunter2")
    out = ternctl(ternd, "user", "passwd", "bob", "correct horse")
    assert out.returncode == 0, out.stderr
    assert not can_login(ternd, "bob", "hunter2")
    assert can_login(ternd, "bob", "correct horse")
    out = ternctl(ternd, "user", "list")
    assert out.stdout.split() == ["alice", "bob"]
    out = ternctl(ternd, "user", "del", "bob")
    assert out.returncode == 0
    assert not can_login(ternd, "bob", "correct horse")
    assert can_login(ternd, "alice", "secret")


def test_generated_password_and_schemes(ternd):
    out = ternctl(ternd, "user", "add", "carol")
    assert out.returncode == 0
    password = out.stdout.strip()
    assert len(password) >= 12
    assert can_login(ternd, "carol", password)
    for scheme in ("BLF-CRYPT", "SHA256-CRYPT", "SSHA512", "PBKDF2", "CRYPT"):
        out = ternctl(ternd, "user", "passwd", "carol", f"pw-{scheme}", "-s", scheme)
        assert out.returncode == 0, out.stderr
        assert can_login(ternd, "carol", f"pw-{scheme}"), scheme


def test_pw_hash_is_accepted_in_passwd_file(ternd):
    out = ternctl(ternd, "pw", "-s", "SHA512-CRYPT", "-p", "s3cret")
    assert out.stdout.startswith("{SHA512-CRYPT}$6$")
    with open(ternd.passwd_path, "a") as f:
        f.write(f"dave:{out.stdout.strip()}::::::\n")
    assert can_login(ternd, "dave", "s3cret")
