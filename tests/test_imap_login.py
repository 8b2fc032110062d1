"""Pre-login IMAP (RFC 9051 §6.1, §6.2) against a running ternd with
Python's imaplib and raw sockets: greeting, CAPABILITY, NOOP, LOGOUT, ID,
LOGIN, AUTHENTICATE PLAIN (with and without SASL-IR), STARTTLS and IMAPS."""
import base64
import imaplib
import ssl
import subprocess

import pytest

from imaputil import RawImap


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_greeting_has_capabilities(ternd):
    c = RawImap(ternd.imap_port)
    assert c.greeting.startswith(b"* OK [CAPABILITY ")
    caps = c.greeting.split(b"[CAPABILITY ")[1].split(b"]")[0].split()
    for cap in (b"IMAP4rev1", b"IMAP4rev2", b"STARTTLS", b"AUTH=PLAIN", b"SASL-IR", b"ID"):
        assert cap in caps


def test_capability_noop_logout(ternd):
    c = RawImap(ternd.imap_port)
    untagged, tagged = c.command("a1", "CAPABILITY")
    assert untagged[0].startswith(b"* CAPABILITY IMAP4rev1 IMAP4rev2")
    assert tagged.startswith(b"a1 OK")
    _, tagged = c.command("a2", "noop")
    assert tagged == b"a2 OK NOOP completed."
    untagged, tagged = c.command("a3", "LOGOUT")
    assert untagged == [b"* BYE Logging out"]
    assert tagged.startswith(b"a3 OK")
    assert c.closed()


def test_arguments_to_argless_commands_are_bad(ternd):
    c = RawImap(ternd.imap_port)
    _, tagged = c.command("a1", "NOOP extra")
    assert tagged.startswith(b"a1 BAD")
    _, tagged = c.command("a2", "CAPABILITY x")
    assert tagged.startswith(b"a2 BAD")


def test_unknown_command_and_bad_tag(ternd):
    c = RawImap(ternd.imap_port)
    _, tagged = c.command("a1", "FROBNICATE")
    assert tagged.startswith(b"a1 BAD")
    c.send("\r\n")  # empty lines are ignored
    c.send("+ NOOP\r\n")
    assert c.readline().startswith(b"* BAD")
    _, tagged = c.command("a2", "NOOP")
    assert tagged.startswith(b"a2 OK")


def test_id(ternd):
    c = RawImap(ternd.imap_port)
    untagged, tagged = c.command("a1", 'ID ("name" "pytest" "version" "1")')
    assert untagged[0].startswith(b'* ID ("name" "Tern"')
    assert tagged.startswith(b"a1 OK")
    _, tagged = c.command("a2", "ID NIL")
    assert tagged.startswith(b"a2 OK")
    _, tagged = c.command("a3", 'ID ("odd")')
    assert tagged.startswith(b"a3 BAD")


def test_login_ok_and_post_login_capabilities(ternd):
    m = imaplib.IMAP4("127.0.0.1", ternd.imap_port)
    typ, data = m.login("alice", "secret")
    assert typ == "OK"
    assert data[0].startswith(b"[CAPABILITY IMAP4rev1")
    assert b"STARTTLS" not in data[0] and b" AUTH=" not in data[0]
    typ, caps = m.capability()
    assert typ == "OK" and b"STARTTLS" not in caps[0]
    typ, data = m.noop()
    assert typ == "OK"
    m.logout()


def test_login_wrong_password_and_unknown_user(ternd):
    m = imaplib.IMAP4("127.0.0.1", ternd.imap_port)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login("alice", "wrong")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login("nobody", "secret")
    typ, _ = m.login("alice", "secret")
    assert typ == "OK"
    m.logout()


