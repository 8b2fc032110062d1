"""IMAP COMPRESS=DEFLATE (RFC 4978) against a running ternd: a raw-socket
client that raw-deflates its commands (zlib, wbits=-15, a sync flush per
send) and inflates the responses, over a plain socket, STARTTLS and IMAPS:
large APPENDs and FETCHes under back-pressure, IDLE, LOGOUT, the error
cases and corrupt compressed input."""
import base64
import os
import re
import socket
import ssl
import time
import zlib

import pytest

import mailutil
from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import Imap, fetches, message


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class DeflateSocket:
    """The socket calls the sessions use, through raw DEFLATE."""

    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self.comp = zlib.compressobj(wbits=-15)
        self.decomp = zlib.decompressobj(wbits=-15)
        self.leftover = leftover
        self.raw_in = 0
        # (bytes per recv, seconds to sleep after each): reading slowly
        # keeps the server's socket full for longer
        self.slow = None

    def sendall(self, data):
        self.sock.sendall(self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH))

    def recv(self, n):
        while True:
            if self.leftover:
                raw, self.leftover = self.leftover, b""
            else:
                raw = self.sock.recv(self.slow[0] if self.slow else 65536)
                if not raw:
                    return b""
                if self.slow:
                    time.sleep(self.slow[1])
            self.raw_in += len(raw)
            out = self.decomp.decompress(raw)
            if out:
                return out

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        self.sock.close()


class CompressImap(Imap):
    """A logged-in session over a plain socket ("plain"), STARTTLS or
    IMAPS that can switch on COMPRESS."""

    def __init__(self, srv, mode="plain", login=True):
        sock = socket.create_connection(
            ("127.0.0.1", srv.imaps_port if mode == "imaps" else srv.imap_port), timeout=10)
        self.sock = tls_context().wrap_socket(sock) if mode == "imaps" else sock
        self.buf = b""
        self.greeting = self.readline()
        mailutil._sessions.append(self)
        self.tagn = 0
        if mode == "starttls":
            assert self.cmd("STARTTLS")[1].startswith(b"OK")
            assert self.buf == b""
            self.sock = tls_context().wrap_socket(self.sock)
        self.mode = mode
        self.login_tagged = None
        if login:
            _, self.login_tagged = self.cmd("LOGIN alice secret")
            assert self.login_tagged.startswith(b"OK"), self.login_tagged

    def compress(self):
        """COMPRESS DEFLATE; everything after the OK is compressed."""
        tag = self.next_tag()
        self.send(f"{tag} COMPRESS DEFLATE\r\n")
        line = self.readline()
        assert line == f"{tag} OK DEFLATE active".encode(), line
        self.sock = DeflateSocket(self.sock, self.buf)
        self.buf = b""


def caps_of(line):
    m = re.search(rb"\[CAPABILITY ([^\]]*)\]", line)
    return m.group(1).split() if m else None


