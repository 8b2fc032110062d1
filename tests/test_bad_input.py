"""Hostile and broken IMAP input against a running ternd: endless command
lines, absurd literal sizes, NUL and 8-bit bytes, idle connection floods,
clients that never read, runs of bad commands, protocol confusion (TLS on
the plaintext port and the reverse) and deep nesting. Every case must end
in a clear protocol error (RFC 9051 §7.1: BAD, BYE) or a timeout
disconnect - never a crash, a hang or memory that grows with the input."""
import base64
import imaplib
import random
import re
import socket
import ssl
import time

import pytest

import loadutil
from conftest import SANITIZER_MARKERS, Ternd
from imaputil import RawImap

MB = 1 << 20
# The kernel buffers several MB of a stream on loopback (our send buffer
# plus the server's receive buffer), so "answered soon after the limit"
# means: answered before this much of the stream was handed to the kernel.
ANSWER_WITHIN = 24 * MB
RSS_GROWTH_LIMIT_KB = 30 * 1024

LONG_ARG = b"a1 BAD [TOOBIG] Error in IMAP command: Command line too long\r\n"
LONG_TAG = b"* BAD [TOOBIG] Invalid tag: Command line too long\r\n"
LONG_NAME = b"a1 BAD [TOOBIG] Command line too long\r\n"
NOOP_OK = b"z OK NOOP completed."


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def login(port, tls=False):
    c = RawImap(port, tls=tls)
    _, tagged = c.command("l", "LOGIN alice secret")
    assert tagged.startswith(b"l OK [CAPABILITY"), tagged
    return c


def connect(srv, state):
    return login(srv.imap_port) if state == "post" else RawImap(srv.imap_port)


def assert_usable(c, tag="z"):
    _, tagged = c.command(tag, "NOOP")
    assert tagged == tag.encode() + b" OK NOOP completed."


def log_mark(srv):
    return len(srv.log_text())


