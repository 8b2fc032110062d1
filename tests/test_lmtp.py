"""LMTP (RFC 2033) against a running ternd, with smtplib.LMTP and raw
sockets: every command, the extensions (PIPELINING RFC 2920,
ENHANCEDSTATUSCODES RFC 2034, 8BITMIME RFC 6152, SMTPUTF8 RFC 6531,
CHUNKING RFC 3030, SIZE RFC 1870), one reply per recipient after DATA and
BDAT LAST with mixed results, unknown users, +detail addressing,
dot-stuffing and bare LF, size and recipient limits, bad sequences and
long lines, a storage failure for one recipient, the Unix socket listener,
and that delivered mail is visible over IMAP byte for byte with the added
Return-Path, Delivered-To and Received headers."""
import email.utils
import re
import smtplib
import socket
import time

import pytest

from mailutil import Imap, close_sessions, fetches, mail_home, message

CRLF = b"\r\n"
MB = 1024 * 1024
MAX_SIZE = 50 * MB
USERS = {"alice": "secret", "bob": "hunter2", "carol": "pw"}

TRACE = re.compile(
    rb"Return-Path: <(?P<sender>[^>\r\n]*)>\r\n"
    rb"(?:Delivered-To: (?P<delivered_to>[^\r\n]*)\r\n)?"
    rb"Received: from (?P<lhlo>\S+) \((?P<peer>[^)\r\n]*)\)\r\n"
    rb"\tby (?P<host>\S+) \(Tern\) with (?P<proto>\S+) id (?P<id>\S+)\r\n"
    rb"\tfor <(?P<rcpt>[^>\r\n]*)>; (?P<date>[^\r\n]+)\r\n")


@pytest.fixture(autouse=True)
def _close_sessions_first(ternd_factory):
    yield
    close_sessions()
    while _lmtps:
        _lmtps.pop().close()


@pytest.fixture
def srv(ternd_factory):
    return ternd_factory(lmtp=True, users=USERS, process_count=1).start()


_lmtps = []