def test_login_with_literals_and_quoted(ternd):
    c = RawImap(ternd.imap_port)
    c.send("a1 LOGIN {5}\r\n")
    assert c.readline().startswith(b"+ ")
    c.send("alice {6+}\r\nsecret\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged.startswith(b"a1 OK [CAPABILITY")
    _, tagged = c.command("a2", "LOGIN alice secret")
    assert tagged.startswith(b"a2 BAD")


def test_authenticate_plain_with_continuation(ternd):
    c = RawImap(ternd.imap_port)
    c.send("a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline().startswith(b"+")
    c.send(base64.b64encode(b"\0alice\0secret") + b"\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged.startswith(b"a1 OK")


def test_authenticate_plain_sasl_ir(ternd):
    c = RawImap(ternd.imap_port)
    ir = base64.b64encode(b"alice\0alice\0secret").decode()
    _, tagged = c.command("a1", f"AUTHENTICATE PLAIN {ir}")
    assert tagged.startswith(b"a1 OK")


def test_authenticate_cancel_and_garbage(ternd):
    c = RawImap(ternd.imap_port)
    c.send("a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline().startswith(b"+")
    c.send("*\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged.startswith(b"a1 BAD")
    _, tagged = c.command("a2", "AUTHENTICATE PLAIN !!notbase64!!")
    assert tagged.startswith(b"a2 BAD") or tagged.startswith(b"a2 NO")
    _, tagged = c.command("a3", "AUTHENTICATE X-UNKNOWN")
    assert tagged.startswith(b"a3 NO")
    _, tagged = c.command("a4", "NOOP")
    assert tagged.startswith(b"a4 OK")


def test_pipelined_commands_after_login(ternd):
    c = RawImap(ternd.imap_port)
    c.send("a1 LOGIN alice secret\r\na2 NOOP\r\na3 LOGOUT\r\n")
    _, t1 = c.read_until_tagged("a1")
    _, t2 = c.read_until_tagged("a2")
    _, t3 = c.read_until_tagged("a3")
    assert t1.startswith(b"a1 OK") and t2.startswith(b"a2 OK") and t3.startswith(b"a3 OK")


def test_starttls(ternd):
    m = imaplib.IMAP4("127.0.0.1", ternd.imap_port)
    assert "STARTTLS" in m.capabilities
    typ, _ = m.starttls(ssl_context=tls_context())
    assert typ == "OK"
    assert "STARTTLS" not in m.capabilities
    typ, _ = m.login("alice", "secret")
    assert typ == "OK"
    m.logout()


def test_starttls_discards_pipelined_plaintext(ternd):
    """Bytes sent after STARTTLS in plaintext must not run as commands
    inside TLS (the CVE-2011-0411 class of injection)."""
    c = RawImap(ternd.imap_port)
    c.send("a1 STARTTLS\r\na2 LOGIN alice secret\r\n")
    assert c.readline().startswith(b"a1 OK")
    c.sock = tls_context().wrap_socket(c.sock)
    c.buf = b""
    _, tagged = c.command("a3", "NOOP")
    assert tagged.startswith(b"a3 OK")  # nothing answered a2


def test_starttls_twice_is_bad(ternd):
    c = RawImap(ternd.imap_port)
    _, tagged = c.command("a1", "STARTTLS")
    assert tagged.startswith(b"a1 OK")
    c.sock = tls_context().wrap_socket(c.sock)
    _, tagged = c.command("a2", "STARTTLS")
    assert tagged.startswith(b"a2 BAD")


def test_imaps_implicit_tls(ternd):
    m = imaplib.IMAP4_SSL("127.0.0.1", ternd.imaps_port, ssl_context=tls_context())
    assert "STARTTLS" not in m.capabilities
    typ, _ = m.login("alice", "secret")
    assert typ == "OK"
    m.logout()


def test_imaps_tls13_with_openssl_s_client(ternd):
    out = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{ternd.imaps_port}", "-tls1_3",
         "-quiet", "-ign_eof", "-crlf"],
        input=b"a1 LOGOUT\n", capture_output=True, timeout=20)
    assert b"* OK [CAPABILITY" in out.stdout
    assert b"a1 OK" in out.stdout


def test_imaps_tls12_with_openssl_s_client(ternd):
    out = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{ternd.imaps_port}", "-tls1_2",
         "-quiet", "-ign_eof", "-crlf"],
        input=b"a1 LOGOUT\n", capture_output=True, timeout=20)
    assert b"a1 OK" in out.stdout


def test_enable_requires_login(ternd):
    c = RawImap(ternd.imap_port)
    _, tagged = c.command("a1", "ENABLE IMAP4rev2")
    assert tagged.startswith(b"a1 BAD")
    c.command("a2", "LOGIN alice secret")
    untagged, tagged = c.command("a3", "ENABLE IMAP4rev2 X-UNKNOWN")
    assert untagged == [b"* ENABLED IMAP4rev2"]
    assert tagged.startswith(b"a3 OK")


def test_curl_logs_in(ternd):
    out = subprocess.run(
        ["curl", "-sS", "-v", f"imap://127.0.0.1:{ternd.imap_port}/", "--user", "alice:secret",
         "-X", "NOOP"], capture_output=True, timeout=30, text=True)
    assert "OK [CAPABILITY" in out.stderr and "Logged in" in out.stderr, out.stderr
    assert out.returncode == 0, out.stderr
