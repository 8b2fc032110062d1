"""Delivery with Sieve over LMTP against a running ternd: the user's
~/.dovecot.sieve filing into a folder, discarding, redirecting (to a
private SMTP capture server, with the original envelope sender, sent once
even when the MTA retries), a temporary submission failure giving 451 with
nothing stored, reject (an MDN from <>) and ereject (550 5.7.1), the
administrator's before/after scripts, runtime and compile errors falling
back to INBOX (and the user's .log), loop protection (Delivered-To,
X-Sieve-Redirected-From), and the quota check
at RCPT and DATA (452 4.2.2 / 552 5.2.2). Delivered bytes are read from the
Maildir files."""
import re
import socket

import pytest

from mailutil import close_sessions, Imap, mail_home, maildir, message
from smtpsink import SmtpSink

CRLF = b"\r\n"
USERS = {"alice": "secret", "bob": "hunter2"}


class Lmtp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.sock.makefile("rb")
        assert self.reply()[0] == 220
        assert self.cmd("LHLO mta.example")[0] == 250

    def reply(self):
        lines = []
        while True:
            line = self.f.readline().rstrip(b"\r\n")
            assert re.match(rb"\d{3}[ -]", line), line
            lines.append(line[4:].decode())
            if line[3:4] == b" ":
                return int(line[:3]), lines

    def cmd(self, line):
        self.sock.sendall(line.encode() + CRLF)
        return self.reply()

    def send(self, msg, rcpts, sender="sender@example.net", params=""):
        """A whole transaction: returns the RCPT codes and, if any was
        accepted, the per-recipient (code, text) replies after DATA."""
        assert self.cmd(f"MAIL FROM:<{sender}>{params}")[0] == 250
        codes = [self.cmd(f"RCPT TO:<{r}>") for r in rcpts]
        accepted = sum(1 for c, _ in codes if c == 250)
        if accepted == 0:
            self.cmd("RSET")
            return codes, []
        assert self.cmd("DATA")[0] == 354
        lines = msg.split(CRLF)
        body = CRLF.join(b"." + ln if ln.startswith(b".") else ln for ln in lines[:-1])
        self.sock.sendall(body + CRLF + b"." + CRLF)
        return codes, [(c, t[0]) for c, t in (self.reply() for _ in range(accepted))]

    def close(self):
        self.sock.close()


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.close()


def start(ternd_factory, sink, extra="", users=USERS, passwd_extra=None):
    srv = ternd_factory(lmtp=True, users=users, process_count=1, config_extra=f"""
submission {{
  host = {sink.host}
  timeout = 5s
}}
{extra}
""")
    if passwd_extra:
        lines = []
        for user, pw in users.items():
            lines.append(f"{user}:{{PLAIN}}{pw}::::::{passwd_extra.get(user, '')}\n")
        srv.passwd_path.write_text("".join(lines))
    return srv.start()


def script(srv, text, user="alice"):
    home = mail_home(srv, user)
    home.mkdir(parents=True, exist_ok=True)
    (home / ".dovecot.sieve").write_text(text)


def bodies(srv, user="alice", folder=""):
    d = maildir(srv, user, folder)
    out = []
    for sub in ("new", "cur"):
        p = d / sub
        if p.is_dir():
            out += [f.read_bytes() for f in sorted(p.iterdir())]
    return out


def original(stored):
    """The message as sent: what follows the Return-Path, Delivered-To
    and Received fields the delivery put on top."""
    m = re.match(rb"Return-Path: <[^>]*>\r\nDelivered-To: [^\r]*\r\nReceived: .*?\r\n"
                 rb"\tby .*?\r\n\tfor <[^>]*>; [^\r]*\r\n", stored, re.S)
    assert m, stored[:300]
    return stored[m.end():]


def create_mailboxes(srv, *names):
    imap = Imap(srv.imap_port)
    for name in names:
        imap.ok(f"CREATE {name}")
    imap.logout()
    close_sessions()


def test_fileinto_folder(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    create_mailboxes(srv, "Reports")
    script(srv, 'require "fileinto";\nif header :contains "subject" "report" '
           '{ fileinto "Reports"; }\n')
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="Weekly report")
    _, replies = s.send(msg, ["alice@example.org"])
    assert replies[0][0] == 250 and "Saved as UID 1" in replies[0][1]
    [stored] = bodies(srv, folder="Reports")
    assert original(stored) == msg
    assert bodies(srv) == []
    # a message the script doesn't match stays in INBOX
    other = message(subject="lunch?")
    _, replies = s.send(other, ["alice@example.org"])
    assert replies[0][0] == 250
    assert [original(b) for b in bodies(srv)] == [other]
    assert "mailbox=Reports" in srv.log_text()


