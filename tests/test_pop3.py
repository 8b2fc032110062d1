"""POP3 (RFC 1939) and its extensions against a running ternd, with poplib
and raw sockets: every command in the AUTHORIZATION and TRANSACTION states,
the UPDATE state at QUIT only, CAPA (RFC 2449), response codes (RFC 2449
§8, RFC 3206), AUTH (RFC 5034), STLS (RFC 2595) and POP3S, UTF8 (RFC
6856), pipelining, wrong-state commands and bad arguments (each a clear
-ERR), the maildrop lock, login delay, UIDL stability and format, exact
octet counts and dot-stuffing, streaming a 50 MB message with back-pressure,
and the interplay with IMAP sessions on the same INBOX."""
import base64
import hashlib
import os
import pathlib
import poplib
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

import loadutil
from conftest import TERND, free_port
from mailutil import Imap, close_sessions, fetches, maildir_deliver, message, wait_for

CRLF = b"\r\n"
MB = 1024 * 1024


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


_pops = []


@pytest.fixture(autouse=True)
def _close_sessions_first(ternd_factory):
    """Closes the test's connections before its servers stop, so their
    shutdown doesn't wait for lingering clients."""
    yield
    close_sessions()
    _close_pops()


@pytest.fixture
def srv(ternd_factory):
    return ternd_factory(pop3=True).start()


def _close_pops():
    while _pops:
        try:
            _pops.pop().sock.close()
        except OSError:
            pass


class Pop:
    """A raw POP3 connection: exact bytes in, lines and multi-line
    responses out."""

    def __init__(self, port, tls=False, host="127.0.0.1", source=None, timeout=10):
        sock = socket.create_connection((host, port), timeout=timeout,
                                        source_address=(source, 0) if source else None)
        if tls:
            sock = tls_context().wrap_socket(sock)
        self.sock = sock
        self.buf = b""
        _pops.append(self)
        self.greeting = self.readline()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while CRLF not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed; buffered: %r" % self.buf[:300])
            self.buf += chunk
        line, self.buf = self.buf.split(CRLF, 1)
        return line

    def read_multi(self):
        """The lines of a multi-line body up to the "." (still stuffed)."""
        lines = []
        while True:
            line = self.readline()
            if line == b".":
                return lines
            lines.append(line)

    def cmd(self, line):
        """Sends a command; returns its status line."""
        self.send((line.encode() if isinstance(line, str) else line) + CRLF)
        return self.readline()

    def multi(self, line):
        """Sends a command with a multi-line answer; returns (status line,
        body lines), the body empty after -ERR."""
        status = self.cmd(line)
        return status, (self.read_multi() if status.startswith(b"+OK") else [])

    def ok(self, line):
        status = self.cmd(line)
        assert status.startswith(b"+OK"), (line, status)
        return status

    def login(self, user="alice", password="secret"):
        self.ok(f"USER {user}")
        return self.ok(f"PASS {password}")

    def starttls(self):
        self.ok("STLS")
        assert self.buf == b""
        self.sock = tls_context().wrap_socket(self.sock)

    def closed(self, timeout=5):
        data, closed = loadutil.drain(self.sock, timeout)
        self.buf += data
        return closed


def pop_login(srv, **kwargs):
    p = Pop(srv.pop3_port, **kwargs)
    p.login()
    return p


def unstuff(lines):
    return [line[1:] if line.startswith(b".") else line for line in lines]


def retr(p, num):
    """RETR: (octets announced, message bytes as received)."""
    status, lines = p.multi(f"RETR {num}")
    m = re.fullmatch(rb"\+OK (\d+) octets", status)
    assert m, status
    return int(m.group(1)), b"".join(line + CRLF for line in unstuff(lines))


def imap_append(srv, *messages, **kwargs):
    c = Imap(srv.imap_port, rev2=True)
    uids = [c.append_ok("INBOX", m, **kwargs) for m in messages]
    c.logout()
    return uids


def imap_state(srv):
    """{uid: sorted flags} of INBOX."""
    c = Imap(srv.imap_port, rev2=True)
    state = {}
    if b"* 0 EXISTS" in c.select():
        c.logout()
        return state
    for item in fetches(c.ok("FETCH 1:* (UID FLAGS)")).values():
        state[int(item["UID"])] = sorted(f for f in item["FLAGS"] if f != "\\Recent")
    c.logout()
    return state


def imap_uidvalidity(srv):
    c = Imap(srv.imap_port, rev2=True)
    untagged = c.ok("STATUS INBOX (UIDVALIDITY)")
    c.logout()
    return int(re.search(rb"UIDVALIDITY (\d+)", untagged[0]).group(1))


def capa(p):
    status, lines = p.multi("CAPA")
    assert status.startswith(b"+OK")
    return [line.decode() for line in lines]


# --- AUTHORIZATION state ------------------------------------------------------------

def test_greeting_and_capa(srv):
    p = Pop(srv.pop3_port)
    assert re.fullmatch(rb"\+OK Tern ready\. <[^<>@ ]+@[^<> ]+>", p.greeting)
    caps = capa(p)
    assert caps == ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER",
                    "SASL PLAIN LOGIN", "STLS", "EXPIRE NEVER", "LOGIN-DELAY 0",
                    "UTF8 USER", "IMPLEMENTATION Tern"]
    assert p.cmd("CAPA x") == b"-ERR CAPA takes no arguments."
    p.login()
    caps = capa(p)
    assert "STLS" not in caps and "USER" not in caps
    assert not any(c.startswith("SASL") for c in caps)
    assert caps[:5] == ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]


