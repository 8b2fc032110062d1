"""APOP (RFC 1939 §7): the greeting carries a unique timestamp; the digest
MD5(timestamp + password) logs in users whose passdb entry stores the
password itself, and nobody else."""
import hashlib
import re
import socket
import subprocess

from conftest import TERNCTL


def connect(srv):
    s = socket.create_connection(("127.0.0.1", srv.pop3_port), timeout=10)
    f = s.makefile("rb")
    greeting = f.readline().decode()
    return s, f, greeting


def cmd(s, f, line):
    s.sendall(line.encode() + b"\r\n")
    return f.readline().decode().rstrip("\r\n")


def challenge(greeting):
    found = re.search(r"(<[^<>@\s]+@[^<>\s]+>)", greeting)
    assert found, greeting
    return found.group(1)


def test_apop_login(ternd_factory):
    srv = ternd_factory(pop3=True).start()
    s, f, greeting = connect(srv)
    ts = challenge(greeting)
    digest = hashlib.md5((ts + "secret").encode()).hexdigest()
    assert cmd(s, f, f"APOP alice {digest}").startswith("+OK")
    assert cmd(s, f, "STAT").startswith("+OK 0 0")
    assert cmd(s, f, "QUIT").startswith("+OK")


def test_apop_timestamps_are_unique(ternd_factory):
    srv = ternd_factory(pop3=True).start()
    seen = {challenge(connect(srv)[2]) for _ in range(5)}
    assert len(seen) == 5


def test_apop_wrong_digest_and_bad_arguments(ternd_factory):
    srv = ternd_factory(pop3=True).start()
    s, f, greeting = connect(srv)
    ts = challenge(greeting)
    wrong = hashlib.md5((ts + "wrong").encode()).hexdigest()
    assert cmd(s, f, f"APOP alice {wrong}").startswith("-ERR [AUTH]")
    assert cmd(s, f, "APOP alice").startswith("-ERR")
    assert cmd(s, f, "APOP alice nothex").startswith("-ERR")
    # a digest made for another session's timestamp is refused too
    s2, f2, greeting2 = connect(srv)
    other = hashlib.md5((challenge(greeting2) + "secret").encode()).hexdigest()
    assert cmd(s, f, f"APOP alice {other}").startswith("-ERR [AUTH]")


def test_apop_refused_for_hashed_passwords(ternd_factory):
    srv = ternd_factory(pop3=True).start()
    out = subprocess.run([str(TERNCTL), "-c", str(srv.config_path), "user", "add", "bob",
                          "hunter2", "-s", "SHA512-CRYPT"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    s, f, greeting = connect(srv)
    digest = hashlib.md5((challenge(greeting) + "hunter2").encode()).hexdigest()
    assert cmd(s, f, f"APOP bob {digest}").startswith("-ERR [AUTH]")
    assert "APOP needs a plaintext password" in srv.log_text()