class Lmtp:
    """A raw LMTP session: replies come back as (code, [texts])."""

    def __init__(self, port=None, lhlo=True, path=None):
        if path is not None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(30)
            self.sock.connect(str(path))
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        _lmtps.append(self)
        self.buf = b""
        code, lines = self.reply()
        assert code == 220, lines
        self.greeting = lines[0]
        if lhlo:
            code, self.caps = self.cmd("LHLO client.example")
            assert code == 250, self.caps

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed; buffered: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), line
        return line[:-1]

    def reply(self):
        lines = []
        while True:
            line = self.readline()
            assert re.match(rb"\d{3}[ -]", line), line
            lines.append(line[4:].decode())
            if line[3:4] == b" ":
                return int(line[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def ok(self, line, code=250):
        got, lines = self.cmd(line)
        assert got == code, (line, got, lines)
        return lines

    def is_closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def transaction(self, rcpts, sender="sender@example.net", params=""):
        self.ok(f"MAIL FROM:<{sender}>{params}")
        results = []
        for rcpt in rcpts:
            results.append(self.cmd(f"RCPT TO:<{rcpt}>")[0])
        return results

    def data(self, payload, count):
        """Sends DATA and the payload (already dot-stuffed, with its end
        line) and returns the count per-recipient replies."""
        code, lines = self.cmd("DATA")
        assert code == 354, lines
        self.send(payload)
        return [self.reply() for _ in range(count)]


def stuff(msg):
    """Dot-stuffing and the end line, RFC 5321 §4.5.2."""
    lines = msg.split(CRLF)
    assert lines[-1] == b""
    return CRLF.join(b"." + ln if ln.startswith(b".") else ln for ln in lines[:-1]) + \
        CRLF + b"." + CRLF


def mailbox_bodies(srv, user="alice", mailbox="INBOX"):
    """BODY[] of every message in the mailbox, in UID order."""
    imap = Imap(srv.imap_port, user=user, password=USERS[user])
    imap.select(mailbox)
    untagged = imap.ok("FETCH 1:* (BODY.PEEK[])") if _count(imap, mailbox) else []
    bodies = [items["BODY[]"] for _, items in sorted(fetches(untagged).items())]
    imap.logout()
    return bodies


def _count(imap, mailbox):
    for line in imap.ok(f"STATUS {mailbox} (MESSAGES)"):
        m = re.search(rb"MESSAGES (\d+)", line)
        if m:
            return int(m.group(1))
    return 0


def split_trace(data):
    """The trace headers LMTP added, and the original message after them."""
    m = TRACE.match(data)
    assert m, data[:600]
    return m, data[m.end():]


# --- the basic path ------------------------------------------------------------

def test_greeting_and_lhlo_capabilities(srv):
    s = Lmtp(srv.lmtp_port, lhlo=False)
    assert "LMTP" in s.greeting
    code, caps = s.cmd("LHLO mx.example")
    assert code == 250
    assert caps[1:] == ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8",
                        "CHUNKING", f"SIZE {MAX_SIZE}"]
    assert s.cmd("QUIT")[0] == 221
    assert s.is_closed()


def test_smtplib_delivery_visible_over_imap(srv):
    msg = message(subject="via smtplib", body="Hello,\r\n\r\nfrom LMTP.\r\n")
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as lmtp:
        code, _ = lmtp.ehlo("mta.example")  # smtplib sends LHLO for LMTP
        assert code == 250
        assert lmtp.has_extn("pipelining") and lmtp.has_extn("chunking")
        refused = lmtp.sendmail("bob@example.net", ["alice@example.org"], msg)
        assert refused == {}
    before = time.time()
    [body] = mailbox_bodies(srv)
    m, rest = split_trace(body)
    assert rest == msg
    assert m["sender"] == b"bob@example.net"
    assert m["delivered_to"] == b"alice@example.org"
    assert m["rcpt"] == b"alice@example.org"
    assert m["lhlo"] == b"mta.example"
    assert m["peer"] == b"[127.0.0.1]"
    assert m["proto"] == b"LMTP"
    date = email.utils.parsedate_to_datetime(m["date"].decode())
    assert abs(date.timestamp() - before) < 60
    assert f"session={m['id'].decode()}" in srv.log_text()


def test_multiple_recipients_mixed_results(srv):
    s = Lmtp(srv.lmtp_port)
    assert s.transaction(["alice@example.org", "nobody@example.org", "bob@example.org"]) == \
        [250, 550, 250]
    msg = message(subject="two of three")
    replies = s.data(stuff(msg), 2)
    assert [code for code, _ in replies] == [250, 250]
    assert replies[0][1][0].startswith("2.0.0 <alice@example.org>")
    assert replies[1][1][0].startswith("2.0.0 <bob@example.org>")
    # exactly one reply per accepted recipient: the next one is NOOP's
    assert s.cmd("NOOP") == (250, ["2.0.0 OK"])
    for user in ("alice", "bob"):
        [body] = mailbox_bodies(srv, user)
        m, rest = split_trace(body)
        assert rest == msg
        assert m["rcpt"] == f"{user}@example.org".encode()


def test_unknown_user_and_no_valid_recipients(srv):
    s = Lmtp(srv.lmtp_port)
    s.ok("MAIL FROM:<>")
    code, lines = s.cmd("RCPT TO:<nobody@example.org>")
    assert code == 550 and lines[0].startswith("5.1.1 <nobody@example.org>")
    # RFC 2033 §4.2: DATA without a successful RCPT is refused
    code, lines = s.cmd("DATA")
    assert code == 503 and lines[0].startswith("5.5.1")
    s.ok("RSET")


def test_null_sender_and_postmaster(ternd_factory):
    srv = ternd_factory(lmtp=True, users=dict(USERS, postmaster="pm"),
                        process_count=1).start()
    s = Lmtp(srv.lmtp_port)
    s.ok("MAIL FROM:<>")
    s.ok("RCPT TO:<Postmaster>")
    msg = message(subject="bounce")
    assert [c for c, _ in s.data(stuff(msg), 1)] == [250]
    imap = Imap(srv.imap_port, user="postmaster", password="pm")
    imap.select()
    [items] = fetches(imap.ok("FETCH 1 BODY.PEEK[]")).values()
    m, rest = split_trace(items["BODY[]"])
    assert m["sender"] == b"" and rest == msg


def test_pipelining(srv):
    s = Lmtp(srv.lmtp_port, lhlo=False)
    msg = message(subject="pipelined")
    s.send("LHLO pipe.example\r\nMAIL FROM:<a@example.net>\r\n"
           "RCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
           "RCPT TO:<carol@example.org>\r\nDATA\r\n")
    assert s.reply()[0] == 250
    assert [s.reply()[0] for _ in range(5)] == [250, 250, 550, 250, 354]
    s.send(stuff(msg) + b"MAIL FROM:<b@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
           b"RSET\r\nNOOP\r\nQUIT\r\n")
    assert [s.reply()[0] for _ in range(7)] == [250, 250, 250, 250, 250, 250, 221]
    assert s.is_closed()
    assert split_trace(mailbox_bodies(srv, "carol")[0])[1] == msg
    assert mailbox_bodies(srv, "bob") == []


def test_several_messages_in_one_session(srv):
    s = Lmtp(srv.lmtp_port)
    msgs = [message(subject=f"m{i}", body=f"body {i}\r\n") for i in range(3)]
    for msg in msgs:
        s.transaction(["alice@example.org"])
        assert s.data(stuff(msg), 1)[0][0] == 250
    assert [split_trace(b)[1] for b in mailbox_bodies(srv)] == msgs


# --- message content ---------------------------------------------------------------

def test_dot_stuffing_round_trip(srv):
    body = b".leading dot\r\n..two dots\r\n.\r\n \r\n.. \r\nend.\r\n"
    msg = message(subject="dots", body=body)
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org"])
    assert s.data(stuff(msg), 1)[0][0] == 250
    assert split_trace(mailbox_bodies(srv)[0])[1] == msg


def test_bare_lf_is_tolerated(srv):
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org"])
    payload = b"Subject: bare lf\n\nline 1\n..line 2\nline 3\r\n.\n"
    assert s.data(payload, 1)[0][0] == 250
    rest = split_trace(mailbox_bodies(srv)[0])[1]
    assert rest == b"Subject: bare lf\r\n\r\nline 1\r\n.line 2\r\nline 3\r\n"


def test_empty_message(srv):
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org"])
    assert s.data(b".\r\n", 1)[0][0] == 250
    assert split_trace(mailbox_bodies(srv)[0])[1] == b""


def test_8bitmime_and_smtputf8(srv):
    body = "Gr\u00fc\u00dfe aus M\u00fcnchen\r\n".encode()
    msg = message(subject="8bit", body=body, headers=["Content-Type: text/plain; charset=utf-8",
                                                      "Content-Transfer-Encoding: 8bit"])
    s = Lmtp(srv.lmtp_port)
    s.ok("MAIL FROM:<j\u00fcrgen@example.net> BODY=8BITMIME SMTPUTF8")
    s.ok("RCPT TO:<alice@example.org>")
    assert s.data(stuff(msg), 1)[0][0] == 250
    m, rest = split_trace(mailbox_bodies(srv)[0])
    assert rest == msg
    assert m["sender"] == "j\u00fcrgen@example.net".encode()
    assert m["proto"] == b"UTF8LMTP"


def test_mail_parameters(srv):
    s = Lmtp(srv.lmtp_port)
    code, lines = s.cmd("MAIL FROM:<a@example.net> BODY=BINARYMIME")
    assert code == 555 and lines[0].startswith("5.5.4")
    code, lines = s.cmd("MAIL FROM:<a@example.net> FOO=bar")
    assert code == 555 and lines[0].startswith("5.5.4")
    code, lines = s.cmd("MAIL FROM:<a@example.net> SIZE=abc")
    assert code == 501 and lines[0].startswith("5.5.4")
    code, lines = s.cmd("MAIL FROM:<not an address>")
    assert code == 501 and lines[0].startswith("5.1.7")
    s.ok("MAIL FROM:<a@example.net> SIZE=1000 BODY=7BIT")
    code, lines = s.cmd("RCPT TO:<alice@example.org> NOTIFY=NEVER")
    assert code == 555
    code, lines = s.cmd("RCPT TO:<alice>")
    assert code == 501 and lines[0].startswith("5.1.3")


# --- +detail -------------------------------------------------------------------

def test_detail_goes_to_inbox_unless_mailbox_exists(srv):
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice+lists@example.org"])
    first = message(subject="no such mailbox yet")
    assert s.data(stuff(first), 1)[0][0] == 250
    [body] = mailbox_bodies(srv)
    m, rest = split_trace(body)
    assert rest == first
    assert m["delivered_to"] == b"alice+lists@example.org"
    imap = Imap(srv.imap_port, password=USERS["alice"])
    imap.ok("CREATE lists")
    imap.logout()
    second = message(subject="into lists")
    s.transaction(["alice+lists@example.org"])
    assert s.data(stuff(second), 1)[0][0] == 250
    assert [split_trace(b)[1] for b in mailbox_bodies(srv, mailbox="lists")] == [second]
    assert len(mailbox_bodies(srv)) == 1
    # an unknown user with a detail is still unknown
    assert s.transaction(["nobody+lists@example.org"], sender="x@example.net") == [550]


# --- BDAT (RFC 3030) ------------------------------------------------------------

def test_bdat_chunks(srv):
    msg = message(subject="chunked", body=b".no unstuffing in BDAT\r\n.\r\nend\r\n")
    s = Lmtp(srv.lmtp_port)
    assert s.transaction(["alice@example.org", "nobody@example.org", "bob@example.org"]) == \
        [250, 550, 250]
    half = len(msg) // 2
    s.send(f"BDAT {half}\r\n".encode() + msg[:half])
    code, lines = s.reply()
    assert code == 250 and lines[0].startswith("2.0.0")
    s.send(f"BDAT {len(msg) - half} LAST\r\n".encode() + msg[half:])
    assert [s.reply()[0] for _ in range(2)] == [250, 250]
    assert s.cmd("NOOP")[0] == 250
    for user in ("alice", "bob"):
        assert split_trace(mailbox_bodies(srv, user)[0])[1] == msg


def test_bdat_pipelined_with_zero_last(srv):
    msg = message(subject="bdat 0 last")
    s = Lmtp(srv.lmtp_port)
    s.send(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<carol@example.org>\r\n" +
           f"BDAT {len(msg)}\r\n".encode() + msg + b"BDAT 0 LAST\r\nQUIT\r\n")
    assert [s.reply()[0] for _ in range(5)] == [250, 250, 250, 250, 221]
    assert split_trace(mailbox_bodies(srv, "carol")[0])[1] == msg


def test_bdat_refused_chunk_is_still_read(srv):
    s = Lmtp(srv.lmtp_port)
    # no transaction: the chunk (which looks like commands) must be skipped
    s.send("BDAT 14\r\nQUIT\r\nQUIT\r\nQU")
    code, lines = s.reply()
    assert code == 503 and lines[0].startswith("5.5.1")
    assert s.cmd("NOOP")[0] == 250
    s.transaction(["alice@example.org"])
    s.send(b"BDAT 3\r\nabc")
    assert s.reply()[0] == 250
    # DATA can't follow BDAT (RFC 3030 §2)
    code, lines = s.cmd("DATA")
    assert code == 503 and lines[0].startswith("5.5.1")
    code, _ = s.cmd("BDAT x")
    assert code == 501
    assert s.is_closed()


# --- limits ---------------------------------------------------------------------------

def test_size_declared_too_big(srv):
    s = Lmtp(srv.lmtp_port)
    code, lines = s.cmd(f"MAIL FROM:<a@example.net> SIZE={MAX_SIZE + 1}")
    assert code == 552 and lines[0].startswith("5.3.4")
    s.ok(f"MAIL FROM:<a@example.net> SIZE={MAX_SIZE}")


def test_data_over_size_limit(srv):
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org", "bob@example.org"])
    line = b"x" * 998 + CRLF
    big = b"Subject: big\r\n\r\n" + line * (MAX_SIZE // len(line) + 10)
    replies = s.data(big + b".\r\n", 2)
    assert [(c, t[0][:5]) for c, t in replies] == [(552, "5.3.4")] * 2
    # the session goes on, and the next message is delivered
    s.transaction(["alice@example.org"])
    msg = message(subject="small")
    assert s.data(stuff(msg), 1)[0][0] == 250
    assert [split_trace(b)[1] for b in mailbox_bodies(srv)] == [msg]
    assert mailbox_bodies(srv, "bob") == []


def test_bdat_over_size_limit(srv):
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org"])
    chunk = b"y" * (MAX_SIZE + 1)
    s.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
    code, lines = s.reply()
    assert code == 552 and lines[0].startswith("5.3.4")
    # RFC 3030 §2: after a failed chunk the transaction is over
    s.send(b"BDAT 2 LAST\r\nab")
    assert s.reply()[0] == 503
    s.ok("RSET")
    assert mailbox_bodies(srv) == []


def test_message_spooled_to_file_is_exact(srv):
    # well over the in-memory part of the spool
    body = b"".join(b"line %06d .........................................\r\n" % i
                    for i in range(60000))
    msg = message(subject="spooled", body=body)
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org", "bob@example.org"])
    assert [c for c, _ in s.data(stuff(msg), 2)] == [250, 250]
    for user in ("alice", "bob"):
        assert split_trace(mailbox_bodies(srv, user)[0])[1] == msg
    assert not list(srv.base.glob("lmtp-spool.*"))


def test_too_many_recipients(srv):
    s = Lmtp(srv.lmtp_port)
    codes = s.transaction(["carol@example.org"] * 51)
    assert codes == [250] * 50 + [452]
    code, lines = s.cmd("RCPT TO:<carol@example.org>")
    assert code == 452 and lines[0].startswith("4.5.3")
    msg = message(subject="fifty")
    assert [c for c, _ in s.data(stuff(msg), 50)] == [250] * 50
    assert s.cmd("NOOP")[0] == 250
    imap = Imap(srv.imap_port, user="carol", password="pw")
    assert _count(imap, "INBOX") == 50


def test_line_too_long(srv):
    s = Lmtp(srv.lmtp_port)
    code, lines = s.cmd("NOOP " + "x" * 10000)
    assert code == 500 and lines[0].startswith("5.5.2")
    assert s.cmd("NOOP")[0] == 250
    code, lines = s.cmd("MAIL FROM:<" + "a" * 5000 + "@example.net>")
    assert code == 500 and lines[0].startswith("5.5.2")
    s.ok("MAIL FROM:<a@example.net>")


# --- sequence and unknown commands -----------------------------------------

def test_bad_sequence_and_commands(srv):
    s = Lmtp(srv.lmtp_port, lhlo=False)
    for line in ("HELO x.example", "EHLO x.example"):
        code, lines = s.cmd(line)
        assert code == 500 and lines[0].startswith("5.5.1")
    code, lines = s.cmd("MAIL FROM:<a@example.net>")
    assert code == 503 and lines[0].startswith("5.5.1")
    code, lines = s.cmd("LHLO")
    assert code == 501
    s.ok("LHLO x.example")
    for line in ("RCPT TO:<alice@example.org>", "DATA"):
        code, lines = s.cmd(line)
        assert code == 503 and lines[0].startswith("5.5.1"), line
    s.ok("MAIL FROM:<a@example.net>")
    code, lines = s.cmd("MAIL FROM:<a@example.net>")
    assert code == 503 and lines[0].startswith("5.5.1")
    code, lines = s.cmd("FROB")
    assert code == 500 and lines[0].startswith("5.5.1")
    code, lines = s.cmd("VRFY alice")
    assert code == 252 and lines[0].startswith("2.5.2")
    assert s.cmd("VRFY")[0] == 501
    assert s.cmd("HELP")[0] == 214
    assert s.cmd("NOOP") == (250, ["2.0.0 OK"])
    # RSET ends the transaction, LHLO does too (RFC 5321 §4.1.4)
    s.ok("RSET")
    assert s.cmd("RCPT TO:<alice@example.org>")[0] == 503
    s.ok("MAIL FROM:<a@example.net>")
    s.ok("LHLO again.example")
    assert s.cmd("RCPT TO:<alice@example.org>")[0] == 503
    # every reply but the greeting, LHLO's and 354 carries an enhanced code
    assert s.cmd("QUIT")[1][0].startswith("2.0.0")


def test_too_many_errors_disconnect(srv):
    s = Lmtp(srv.lmtp_port)
    s.send(b"FROB\r\n" * 25)
    codes = [s.reply()[0] for _ in range(21)]
    assert codes == [500] * 20 + [421]
    assert s.is_closed()


# --- durability and failures --------------------------------------------------

def test_storage_failure_for_one_recipient(srv):
    # bob's mail home can't be created: a file is in its way
    home = mail_home(srv, "bob")
    home.parent.mkdir(parents=True, exist_ok=True)
    home.write_bytes(b"not a directory")
    s = Lmtp(srv.lmtp_port)
    assert s.transaction(["alice@example.org", "bob@example.org", "carol@example.org"]) == \
        [250, 250, 250]
    msg = message(subject="partial failure")
    replies = s.data(stuff(msg), 3)
    assert [c for c, _ in replies] == [250, 451, 250]
    assert replies[1][1][0].startswith("4.3.0 <bob@example.org>")
    for user in ("alice", "carol"):
        assert [split_trace(b)[1] for b in mailbox_bodies(srv, user)] == [msg]
    assert "event=delivery_failed" in srv.log_text() or "mail_user_init_failed" in srv.log_text()


def test_disconnect_mid_data_delivers_nothing(srv):
    s = Lmtp(srv.lmtp_port)
    s.transaction(["alice@example.org"])
    assert s.cmd("DATA")[0] == 354
    s.send(b"Subject: cut\r\n\r\npartial\r\n")
    s.close()
    s2 = Lmtp(srv.lmtp_port)
    assert s2.cmd("NOOP")[0] == 250
    assert mailbox_bodies(srv) == []


def test_unix_socket_listener(ternd_factory, tmp_path):
    path = tmp_path / "lmtp.sock"
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1, config_extra=f"""
listener lmtp-unix {{
  protocol = lmtp
  path = {path}
}}
""").start()
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    s = Lmtp(path=path)
    s.transaction(["alice@example.org"])
    msg = message(subject="over a unix socket")
    assert s.data(stuff(msg), 1)[0][0] == 250
    m, rest = split_trace(mailbox_bodies(srv)[0])
    assert rest == msg and m["peer"] == b"local"
