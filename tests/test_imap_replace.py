"""REPLACE and UID REPLACE (RFC 8508): the new message is saved and the
old one expunged in one transaction, into the same or another mailbox,
with APPENDUID (RFC 4315) and EXPUNGE or VANISHED (RFC 7162); CATENATE
data (RFC 8508 §4.2); errors before the literal is invited. Raw-socket
tests with exact replies."""
import re

import pytest

from imaputil import login, read_responses, send





def msg(n):
    return b"Subject: draft %d\r\n\r\nversion %d\r\n" % (n, n)


def setup_drafts(c, count=2):
    send(c, "cr", b"CREATE Drafts2\r\n")
    for i in range(1, count + 1):
        m = msg(i)
        _, tagged = send(c, "ap", b"APPEND Drafts2 {%d+}\r\n%s\r\n" % (len(m), m))
        assert tagged.startswith(b"ap OK"), tagged
    untagged, _ = send(c, "se", b"SELECT Drafts2\r\n")
    return int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(untagged)).group(1))


def fetch_all(c):
    untagged, tagged = send(c, "fa", b"FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n")
    assert tagged == b"fa OK Fetch completed.", tagged
    return untagged


def test_capability(ternd):
    c = login(ternd)
    assert b"REPLACE" in send(c, "c", b"CAPABILITY\r\n")[0][0].split()


def test_replace_same_mailbox(ternd):
    c = login(ternd)
    uv = setup_drafts(c)
    m = msg(3)
    untagged, tagged = send(c, "a", b"REPLACE 1 Drafts2 (\\Draft) {%d+}\r\n%s\r\n" % (len(m), m))
    assert untagged == [b"* OK [APPENDUID %d 3] Replacement message saved." % uv,
                        b"* 1 EXPUNGE", b"* 2 EXISTS", b"* 2 RECENT"]
    assert tagged == b"a OK [APPENDUID %d 3] Replace completed." % uv
    # no inheritance of flags or content (RFC 8508 §1)
    assert fetch_all(c) == [
        b"* 1 FETCH (UID 2 FLAGS (\\Recent) BODY[] {%d}\r\n%s)" % (len(msg(2)), msg(2)),
        b"* 2 FETCH (UID 3 FLAGS (\\Draft \\Recent) BODY[] {%d}\r\n%s)" % (len(m), m)]


def test_uid_replace_into_other_mailbox(ternd):
    c = login(ternd)
    setup_drafts(c)
    untagged, _ = send(c, "st", b"STATUS INBOX (UIDVALIDITY)\r\n")
    inbox_uv = int(re.search(rb"UIDVALIDITY (\d+)", untagged[0]).group(1))
    other = login(ternd)
    send(other, "se", b"SELECT Drafts2\r\n")
    m = msg(9)
    # a synchronizing literal is invited only after the checks
    c.send(b'a UID REPLACE 2 INBOX "01-Jan-2021 10:00:00 +0000" {%d}\r\n' % len(m))
    assert c.readline() == b"+ OK"
    c.send(m + b"\r\n")
    untagged, tagged = read_responses(c, "a")
    assert untagged == [b"* OK [APPENDUID %d 1] Replacement message saved." % inbox_uv,
                        b"* 2 EXPUNGE", b"* 1 EXISTS"] or \
        untagged == [b"* OK [APPENDUID %d 1] Replacement message saved." % inbox_uv,
                     b"* 2 EXPUNGE", b"* 1 EXISTS", b"* 1 RECENT"]
    assert tagged == b"a OK [APPENDUID %d 1] Replace completed." % inbox_uv
    # other sessions see the expunge; the new message is in INBOX
    untagged, _ = send(other, "n", b"NOOP\r\n")
    assert b"* 2 EXPUNGE" in untagged
    send(c, "ex", b"EXAMINE INBOX\r\n")
    untagged, _ = send(c, "f", b"FETCH 1 (INTERNALDATE BODY.PEEK[])\r\n")
    assert untagged == [b'* 1 FETCH (INTERNALDATE " 1-Jan-2021 10:00:00 +0000" BODY[] {%d}\r\n%s)'
                        % (len(m), m)]


def test_qresync_vanished_and_highestmodseq(ternd):
    c = login(ternd)
    setup_drafts(c)
    send(c, "en", b"ENABLE QRESYNC\r\n")
    untagged, _ = send(c, "se", b"SELECT Drafts2\r\n")
    modseq = int(re.search(rb"HIGHESTMODSEQ (\d+)", b" ".join(untagged)).group(1))
    m = msg(4)
    untagged, tagged = send(c, "a", b"UID REPLACE * Drafts2 {%d+}\r\n%s\r\n" % (len(m), m))
    assert untagged[0].startswith(b"* OK [APPENDUID ") and untagged[0].endswith(b" 3] "
                                                                              b"Replacement message saved.")
    assert untagged[1:] == [b"* VANISHED 2", b"* 2 EXISTS", b"* 1 RECENT"]
    assert tagged == b"a OK [HIGHESTMODSEQ %d] Replace completed." % (modseq + 1)


