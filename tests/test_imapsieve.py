"""Sieve on IMAP events (RFC 6785) against a running ternd: the
IMAPSIEVE= capability, the /shared/imapsieve/script METADATA entries of a
mailbox and of the server choosing the user's script, an administrator's
imapsieve_mailbox rule reporting messages moved to Junk, the causes
APPEND, COPY (MOVE) and FLAG with their environment items, what keep
(imap4flags), fileinto, redirect (captured by an SMTP sink) and discard
do to the stored message, and errors leaving the message untouched."""
import re

import pytest

from mailutil import Imap, close_sessions, fetches, mail_home, message
from smtpsink import SmtpSink

HOST = "mail.example.org"


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.close()


def start(ternd_factory, sink, url="sieve://mail.example.org", extra=""):
    srv = ternd_factory(process_count=1, config_extra=f"""
lmtp {{
  hostname = {HOST}
}}
submission {{
  host = {sink.host}
  timeout = 5s
}}
imapsieve {{
  url = {url}
}}
{extra}
""")
    return srv.start()


def user_script(srv, name, text, user="alice"):
    d = mail_home(srv, user) / "sieve"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.sieve").write_text(text)


def flags_of(imap, mailbox):
    """{uid: set of flags} of every message in mailbox."""
    imap.select(mailbox)
    out = {}
    for data in imap.fetch("1:* (UID FLAGS)").values():
        out[int(data["UID"])] = set(data["FLAGS"]) - {"\\Recent"}
    return out


def count(imap, mailbox):
    untagged = imap.ok(f"STATUS {mailbox} (MESSAGES)")
    return int(re.search(rb"MESSAGES (\d+)", untagged[0]).group(1))


def setmeta(imap, mailbox, value):
    v = "NIL" if value is None else f'"{value}"'
    imap.ok(f"SETMETADATA {mailbox} (/shared/imapsieve/script {v})")


REPORT = """require ["imapsieve", "environment", "imap4flags", "fileinto", "copy", "variables"];
if environment :is "imap.cause" "COPY" {
  addflag "$Junk";
  if environment :matches "imap.mailbox" "*" { addflag "in-${1}"; }
  if environment :is "imap.user" "alice" { addflag "$user_ok"; }
  if environment :is "imap.email" "alice@mail.example.org" { addflag "$email_ok"; }
  if environment :is "imap.changedflags" "" { addflag "$noflags_ok"; }
  if environment :is "location" "MS" { addflag "$ms_ok"; }
  fileinto :copy "Reported";
  redirect :copy "spam-report@example.net";
}
"""


