"""ternd killed (SIGKILL to master and workers at once) during a
multi-recipient LMTP transaction (issue 9, RFC 2033 §4.2): every recipient
that got its 250 has the message exactly once, and the others get it when
the client retries them, as an MTA does.

Twice: with a raw pipelining LMTP client that kills ternd at chosen points
(after k of the per-recipient replies, in the middle of DATA, before the
final dot), and with a private Postfix (tests/postfixutil.py) that takes the
message over SMTP and delivers it over LMTP while ternd is killed, then
retries with `postqueue -f`. After each restart every mailbox is checked
over IMAP and on disk: the index agrees with the Maildir, every message is
complete and byte-identical to what was sent, files left in tmp/ are not
messages.

The one duplicate LMTP allows: a recipient whose message became durable
but whose 250 never left (the kill fell between the two). ternd logs
event=delivered before it sends the 250, so such a recipient is known from
the log and then, and only then, holds a second copy after the retry."""
import imaplib
import os
import re
import shutil
import signal
import smtplib
import socket
import time

import pytest

from postfixutil import MASTER_DELIVERY, POSTFIX, PrivatePostfix, world_dir

NRCPT = 16
DOMAIN = "tern.test"
USERS = {f"u{i:02d}": f"pw{i}" for i in range(NRCPT)}


def body(tag, size):
    """A message whose every line is unique (a truncated copy can't pass
    for a whole one)."""
    head = (f"From: Crash Test <crash@example.net>\r\nTo: undisclosed-recipients:;\r\n"
            f"Subject: crash {tag}\r\nMessage-ID: <{tag}@crash.example>\r\n"
            f"Date: Sun, 22 Nov 2026 09:00:00 +0000\r\n\r\n").encode()
    lines, n = [], 0
    while sum(len(x) for x in lines) < size:
        lines.append(f"{tag} line {n:06d} of the crash test message body\r\n".encode())
        n += 1
    return head + b"".join(lines) + f"end of {tag}\r\n".encode()


def dot_stuff(data):
    return re.sub(rb"(?m)^\.", b"..", data)