def big_body(size, seed):
    """Base64 lines of random bytes: compresses only a little, so the
    compressed stream stays large."""
    raw = os.urandom(size * 3 // 4)
    text = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return message(subject=f"big {seed}", body=text[:size])


def session(srv, mode):
    c = CompressImap(srv, mode)
    c.compress()
    return c


MODES = ["plain", "starttls", "imaps"]


# --- capability ---------------------------------------------------------------

def test_capability_after_login_only(ternd):
    c = CompressImap(ternd, login=False)
    assert b"COMPRESS=DEFLATE" not in caps_of(c.greeting)
    untagged = c.ok("CAPABILITY")
    assert not any(b"COMPRESS" in u for u in untagged), untagged
    _, tagged = c.cmd("LOGIN alice secret")
    assert b"COMPRESS=DEFLATE" in caps_of(tagged)
    untagged = c.ok("CAPABILITY")
    assert any(b" COMPRESS=DEFLATE" in u for u in untagged), untagged


def test_compress_before_login_is_refused(ternd):
    c = CompressImap(ternd, login=False)
    untagged, tagged = c.cmd("COMPRESS DEFLATE")
    assert tagged.startswith((b"BAD", b"NO")), tagged
    # still a plain session
    c.ok("NOOP")
    assert c.cmd("LOGIN alice secret")[1].startswith(b"OK")
    c.compress()
    c.ok("NOOP")
    c.logout()


# --- a whole compressed session ---------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_compressed_session(ternd, mode):
    c = session(ternd, mode)
    info = c.ok("SELECT INBOX")
    assert any(re.match(rb"\* 0 EXISTS", u) for u in info), info
    # APPEND of a few hundred KB, with a synchronizing literal (the "+"
    # comes compressed) and with LITERAL+
    small = [big_body(300 * 1024, 1), big_body(200 * 1024, 2)]
    c.append_ok("INBOX", small[0], sync=True)
    c.append_ok("INBOX", small[1])
    # several MB of bodies: the server's socket fills, its output pauses
    # and resumes, and the compressed bytes go out in many partial writes
    large = [big_body(1500 * 1024, 10 + i) for i in range(4)]
    for msg in large:
        c.append_ok("INBOX", msg)
    tag = c.next_tag()
    c.send(f"{tag} FETCH 1:* (UID BODY.PEEK[])\r\n")
    # the server's socket fills while we wait, then drains slowly: its
    # output pauses and resumes, and compressed bytes wait in the
    # transport for the socket
    time.sleep(0.5)
    c.sock.slow = (8192, 0.002)
    untagged, tagged = c.read_until_tagged(tag)
    c.sock.slow = None
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    got = fetches(untagged)
    bodies = small + large
    assert sorted(got) == list(range(1, len(bodies) + 1))
    for seq, msg in enumerate(bodies, 1):
        assert got[seq]["BODY[]"] == msg, seq
    total = sum(len(b) for b in bodies)
    # base64 of random bytes still compresses by a quarter
    assert c.sock.raw_in < total * 0.9
    c.ok("NOOP")
    # LOGOUT: BYE and OK arrive compressed, then the server closes
    untagged, tagged = c.cmd("LOGOUT")
    assert tagged.startswith(b"OK") and untagged[0].startswith(b"* BYE"), (untagged, tagged)
    assert c.sock.recv(1) == b""
    assert "compress_on" in ternd.log_text()


@pytest.mark.parametrize("mode", ["plain", "imaps"])
def test_idle_sees_other_sessions_append(ternd, mode):
    c = session(ternd, mode)
    c.select()
    tag = c.next_tag()
    c.send(f"{tag} IDLE\r\n")
    assert c.read_response().startswith(b"+")
    other = Imap(ternd.imap_port)
    other.append_ok("INBOX", message(subject="while idling"))
    resp = c.wait_response(5)
    assert resp == b"* 1 EXISTS", resp
    c.send("DONE\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), (untagged, tagged)
    got = c.fetch("1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"while idling" in got[1]["BODY[HEADER.FIELDS (SUBJECT)]"]
    other.logout()
    c.logout()


def test_compressed_commands_byte_by_byte(ternd):
    """A command whose compressed bytes arrive one at a time, and many
    commands in one flush."""
    c = session(ternd, "plain")
    c.sock.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = c.sock.comp.compress(b"b1 NOOP\r\n") + c.sock.comp.flush(zlib.Z_SYNC_FLUSH)
    for i in range(len(data)):
        c.sock.sock.sendall(data[i:i + 1])
        time.sleep(0.01)
    _, tagged = c.read_until_tagged("b1")
    assert tagged.startswith(b"b1 OK"), tagged
    c.send(b"".join(f"c{i} NOOP\r\n".encode() for i in range(200)))
    for i in range(200):
        _, tagged = c.read_until_tagged(f"c{i}")
        assert tagged.startswith(f"c{i} OK".encode())
    c.logout()


# --- errors -------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plain", "starttls"])
def test_compress_twice(ternd, mode):
    c = session(ternd, mode)
    untagged, tagged = c.cmd("COMPRESS DEFLATE")
    assert tagged.startswith(b"NO [COMPRESSIONACTIVE]"), tagged
    c.ok("NOOP")
    c.logout()


@pytest.mark.parametrize("args", ["", " LZ4", " DEFLATE extra", " (DEFLATE)", ' "DEFLATE"'])
def test_compress_bad_arguments(ternd, args):
    c = CompressImap(ternd)
    _, tagged = c.cmd("COMPRESS" + args)
    assert tagged.startswith(b"BAD"), tagged
    # nothing changed: still uncompressed
    c.ok("NOOP")
    c.compress()
    c.ok("NOOP")
    c.logout()


def test_pipelined_after_compress_disconnects(ternd):
    """RFC 4978 §3: the client waits for the OK. Bytes already sent after
    the command are refused (BAD), and the session ends."""
    c = CompressImap(ternd)
    c.send("z1 COMPRESS DEFLATE\r\nz2 NOOP\r\n")
    _, tagged = c.read_until_tagged("z1")
    assert tagged.startswith(b"z1 BAD"), tagged
    assert c.readline().startswith(b"* BYE")
    assert c.closed()
    # the server goes on
    d = session(ternd, "plain")
    d.ok("NOOP")
    d.logout()


@pytest.mark.parametrize("mode", ["plain", "imaps"])
@pytest.mark.parametrize("garbage", [b"\x07garbage\r\n", b"\xff" * 64, b"a1 NOOP\r\n"])
def test_corrupt_input_disconnects(ternd, mode, garbage):
    c = session(ternd, mode)
    c.ok("NOOP")
    c.sock.sock.sendall(garbage)
    assert c.closed(), "server kept a session with corrupt compressed input"
    # no crash: the server goes on
    d = session(ternd, mode)
    d.ok("NOOP")
    d.logout()