def test_user_pass(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("USER alice") == b"+OK Send PASS now."
    assert p.cmd("PASS secret").startswith(b"+OK Logged in, 0 messages")
    assert p.cmd("QUIT") == b"+OK Logging out."
    assert p.closed()


def test_user_pass_failures(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("PASS secret") == b"-ERR No user name given: send USER first."
    assert p.cmd("USER") == b"-ERR Missing argument: USER name"
    p.ok("USER alice")
    assert p.cmd("PASS") == b"-ERR Missing argument: PASS password"
    assert p.cmd("PASS wrong") == b"-ERR [AUTH] Authentication failed."
    # after a failed PASS, USER must be given again
    assert p.cmd("PASS secret") == b"-ERR No user name given: send USER first."
    p.ok("USER nobody")
    assert p.cmd("PASS secret") == b"-ERR [AUTH] Authentication failed."
    # a password with spaces is the rest of the line
    p.login()


def test_password_with_spaces(ternd_factory):
    srv = ternd_factory(pop3=True, users={"bob": " two  words "}).start()
    p = Pop(srv.pop3_port)
    p.ok("USER bob")
    assert p.cmd("PASS  two  words ").startswith(b"+OK Logged in")


def test_too_many_auth_failures_disconnects(srv):
    p = Pop(srv.pop3_port)
    for _ in range(4):
        p.ok("USER alice")
        assert p.cmd("PASS wrong") == b"-ERR [AUTH] Authentication failed."
    p.ok("USER alice")
    assert p.cmd("PASS wrong") == b"-ERR [AUTH] Authentication failed."
    assert p.closed()


def b64(data):
    return base64.b64encode(data).decode()


def test_auth_plain_initial_response(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("AUTH PLAIN " + b64(b"\0alice\0secret")).startswith(b"+OK Logged in")
    assert p.cmd("STAT") == b"+OK 0 0"


def test_auth_plain_continuation_and_lowercase_mech(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("AUTH plain") == b"+ "
    assert p.cmd(b64(b"\0alice\0secret")).startswith(b"+OK Logged in")


def test_auth_login_exchange(srv):
    p = Pop(srv.pop3_port)
    status = p.cmd("AUTH LOGIN")
    assert status.startswith(b"+ ") and b"user" in base64.b64decode(status[2:]).lower()
    status = p.cmd(b64(b"alice"))
    assert status.startswith(b"+ ") and b"password" in base64.b64decode(status[2:]).lower()
    assert p.cmd(b64(b"secret")).startswith(b"+OK Logged in")


def test_auth_cancel_garbage_and_unknown(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("AUTH PLAIN") == b"+ "
    assert p.cmd("*") == b"-ERR Authentication aborted by client."
    assert p.cmd("AUTH PLAIN") == b"+ "
    assert p.cmd("!!!notbase64").startswith(b"-ERR Invalid authentication response")
    assert p.cmd("AUTH PLAIN " + b64(b"\0alice\0wrong")) == b"-ERR [AUTH] Authentication failed."
    assert p.cmd("AUTH CRAM-MD5") == b"-ERR Unsupported authentication mechanism CRAM-MD5."
    assert p.cmd("AUTH PLAIN a b") == \
        b"-ERR Too many arguments: AUTH mechanism [initial-response]"
    # the session is still usable
    assert p.cmd("AUTH PLAIN " + b64(b"\0alice\0secret")).startswith(b"+OK")


def test_auth_mechanism_name_too_long(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("AUTH " + "X" * 21) == b"-ERR Unsupported authentication mechanism."
    p.login()


def test_auth_cancels_count_as_failures(srv):
    p = Pop(srv.pop3_port)
    for _ in range(5):
        assert p.cmd("AUTH PLAIN") == b"+ "
        assert p.cmd("*") == b"-ERR Authentication aborted by client."
    assert p.closed()


def test_auth_without_mechanism_lists_them(srv):
    p = Pop(srv.pop3_port)
    assert p.multi("AUTH") == (b"+OK", [b"PLAIN", b"LOGIN"])


def test_apop_wrong_digest(srv):
    """APOP itself is tested in test_pop3_apop.py."""
    p = Pop(srv.pop3_port)
    assert p.cmd("APOP alice 0123456789abcdef0123456789abcdef").startswith(b"-ERR [AUTH]")
    p.login()


def test_utf8(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("UTF8") == b"+OK UTF8 enabled."
    assert p.cmd("UTF8 x") == b"-ERR UTF8 takes no arguments."
    p.login()
    assert p.cmd("UTF8") == \
        b"-ERR Already logged in: UTF8 is valid only in the AUTHORIZATION state."


def test_utf8_user_name(ternd_factory):
    srv = ternd_factory(pop3=True, users={"j\u00fcrgen": "gr\u00fc\u00df"}).start()
    p = Pop(srv.pop3_port)
    p.ok("UTF8")
    p.ok("USER j\u00fcrgen")
    assert p.cmd("PASS gr\u00fc\u00df").startswith(b"+OK Logged in")


@pytest.mark.parametrize("command", ["STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "NOOP",
                                     "RSET", "TOP 1 1", "UIDL", "UIDL 1"])
def test_transaction_commands_before_login(srv, command):
    p = Pop(srv.pop3_port)
    name = command.split()[0]
    assert p.cmd(command) == \
        f"-ERR Not logged in: {name} is valid only in the TRANSACTION state.".encode()
    p.login()


@pytest.mark.parametrize("command", ["USER alice", "PASS secret", "APOP a b", "AUTH PLAIN",
                                     "STLS", "UTF8"])
def test_authorization_commands_after_login(srv, command):
    p = pop_login(srv)
    name = command.split()[0]
    assert p.cmd(command) == \
        f"-ERR Already logged in: {name} is valid only in the AUTHORIZATION state.".encode()
    assert p.cmd("NOOP") == b"+OK"


@pytest.mark.parametrize("state", ["pre", "post"])
def test_unknown_and_malformed_lines(srv, state):
    p = Pop(srv.pop3_port)
    if state == "post":
        p.login()
    assert p.cmd("FOO") == b"-ERR Unknown command: FOO"
    assert p.cmd("XTNDXMIT now") == b"-ERR Unknown command: XTNDXMIT"
    assert p.cmd("") == b"-ERR Empty command line."
    assert p.cmd(" STAT") == b"-ERR Unknown command: "
    assert p.cmd("ST\x01T") == b"-ERR Unknown command: (unprintable)"
    assert p.cmd(b"CA\0PA") == b"-ERR Line contains a NUL byte."
    assert p.cmd(b"CAPA " + b"x" * (70 * 1024)) == b"-ERR Line too long."
    # bare LF ends a line too
    p.send(b"QUIT\n")
    assert p.readline().startswith(b"+OK Logging out")


@pytest.mark.parametrize("state,limit", [("pre", 10), ("post", 20)])
def test_too_many_bad_commands_disconnects(srv, state, limit):
    p = Pop(srv.pop3_port)
    if state == "post":
        p.login()
    for i in range(limit - 1):
        assert p.cmd("BOGUS").startswith(b"-ERR Unknown command")
    # a good command resets the count
    assert p.cmd("CAPA").startswith(b"+OK")
    p.read_multi()
    for i in range(limit - 1):
        assert p.cmd("BOGUS").startswith(b"-ERR Unknown command")
    p.send("BOGUS\r\n")
    assert p.readline() == b"-ERR Unknown command: BOGUS"
    assert p.readline() == b"-ERR Too many invalid commands."
    assert p.closed()


def test_quit_before_login(srv):
    p = Pop(srv.pop3_port)
    assert p.cmd("QUIT x") == b"-ERR QUIT takes no arguments."
    assert p.cmd("QUIT") == b"+OK Logging out."
    assert p.closed()


def test_pipelined_login_and_commands(srv):
    imap_append(srv, message("one"), message("two"))
    p = Pop(srv.pop3_port)
    p.send("CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL 2\r\n"
           "RETR 1\r\nDELE 1\r\nSTAT\r\nNOOP\r\nQUIT\r\n")
    assert p.readline().startswith(b"+OK")
    assert "PIPELINING" in [line.decode() for line in p.read_multi()]
    assert p.readline().startswith(b"+OK")
    assert p.readline().startswith(b"+OK Logged in, 2 messages")
    size1, size2 = len(message("one")), len(message("two"))
    assert p.readline() == f"+OK 2 {size1 + size2}".encode()
    assert p.readline().startswith(b"+OK 2 messages")
    assert p.read_multi() == [f"1 {size1}".encode(), f"2 {size2}".encode()]
    assert p.readline().startswith(b"+OK 2 ")
    assert p.readline() == f"+OK {size1} octets".encode()
    assert b"".join(line + CRLF for line in p.read_multi()) == message("one")
    assert p.readline() == b"+OK Message 1 deleted."
    assert p.readline() == f"+OK 1 {size2}".encode()
    assert p.readline() == b"+OK"
    assert p.readline() == b"+OK Logging out, 1 messages deleted."
    assert p.closed()
    assert len(imap_state(srv)) == 1


def test_many_pipelined_retrs(srv):
    msgs = [message(f"m{i}", body=f"body {i}\r\n" * (i * 40)) for i in range(30)]
    imap_append(srv, *msgs)
    p = pop_login(srv)
    rounds = 20
    p.send("".join(f"RETR {i % 30 + 1}\r\n" for i in range(30 * rounds)) + "QUIT\r\n")
    for i in range(30 * rounds):
        status = p.readline()
        assert status == f"+OK {len(msgs[i % 30])} octets".encode()
        assert b"".join(line + CRLF for line in unstuff(p.read_multi())) == msgs[i % 30]
    assert p.readline() == b"+OK Logging out."


# --- TRANSACTION state ----------------------------------------------------------------

def test_stat_list_uidl(srv):
    msgs = [message("a"), message("bb", body="x" * 1000 + "\r\n"), message("ccc")]
    uids = imap_append(srv, *msgs)
    uv = imap_uidvalidity(srv)
    p = pop_login(srv)
    total = sum(len(m) for m in msgs)
    assert p.cmd("STAT") == f"+OK 3 {total}".encode()
    assert p.multi("LIST") == (f"+OK 3 messages ({total} octets)".encode(),
                               [f"{i + 1} {len(m)}".encode() for i, m in enumerate(msgs)])
    assert p.cmd("LIST 2") == f"+OK 2 {len(msgs[1])}".encode()
    status, lines = p.multi("UIDL")
    assert status == b"+OK Unique-ID listing follows"
    # Dovecot's default %08Xu%08Xv: UID then UIDVALIDITY, lower-case hex
    assert lines == [f"{i + 1} {uid:08x}{uv:08x}".encode() for i, uid in enumerate(uids)]
    assert p.cmd("UIDL 3") == f"+OK 3 {uids[2]:08x}{uv:08x}".encode()
    p.ok("DELE 2")
    assert p.cmd("STAT") == f"+OK 2 {total - len(msgs[1])}".encode()
    assert p.multi("LIST")[1] == [f"1 {len(msgs[0])}".encode(), f"3 {len(msgs[2])}".encode()]
    assert [line.split()[0] for line in p.multi("UIDL")[1]] == [b"1", b"3"]
    assert p.cmd("LIST 2") == b"-ERR Message 2 is deleted."
    assert p.cmd("UIDL 2") == b"-ERR Message 2 is deleted."


def test_retr_and_sizes_match_imap(srv):
    msgs = [message("r1"), message("r2", body="line\r\n" * 5000)]
    imap_append(srv, *msgs)
    p = pop_login(srv)
    for i, m in enumerate(msgs):
        octets, data = retr(p, i + 1)
        assert octets == len(m) and data == m
    c = Imap(srv.imap_port, rev2=True)
    c.select()
    sizes = {seq: int(v["RFC822.SIZE"]) for seq, v in c.fetch("1:* RFC822.SIZE").items()}
    assert sizes == {1: len(msgs[0]), 2: len(msgs[1])}


def test_top(srv):
    body = "".join(f"line {i}\r\n" for i in range(1, 11))
    m = message("top", body=body)
    head, _ = m.split(b"\r\n\r\n", 1)
    imap_append(srv, m)
    p = pop_login(srv)
    status, lines = p.multi("TOP 1 0")
    assert status == b"+OK"
    assert b"".join(line + CRLF for line in lines) == head + b"\r\n\r\n"
    _, lines = p.multi("TOP 1 3")
    assert lines[-4:] == [b"", b"line 1", b"line 2", b"line 3"]
    # more lines than the body has: the whole message
    _, lines = p.multi("TOP 1 1000")
    assert b"".join(line + CRLF for line in lines) == m
    _, lines = p.multi("TOP 1 4294967295")
    assert b"".join(line + CRLF for line in lines) == m


def test_top_and_retr_bad_arguments(srv):
    imap_append(srv, message("x"))
    p = pop_login(srv)
    assert p.cmd("TOP") == b"-ERR Missing argument: TOP msg lines"
    assert p.cmd("TOP 1") == b"-ERR Missing argument: TOP msg lines"
    assert p.cmd("TOP 1 2 3") == b"-ERR Too many arguments: TOP msg lines"
    assert p.cmd("TOP 1 x") == b"-ERR Invalid number of lines: x (TOP msg lines)"
    assert p.cmd("TOP 1 -1") == b"-ERR Invalid number of lines: -1 (TOP msg lines)"
    assert p.cmd("TOP x 1") == b"-ERR Invalid message number: x"
    assert p.cmd("TOP 2 1") == b"-ERR There is no message 2 (the maildrop has 1)."
    assert p.cmd("RETR") == b"-ERR Missing argument: RETR msg"
    assert p.cmd("RETR 1 1") == b"-ERR Too many arguments: RETR msg"
    assert p.cmd("RETR 0") == b"-ERR There is no message 0 (the maildrop has 1)."
    assert p.cmd("RETR 99999999999") == b"-ERR Invalid message number: 99999999999"
    assert p.cmd("RETR +1") == b"-ERR Invalid message number: +1"
    assert p.cmd("LIST 1 2") == b"-ERR Too many arguments: LIST [msg]"
    assert p.cmd("LIST a") == b"-ERR Invalid message number: a"
    assert p.cmd("UIDL 5") == b"-ERR There is no message 5 (the maildrop has 1)."
    assert p.cmd("DELE") == b"-ERR Missing argument: DELE msg"
    assert p.cmd("STAT 1") == b"-ERR STAT takes no arguments."
    assert p.cmd("NOOP 1") == b"-ERR NOOP takes no arguments."
    assert p.cmd("RSET 1") == b"-ERR RSET takes no arguments."
    assert p.cmd("QUIT 1") == b"-ERR QUIT takes no arguments."
    # none of that changed anything
    assert retr(p, 1)[1] == message("x")
    assert p.cmd("STAT") == f"+OK 1 {len(message('x'))}".encode()


def test_dele_rset_noop(srv):
    imap_append(srv, message("a"), message("b"))
    p = pop_login(srv)
    assert p.cmd("DELE 1") == b"+OK Message 1 deleted."
    assert p.cmd("DELE 1") == b"-ERR Message 1 is deleted."
    assert p.cmd("RETR 1") == b"-ERR Message 1 is deleted."
    assert p.cmd("TOP 1 0") == b"-ERR Message 1 is deleted."
    assert p.cmd("NOOP") == b"+OK"
    size = len(message("a")) + len(message("b"))
    assert p.cmd("RSET") == f"+OK Maildrop has 2 messages ({size} octets).".encode()
    assert p.cmd("STAT") == f"+OK 2 {size}".encode()
    assert retr(p, 1)[1] == message("a")
    p.ok("DELE 2")
    assert p.cmd("QUIT") == b"+OK Logging out, 1 messages deleted."
    assert list(imap_state(srv)) == [1]


def test_dele_takes_effect_only_at_quit(srv):
    imap_append(srv, message("a"), message("b"))
    p = pop_login(srv)
    p.ok("DELE 1")
    p.ok("DELE 2")
    # a dropped connection never enters the UPDATE state
    p.sock.close()
    time.sleep(0.3)
    assert sorted(imap_state(srv)) == [1, 2]
    p = pop_login(srv)
    assert p.cmd("STAT").startswith(b"+OK 2 ")
    p.ok("DELE 1")
    p.ok("QUIT")
    assert p.closed()
    assert sorted(imap_state(srv)) == [2]


def test_imap_session_sees_pop3_expunge(srv):
    imap_append(srv, message("a"), message("b"), message("c"))
    c = Imap(srv.imap_port, rev2=True)
    c.select()
    p = pop_login(srv)
    p.ok("DELE 2")
    untagged = c.ok("NOOP")
    assert b"* 2 EXPUNGE" not in untagged  # not before QUIT
    p.ok("QUIT")
    untagged = wait_for(lambda: [u for u in c.ok("NOOP") if b"EXPUNGE" in u])
    assert untagged == [b"* 2 EXPUNGE"]
    assert [int(v["UID"]) for v in c.fetch("1:* UID").values()] == [1, 3]


def test_imap_expunge_during_pop3_session(srv):
    imap_append(srv, message("a"), message("b"))
    p = pop_login(srv)
    c = Imap(srv.imap_port, rev2=True)
    c.select()
    c.ok("STORE 1 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")
    # numbering stays as at login; the gone message is an error
    assert p.cmd("STAT").startswith(b"+OK 2 ")
    assert p.cmd("RETR 1") == b"-ERR Message 1 was removed by another session."
    assert retr(p, 2)[1] == message("b")
    p.ok("DELE 1")
    assert p.cmd("QUIT").startswith(b"+OK Logging out")
    assert list(imap_state(srv)) == [2]


def test_retr_sets_seen_at_quit_and_top_does_not(srv):
    imap_append(srv, message("a"), message("b"), message("c"))
    p = pop_login(srv)
    retr(p, 1)
    p.multi("TOP 2 1")
    assert imap_state(srv) == {1: [], 2: [], 3: []}
    p.ok("QUIT")
    assert p.closed()
    assert imap_state(srv) == {1: ["\\Seen"], 2: [], 3: []}


def test_retr_sets_seen_off(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  retr_sets_seen = no\n}\n").start()
    imap_append(srv, message("a"))
    p = pop_login(srv)
    retr(p, 1)
    p.ok("QUIT")
    assert p.closed()
    assert imap_state(srv) == {1: []}


def test_delete_mode_keep_flag(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  delete_mode = keep-flag\n}\n").start()
    imap_append(srv, message("a"), message("b"))
    p = pop_login(srv)
    retr(p, 1)
    p.ok("DELE 1")
    assert p.cmd("QUIT") == b"+OK Logging out, 1 messages deleted."
    assert p.closed()
    assert imap_state(srv) == {1: ["\\Deleted", "\\Seen"], 2: []}


def test_noop_and_stat_see_a_fixed_maildrop(srv):
    imap_append(srv, message("a"))
    p = pop_login(srv)
    imap_append(srv, message("new"))
    # RFC 1939: the maildrop is what it was at login
    assert p.cmd("NOOP") == b"+OK"
    assert p.cmd("STAT") == f"+OK 1 {len(message('a'))}".encode()
    p.ok("QUIT")
    p = pop_login(srv)
    assert p.cmd("STAT").startswith(b"+OK 2 ")


# --- exactness ------------------------------------------------------------------------

EDGE_MESSAGES = {
    "bare_lf": b"From: a@example.com\nSubject: bare\n\nline one\nline two\n",
    "no_final_crlf": b"Subject: last\r\n\r\nbody\r\nlast line without end",
    "dots": b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nmid.dle\r\n. \r\n",
    "mixed": b"Subject: mixed\r\n\nA\r\nB\nC\r\n.D\n",
    "no_body": b"Subject: only a header\r\nX-Other: y\r\n",
    "bare_cr": b"Subject: cr\r\n\r\na\rb\r\n",
    "empty_body": b"Subject: empty\r\n\r\n",
}


def crlf_form(data):
    """RFC822.SIZE's view: bare LF counts as CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


@pytest.mark.parametrize("name", sorted(EDGE_MESSAGES))
def test_exact_octets_and_dot_stuffing(srv, name):
    data = EDGE_MESSAGES[name]
    imap_append(srv, data)
    p = pop_login(srv)
    expected = crlf_form(data)
    assert p.cmd("LIST 1") == f"+OK 1 {len(expected)}".encode()
    p.send("RETR 1\r\n")
    assert p.readline() == f"+OK {len(expected)} octets".encode()
    raw, p.buf = p.buf, b""
    while not raw.endswith(b"\r\n.\r\n") and raw != b".\r\n":
        chunk = p.sock.recv(65536)
        assert chunk
        raw += chunk
    # what was sent is the CRLF form, dot-stuffed, and a line end is added
    # to a final line that has none (RFC 1939 §3: the end is CRLF.CRLF)
    body = raw[:-3]
    stuffed = re.sub(rb"(^|\r\n)\.", rb"\1..", expected)
    if not expected.endswith(b"\n") and expected:
        stuffed += b"\r\n"
    assert body == stuffed
    unstuffed = b"".join(line + CRLF for line in unstuff(body.split(CRLF)[:-1]))
    assert len(unstuffed) == len(expected) + (0 if expected.endswith(b"\n") or not expected else 2)


def test_top_edge_cases(srv):
    imap_append(srv, EDGE_MESSAGES["bare_lf"], EDGE_MESSAGES["no_body"],
                EDGE_MESSAGES["no_final_crlf"], EDGE_MESSAGES["dots"])
    p = pop_login(srv)
    assert p.multi("TOP 1 0")[1] == [b"From: a@example.com", b"Subject: bare", b""]
    assert p.multi("TOP 1 1")[1] == [b"From: a@example.com", b"Subject: bare", b"",
                                     b"line one"]
    assert p.multi("TOP 1 5")[1][-2:] == [b"line one", b"line two"]
    # a message without a body: TOP gives the header, whatever n is
    assert p.multi("TOP 2 0")[1] == [b"Subject: only a header", b"X-Other: y"]
    assert p.multi("TOP 2 3")[1] == [b"Subject: only a header", b"X-Other: y"]
    assert p.multi("TOP 3 5")[1] == [b"Subject: last", b"", b"body",
                                     b"last line without end"]
    assert p.multi("TOP 4 3")[1] == [b"Subject: dots", b"", b"..", b"...", b"..leading"]


def test_uidl_format_setting(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  uidl_format = %u.%v\n}\n").start()
    uids = imap_append(srv, message("a"), message("b"))
    uv = imap_uidvalidity(srv)
    p = pop_login(srv)
    assert p.multi("UIDL")[1] == [f"{i + 1} {u}.{uv}".encode() for i, u in enumerate(uids)]


def test_uidl_guid_format(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  uidl_format = %g\n}\n").start()
    imap_append(srv, message("a"), message("b"))
    p = pop_login(srv)
    lines = p.multi("UIDL")[1]
    guids = [line.split()[1] for line in lines]
    assert all(re.fullmatch(rb"[0-9a-f]{32}", g) for g in guids) and guids[0] != guids[1]
    p.ok("QUIT")
    assert pop_login(srv).multi("UIDL")[1] == lines


@pytest.mark.parametrize("fmt,error", [
    ("%v", "must contain %u or %g"),
    ("%u %v", "printable ASCII"),
    ("%q", "unknown variable"),
    ("%g%g%g", "70 characters"),
])
def test_uidl_format_is_validated(tmp_path, fmt, error):
    conf = tmp_path / "t.conf"
    conf.write_text(f"base_dir = {tmp_path}/var\npop3 {{\n  uidl_format = \"{fmt}\"\n}}\n")
    out = subprocess.run([str(TERND), "--check", str(conf)], capture_output=True, text=True)
    assert out.returncode != 0 and error in out.stderr, out.stderr


def test_uidls_stable_across_sessions_and_restart(srv):
    imap_append(srv, message("a"), message("b"), message("c"))
    p = pop_login(srv)
    first = p.multi("UIDL")[1]
    p.ok("DELE 2")
    p.ok("QUIT")
    p = pop_login(srv)
    second = p.multi("UIDL")[1]
    assert [u.split()[1] for u in second] == [first[0].split()[1], first[2].split()[1]]
    p.ok("QUIT")
    imap_append(srv, message("d"))
    srv.stop()
    srv.start()
    p = pop_login(srv)
    third = p.multi("UIDL")[1]
    assert [u.split()[1] for u in third[:2]] == [u.split()[1] for u in second]
    assert len(third) == 3 and third[2].split()[1] not in [u.split()[1] for u in first]


# --- lock and login delay ------------------------------------------------------------

def test_second_session_is_in_use(srv):
    imap_append(srv, message("a"))
    p = pop_login(srv)
    q = Pop(srv.pop3_port)
    q.ok("USER alice")
    assert q.cmd("PASS secret") == b"-ERR [IN-USE] Mailbox is locked by another POP3 session."
    assert q.closed()
    # IMAP is not locked out
    assert imap_state(srv) == {1: []}
    p.ok("QUIT")
    assert p.closed()
    q = pop_login(srv)
    q.ok("QUIT")


def test_lock_dies_with_the_worker(srv):
    p = pop_login(srv)
    holder = None
    for pid in srv.worker_pids():
        fds = pathlib.Path(f"/proc/{pid}/fd")
        try:
            if any(os.readlink(fd).endswith("tern-pop3.lock") for fd in fds.iterdir()):
                holder = pid
        except (FileNotFoundError, PermissionError):
            pass
    assert holder is not None
    os.kill(holder, signal.SIGKILL)
    assert p.closed()
    # the master replaces the worker; the lock went with the old one
    q = wait_for(lambda: _try_login(srv), timeout=10)
    assert q
    q.ok("QUIT")
    assert "event=worker_died" in srv.log_text()


def _try_login(srv):
    try:
        p = Pop(srv.pop3_port)
        p.ok("USER alice")
        if p.cmd("PASS secret").startswith(b"+OK"):
            return p
    except (OSError, ConnectionError):
        pass
    return None


def test_lock_off_lets_sessions_overlap(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  lock = no\n}\n").start()
    imap_append(srv, message("a"), message("b"))
    p = pop_login(srv)
    q = pop_login(srv)
    p.ok("DELE 1")
    p.ok("QUIT")
    assert p.closed()
    assert q.cmd("RETR 1") == b"-ERR Message 1 was removed by another session."
    assert retr(q, 2)[1] == message("b")


def test_login_delay(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  login_delay = 2s\n}\n").start()
    p = Pop(srv.pop3_port)
    assert "LOGIN-DELAY 2" in capa(p)
    p.login()
    assert "LOGIN-DELAY 2" in capa(p)
    p.ok("QUIT")
    q = Pop(srv.pop3_port)
    q.ok("USER alice")
    assert q.cmd("PASS secret") == \
        b"-ERR [LOGIN-DELAY] Logins are allowed only every 2 seconds."
    assert q.closed()
    time.sleep(2.1)
    pop_login(srv).ok("QUIT")


# --- TLS and plaintext ----------------------------------------------------------------

def test_stls(srv):
    p = Pop(srv.pop3_port)
    assert "STLS" in capa(p)
    p.starttls()
    caps = capa(p)
    assert "STLS" not in caps and "USER" in caps
    assert p.cmd("STLS") == b"-ERR TLS is already active."
    p.login()
    assert p.cmd("STAT") == b"+OK 0 0"


def test_stls_discards_pipelined_plaintext(srv):
    """Commands sent in plaintext after STLS must not run inside TLS
    (RFC 2595 §4; the CVE-2011-0411 class of injection)."""
    p = Pop(srv.pop3_port)
    p.send("STLS\r\nUSER alice\r\nPASS secret\r\n")
    assert p.readline() == b"+OK Begin TLS negotiation now."
    p.sock = tls_context().wrap_socket(p.sock)
    p.buf = b""
    assert p.cmd("STAT") == \
        b"-ERR Not logged in: STAT is valid only in the TRANSACTION state."
    assert p.cmd("PASS secret") == b"-ERR No user name given: send USER first."


def test_stls_forgets_user(srv):
    p = Pop(srv.pop3_port)
    p.ok("USER alice")
    p.starttls()
    assert p.cmd("PASS secret") == b"-ERR No user name given: send USER first."


def test_stls_not_on_pop3s_and_args(srv):
    p = Pop(srv.pop3s_port, tls=True)
    assert "STLS" not in capa(p)
    assert p.cmd("STLS") == b"-ERR TLS is already active."
    assert p.cmd("STLS now") == b"-ERR STLS takes no arguments."


def test_pop3s(srv):
    imap_append(srv, message("secure"))
    p = Pop(srv.pop3s_port, tls=True)
    assert re.fullmatch(rb"\+OK Tern ready\. <[^<>@ ]+@[^<> ]+>", p.greeting)
    p.login()
    assert retr(p, 1)[1] == message("secure")


def test_stls_unavailable_without_starttls_listener(ternd_factory):
    srv = ternd_factory(pop3=True)
    port = free_port()
    srv.write_config(f"listener pop3plain {{\n  protocol = pop3\n  port = {port}\n"
                     "  tls = none\n}\n")
    srv.start()
    p = Pop(port)
    assert "STLS" not in capa(p)
    assert p.cmd("STLS") == b"-ERR STLS is not available on this port."
    p.login()


def external_ip():
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True)
    for ip in out.stdout.split():
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", ip) and not ip.startswith("127."):
            return ip
    return None


@pytest.mark.parametrize("allow", [False, True])
def test_plaintext_refused_off_loopback(ternd_factory, allow):
    ip = external_ip()
    if ip is None:
        pytest.skip("no non-loopback IPv4 address to test with")
    srv = ternd_factory(pop3=True)
    ext_port = free_port()
    srv.write_config(f"listener pop3ext {{\n  protocol = pop3\n  address = {ip}\n"
                     f"  port = {ext_port}\n  tls = starttls\n}}\n"
                     f"auth {{\n  allow_insecure_plaintext = {'yes' if allow else 'no'}\n}}\n")
    srv.start()
    p = Pop(ext_port, host=ip, source=ip)
    caps = capa(p)
    if allow:
        assert "USER" in caps and "SASL PLAIN LOGIN" in caps
        p.login()
        return
    assert "USER" not in caps and not any(c.startswith("SASL") for c in caps)
    refused = (b"-ERR [AUTH] Plaintext authentication is disabled on non-secure "
               b"connections; use STLS.")
    assert p.cmd("USER alice") == refused
    assert p.cmd("AUTH PLAIN " + b64(b"\0alice\0secret")) == refused
    p.starttls()
    assert "USER" in capa(p)
    p.login()
    p.ok("QUIT")
    # the loopback listener is not affected
    pop_login(srv).ok("QUIT")


# --- timeouts, shutdown, limits ------------------------------------------------------

def test_idle_timeout_deletes_nothing(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  idle_timeout = 1s\n}\n").start()
    imap_append(srv, message("a"))
    p = pop_login(srv)
    p.ok("DELE 1")
    assert p.closed(timeout=5)
    assert p.buf == b"-ERR Disconnected for inactivity.\r\n"
    assert list(imap_state(srv)) == [1]


def test_login_timeout(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra="pop3 {\n  login_timeout = 1s\n}\n").start()
    p = Pop(srv.pop3_port)
    assert p.closed(timeout=5)
    assert p.buf == b"-ERR Disconnected for inactivity.\r\n"


def test_sigterm_ends_sessions_without_update(srv):
    imap_append(srv, message("a"))
    idle = Pop(srv.pop3_port)
    p = pop_login(srv)
    p.ok("DELE 1")
    srv.signal(signal.SIGTERM)
    assert idle.readline() == b"-ERR [SYS/TEMP] Server shutting down."
    assert p.readline() == b"-ERR [SYS/TEMP] Server shutting down."
    assert srv.proc.wait(timeout=15) == 0
    srv.stop()
    srv.start()
    assert list(imap_state(srv)) == [1]


def test_client_limit(ternd_factory):
    srv = ternd_factory(pop3=True, process_count=1,
                        config_extra="service pop3 {\n  client_limit = 1\n}\n").start()
    # the start-up probe's connection may still be counted for a moment
    p = wait_for(lambda: (lambda c: c if c.greeting.startswith(b"+OK") else None)(
        Pop(srv.pop3_port)))
    q = socket.create_connection(("127.0.0.1", srv.pop3_port), timeout=10)
    data, closed = loadutil.drain(q, 5)
    assert data == b"-ERR [SYS/TEMP] Too many connections, try again later.\r\n" and closed
    p.login()


def test_50mb_retr_streams_with_back_pressure(ternd_factory, monkeypatch):
    loadutil.asan_small_quarantine(monkeypatch)
    srv = ternd_factory(pop3=True, process_count=1).start()
    pop_login(srv).ok("QUIT")  # creates the mail home
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\n"
    body = line * (50 * MB // len(line))
    data = b"Subject: big\n\n" + b".dot line\n" + body
    maildir_deliver(srv.base / "mail" / "alice" / "Maildir", data)
    expected = crlf_form(data)
    p = Pop(srv.pop3_port)
    p.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    p.login()
    rss_before = srv.rss_kb()
    p.send("RETR 1\r\n")
    assert p.readline() == f"+OK {len(expected)} octets".encode()
    time.sleep(1.0)  # not reading: the server must stop producing
    rss_stalled = srv.rss_kb()
    h = hashlib.sha256()
    tail = p.buf
    p.buf = b""
    received = 0
    while True:
        chunk = p.sock.recv(1 << 20)
        assert chunk
        tail += chunk
        # keep the last bytes to find the terminator across chunks
        if len(tail) > 16:
            h.update(tail[:-16])
            received += len(tail) - 16
            tail = tail[-16:]
        if tail.endswith(b"\r\n.\r\n"):
            break
    h.update(tail[:-3])
    received += len(tail) - 3
    stuffed = expected.replace(b"\r\n.", b"\r\n..")
    assert received == len(stuffed)
    assert h.hexdigest() == hashlib.sha256(stuffed).hexdigest()
    growth = rss_stalled - rss_before
    print(f"\nRSS before {rss_before} KB, while the client did not read {rss_stalled} KB")
    assert growth < 20 * 1024, f"RSS grew {growth} KB while the client did not read"
    p.ok("QUIT")


def test_client_that_never_reads_is_disconnected(ternd_factory):
    srv = ternd_factory(pop3=True, config_extra=(
        "pop3 {\n  output_buffer_limit = 64k\n  output_timeout = 2s\n}\n")).start()
    imap_append(srv, message("big"))
    p = Pop(srv.pop3_port)
    p.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    p.login()
    # thousands of pipelined LISTs and never a read
    sent, stalled_at = loadutil.fill_until_blocked(p.sock, b"LIST\r\n" * 100000, 64 * MB)
    deadline = time.monotonic() + 10
    while not loadutil.hung_up(p.sock) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert loadutil.hung_up(p.sock)
    assert 'reason="output timeout: client is not reading"' in srv.log_text()


# --- poplib ---------------------------------------------------------------------------

def test_poplib_session(srv):
    msgs = [message("p1"), message("p2", body=".starts with a dot\r\nend\r\n")]
    uids = imap_append(srv, *msgs)
    uv = imap_uidvalidity(srv)
    m = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    assert re.fullmatch(rb"\+OK Tern ready\. <[^<>@ ]+@[^<> ]+>", m.getwelcome())
    caps = m.capa()
    assert "TOP" in caps and "UIDL" in caps and caps["SASL"] == ["PLAIN", "LOGIN"]
    m.user("alice")
    m.pass_("secret")
    total = sum(len(x) for x in msgs)
    assert m.stat() == (2, total)
    resp, listing, _ = m.list()
    assert listing == [f"1 {len(msgs[0])}".encode(), f"2 {len(msgs[1])}".encode()]
    assert m.list(2) == f"+OK 2 {len(msgs[1])}".encode()
    resp, uidls, _ = m.uidl()
    assert uidls == [f"{i + 1} {u:08x}{uv:08x}".encode() for i, u in enumerate(uids)]
    resp, lines, octets = m.retr(2)
    assert b"\r\n".join(lines) + b"\r\n" == msgs[1]
    resp, lines, _ = m.top(2, 1)
    assert lines[-1] == b".starts with a dot"
    m.dele(1)
    with pytest.raises(poplib.error_proto, match="is deleted"):
        m.retr(1)
    m.rset()
    m.dele(2)
    assert m.noop() == b"+OK"
    assert m.quit().startswith(b"+OK Logging out")
    assert list(imap_state(srv)) == [uids[0]]


def test_poplib_stls_and_ssl(srv):
    imap_append(srv, message("tls"))
    m = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    m.stls(context=tls_context())
    assert "STLS" not in m.capa()
    m.user("alice")
    m.pass_("secret")
    assert m.stat()[0] == 1
    m.quit()
    m = poplib.POP3_SSL("127.0.0.1", srv.pop3s_port, context=tls_context(), timeout=10)
    m.user("alice")
    m.pass_("secret")
    assert b"\r\n".join(m.retr(1)[1]) + b"\r\n" == message("tls")
    m.quit()


def test_poplib_errors(srv):
    m = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        m.user("alice")
        m.pass_("bad")
    m.user("alice")
    m.pass_("secret")
    with pytest.raises(poplib.error_proto, match="There is no message 7"):
        m.retr(7)
    m.quit()