def kill_ternd(srv):
    """SIGKILL to the whole process group, then wait until every worker
    is gone (sanitizer builds take a moment), so the restart binds."""
    os.killpg(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(srv.proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    srv.log.close()


def maildir_files(srv, user, sub):
    d = srv.base / "mail" / user / "Maildir" / sub
    return sorted(d.iterdir()) if d.exists() else []


def check_mailbox(srv, user, sent):
    """The mailbox of user over IMAP and on disk. sent: tag -> the message
    as sent. Returns tag -> number of copies. Every message (on disk and
    over IMAP) must be one of sent, whole, after the trace headers."""
    files = maildir_files(srv, user, "cur") + maildir_files(srv, user, "new")
    disk = {}
    for f in files:
        data = f.read_bytes()
        tag = whole_message_tag(data, sent)
        assert tag is not None, f"{f}: not a whole message ({len(data)} bytes)"
        disk.setdefault(tag, []).append(data)
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    try:
        m.login(user, USERS[user])
        typ, data = m.select("INBOX")
        assert typ == "OK"
        exists = int(data[0])
        # the index agrees with the Maildir: no file in tmp/ counts, no
        # file in cur/ is missing
        assert exists == len(files), (user, exists, [f.name for f in files])
        imap = {}
        if exists:
            typ, data = m.fetch("1:*", "(BODY.PEEK[])")
            assert typ == "OK"
            for item in data:
                if isinstance(item, tuple):
                    tag = whole_message_tag(item[1], sent)
                    assert tag is not None, f"{user}: partial message over IMAP"
                    imap.setdefault(tag, []).append(item[1])
        for tag in set(disk) | set(imap):
            # byte-identical over IMAP and on disk
            assert sorted(imap.get(tag, [])) == sorted(disk.get(tag, [])), (user, tag)
    finally:
        m.logout()
    return {tag: len(v) for tag, v in disk.items()}


TRACE = re.compile(rb"\AReturn-Path: <[^>\r\n]*>\r\n(?:[A-Za-z-]+: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*)*?"
                   rb"(?=From: Crash Test)")


def whole_message_tag(data, sent):
    """The tag of the sent message that data is (trace headers + the
    message exactly as sent), or None."""
    m = TRACE.match(data)
    if m is None:
        return None
    rest = data[m.end():]
    for tag, msg in sent.items():
        if rest == msg:
            return tag
    return None


class RawLmtp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        assert self.reply()[0] == 220
        self.sock.sendall(b"LHLO mta.example\r\n")
        code, lines = self.reply()
        assert code == 250 and "PIPELINING" in lines

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line[4:].decode())
            if line[3:4] == b" ":
                return int(line[:3]), lines

    def start(self, rcpts):
        """MAIL, RCPT... and DATA in one packet (PIPELINING)."""
        cmds = b"MAIL FROM:<mta@example.net>\r\n" + b"".join(
            f"RCPT TO:<{r}>\r\n".encode() for r in rcpts) + b"DATA\r\n"
        self.sock.sendall(cmds)
        for _ in range(len(rcpts) + 1):
            assert self.reply()[0] == 250
        assert self.reply()[0] == 354

    def drain(self):
        """Every reply the server sent before it died."""
        replies = []
        self.sock.settimeout(10)
        try:
            while True:
                replies.append(self.reply())
        except (ConnectionError, OSError):
            pass
        self.sock.close()
        return replies

    def close(self):
        self.sock.close()


def rcpt_addr(user):
    return f"{user}@{DOMAIN}"


def delivered_in_log(text, tag_rcpts):
    return {u for u in tag_rcpts if re.search(
        rf"event=delivered rcpt={re.escape(rcpt_addr(u))} ", text)}


def lmtp_deliver(srv, users, data):
    """A whole transaction; returns the users that got 250."""
    c = RawLmtp(srv.lmtp_port)
    c.start([rcpt_addr(u) for u in users])
    c.sock.sendall(dot_stuff(data) + b".\r\n")
    got = [c.reply() for _ in users]
    c.sock.sendall(b"QUIT\r\n")
    c.close()
    return {u for u, (code, _) in zip(users, got) if code == 250}


def run_kill_point(srv, point, data):
    """One transaction to every user, ternd killed at point. Returns
    (users that got 250, users ternd logged as delivered)."""
    users = sorted(USERS)
    log_before = len(srv.log_text())
    c = RawLmtp(srv.lmtp_port)
    c.start([rcpt_addr(u) for u in users])
    stuffed = dot_stuff(data)
    if point == "data":
        c.sock.sendall(stuffed[:len(stuffed) // 2])
        time.sleep(0.2)
    elif point == "dot":
        c.sock.sendall(stuffed)
        time.sleep(0.3)
    else:
        c.sock.sendall(stuffed + b".\r\n")
        for _ in range(point):
            assert c.reply()[0] == 250
    kill_ternd(srv)
    replies = [(250, None)] * (point if isinstance(point, int) else 0) + c.drain()
    ok = {u for u, (code, _) in zip(users, replies) if code == 250}
    bad = [r for r in replies if r[0] != 250]
    # a dying server sends nothing but 250s (and no reply at all for the rest)
    assert not bad, bad
    logged = delivered_in_log(srv.log_text()[log_before:], users)
    return ok, logged


@pytest.mark.parametrize("points", [[1, NRCPT // 2, "data", "dot", 0]])
def test_kill_during_lmtp_transaction(ternd_factory, points):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    users = sorted(USERS)
    sent, expect = {}, {u: {} for u in users}
    mixed = False
    for i, point in enumerate(points):
        tag = f"k{i}-{point}"
        data = body(tag, 400_000)
        sent[tag] = data
        ok, logged = run_kill_point(srv, point, data)
        srv.start()
        if point in ("data", "dot"):
            # a connection lost before the final dot delivers nothing
            assert not ok and not logged, (point, ok, logged)
        mixed = mixed or 0 < len(ok) < len(users)
        for u in users:
            copies = check_mailbox(srv, u, sent)
            have = copies.get(tag, 0)
            if u in ok:
                assert have == 1, (tag, u, "acknowledged", have)
            else:
                # durable but unacknowledged is only possible for a save
                # that completed (and was logged) in the kill's instant
                assert have == (1 if u in logged else 0), (tag, u, have, logged)
            for t, n in expect[u].items():
                assert copies.get(t, 0) == n, (u, t, copies)
        # the MTA retries exactly the recipients without a 250
        retry = [u for u in users if u not in ok]
        if retry:
            assert lmtp_deliver(srv, retry, data) == set(retry)
        for u in users:
            copies = check_mailbox(srv, u, sent)
            want = 1 + (1 if u in logged and u not in ok else 0)
            assert copies.get(tag, 0) == want, (tag, u, copies.get(tag, 0), want)
            expect[u][tag] = want
    # the kill after some replies did cut a transaction in the middle
    assert mixed, "every kill came before or after all the deliveries"
    # a durable-but-unanswered duplicate needs the kill to land in a
    # window of microseconds: never more than one per run
    dups = sum(n - 1 for u in users for n in expect[u].values())
    assert dups <= 1, expect


@pytest.mark.skipif(POSTFIX is None, reason="postfix is not installed")
@pytest.mark.skipif(os.geteuid() != 0, reason="a private Postfix master runs as root")
def test_kill_while_postfix_delivers(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    postfix = PrivatePostfix(world_dir("tern-postfix-lmtp-"), master=MASTER_DELIVERY,
                             main_extra=f"""
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{srv.lmtp_port}
smtpd_reject_unlisted_recipient = no
lmtp_destination_recipient_limit = 50
# no retry of its own: the test restarts ternd, checks, then flushes
minimal_backoff_time = 300s
maximal_backoff_time = 600s
queue_run_delay = 300s
""")
    users = sorted(USERS)
    tag = "postfix"
    data = body(tag, 1_500_000)
    try:
        postfix.start()
        log_before = len(srv.log_text())
        smtp = smtplib.SMTP("127.0.0.1", postfix.port, timeout=30)
        smtp.ehlo("client.example")
        refused = smtp.sendmail("sender@example.net", [rcpt_addr(u) for u in users], data)
        assert refused == {}
        smtp.quit()
        # kill once ternd has saved a few of the recipients' copies
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            logged = delivered_in_log(srv.log_text()[log_before:], users)
            if len(logged) >= 3:
                break
            time.sleep(0.005)
        assert len(logged) >= 3, postfix.log_text()[-3000:]
        kill_ternd(srv)
        logged = delivered_in_log(srv.log_text()[log_before:], users)
        assert len(logged) < len(users), "ternd finished before the kill"
        # what Postfix saw: a 250 for some, the rest deferred
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pflog = postfix.log_text()
            sent_ok = set(re.findall(rf"to=<(u\d\d)@{DOMAIN}>, relay=127\.0\.0\.1\S*, .*status=sent",
                                     pflog))
            deferred = set(re.findall(rf"to=<(u\d\d)@{DOMAIN}>, .*status=deferred", pflog))
            if len(sent_ok | deferred) == len(users):
                break
            time.sleep(0.1)
        assert sent_ok | deferred == set(users), pflog[-3000:]
        assert sent_ok and deferred, pflog[-3000:]
        first_ok = set(sent_ok)
        srv.start()
        for u in users:
            copies = check_mailbox(srv, u, {tag: data})
            want = 1 if u in first_ok or u in logged else 0
            assert copies.get(tag, 0) == want, (u, copies, first_ok, logged)
        # the MTA retries the deferred recipients
        postfix.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and postfix.queue_ids():
            time.sleep(0.2)
        assert postfix.queue_ids() == [], postfix.log_text()[-3000:]
        pflog = postfix.log_text()
        sent_ok = set(re.findall(rf"to=<(u\d\d)@{DOMAIN}>, relay=127\.0\.0\.1\S*, .*status=sent", pflog))
        assert sent_ok == set(users), pflog[-3000:]
        for u in users:
            copies = check_mailbox(srv, u, {tag: data})
            want = 2 if u in logged and u not in first_ok else 1
            assert copies.get(tag, 0) == want, (u, copies, first_ok, logged)
        assert sum(1 for u in users if u in logged and u not in first_ok) <= 1
    finally:
        postfix.stop()
        shutil.rmtree(postfix.dir, ignore_errors=True)
