"""Sieve extensions at LMTP delivery that need the delivery side's help,
against a running ternd: editheader (RFC 5293) changes in the stored copy
and in redirected mail, fileinto :specialuse and specialuse_exists (RFC
8579), spamtest/spamtestplus/virustest (RFC 5235) from the configured
scanner headers (score with a regex, strlen, text), mboxmetadata and
servermetadata (RFC 5490) over METADATA, and include :global (RFC 6609)
from sieve.global_dir."""
import base64
import re

import pytest

from mailutil import Imap, close_sessions, message
from smtpsink import SmtpSink
from test_lmtp_sieve import Lmtp, bodies, create_mailboxes, original, script, start


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.close()


def header_of(data):
    return data.split(b"\r\n\r\n", 1)[0]


def deliver(srv, msg, rcpt="alice@example.org"):
    s = Lmtp(srv.lmtp_port)
    _, replies = s.send(msg, [rcpt])
    s.close()
    assert replies[0][0] == 250, replies
    return replies[0][1]


def test_editheader_stored_copy(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    create_mailboxes(srv, "Reports")
    script(srv, 'require ["editheader", "fileinto"];\n'
           'addheader "X-Filtered" "yes";\n'
           'deleteheader "X-Junk";\n'
           'addheader :last "X-Note" "Grüße aus Köln";\n'
           'fileinto "Reports";\n')
    msg = message(subject="edit me", headers=("X-Junk: 1", "X-Keep: 2", "X-Junk: 3"))
    deliver(srv, msg)
    [stored] = bodies(srv, folder="Reports")
    got = original(stored)
    head = header_of(got)
    # added on top, deleted every X-Junk, the 8-bit value RFC 2047 encoded
    assert head.startswith(b"X-Filtered: yes\r\nFrom: ")
    assert b"X-Junk" not in head and b"X-Keep: 2" in head
    m = re.search(rb"\r\nX-Note: =\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$", head)
    assert m, head
    assert base64.b64decode(m.group(1)).decode() == "Grüße aus Köln"
    # the body is untouched
    assert got.split(b"\r\n\r\n", 1)[1] == msg.split(b"\r\n\r\n", 1)[1]
    assert "sieve_editheader_ignored" not in srv.log_text()


def test_editheader_redirect_and_keep(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    script(srv, 'require ["editheader", "copy"];\n'
           'addheader "X-Forwarded-By" "tern";\n'
           'deleteheader "Subject";\n'
           'redirect :copy "fwd@example.net";\n')
    msg = message(subject="secret subject")
    deliver(srv, msg)
    [(mail_from, rcpts, data)] = sink.wait(1)
    assert rcpts == ["fwd@example.net"]
    assert b"\r\nX-Forwarded-By: tern\r\nFrom: " in data
    assert b"secret subject" not in data
    assert data.endswith(msg.split(b"\r\n\r\n", 1)[1])
    # the kept copy carries the same changes (RFC 5293 §1: for the
    # message as delivered)
    [stored] = bodies(srv)
    head = header_of(original(stored))
    assert head.startswith(b"X-Forwarded-By: tern\r\n") and b"Subject:" not in head


def test_editheader_per_action(ternd_factory, sink):
    """RFC 5293 §3: each action takes the message as the edits before it
    left it: a redirect before an addheader sends the older header."""
    srv = start(ternd_factory, sink)
    script(srv, 'require ["editheader", "copy"];\n'
           'addheader "X-First" "1";\n'
           'redirect :copy "early@example.net";\n'
           'addheader "X-Second" "2";\n'
           'deleteheader "Subject";\n'
           'redirect :copy "late@example.net";\n')
    msg = message(subject="per action")
    deliver(srv, msg)
    sent = {rcpts[0]: data for _, rcpts, data in sink.wait(2)}
    early, late = sent["early@example.net"], sent["late@example.net"]
    assert b"\r\nX-First: 1\r\nFrom: " in early
    assert b"X-Second" not in early and b"Subject: per action" in early
    assert b"\r\nX-Second: 2\r\nX-First: 1\r\nFrom: " in late
    assert b"Subject:" not in header_of(late.split(b"X-Sieve-Redirected-From", 1)[1])
    # the implicit keep takes every edit
    [stored] = bodies(srv)
    head = header_of(original(stored))
    assert head.startswith(b"X-Second: 2\r\nX-First: 1\r\n") and b"Subject:" not in head


def test_fileinto_specialuse(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    # a new user gets Junk with \Junk (mail.create_special_folders)
    create_mailboxes(srv, "Spam")
    script(srv, 'require ["fileinto", "special-use", "mailbox"];\n'
           'if specialuse_exists "\\\\Junk" {\n'
           '  if header :contains "subject" "junk" { fileinto :specialuse "\\\\Junk" "Spam"; stop; }\n'
           '}\n'
           'if specialuse_exists "Spam" "\\\\Junk" { fileinto "Wrong"; stop; }\n'
           'if header :contains "subject" "vip" {\n'
           '  fileinto :specialuse "\\\\Important" :create "Important Mail";\n'
           '}\n')
    deliver(srv, message(subject="junk offer"))
    assert len(bodies(srv, folder="Junk")) == 1
    assert bodies(srv, folder="Spam") == []
    # no mailbox has \Important: the named one is created with it
    deliver(srv, message(subject="vip news"))
    imap = Imap(srv.imap_port)
    untagged = imap.ok('LIST "" "Important Mail" RETURN (SPECIAL-USE)')
    assert any(b"\\Important" in u for u in untagged), untagged
    imap.select("\"Important Mail\"")
    assert len(imap.fetch("1:* UID")) == 1
    imap.logout()
    close_sessions()
    # an ordinary message stays in INBOX: "Spam" has no \Junk
    deliver(srv, message(subject="hello"))
    assert len(bodies(srv)) == 1


SPAM_SCRIPT = ('require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto"];\n'
               'if spamtest :value "eq" :comparator "i;ascii-numeric" "0" '
               '{ fileinto "Untested"; stop; }\n'
               'if spamtest :value "ge" :comparator "i;ascii-numeric" "6" '
               '{ fileinto "Junk"; stop; }\n')


def test_spamtest_score_regex(ternd_factory, sink):
    srv = start(ternd_factory, sink, extra="""
sieve {
  spamtest_status_header = "X-Spam-Status: score=(-?[0-9.]+)"
  spamtest_max_header = "X-Spam-Status: required=([0-9.]+)"
  spamtest_max_value = 10
}
""")
    create_mailboxes(srv, "Untested")
    script(srv, SPAM_SCRIPT)
    # 4.0 of a required 5.0: 1 + round(9 * 0.8) = 8
    deliver(srv, message(subject="a", headers=("X-Spam-Status: Yes, score=4.0 required=5.0",)))
    # 4.0 of max_value 10 (no required=): 1 + round(3.6) = 5
    deliver(srv, message(subject="b", headers=("X-Spam-Status: No, score=4.0",)))
    # negative scores are "not spam" (1)
    deliver(srv, message(subject="c", headers=("X-Spam-Status: No, score=-2.5",)))
    # no header: "0", not tested
    deliver(srv, message(subject="d"))
    subjects = lambda folder: sorted(re.search(rb"Subject: (\w+)", b).group(1).decode()
                                     for b in bodies(srv, folder=folder))
    assert subjects("Junk") == ["a"]
    assert subjects("") == ["b", "c"]
    assert subjects("Untested") == ["d"]


def test_spamtestplus_strlen_and_virustest_text(ternd_factory, sink):
    srv = start(ternd_factory, sink, extra="""
sieve {
  spamtest_status_type = strlen
  spamtest_status_header = "X-Spam-Level"
  spamtest_max_value = 5
  virustest_status_type = text
  virustest_status_header = "X-Virus-Scan: ^([A-Za-z]+)"
  virustest_text_values = "1:clean, 5:infected"
}
""")
    create_mailboxes(srv, "Half", "Virus", "Spam")
    script(srv, 'require ["spamtestplus", "virustest", "relational", '
           '"comparator-i;ascii-numeric", "fileinto"];\n'
           'if virustest :value "eq" :comparator "i;ascii-numeric" "5" '
           '{ fileinto "Virus"; stop; }\n'
           'if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "100" '
           '{ fileinto "Spam"; stop; }\n'
           'if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "40" '
           '{ fileinto "Half"; stop; }\n')
    # "*****" of 5: 100 %; "**" of 5: 40 %
    deliver(srv, message(subject="s1", headers=("X-Spam-Level: *****",)))
    deliver(srv, message(subject="s2", headers=("X-Spam-Level: **",)))
    deliver(srv, message(subject="v1", headers=("X-Virus-Scan: INFECTED by Eicar",)))
    deliver(srv, message(subject="v2", headers=("X-Virus-Scan: clean",)))
    assert len(bodies(srv, folder="Spam")) == 1
    assert len(bodies(srv, folder="Half")) == 1
    assert len(bodies(srv, folder="Virus")) == 1
    assert len(bodies(srv)) == 1


def test_include_global(ternd_factory, sink, tmp_path):
    gdir = tmp_path / "global"
    gdir.mkdir()
    (gdir / "lists.sieve").write_text(
        'require ["fileinto"];\n'
        'if exists "list-id" { fileinto "Lists"; }\n')
    srv = start(ternd_factory, sink, extra=f"""
sieve {{
  global_dir = {gdir}
}}
""")
    create_mailboxes(srv, "Lists")
    script(srv, 'require ["include"];\n'
           'include :global "lists";\n'
           'include :global :optional "missing";\n')
    deliver(srv, message(subject="list mail", headers=("List-Id: <dev.example.org>",)))
    deliver(srv, message(subject="personal"))
    assert len(bodies(srv, folder="Lists")) == 1
    assert len(bodies(srv)) == 1
    # a :global name never reaches outside the directory
    script(srv, 'require ["include"];\ninclude :global "../lists";\n')
    deliver(srv, message(subject="list again", headers=("List-Id: <dev.example.org>",)))
    assert len(bodies(srv, folder="Lists")) == 1
    assert len(bodies(srv)) == 2


def test_mboxmetadata(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    create_mailboxes(srv, "Archive2")
    imap = Imap(srv.imap_port)
    imap.ok('SETMETADATA Archive2 (/private/comment "route here")')
    imap.ok('SETMETADATA "" (/shared/comment "server says hi")')
    imap.logout()
    close_sessions()
    script(srv, 'require ["mboxmetadata", "servermetadata", "fileinto"];\n'
           'if allof (metadata :is "Archive2" "/private/comment" "route here",\n'
           '          servermetadata :contains "/shared/comment" "hi")\n'
           '{ fileinto "Archive2"; }\n')
    deliver(srv, message(subject="x"))
    assert len(bodies(srv, folder="Archive2")) == 1


def test_notify_mailto(ternd_factory, sink):
    """enotify with mailto (RFC 5435, RFC 5436): every recipient of the URI
    gets the notification from the null sender, To/Cc as written, Bcc not
    shown, the URI's subject and body win over :message, unsafe header
    fields of the URI are dropped; never for automatic mail (§2.7)."""
    srv = start(ternd_factory, sink)
    script(srv, 'require ["enotify"];\n'
           'notify :message "fallback text" '
           '"mailto:ops@example.net?cc=Boss%20%3Cboss@example.net%3E'
           '&bcc=audit@example.net&subject=New%20order&body=See%20INBOX'
           '&X-Ticket=42&From=evil@example.com";\n')
    deliver(srv, message(subject="order 7"))
    got = sink.wait(3)
    assert sorted(r for _, rcpts, _ in got for r in rcpts) == \
        ["audit@example.net", "boss@example.net", "ops@example.net"]
    for mail_from, _, data in got:
        assert mail_from == ""
        head, body = data.split(b"\r\n\r\n", 1)
        assert b"\r\nTo: ops@example.net\r\n" in head
        assert b"\r\nCc: Boss <boss@example.net>\r\n" in head
        assert b"audit@" not in head
        assert b"\r\nSubject: New order\r\n" in head
        assert b"\r\nX-Ticket: 42\r\n" in head
        assert b"evil@" not in head
        assert b"\r\nAuto-Submitted: auto-notified\r\n" in head
        assert body == b"See INBOX\r\n"
    # the message itself is kept
    assert len(bodies(srv)) == 1
    # automatic mail is never notified about
    deliver(srv, message(subject="auto", headers=("Auto-Submitted: auto-replied",)))
    assert "event=notify_skipped" in srv.log_text()
    assert len(sink.wait(4, timeout=1.0)) == 3
