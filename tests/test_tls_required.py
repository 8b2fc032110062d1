"""Listener `tls = required` (Dovecot's ssl = required): STARTTLS is
offered and no authentication of any kind is accepted before it, even
from loopback and even with auth.allow_insecure_plaintext. IMAP shows
LOGINDISABLED and no AUTH= and answers NO [PRIVACYREQUIRED] (RFC 9051
§6.2.3, §7.1); POP3 hides USER and SASL and answers -ERR [AUTH] (RFC 2449
§8, RFC 3206)."""
import base64
import socket

import pytest

from imaputil import RawImap
from tlsutil import client_context, wait_log

REQUIRED = """
listener imap {
  tls = required
}
listener pop3 {
  tls = required
}
"""

PLAIN_IR = base64.b64encode(b"\0alice\0secret").decode()


@pytest.fixture
def srv(ternd_factory):
    return ternd_factory(pop3=True, config_extra=REQUIRED).start()


def caps_of(line):
    return set(line.decode().split("[CAPABILITY ", 1)[1].split("]", 1)[0].split())


def starttls(c):
    _, tagged = c.command("s", "STARTTLS")
    assert tagged == b"s OK Begin TLS negotiation now.", tagged
    c.sock = client_context().wrap_socket(c.sock)


def capability(c):
    untagged, tagged = c.command("c", "CAPABILITY")
    assert tagged.startswith(b"c OK"), tagged
    return set(untagged[0].decode().split()[2:])


def test_imap_before_starttls(srv):
    c = RawImap(srv.imap_port)
    caps = caps_of(c.greeting)
    assert {"STARTTLS", "LOGINDISABLED"} <= caps, caps
    assert not [cap for cap in caps if cap.startswith("AUTH=")], caps
    assert capability(c) == caps
    refusal = b"NO [PRIVACYREQUIRED] TLS is required before authentication; use STARTTLS."
    for tag, command in (("a", "LOGIN alice secret"),
                         ("b", f"AUTHENTICATE PLAIN {PLAIN_IR}"),
                         ("c", "AUTHENTICATE PLAIN"),
                         ("d", "AUTHENTICATE SCRAM-SHA-256")):
        untagged, tagged = c.command(tag, command)
        assert untagged == [] and tagged == f"{tag} ".encode() + refusal, tagged
    # the session is still usable: upgrade and log in
    starttls(c)
    caps = capability(c)
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
    assert "AUTH=PLAIN" in caps, caps
    _, tagged = c.command("e", "LOGIN alice secret")
    assert tagged.startswith(b"e OK"), tagged
    _, tagged = c.command("f", "SELECT INBOX")
    assert tagged.startswith(b"f OK"), tagged
    c.close()
    wait_log(srv, f"event=listen listener=imap protocol=imap address=127.0.0.1:{srv.imap_port} "
             "tls=required")


def test_imap_authenticate_after_starttls(srv):
    c = RawImap(srv.imap_port)
    starttls(c)
    _, tagged = c.command("a", f"AUTHENTICATE PLAIN {PLAIN_IR}")
    assert tagged.startswith(b"a OK"), tagged
    c.close()


def test_insecure_plaintext_setting_does_not_lift_it(ternd_factory):
    srv = ternd_factory(config_extra=REQUIRED + "auth.allow_insecure_plaintext = yes\n").start()
    c = RawImap(srv.imap_port)
    assert "LOGINDISABLED" in caps_of(c.greeting)
    _, tagged = c.command("a", "LOGIN alice secret")
    assert tagged.startswith(b"a NO [PRIVACYREQUIRED]"), tagged
    c.close()


def test_starttls_listener_still_allows_loopback_login(ternd):
    """The default (tls = starttls): loopback is secure enough."""
    c = RawImap(ternd.imap_port)
    caps = caps_of(c.greeting)
    assert "STARTTLS" in caps and "LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps
    _, tagged = c.command("a", "LOGIN alice secret")
    assert tagged.startswith(b"a OK"), tagged
    c.close()


def test_implicit_tls_listener_unaffected(srv):
    c = RawImap(srv.imaps_port, tls=True)
    caps = caps_of(c.greeting)
    assert "LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps, caps
    _, tagged = c.command("a", "LOGIN alice secret")
    assert tagged.startswith(b"a OK"), tagged
    c.close()


class Pop3:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.greeting = self.readline()

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed; buffered {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.readline()

    def capa(self):
        assert self.cmd("CAPA").startswith(b"+OK")
        caps = []
        while (line := self.readline()) != b".":
            caps.append(line.decode())
        return caps

    def stls(self):
        assert self.cmd("STLS").startswith(b"+OK")
        self.sock = client_context().wrap_socket(self.sock)


def test_pop3_before_stls(srv):
    p = Pop3(srv.pop3_port)
    assert p.greeting.startswith(b"+OK")
    caps = p.capa()
    assert "STLS" in caps, caps
    assert "USER" not in caps and not [c for c in caps if c.startswith("SASL")], caps
    refusal = b"-ERR [AUTH] TLS is required before authentication; use STLS."
    apop = "APOP alice " + "0" * 32
    for command in ("USER alice", "AUTH PLAIN " + PLAIN_IR, "AUTH PLAIN", "AUTH", apop):
        assert p.cmd(command) == refusal, command
    assert p.cmd("PASS secret").startswith(b"-ERR")
    p.stls()
    caps = p.capa()
    assert "USER" in caps and "SASL PLAIN LOGIN" in caps and "STLS" not in caps, caps
    assert p.cmd("USER alice").startswith(b"+OK")
    assert p.cmd("PASS secret").startswith(b"+OK")
    assert p.cmd("STAT").startswith(b"+OK")
    assert p.cmd("QUIT").startswith(b"+OK")


def test_pop3_auth_after_stls(srv):
    p = Pop3(srv.pop3_port)
    p.stls()
    assert p.cmd("AUTH PLAIN " + PLAIN_IR).startswith(b"+OK")
    assert p.cmd("QUIT").startswith(b"+OK")