def test_capability_and_metadata(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    imap = Imap(srv.imap_port)
    untagged = imap.ok("CAPABILITY")
    assert b" IMAPSIEVE=sieve://mail.example.org" in untagged[0]
    setmeta(imap, "Junk", "report")
    setmeta(imap, '""', "global")
    untagged = imap.ok("GETMETADATA Junk /shared/imapsieve/script")
    assert untagged == [b'* METADATA Junk (/shared/imapsieve/script "report")']
    untagged = imap.ok('GETMETADATA "" /shared/imapsieve/script')
    assert untagged == [b'* METADATA "" (/shared/imapsieve/script "global")']
    setmeta(imap, "Junk", None)
    untagged = imap.ok("GETMETADATA Junk /shared/imapsieve/script")
    assert untagged == []
    imap.logout()
    close_sessions()
    # without imapsieve.url nothing is advertised
    srv2 = start(ternd_factory, sink, url="")
    imap = Imap(srv2.imap_port)
    assert b"IMAPSIEVE" not in imap.ok("CAPABILITY")[0]
    imap.logout()


def test_user_script_move_to_junk(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    user_script(srv, "report", REPORT)
    imap = Imap(srv.imap_port)
    imap.ok("CREATE Reported")
    setmeta(imap, "Junk", "report")
    msg = message(subject="cheap pills")
    imap.append_ok("INBOX", msg)
    imap.append_ok("INBOX", message(subject="stays"))
    imap.select("INBOX")
    imap.ok("UID MOVE 1 Junk")
    # the moved message carries the flags the script added
    [flags] = flags_of(imap, "Junk").values()
    assert {"$Junk", "in-Junk", "$user_ok", "$email_ok", "$noflags_ok",
            "$ms_ok"} <= flags, flags
    assert "\\Deleted" not in flags
    # fileinto :copy made a new message
    assert count(imap, "Reported") == 1
    imap.select("Reported")
    body = imap.fetch("1 BODY.PEEK[]")[1]["BODY[]"]
    assert body == msg
    # redirect :copy went out with the user's address as the sender
    [(mail_from, rcpts, data)] = sink.wait(1)
    assert mail_from == "alice@mail.example.org"
    assert rcpts == ["spam-report@example.net"]
    # with the loop mark every redirect carries
    assert data == b"X-Sieve-Redirected-From: alice@mail.example.org\r\n" + msg
    assert count(imap, "INBOX") == 1
    assert "event=imapsieve" in srv.log_text() and "result=kept" in srv.log_text()
    imap.logout()


def test_admin_rule_junk(ternd_factory, sink, tmp_path):
    report = tmp_path / "report-spam.sieve"
    report.write_text('require ["copy", "imap4flags", "environment", "imapsieve"];\n'
                      'redirect :copy "learn-spam@example.net";\n'
                      'addflag "\\\\Seen";\n')
    # admin rules run without imapsieve.url (no user scripts then)
    srv = start(ternd_factory, sink, url="", extra=f"""
imapsieve_mailbox junk {{
  name = Junk
  causes = COPY
  from = INBOX
  before = {report}
}}
""")
    imap = Imap(srv.imap_port)
    imap.append_ok("INBOX", message(subject="spam 1"))
    imap.append_ok("Archive", message(subject="old"))
    imap.select("INBOX")
    imap.ok("COPY 1 Junk")
    [(mail_from, rcpts, data)] = sink.wait(1)
    assert rcpts == ["learn-spam@example.net"] and b"Subject: spam 1" in data
    assert list(flags_of(imap, "Junk").values()) == [{"\\Seen"}]
    # the INBOX original is untouched
    assert list(flags_of(imap, "INBOX").values()) == [set()]
    # COPY from another mailbox, and APPEND, don't match the rule
    imap.select("Archive")
    imap.ok("COPY 1 Junk")
    imap.append_ok("Junk", message(subject="appended"))
    assert sorted(map(sorted, flags_of(imap, "Junk").values())) == [[], [], ["\\Seen"]]
    assert len(sink.wait(2, timeout=1)) == 1
    imap.logout()


def test_append_and_discard(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    user_script(srv, "sent", 'require ["imapsieve", "environment", "fileinto", "copy"];\n'
                'if environment :is "imap.cause" "APPEND" {\n'
                '  if header :contains "subject" "drop" { discard; stop; }\n'
                '  fileinto :copy "Archive";\n'
                '}\n')
    imap = Imap(srv.imap_port)
    setmeta(imap, "Sent", "sent")
    # MULTIAPPEND: each message is an event
    tag = imap.next_tag()
    m1, m2 = message(subject="keep me"), message(subject="drop me")
    imap.send(f"{tag} APPEND Sent {{{len(m1)}+}}\r\n".encode() + m1 +
              f" {{{len(m2)}+}}\r\n".encode() + m2 + b"\r\n")
    _, tagged = imap.read_until_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    flags = flags_of(imap, "Sent")
    assert flags == {1: set(), 2: {"\\Deleted"}}
    assert count(imap, "Archive") == 1
    # the untouched mailbox of another name runs nothing
    imap.append_ok("Drafts", message(subject="drop me too"))
    assert list(flags_of(imap, "Drafts").values()) == [set()]
    imap.logout()


def test_discard_expunged(ternd_factory, sink):
    srv = start(ternd_factory, sink, extra="imapsieve {\n  expunge_discarded = yes\n}\n")
    user_script(srv, "trash", 'require ["imapsieve", "environment", "fileinto"];\n'
                'if environment :is "imap.cause" "COPY" { fileinto "Archive"; }\n')
    imap = Imap(srv.imap_port)
    setmeta(imap, "Trash", "trash")
    imap.append_ok("INBOX", message(subject="one"))
    imap.append_ok("INBOX", message(subject="two"))
    imap.select("INBOX")
    imap.ok("COPY 1:2 Trash")
    # fileinto without :copy cancelled the keep: the copies in Trash are
    # expunged, the messages are in Archive
    assert count(imap, "Trash") == 0
    assert count(imap, "Archive") == 2
    assert count(imap, "INBOX") == 2
    assert srv.log_text().count("result=expunged") == 2
    imap.logout()


def test_flag_cause(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    user_script(srv, "flags", """require ["imapsieve", "environment", "imap4flags", "fileinto", "copy"];
if allof (environment :is "imap.cause" "FLAG",
          hasflag "\\\\Flagged",
          environment :contains "imap.changedflags" "\\\\Flagged") {
  fileinto :copy "Archive";
  addflag "$notified";
}
""")
    imap = Imap(srv.imap_port)
    imap.append_ok("INBOX", message(subject="important"))
    imap.append_ok("INBOX", message(subject="other"))
    setmeta(imap, "INBOX", "flags")
    imap.select("INBOX")
    imap.ok("STORE 2 +FLAGS (\\Seen)")
    untagged = imap.ok("STORE 1 +FLAGS (\\Flagged)")
    assert count(imap, "Archive") == 1
    # the script's own change reaches the client, and is no new event
    untagged += imap.ok("NOOP")
    assert any(b"$notified" in u for u in untagged), untagged
    flags = flags_of(imap, "INBOX")
    assert flags == {1: {"\\Flagged", "$notified"}, 2: {"\\Seen"}}
    assert count(imap, "Archive") == 1
    # a FETCH that sets \Seen is a flag change too: no \Flagged change
    imap.select("INBOX")
    imap.fetch("1 BODY[]")
    assert count(imap, "Archive") == 1
    assert "cause=FLAG" in srv.log_text()
    imap.logout()


def test_server_entry_and_empty_mailbox_entry(ternd_factory, sink):
    srv = start(ternd_factory, sink)
    user_script(srv, "global", 'require ["imapsieve", "imap4flags"];\naddflag "$global";\n')
    imap = Imap(srv.imap_port)
    setmeta(imap, '""', "global")
    setmeta(imap, "Drafts", "")
    imap.append_ok("Archive", message(subject="a"))
    imap.append_ok("Drafts", message(subject="b"))
    # §2.3.1: the server's entry serves mailboxes without one; an empty
    # mailbox entry runs nothing, and the server's is not tried
    assert list(flags_of(imap, "Archive").values()) == [{"$global"}]
    assert list(flags_of(imap, "Drafts").values()) == [set()]
    imap.logout()


@pytest.mark.parametrize("script,log", [
    (None, "event=imapsieve_script_missing"),
    ('require "fileinto";\nfileinto\n', "event=sieve_failed"),
    ('require ["vacation"];\nvacation "away";\n', "not allowed for IMAP events"),
    ('require ["envelope", "imap4flags"];\n'
     'if envelope :is "from" "x@example.com" { addflag "x"; }\naddflag "y";\n',
     "envelope tests are not allowed"),
    ('require ["fileinto", "imap4flags"];\naddflag "z";\nfileinto "Nonexistent";\n',
     "event=fileinto_missing"),
])
def test_errors_leave_message(ternd_factory, sink, script, log):
    srv = start(ternd_factory, sink)
    if script is not None:
        user_script(srv, "bad", script)
    imap = Imap(srv.imap_port)
    setmeta(imap, "Junk", "bad")
    imap.append_ok("INBOX", message(subject="x"))
    imap.select("INBOX")
    imap.ok("MOVE 1 Junk")
    # untouched: no flags, not deleted, nothing sent
    assert list(flags_of(imap, "Junk").values()) == [set()]
    assert log in srv.log_text()
    assert sink.wait(1, timeout=0.3) == []
    imap.logout()