def test_replace_with_catenate(ternd):
    c = login(ternd)
    setup_drafts(c)
    _, tagged = send(c, "a", b'REPLACE 2 Drafts2 CATENATE (URL ";UID=2/;SECTION=HEADER" '
                     b'TEXT {7+}\r\nchanged URL "/Drafts2/;UID=1/;SECTION=TEXT")\r\n')
    assert tagged.startswith(b"a OK [APPENDUID "), tagged
    assert fetch_all(c)[-1].endswith(b"BODY[] {38}\r\nSubject: draft 2\r\n\r\nchangedversion 1\r\n)")
    # a bad URL fails the REPLACE: nothing is expunged
    _, tagged = send(c, "b", b'REPLACE 1 Drafts2 CATENATE (URL "/Drafts2/;UID=77")\r\n')
    assert tagged == b"b NO [BADURL /Drafts2/;UID=77] No such message."
    assert len(fetch_all(c)) == 2


@pytest.mark.parametrize("line,reply", [
    (b"REPLACE 3 Drafts2 {5}\r\n", b"BAD Invalid message sequence number."),
    (b"REPLACE 0 Drafts2 {5}\r\n", b"BAD Invalid message number."),
    (b"REPLACE x Drafts2 {5}\r\n", b"BAD Invalid message number."),
    (b"UID REPLACE 99 Drafts2 {5}\r\n", b"NO Message to replace doesn't exist."),
    (b"REPLACE 1 Nope {5}\r\n", b"NO [TRYCREATE] Mailbox doesn't exist."),
    (b"REPLACE 1 Drafts2\r\n", b"BAD APPEND needs a message."),
    (b"REPLACE\r\n", b"BAD REPLACE needs a message number."),
])
def test_errors_before_literal(ternd, line, reply):
    c = login(ternd)
    setup_drafts(c)
    c.send(b"a " + line)
    assert c.readline() == b"a " + reply
    _, tagged = send(c, "n", b"NOOP\r\n")
    assert tagged == b"n OK NOOP completed."
    assert len(fetch_all(c)) == 2


def test_errors_after_literal(ternd):
    c = login(ternd)
    setup_drafts(c)
    # REPLACE takes one message (RFC 8508 §4.7)
    _, tagged = send(c, "a", b"REPLACE 1 Drafts2 {1+}\r\nx {1+}\r\ny\r\n")
    assert tagged == b"a BAD REPLACE takes one message."
    assert len(fetch_all(c)) == 2
    send(c, "ex", b"EXAMINE Drafts2\r\n")
    c.send(b"b REPLACE 1 Drafts2 {1}\r\n")
    assert c.readline() == b"b NO [READ-ONLY] Mailbox is read-only."
    _, tagged = send(c, "c", b"REPLACE 1 Drafts2 {1+}\r\nx\r\n")
    assert tagged == b"c NO [READ-ONLY] Mailbox is read-only."


def test_not_selected_and_uidonly(ternd):
    c = login(ternd)
    setup_drafts(c)
    send(c, "un", b"UNSELECT\r\n")
    c.send(b"a REPLACE 1 Drafts2 {1}\r\n")
    assert c.readline() == b"a BAD No mailbox selected."
    # a non-synchronizing literal is read away, not taken for a command
    _, tagged = send(c, "a2", b"UID REPLACE 1 Drafts2 {9+}\r\nx1 LOGOUT\r\n")
    assert tagged == b"a2 BAD No mailbox selected."
    _, tagged = send(c, "a3", b"NOOP\r\n")
    assert tagged == b"a3 OK NOOP completed."
    send(c, "se", b"SELECT Drafts2\r\n")
    send(c, "en", b"ENABLE UIDONLY\r\n")
    c.send(b"b REPLACE 1 Drafts2 {1}\r\n")
    assert c.readline().startswith(b"b BAD [UIDREQUIRED] ")
    m = msg(5)
    _, tagged = send(c, "c", b"UID REPLACE 1 Drafts2 {%d+}\r\n%s\r\n" % (len(m), m))
    assert tagged.startswith(b"c OK [APPENDUID "), tagged


def test_message_expunged_meanwhile(ternd):
    c = login(ternd)
    setup_drafts(c)
    other = login(ternd)
    send(other, "se", b"SELECT Drafts2\r\n")
    send(other, "st", b"STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")
    send(other, "ex", b"EXPUNGE\r\n")
    # c's view still has UID 1 until its next sync: the save is undone
    m = msg(6)
    untagged, tagged = send(c, "a", b"UID REPLACE 1 Drafts2 {%d+}\r\n%s\r\n" % (len(m), m))
    assert tagged == b"a NO [EXPUNGEISSUED] The message to replace no longer exists."
    assert b"* 1 EXPUNGE" in untagged
    assert [line.split(b" BODY")[0] for line in fetch_all(c)] == [b"* 1 FETCH (UID 2 FLAGS (\\Recent)"]