def wait_log(srv, pattern, count=1, timeout=5.0, since=0):
    """Waits until the log (from offset since) has count lines matching
    pattern; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in srv.log_text()[since:].splitlines() if re.search(pattern, line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.fixture(scope="module")
def shared_ternd(tmp_path_factory):
    """One server for the many small cases that need no special config."""
    srv = Ternd(tmp_path_factory.mktemp("shared")).start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(shared_ternd):
    """The shared server, checked after each test: still running, log clean."""
    yield shared_ternd
    assert shared_ternd.proc.poll() is None, "ternd exited:\n" + shared_ternd.log_text()[-3000:]
    text = shared_ternd.log_text()
    bad = [m for m in SANITIZER_MARKERS if m in text]
    assert not bad, f"ternd log has {bad}:\n{text[-6000:]}"


@pytest.fixture
def rss_ternd(ternd_factory, monkeypatch):
    """A factory for servers whose RSS is measured (small ASan quarantine)."""
    loadutil.asan_small_quarantine(monkeypatch)
    return ternd_factory


# ---------------------------------------------------------------- 1. long lines

@pytest.mark.parametrize("state,head,fill,total,expect", [
    # the headline cases: 100 MB before and after login
    ("pre", b"a1 NOOP ", b"x", 100 * MB, LONG_ARG),
    ("post", b"a1 NOOP ", b"x", 100 * MB, LONG_ARG),
    # where in the line the limit is crossed
    ("pre", b"", b"t", 32 * MB, LONG_TAG),
    ("pre", b"a1 ", b"N", 32 * MB, LONG_NAME),
    ("post", b'a1 ID ("name" "', b"q", 32 * MB, LONG_ARG),
    ("pre", b"a1 NOOP", b" ", 32 * MB, LONG_ARG),
    ("pre", b"a1 AUTHENTICATE PLAIN ", b"QUFB", 32 * MB, LONG_ARG),
    # the nesting limit strikes first; the rest is skipped unbuffered
    ("post", b"a1 ID (", b"(", 32 * MB,
     b"a1 BAD Error in IMAP command: Too deeply nested lists\r\n"),
], ids=["pre-100M", "post-100M", "tag", "name", "quoted", "spaces", "sasl-ir", "parens"])
def test_huge_command_line(rss_ternd, state, head, fill, total, expect):
    srv = rss_ternd().start()
    c = connect(srv, state)
    rss_before = srv.rss_kb()
    peak = [rss_before]

    res = loadutil.stream(c.sock, head, total, fill=fill,
                          on_progress=lambda sent: peak.append(srv.rss_kb()))
    peak.append(srv.rss_kb())
    print(f"\n{state} {head!r}+{fill!r}: {res.sent >> 20} MB streamed in {res.secs:.1f}s, "
          f"answered after {(res.first_reply_at or 0) >> 10} KB / "
          f"{res.first_reply_secs or 0:.3f}s, RSS {rss_before} KB -> peak {max(peak)} KB")
    assert res.replies == expect, res.replies[:300]
    assert not res.closed
    assert res.first_reply_at < ANSWER_WITHIN, f"answered only after {res.first_reply_at} bytes"
    assert res.first_reply_secs < 5
    growth = max(peak) - rss_before
    assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew {growth} KB"

    # the end of the line resynchronizes: the next command works
    c.send(b"\r\n")
    assert_usable(c)


def test_huge_command_line_over_tls(srv):
    c = RawImap(srv.imaps_port, tls=True)
    c.send(b"a1 NOOP ")
    chunk = b"x" * MB
    for _ in range(16):
        c.send(chunk)
    c.send(b"\r\nz NOOP\r\n")
    assert c.readline() + b"\r\n" == LONG_ARG
    assert c.readline() == NOOP_OK


def test_huge_authenticate_response_line(rss_ternd):
    """An AUTHENTICATE continuation response without end: BYE soon after
    the line limit, then close."""
    srv = rss_ternd().start()
    c = RawImap(srv.imap_port)
    c.send(b"a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline() == b"+ "
    rss_before = srv.rss_kb()
    res = loadutil.stream(c.sock, b"", 32 * MB, fill=b"QUFB")
    assert res.replies == b"* BYE Authentication response too long.\r\n"
    assert res.closed
    assert res.first_reply_at < ANSWER_WITHIN
    assert srv.rss_kb() - rss_before < RSS_GROWTH_LIMIT_KB
    assert wait_log(srv, r'reason="authentication response too long"')


def test_long_sasl_response_within_line_limit(srv):
    """45 KB decoded fits in a line but not in a SASL message: a tagged
    failure, and the connection goes on."""
    c = RawImap(srv.imap_port)
    c.send(b"a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline() == b"+ "
    c.send(base64.b64encode(b"\0alice\0" + b"x" * 45000) + b"\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert re.match(rb"a1 (NO|BAD) ", tagged), tagged
    assert_usable(c)


def test_empty_sasl_responses_end(srv):
    """Empty responses make PLAIN ask again; the exchange still ends."""
    c = RawImap(srv.imap_port)
    c.send(b"a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline() == b"+ "
    c.send(b"\r\n" * 12)
    untagged, tagged = c.read_until_tagged("a1")
    assert set(untagged) <= {b"+ "} and len(untagged) <= 8, untagged
    assert re.match(rb"a1 (NO|BAD) ", tagged), tagged
    assert_usable(c)


# ---------------------------------------------------------------- 2. literals

SYNC_LITERALS = [
    ("pre", "9223372036854775808", "Literal size out of range"),   # 2^63
    ("pre", "18446744073709551616", "Literal size out of range"),  # 2^64
    ("pre", "99999999999999999999", "Literal size out of range"),
    ("pre", "65537", "Literal too big"),  # pre-login limit: max_line_length
    ("post", "9223372036854775807", "Literal too big"),            # INT64_MAX
    ("post", "9223372036854775808", "Literal size out of range"),
    ("post", "18446744073709551616", "Literal size out of range"),
    ("post", "99999999999999999999", "Literal size out of range"),
    ("post", "67108865", "Literal too big"),  # max_literal_size (64M) + 1
]


@pytest.mark.parametrize("state,size,text", SYNC_LITERALS,
                         ids=[f"{s}-{n}" for s, n, _ in SYNC_LITERALS])
def test_sync_literal_too_big(srv, state, size, text):
    c = connect(srv, state)
    cmd = "LOGIN {%s}" if state == "pre" else 'ID ("name" {%s}'
    c.send(f"a1 {cmd % size}\r\n")
    untagged, tagged = c.read_until_tagged("a1")
    assert untagged == []  # in particular no "+" continuation
    assert tagged == f"a1 BAD [TOOBIG] Error in IMAP command: {text}".encode()
    assert_usable(c)


def test_sync_literal_at_pre_login_limit(srv):
    """The largest literal allowed before login gets its continuation."""
    c = RawImap(srv.imap_port)
    c.send("a1 LOGIN {65536}\r\n")
    assert c.readline() == b"+ OK"
    c.send(b"u" * 65536 + b" secret\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged == b"a1 NO [AUTHENTICATIONFAILED] Authentication failed."
    assert_usable(c)


NONSYNC_LITERALS = [
    ("pre", "65537", "Literal too big"),
    ("pre", "9223372036854775808", "Literal size out of range"),
    ("post", "67108865", "Literal too big"),
    ("post", "18446744073709551616", "Literal size out of range"),
    ("post", "99999999999999999999", "Literal size out of range"),
]


@pytest.mark.parametrize("state,size,text", NONSYNC_LITERALS,
                         ids=[f"{s}-{n}" for s, n, _ in NONSYNC_LITERALS])
def test_nonsync_literal_too_big(srv, state, size, text):
    """The literal's bytes follow at once and can't be told from commands
    (RFC 7888 §4): the server says BYE and closes."""
    c = connect(srv, state)
    mark = log_mark(srv)
    c.send(f'a1 ID ("name" {{{size}+}}\r\nstart of the data'.encode())
    data, closed = loadutil.drain(c.sock, timeout=5)
    assert data == f"* BYE [TOOBIG] {text}\r\n".encode()
    assert closed
    assert wait_log(srv, r'reason="fatal protocol error"', since=mark)


@pytest.mark.parametrize("state", ["pre", "post"])
def test_sync_literal_data_sent_early_is_not_left_waiting(srv, state):
    """A client that sends a synchronizing literal's data without waiting
    for "+" (or whose data arrives in the same segment): the bytes are in
    the server's buffer, so the command must complete without more input."""
    c = connect(srv, state)
    c.send(b'a1 ID ("name" {3}\r\nabc)\r\n')
    data, _ = loadutil.drain(c.sock, timeout=2)
    reply = b'* ID ("name" "Tern" "version" "0.1.0")\r\na1 OK ID completed.\r\n'
    assert data in (reply, b"+ OK\r\n" + reply), data