def test_discard_and_missing_folder(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require "fileinto";\n'
           'if header :is "x-kind" "junk" { discard; stop; }\n'
           'fileinto "Nowhere";\n')
    s = Lmtp(srv.lmtp_port)
    junk = message(subject="buy", headers=["X-Kind: junk"])
    _, replies = s.send(junk, ["alice@example.org"])
    assert replies == [(250, replies[0][1])] and "Delivered." in replies[0][1]
    assert bodies(srv) == []
    # fileinto a mailbox that doesn't exist falls back to INBOX
    msg = message(subject="hello")
    _, replies = s.send(msg, ["alice@example.org"])
    assert replies[0][0] == 250
    assert [original(b) for b in bodies(srv)] == [msg]
    log = srv.log_text()
    assert "event=discarded" in log and "event=fileinto_missing" in log


def test_redirect_sent_once_with_original_sender(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'redirect "carol@elsewhere.example";\n')
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="forward me", headers=["Message-ID: <fwd-1@example.net>"])
    _, replies = s.send(msg, ["alice@example.org"], sender="bob@example.net")
    assert replies[0][0] == 250
    [(mail_from, rcpts, data)] = sink.wait(1)
    assert mail_from == "bob@example.net" and rcpts == ["carol@elsewhere.example"]
    assert data.startswith(b"Delivered-To: alice@example.org\r\nReceived: from mta.example")
    # the loop mark for a later delivery, right before the message
    assert data.endswith(b"X-Sieve-Redirected-From: alice@example.org\r\n" + msg)
    assert bodies(srv) == []
    # the MTA delivers the same message again (a retry): not sent twice
    _, replies = s.send(msg, ["alice@example.org"], sender="bob@example.net")
    assert replies[0][0] == 250
    assert len(sink.wait(2, timeout=1)) == 1
    assert "event=redirect_duplicate" in srv.log_text()


def test_redirect_copy_and_dot_stuffing(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require "copy";\nredirect :copy "carol@elsewhere.example";\n')
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="dots", body=".leading dot\r\n..two\r\nend\r\n")
    _, replies = s.send(msg, ["alice@example.org"], sender="")
    assert replies[0][0] == 250
    [(mail_from, _, data)] = sink.wait(1)
    assert mail_from == "" and data.endswith(msg)
    assert [original(b) for b in bodies(srv)] == [msg]


def test_redirect_tempfail_stores_nothing_then_retry(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require "copy";\nredirect :copy "carol@elsewhere.example";\n')
    sink.fail_rcpt = "451 4.3.0 try later"
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="retry me", headers=["Message-ID: <retry-1@example.net>"])
    _, replies = s.send(msg, ["alice@example.org", "bob@example.org"])
    # alice's delivery failed before anything was stored; bob has no script
    assert replies[0][0] == 451 and replies[1][0] == 250
    assert bodies(srv) == [] and len(bodies(srv, "bob")) == 1
    sink.fail_rcpt = None
    _, replies = s.send(msg, ["alice@example.org"])
    assert replies[0][0] == 250
    assert len(sink.wait(1)) == 1 and len(bodies(srv)) == 1


def test_reject_sends_mdn_and_ereject_refuses(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require "reject";\nreject "I do not want this.";\n')
    script(srv, 'require "ereject";\nereject "Go away.";\n', user="bob")
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="unwanted", headers=["Message-ID: <rej-1@example.net>"])
    _, replies = s.send(msg, ["alice@example.org", "bob@example.org"],
                        sender="spammer@example.net")
    assert replies[0][0] == 250
    assert replies[1] == (550, "5.7.1 <bob@example.org> Go away.")
    [(mail_from, rcpts, data)] = sink.wait(1)
    assert mail_from == "" and rcpts == ["spammer@example.net"]
    assert b"report-type=disposition-notification" in data
    assert b"I do not want this." in data
    assert b"Disposition: automatic-action/MDN-sent-automatically; deleted" in data
    assert b"Auto-Submitted: auto-replied" in data
    assert msg in data
    assert bodies(srv) == [] and bodies(srv, "bob") == []
    # a null sender gets no rejection message: the message is dropped
    _, replies = s.send(msg, ["alice@example.org"], sender="")
    assert replies[0][0] == 250
    assert len(sink.wait(2, timeout=1)) == 1