def test_literal_memory_follows_bytes_sent(rss_ternd):
    """Announcing a big literal and sending one byte of it must not cost
    the server the whole announced size: 8 sessions that each sent 1 byte
    of a 64 MB literal to ID must not make it allocate 512 MB."""
    srv = rss_ternd().start()
    conns = [login(srv.imap_port) for _ in range(8)]
    rss_before = srv.rss_kb()
    for c in conns:
        c.send(b'a1 ID ("name" {67108864}\r\n')
        line = c.readline()
        if line == b"+ OK":
            c.send(b"y")
        else:
            assert line.startswith(b"a1 BAD [TOOBIG]"), line
    time.sleep(0.5)
    growth = srv.rss_kb() - rss_before
    print(f"\nRSS growth with 8 x (64 MB literal announced, 1 byte sent): {growth} KB")
    assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew {growth >> 10} MB"


# ---------------------------------------------------------------- 3. NUL bytes

NUL_CASES = [
    (b"a1 NO\0OP\r\n", b"a1 BAD NUL byte in command name"),
    (b"a\x001 NOOP\r\n", b"* BAD Invalid tag: NUL byte in tag"),
    (b"\0\r\n", b"* BAD Invalid tag: NUL byte in tag"),
    (b"a1 NOOP \0\r\n", b"a1 BAD Error in IMAP command: NUL byte in command"),
    (b'a1 ID ("name" "x\0y")\r\n', b"a1 BAD Error in IMAP command: NUL byte in command"),
    (b'a1 ID ("name" {3+}\r\nx\0y)\r\n', b"a1 BAD Error in IMAP command: NUL byte in literal"),
]


@pytest.mark.parametrize("state", ["pre", "post"])
@pytest.mark.parametrize("line,reply", NUL_CASES, ids=["name", "tag", "alone", "atom",
                                                     "quoted", "literal"])
def test_nul_byte(srv, state, line, reply):
    c = connect(srv, state)
    c.send(line)
    assert c.readline() == reply
    assert_usable(c)