def test_before_and_after_scripts(ternd_factory, sink, tmp_path):
    before = tmp_path / "before.d"
    before.mkdir()
    (before / "10-spam.sieve").write_text(
        'require "fileinto";\nif header :is "x-spam" "yes" { fileinto "Suspect"; }\n')
    (before / "20-tag.sieve").write_text('if header :is "x-drop" "yes" { discard; }\n')
    after = tmp_path / "after.sieve"
    after.write_text('require "fileinto";\nif header :is "x-archive" "yes" '
                     '{ fileinto "Kept"; }\n')
    srv = start(ternd_factory, sink,
                extra=f"sieve {{\n  before = {before}\n  after = {after}\n}}\n")
    create_mailboxes(srv, "Suspect", "Kept", "Reports")
    # the user's script would file everything into Reports
    script(srv, 'require "fileinto";\nif header :is "x-user-keep" "yes" { keep; stop; }\n'
           'fileinto "Reports";\n')
    s = Lmtp(srv.lmtp_port)
    spam = message(subject="spam", headers=["X-Spam: yes"])
    drop = message(subject="drop", headers=["X-Drop: yes"])
    normal = message(subject="normal")
    archive = message(subject="archived", headers=["X-User-Keep: yes", "X-Archive: yes"])
    for m in (spam, drop, normal, archive):
        _, replies = s.send(m, ["alice@example.org"])
        assert replies[0][0] == 250
    # the before script's fileinto ended the sequence: no user script
    assert [original(b) for b in bodies(srv, folder="Suspect")] == [spam]
    # the before discard: the user's script can't bring it back
    # the user's fileinto ended the sequence before the after script
    assert [original(b) for b in bodies(srv, folder="Reports")] == [normal]
    # the user's keep carried on to the after script, which filed it
    assert [original(b) for b in bodies(srv, folder="Kept")] == [archive]
    assert bodies(srv) == []


def test_runtime_and_compile_errors_keep(ternd_factory, sink):
    srv = start(ternd_factory, sink, extra="sieve {\n  max_redirects = 1\n}\n")
    script(srv, 'redirect "a@x.example";\nredirect "b@x.example";\n')
    script(srv, 'if header :bogus "x" "y" { discard; }\n', user="bob")
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="errors")
    _, replies = s.send(msg, ["alice@example.org", "bob@example.org"])
    assert [c for c, _ in replies] == [250, 250]
    assert [original(b) for b in bodies(srv)] == [msg]
    assert [original(b) for b in bodies(srv, "bob")] == [msg]
    assert sink.wait(1, timeout=1) == []
    log = srv.log_text()
    assert log.count("event=sieve_failed") == 2
    user_log = (mail_home(srv) / ".dovecot.sieve.log").read_text()
    assert "line 2" in user_log


def test_loop_is_stored_not_redirected(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'redirect "carol@elsewhere.example";\n')
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="loop", headers=["Delivered-To: alice@example.org"])
    _, replies = s.send(msg, ["alice@example.org"])
    assert replies[0][0] == 250
    assert sink.wait(1, timeout=1) == []
    assert [original(b) for b in bodies(srv)] == [msg]
    assert "event=redirect_loop" in srv.log_text()


def test_redirected_from_loop_is_kept(ternd_factory, sink):
    """A message this recipient redirected before (its
    X-Sieve-Redirected-From) comes back: kept, not sent on again; another
    user's mark does not stop the redirect."""
    srv = start(ternd_factory, sink)
    script(srv, 'redirect "carol@elsewhere.example";\n')
    s = Lmtp(srv.lmtp_port)
    back = message(subject="came back", headers=["X-Sieve-Redirected-From: <Alice@example.org>"])
    _, replies = s.send(back, ["alice@example.org"])
    assert replies[0][0] == 250
    assert sink.wait(1, timeout=1) == []
    assert [original(b) for b in bodies(srv)] == [back]
    assert "event=redirect_loop" in srv.log_text()
    assert "reason=x-sieve-redirected-from" in srv.log_text()
    other = message(subject="via bob", headers=["X-Sieve-Redirected-From: bob@example.org"])
    _, replies = s.send(other, ["alice@example.org"])
    assert replies[0][0] == 250
    [(_, rcpts, data)] = sink.wait(1)
    assert rcpts == ["carol@elsewhere.example"]
    assert data.endswith(b"X-Sieve-Redirected-From: alice@example.org\r\n" + other)
    assert len(bodies(srv)) == 1


@pytest.mark.parametrize("tempfail", [True, False])
def test_quota_at_rcpt_and_data(ternd_factory, sink, tempfail):
    srv = start(ternd_factory, sink,
                extra=f"quota {{\n  full_tempfail = {'yes' if tempfail else 'no'}\n}}\n",
                passwd_extra={"alice": "userdb_quota_rule=*:storage=4k"})
    code, enh = (452, "4.2.2") if tempfail else (552, "5.2.2")
    s = Lmtp(srv.lmtp_port)
    small = message(subject="small")
    _, replies = s.send(small, ["alice@example.org"])
    assert replies[0][0] == 250
    # SIZE= over the rest of the quota: refused at RCPT
    codes, _ = s.send(small, ["alice@example.org"], params=" SIZE=5000")
    assert codes[0][0] == code and codes[0][1][0].startswith(enh)
    # no SIZE: accepted at RCPT, refused at DATA; bob has no limit
    big = message(subject="big", body="x" * 5000 + "\r\n")
    codes, replies = s.send(big, ["alice@example.org", "bob@example.org"])
    assert [c for c, _ in codes] == [250, 250]
    assert replies[0][0] == code and replies[0][1].startswith(enh)
    assert replies[1][0] == 250
    assert [original(b) for b in bodies(srv)] == [small]
    assert "event=over_quota" in srv.log_text()


def test_quota_messages_rule(ternd_factory, sink):
    srv = start(ternd_factory, sink, extra="quota {\n  default_rule = *:messages=1\n}\n")
    s = Lmtp(srv.lmtp_port)
    _, replies = s.send(message(subject="one"), ["alice@example.org"])
    assert replies[0][0] == 250
    codes, _ = s.send(message(subject="two"), ["alice@example.org"])
    assert codes[0][0] == 452 and codes[0][1][0].startswith("4.2.2")


def test_vacation_once_per_period_null_sender(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require "vacation";\n'
           'vacation :days 7 :subject "Away" "I am away until Monday.";\n')
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="hello", to="Alice <alice@example.org>")
    _, replies = s.send(msg, ["alice@example.org"], sender="bob@example.net")
    assert replies[0][0] == 250
    [(mail_from, rcpts, data)] = sink.wait(1)
    assert mail_from == "" and rcpts == ["bob@example.net"]
    msgid = re.search(rb"^Message-ID: (<[^>]+>)", msg, re.M).group(1)
    assert b"In-Reply-To: " + msgid + b"\r\n" in data
    assert b"Subject: Away\r\n" in data and b"I am away until Monday." in data
    assert b"Auto-Submitted: auto-replied" in data
    # the message itself is kept
    assert [original(b) for b in bodies(srv)] == [msg]
    # within the period: no second reply to bob
    _, replies = s.send(message(subject="again"), ["alice@example.org"],
                        sender="bob@example.net")
    assert replies[0][0] == 250
    assert len(sink.wait(2, timeout=1)) == 1
    # never to list mail or automatic mail or the null sender
    for headers, sender in ((["List-Id: <list.example.net>"], "carol@example.net"),
                            (["Auto-Submitted: auto-generated"], "dave@example.net"),
                            ([], "")):
        _, replies = s.send(message(subject="auto", headers=headers), ["alice@example.org"],
                            sender=sender)
        assert replies[0][0] == 250
    assert len(sink.wait(2, timeout=1)) == 1
    # another sender gets one
    _, replies = s.send(message(subject="hi"), ["alice@example.org"], sender="erin@example.net")
    assert [m[1] for m in sink.wait(2)] == [["bob@example.net"], ["erin@example.net"]]


def test_imap4flags_and_create(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require ["fileinto", "imap4flags", "mailbox"];\n'
           'fileinto :create :flags ["\\\\Seen", "$Work"] "Projects/new";\n')
    s = Lmtp(srv.lmtp_port)
    msg = message(subject="flagged")
    _, replies = s.send(msg, ["alice@example.org"])
    assert replies[0][0] == 250
    [stored] = bodies(srv, folder="Projects/new")
    assert original(stored) == msg
    imap = Imap(srv.imap_port)
    imap.ok("SELECT Projects/new")
    untagged = imap.ok("FETCH 1 (FLAGS)")
    assert any(b"\\Seen" in u and b"$Work" in u for u in untagged), untagged
    imap.logout()