def test_nul_in_literal8_login_name(srv):
    """A literal8 may carry NULs, but a user name can't: no truncation at
    the NUL into a valid "alice"."""
    c = RawImap(srv.imap_port)
    c.send(b"a1 LOGIN ~{11}\r\n")
    assert c.readline() == b"+ OK"
    c.send(b"alice\0xyzab secret\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged == b"a1 BAD Invalid arguments: LOGIN user password"
    assert_usable(c)


def test_nul_in_authenticate_response(srv):
    c = RawImap(srv.imap_port)
    c.send(b"a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline() == b"+ "
    c.send(b"AGFs\0aWNl\r\n")
    data, closed = loadutil.drain(c.sock, timeout=1)
    assert not closed and data.startswith(b"a1 BAD "), data


# ---------------------------------------------------------------- 4. idle floods

IDLE_CONNECTIONS = 1000
LOGIN_TIMEOUT = 3.0


def test_thousand_idle_connections(rss_ternd):
    loadutil.raise_nofile(IDLE_CONNECTIONS + 256)
    srv = rss_ternd(config_extra="imap {\n  login_timeout = 3s\n}\n").start()
    time.sleep(0.3)  # let the workers settle
    rss_before = srv.rss_kb()

    swarm = loadutil.IdleSwarm(srv.imap_port, IDLE_CONNECTIONS)
    try:
        assert swarm.pump(lambda s: s.greeted() == IDLE_CONNECTIONS, 10), \
            f"only {swarm.greeted()} greetings"
        rss_open = srv.rss_kb()

        # a normal client is served while 1,000 sit idle
        t0 = time.monotonic()
        m = imaplib.IMAP4("127.0.0.1", srv.imap_port, timeout=5)
        assert m.login("alice", "secret")[0] == "OK"
        assert m.noop()[0] == "OK"
        m.logout()
        during = time.monotonic() - t0

        assert swarm.pump(lambda s: s.closed() == IDLE_CONNECTIONS, LOGIN_TIMEOUT + 10), \
            f"only {swarm.closed()} of {IDLE_CONNECTIONS} closed"
        waits = [c["closed_after"] for c in swarm.conns]
        for conn in swarm.conns:
            greeting, rest = conn["data"].split(b"\r\n", 1)
            assert greeting.startswith(b"* OK [CAPABILITY ")
            assert rest == b"* BYE Disconnected for inactivity.\r\n"
    finally:
        swarm.close()
    assert min(waits) >= LOGIN_TIMEOUT - 0.1, min(waits)
    assert max(waits) < LOGIN_TIMEOUT + 4, max(waits)
    assert len(wait_log(srv, r'reason="login timeout"', IDLE_CONNECTIONS)) == IDLE_CONNECTIONS

    time.sleep(0.3)
    rss_after = srv.rss_kb()
    t0 = time.monotonic()
    c = login(srv.imap_port)
    assert_usable(c)
    after = time.monotonic() - t0

    per_conn = (rss_open - rss_before) / IDLE_CONNECTIONS
    print(f"\nRSS master+workers: before {rss_before} KB, with {IDLE_CONNECTIONS} idle "
          f"{rss_open} KB, after {rss_after} KB; {per_conn:.1f} KB per idle connection; "
          f"closed after {min(waits):.2f}-{max(waits):.2f}s; login during {during:.3f}s, "
          f"after {after:.3f}s")
    assert per_conn < 100
    assert rss_after - rss_before < IDLE_CONNECTIONS * 100
    assert during < 2 and after < 2


# ------------------------------------------------------- 5. clients that never read

def small_window_client(port, tls=False, rcvbuf=4096):
    """A connection with a tiny receive window, so that the server's output
    backs up as soon as we stop reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    if tls:
        sock = tls_context().wrap_socket(sock)
    c = RawImap.__new__(RawImap)
    c.sock, c.buf = sock, b""
    c.greeting = c.readline()
    return c


@pytest.mark.parametrize("state", ["pre", "post"])
def test_client_that_never_reads(rss_ternd, state):
    srv = rss_ternd(process_count=1, config_extra=(
        "imap {\n  output_buffer_limit = 64k\n  output_timeout = 3s\n}\n")).start()
    c = small_window_client(srv.imap_port)
    if state == "post":
        _, tagged = c.command("l", "LOGIN alice secret")
        assert tagged.startswith(b"l OK")
    time.sleep(0.2)
    rss_before = srv.rss_kb()
    peak = [rss_before]
    samples = [0]

    def sample():
        samples[0] += 1
        if samples[0] % 20 == 0:
            peak.append(srv.rss_kb())

    # each 14-byte command makes ~100 bytes of output
    sent, stalled_at = loadutil.fill_until_blocked(
        c.sock, b"a CAPABILITY\r\n" * 4096, max_bytes=256 * MB, on_progress=sample)
    peak.append(srv.rss_kb())
    assert sent < 64 * MB, f"the server kept reading: {sent} bytes taken"

    # the same (only) worker still serves others
    t0 = time.monotonic()
    other = login(srv.imap_port)
    untagged, tagged = other.command("o1", "CAPABILITY")
    assert tagged.startswith(b"o1 OK") and untagged[0].startswith(b"* CAPABILITY")
    assert_usable(other)
    served = time.monotonic() - t0

    deadline = stalled_at + 3 + 5
    while not loadutil.hung_up(c.sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loadutil.hung_up(c.sock), "not disconnected after the output timeout"
    closed_after = time.monotonic() - stalled_at

    lines = wait_log(srv, r'reason="output timeout: client is not reading"')
    assert len(lines) == 1, lines
    growth = max(peak) - rss_before
    in_bytes = re.search(r" in=(\d+)", lines[0])
    print(f"\n{state}: client sent {sent >> 10} KB before its socket blocked, server read "
          f"{in_bytes.group(1) if in_bytes else '?'} bytes; disconnected "
          f"{closed_after:.1f}s after the stall; other client served in {served:.3f}s; "
          f"RSS {rss_before} KB -> peak {max(peak)} KB")
    if in_bytes:
        assert int(in_bytes.group(1)) < 16 * MB
    assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew {growth} KB"
    assert served < 2
    assert_usable(other, "y")


# KNOWN BUG (issue 8 follow-up): after login a TLS session's bytes pass the
# login process's relay (src/login/login-proxy.c); with this tiny window
# and a loaded machine the relay stalled in 2 of 4 fresh-clone runs (the
# login side's output timer fired with the client waiting). Not yet found;
# the other three variants pass, and post-tls passes in most runs.
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("state", ["pre", "post"])
def test_slow_reader_gets_every_reply(ternd_factory, state, tls):
    """Pipelined commands with a tiny output buffer: reading pauses and
    resumes many times and every command is answered (no stall)."""
    # the output timeout only guards against a real stall here: generous,
    # so a loaded machine's slow Python reader isn't taken for one (with
    # TLS the bytes pass the login process's relay too)
    srv = ternd_factory(process_count=1, config_extra=(
        "imap {\n  output_buffer_limit = 4k\n  output_timeout = 15s\n}\n")).start()
    port = srv.imaps_port if tls else srv.imap_port
    # not the 4 KB window of the other tests: on loopback (MSS 64 KB) a
    # receive buffer that small makes the client's kernel advertise a zero
    # window after each read (receiver silly-window avoidance), so the
    # server's kernel learns of the space only from its window probes,
    # which back off to many seconds under load: the bytes then sit in the
    # server's socket buffer, not in ternd (seen as a "relay stall" with
    # TLS, whose records arrive in odd sizes). The server's 4 KB output
    # buffer still fills and drains over and over as the client reads.
    c = small_window_client(port, tls, rcvbuf=256 * 1024)
    if state == "post":
        _, tagged = c.command("l", "LOGIN alice secret")
        assert tagged.startswith(b"l OK")
    count = 20000
    payload = b"".join(b"p%d CAPABILITY\r\n" % i for i in range(count))
    data = loadutil.converse(c.sock, payload, b"p%d OK" % (count - 1))
    tagged = [line for line in data.split(b"\r\n") if line.startswith(b"p")]
    answered = sum(1 for i, line in enumerate(tagged) if line.startswith(b"p%d OK" % i))
    assert answered == count
    assert_usable(c)


@pytest.mark.parametrize("state", ["pre", "post"])
def test_final_replies_survive_unread_input(srv, state):
    """The client pipelines commands, then junk that earns a BYE, then more;
    it reads a little later. All replies up to the BYE must arrive before
    the close - not be destroyed by a reset because input was left unread."""
    c = small_window_client(srv.imap_port)
    limit = 10
    if state == "post":
        c.command("l", "LOGIN alice secret")
        limit = 20
    try:
        c.send(b"".join(b"c%d CAPABILITY\r\n" % i for i in range(100)) +
               b"".join(b"b%d FROB\r\n" % i for i in range(limit)) + b"x NOOP\r\n" * 8000)
    except (ConnectionResetError, BrokenPipeError):
        pass  # the reset is the failure; the replies tell
    time.sleep(0.5)
    data, closed = loadutil.drain(c.sock)
    assert closed
    assert data.count(b" OK Capab") + data.count(b" OK Pre-login capab") == 100, \
        f"got {len(data)} bytes: ...{data[-200:]!r}"
    assert data.endswith(b"* BYE Too many invalid IMAP commands.\r\n")


# ---------------------------------------------------------------- 6. assorted

def test_too_many_bad_commands_pre_login(srv):
    c = RawImap(srv.imap_port)
    c.send(b"".join(b"b%d FROB\r\n" % i for i in range(9)))
    for i in range(9):
        assert c.readline() == b"b%d BAD Unknown command." % i
    assert_usable(c, "n")  # a good command resets the count
    mark = log_mark(srv)
    c.send(b"".join(b"c%d FROB\r\n" % i for i in range(10)))
    data, closed = loadutil.drain(c.sock)
    assert data == b"".join(b"c%d BAD Unknown command.\r\n" % i for i in range(10)) + \
        b"* BYE Too many invalid IMAP commands.\r\n"
    assert closed
    assert wait_log(srv, r'state=pre-login reason="too many invalid commands"', since=mark)


def test_too_many_bad_commands_post_login(srv):
    c = login(srv.imap_port)
    c.send(b"".join(b"b%d FROB\r\n" % i for i in range(20)))
    data, closed = loadutil.drain(c.sock)
    assert data == b"".join(b"b%d BAD Unknown command.\r\n" % i for i in range(20)) + \
        b"* BYE Too many invalid IMAP commands.\r\n"
    assert closed


def test_too_many_bad_arguments_post_login(srv):
    c = login(srv.imap_port)
    c.send(b"".join(b"b%d NOOP x\r\n" % i for i in range(20)))
    data, closed = loadutil.drain(c.sock, timeout=2)
    assert data == b"".join(b"b%d BAD NOOP takes no arguments.\r\n" % i for i in range(20)) + \
        b"* BYE Too many invalid IMAP commands.\r\n"
    assert closed


def test_too_many_authentication_failures(srv):
    c = RawImap(srv.imap_port)
    c.send(b"".join(b"a%d LOGIN alice wrong\r\n" % i for i in range(5)))
    data, closed = loadutil.drain(c.sock)
    assert data == b"".join(b"a%d NO [AUTHENTICATIONFAILED] Authentication failed.\r\n" % i
                            for i in range(5)) + b"* BYE Too many authentication failures.\r\n"
    assert closed


@pytest.mark.parametrize("state", ["pre", "post"])
@pytest.mark.parametrize("tag", [b"a(", b"a)", b"a{", b"a*", b"a%", b"a\\", b'a"', b"a+",
                                 b"+", b"*", b"\x7f", b"\ta", b"\xffa"])
def test_invalid_tag(srv, state, tag):
    c = connect(srv, state)
    c.send(tag + b" NOOP\r\n")
    assert c.readline() == b"* BAD Invalid tag: Invalid tag"
    assert_usable(c)


@pytest.mark.parametrize("state", ["pre", "post"])
@pytest.mark.parametrize("line,reply", [
    (b"        \r\n", b"* BAD Invalid tag: Missing tag"),
    (b" " * 60000 + b"\r\n", b"* BAD Invalid tag: Missing tag"),
    (b"a1        \r\n", b"a1 BAD Missing command name"),
    (b"a1\r\n", b"a1 BAD Missing command name"),
    (b"a1 NOOP\rb2 NOOP\r\n", b"a1 BAD Error in IMAP command: CR without LF"),
    (b"a1 NOOP\r\r\n", b"a1 BAD Error in IMAP command: CR without LF"),
    (b"\r\r\n", b"* BAD Invalid tag: CR without LF"),
    (b"a1 ID )\r\n", b"a1 BAD Error in IMAP command: Unexpected ')'"),
    (b"a1 ID (\r\n", b"a1 BAD Error in IMAP command: Missing ')'"),
    (b"a1 NOOP {abc}\r\n", b"a1 BAD Error in IMAP command: Invalid literal size"),
    (b"a1 NOOP {-1}\r\n", b"a1 BAD Error in IMAP command: Invalid literal size"),
    (b"a1 NOOP {}\r\n", b"a1 BAD Error in IMAP command: Invalid literal size"),
    (b"a1 NOOP {5\r\n", b"a1 BAD Error in IMAP command: Invalid literal size"),
], ids=["spaces", "60k-spaces", "tag-spaces", "tag-only", "cr-mid", "cr-cr-lf", "cr-start",
        "paren-close", "paren-open", "lit-abc", "lit-neg", "lit-empty", "lit-unclosed"])
def test_malformed_line(srv, state, line, reply):
    c = connect(srv, state)
    c.send(line)
    assert c.readline() == reply
    assert_usable(c)


SCRIPT = [
    b"a1 NOOP\r\n",
    b"a2 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n",
    b'a3 ID ("name" "x" "os" {3+}\r\nabc)\r\n',
    b"a4 NOOP\r\r\n",
    b"a5 ENABLE IMAP4rev2\n",
    b"a6 FROB {3+}\r\nabc\r\n",
    b"a7 ID " + b"(" * 80 + b"\r\n",
    b"a8 NO\0OP\r\n",
    b"a9 CAPABILITY\r\n",
    b"a10 LOGOUT\r\n",
]


def test_byte_by_byte_same_as_at_once(srv):
    """Incremental parsing: the same session fed one byte per segment gets
    the same replies as when sent in one piece."""
    transcripts = []
    for bytewise in (False, True):
        c = RawImap(srv.imap_port)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b"".join(SCRIPT)
        if bytewise:
            for i in range(len(data)):
                c.sock.send(data[i:i + 1])
                time.sleep(0.001)
        else:
            c.send(data)
        out, closed = loadutil.drain(c.sock, timeout=5)
        assert closed
        transcripts.append(out)
    assert transcripts[0].endswith(b"* BYE Logging out\r\na10 OK Logout completed.\r\n")
    assert transcripts[0].count(b"\r\n") == 14
    assert transcripts[1] == transcripts[0]


@pytest.mark.parametrize("state", ["pre", "post"])
def test_empty_line_split_across_segments(srv, state):
    c = connect(srv, state)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.send(b"\r")
    data, closed = loadutil.drain(c.sock, timeout=0.3)
    assert data == b"" and not closed  # a lone CR: wait for more
    c.send(b"\n")  # CRLF: an empty line, ignored
    time.sleep(0.1)
    c.send(b"z NOOP\r\n")
    assert c.readline() == NOOP_OK


@pytest.mark.parametrize("state", ["pre", "post"])
def test_8bit_garbage(srv, state):
    c = connect(srv, state)
    c.send(b"a1 \xc3\xa9\r\n")
    assert c.readline() == b"a1 BAD Invalid characters in command name"
    c.send(b"a2 NOOP \xc3\xa9\r\n")
    assert c.readline() == b"a2 BAD Error in IMAP command: 8-bit data in atom"
    c.send('a3 ID ("name" "Ünïcødé")\r\n'.encode())  # UTF-8 quoted: fine
    _, tagged = c.read_until_tagged("a3")
    assert tagged == b"a3 OK ID completed."
    rng = random.Random(1234)
    for _ in range(5):  # random 8-bit lines
        junk = bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randrange(1, 2000)))
        c.send(junk + b"\r\n")
        assert c.readline() == b"* BAD Invalid tag: Invalid tag"
    assert_usable(c)


@pytest.mark.parametrize("state", ["pre", "post"])
def test_random_binary_lines_end_in_bye(srv, state):
    """Binary noise (no CR, LF or '{'): one BAD per line until the bad
    command limit, then BYE."""
    limit = 10 if state == "pre" else 20
    c = connect(srv, state)
    rng = random.Random(99)
    alphabet = [b for b in range(256) if b not in b"\r\n{"]
    lines = [bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 3000)))
             for _ in range(limit)]
    c.send(b"".join(line + b"\r\n" for line in lines))
    data, closed = loadutil.drain(c.sock)
    replies = data.split(b"\r\n")
    assert replies[-1] == b"" and replies[-2] == b"* BYE Too many invalid IMAP commands."
    assert len(replies) - 2 == limit
    assert all(re.match(rb"^\S+ BAD ", r) for r in replies[:-2]), replies
    assert closed


@pytest.mark.parametrize("state,cmd", [
    ("pre", b"a1 LOGIN {10}\r\n"),
    ("pre", b"a1 LOGIN alice {10}\r\n"),
    ("post", b'a1 ID ("name" {100}\r\n'),
])
def test_truncated_sync_literal_then_disconnect(srv, state, cmd):
    c = connect(srv, state)
    c.send(cmd)
    assert c.readline() == b"+ OK"
    mark = log_mark(srv)
    c.send(b"abc")
    c.close()
    assert wait_log(srv, r'reason="disconnected by client"', since=mark)
    assert_usable(connect(srv, state))


@pytest.mark.parametrize("state", ["pre", "post"])
def test_truncated_nonsync_literal_then_disconnect(srv, state):
    c = connect(srv, state)
    mark = log_mark(srv)
    c.send(b'a1 ID ("name" {1000+}\r\nabc')
    time.sleep(0.2)
    c.close()
    assert wait_log(srv, r'reason="disconnected by client"', since=mark)
    assert_usable(connect(srv, state))


def test_disconnect_while_authentication_pending(srv):
    mark = log_mark(srv)
    for line in (b"a1 LOGIN alice wrong\r\n", b"a1 LOGIN alice secret\r\na2 NOOP\r\n",
                 b"a1 AUTHENTICATE PLAIN\r\n", b"a1 AUTHENTICATE PLAIN\r\nAGFsaWNl"):
        c = RawImap(srv.imap_port)
        c.send(line)
        c.close()
    # (other tests' forgotten sockets may close meanwhile: at least ours)
    assert len(wait_log(srv, r"event=disconnect ", count=4, since=mark)) >= 4
    assert_usable(login(srv.imap_port))


def tls_client_hello():
    """A fixed TLS 1.2 ClientHello record, with no LF and no '{' in it."""
    random_bytes = bytes(range(0x20, 0x40))
    body = (b"\x03\x03" + random_bytes + b"\x00"                 # version, random, no session
            + b"\x00\x04\x13\x01\xc0\x2f" + b"\x01\x00"          # cipher suites, compression
            + b"\x00\x0d\x00\x00\x00\x09\x00\x07\x00\x00\x04host")  # server_name extension
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    record = b"\x16\x03\x01" + len(handshake).to_bytes(2, "big") + handshake
    assert b"\n" not in record and b"{" not in record
    return record


def test_tls_client_hello_on_plaintext_port(srv):
    c = RawImap(srv.imap_port)
    c.send(tls_client_hello())
    assert c.readline() == b"* BAD Invalid tag: Invalid tag"
    c.send(b"\r\n")
    assert_usable(c)
    # a real TLS client gives up at once on the plaintext greeting
    sock = socket.create_connection(("127.0.0.1", srv.imap_port), timeout=5)
    t0 = time.monotonic()
    with pytest.raises(ssl.SSLError):
        tls_context().wrap_socket(sock)
    assert time.monotonic() - t0 < 5
    sock.close()
    assert_usable(RawImap(srv.imap_port))


@pytest.mark.parametrize("data", [b"a1 CAPABILITY\r\n", b"a1 CAPABILITY\r\n" * 10000,
                                  b"GET / HTTP/1.0\r\n\r\n"], ids=["imap", "imap-flood", "http"])
def test_plaintext_on_imaps_port(srv, data):
    sock = socket.create_connection(("127.0.0.1", srv.imaps_port), timeout=5)
    try:
        sock.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        pass  # refused before we were done: fine
    t0 = time.monotonic()
    got, closed = loadutil.drain(sock, timeout=5)
    assert closed and time.monotonic() - t0 < 5
    assert b"* OK" not in got and b"BYE" not in got  # nothing in plaintext
    assert got == b"" or got.startswith(b"\x15\x03")  # at most a TLS alert
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=tls_context())
    assert m.login("alice", "secret")[0] == "OK"
    m.logout()


def test_plaintext_on_imaps_port_logs_tls_error(srv):
    mark = log_mark(srv)
    sock = socket.create_connection(("127.0.0.1", srv.imaps_port), timeout=5)
    sock.sendall(b"a1 CAPABILITY\r\n")
    loadutil.drain(sock, timeout=5)
    lines = wait_log(srv, r"event=disconnect state=pre-login", since=mark)
    assert lines and "TLS handshake failed" in lines[-1], lines


@pytest.mark.parametrize("junk", [b"b1 NOOP\r\n", b"\x16\x03\x01\xff\xff" + b"A" * 100,
                                  b"\x16\x03\x01\x00\x05hel"],
                         ids=["plain", "bad-record", "truncated"])
def test_garbage_after_starttls(srv, junk):
    c = RawImap(srv.imap_port)
    _, tagged = c.command("a1", "STARTTLS")
    assert tagged == b"a1 OK Begin TLS negotiation now."
    mark = log_mark(srv)
    c.send(junk)
    if junk.endswith(b"hel"):
        time.sleep(0.2)
        c.close()  # half a ClientHello, then gone
        assert wait_log(srv, r"event=disconnect state=pre-login", since=mark)
    else:
        got, closed = loadutil.drain(c.sock, timeout=5)
        assert closed
        assert b"NOOP" not in got and (got == b"" or got.startswith(b"\x15\x03"))
        assert wait_log(srv, r'reason="read failed: TLS handshake failed', since=mark)
    assert_usable(RawImap(srv.imap_port))


@pytest.mark.parametrize("state", ["pre", "post"])
@pytest.mark.parametrize("depth", [65, 10000, 60000])
def test_deep_nesting(srv, state, depth):
    c = connect(srv, state)
    c.send(b"a1 ID " + b"(" * depth + b")" * depth + b"\r\n")
    assert c.readline() == b"a1 BAD Error in IMAP command: Too deeply nested lists"
    c.send(b"a2 ID " + b"(" * depth + b"\r\n")  # never closed
    assert c.readline() == b"a2 BAD Error in IMAP command: Too deeply nested lists"
    assert_usable(c)


@pytest.mark.parametrize("state", ["pre", "post"])
def test_too_many_arguments(srv, state):
    c = connect(srv, state)
    c.send(b"a1 ID (" + b'"a" ' * 16000 + b")\r\n")
    _, tagged = c.read_until_tagged("a1")
    if state == "pre":
        assert tagged == b"a1 BAD Error in IMAP command: Too many arguments"
    else:  # 100,000 arguments are allowed; ID itself refuses so many pairs
        assert tagged == b"a1 BAD Invalid ID parameters."
    assert_usable(c)


def test_no_log_injection(srv):
    """CR/LF in a literal that gets logged (a client ID value, a user name)
    can't start a log line of its own."""
    fake = b"x\r\nFAKE-LINE level=error event=injected\n"
    c = RawImap(srv.imap_port)
    mark = log_mark(srv)
    c.send(b'a1 ID ("name" {%d+}\r\n%s)\r\n' % (len(fake), fake))
    _, tagged = c.read_until_tagged("a1")
    assert tagged == b"a1 OK ID completed."
    c.send(b"a2 LOGIN {%d+}\r\n%s secret\r\n" % (len(fake), fake))
    _, tagged = c.read_until_tagged("a2")
    assert tagged == b"a2 NO [AUTHENTICATIONFAILED] Authentication failed."
    assert_usable(c)
    assert wait_log(srv, r"FAKE-LINE", since=mark)  # logged, but escaped inside a line
    for line in srv.log_text()[mark:].splitlines():
        assert not line.startswith("FAKE-LINE"), line
