"""UIDONLY (RFC 9586) against a running ternd: after ENABLE UIDONLY no
message sequence number is accepted or sent. FETCH, STORE, SEARCH, COPY,
MOVE, SORT and THREAD without UID, a sequence set in a UID SEARCH/SORT/
THREAD program and QRESYNC's sequence match data are BAD [UIDREQUIRED];
FETCH responses (command results, STORE's, other sessions' flag changes,
QRESYNC's) are "* uid UIDFETCH (...)" without an implied UID item;
expunges are VANISHED even without QRESYNC; SELECT sends no [UNSEEN n].
EXISTS, UIDNEXT and everything UID-based are unchanged."""
import re

import pytest

from mailutil import Imap, message

BAD = b"BAD [UIDREQUIRED] Message sequence numbers can't be used after ENABLE UIDONLY."


def session(srv, rev2=False):
    c = Imap(srv.imap_port, rev2=rev2)
    assert c.ok("ENABLE UIDONLY") == [b"* ENABLED UIDONLY"]
    return c


def fill(srv, box, count):
    """A mailbox whose UIDs differ from sequence numbers: count messages
    with UIDs 2..count+1 (UID 1 expunged)."""
    c = Imap(srv.imap_port)
    if box != "INBOX":
        c.ok(f"CREATE {box}")
    for i in range(count + 1):
        c.append_ok(box, message(f"m{i}", body=f"body {i}\r\n"),
                    flags="\\Deleted" if i == 0 else "")
    c.select(box)
    c.ok("UID EXPUNGE 1")
    c.logout()


@pytest.fixture
def box(ternd):
    fill(ternd, "INBOX", 3)
    return "INBOX"


def test_capability_and_enable(ternd):
    c = Imap(ternd.imap_port)
    assert b"UIDONLY" in c.ok("CAPABILITY")[0].split()
    assert c.ok("ENABLE UIDONLY") == [b"* ENABLED UIDONLY"]
    # enabled once: a second ENABLE lists nothing
    assert c.ok("ENABLE UIDONLY") == [b"* ENABLED"]


@pytest.mark.parametrize("command", [
    "FETCH 1 (FLAGS)", "FETCH 1:* UID", "STORE 1 +FLAGS (\\Seen)", "SEARCH ALL",
    "SEARCH RETURN (COUNT) ALL", "COPY 1 INBOX", "MOVE 1 INBOX", "SORT (DATE) UTF-8 ALL",
    "THREAD REFERENCES UTF-8 ALL",
    # sequence numbers inside a UID command's search program
    "UID SEARCH 1", "UID SEARCH 1:*", "UID SEARCH NOT 2", "UID SEARCH OR 1 UID 2",
    "UID SEARCH (SEEN 1:2)", "UID SORT (DATE) UTF-8 2:*", "UID THREAD REFS UTF-8 NOT 1",
])
def test_sequence_numbers_refused(ternd, box, command):
    c = session(ternd)
    c.select(box)
    untagged, tagged = c.cmd(command)
    assert (untagged, tagged) == ([], BAD)
    # nothing happened: the session goes on normally
    assert c.ok("UID FETCH 2:* (FLAGS)") == [
        b"* 2 UIDFETCH (FLAGS ())", b"* 3 UIDFETCH (FLAGS ())", b"* 4 UIDFETCH (FLAGS ())"]


def test_uid_commands_allowed(ternd, box):
    c = session(ternd)
    c.select(box)
    assert c.ok("UID SEARCH ALL") == [b"* SEARCH 2 3 4"]
    assert c.ok("UID SEARCH UID 3:*") == [b"* SEARCH 3 4"]
    assert c.ok("UID SEARCH RETURN (SAVE) UID 2:3") == []
    assert c.ok("UID SEARCH $") == [b"* SEARCH 2 3"]
    assert c.ok("UID FETCH $ (FLAGS)") == [b"* 2 UIDFETCH (FLAGS ())", b"* 3 UIDFETCH (FLAGS ())"]
    untagged = c.ok("UID SEARCH RETURN (MIN MAX COUNT) ALL")
    assert untagged == [b'* ESEARCH (TAG "t%d") UID MIN 2 MAX 4 COUNT 3' % c.tagn]
    assert c.ok("UID SORT (REVERSE SUBJECT) UTF-8 ALL") == [b"* SORT 4 3 2"]
    assert c.ok("UID THREAD ORDEREDSUBJECT UTF-8 ALL")[0].startswith(b"* THREAD ")


def test_uidfetch_responses(ternd, box):
    c = session(ternd)
    c.select(box)
    # no implied UID item: the UID is in front
    untagged = c.ok("UID FETCH 3 (FLAGS RFC822.SIZE)")
    assert re.fullmatch(rb"\* 3 UIDFETCH \(FLAGS \(\) RFC822\.SIZE \d+\)", untagged[0]), untagged
    # asked for, it is there
    assert c.ok("UID FETCH 3 (UID FLAGS)") == [b"* 3 UIDFETCH (UID 3 FLAGS ())"]
    untagged = c.ok("UID FETCH 4 (BODY.PEEK[TEXT] ENVELOPE)")
    assert untagged[0].startswith(b"* 4 UIDFETCH (BODY[TEXT] {8}\r\nbody 3\r\n ENVELOPE (")
    # a body fetch sets \Seen and reports the flags with it
    untagged = c.ok("UID FETCH 2 (BODY[TEXT])")
    assert untagged == [b"* 2 UIDFETCH (FLAGS (\\Seen) BODY[TEXT] {8}\r\nbody 1\r\n)"]
    # a set naming no message is fine
    assert c.ok("UID FETCH 100:200 (FLAGS)") == []


def test_store_responses(ternd, box):
    c = session(ternd)
    c.select(box)
    assert c.ok("UID STORE 3:4 +FLAGS (\\Flagged)") == [
        b"* 3 UIDFETCH (FLAGS (\\Flagged))", b"* 4 UIDFETCH (FLAGS (\\Flagged))"]
    assert c.ok("UID STORE 3 -FLAGS.SILENT (\\Flagged)") == []
    c.ok("ENABLE CONDSTORE")
    untagged = c.ok("UID STORE 4 +FLAGS.SILENT (\\Seen)")
    assert len(untagged) == 1 and untagged[0].startswith(b"* 4 UIDFETCH (MODSEQ (")
    untagged, tagged = c.cmd("UID STORE 2:4 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)")
    assert untagged == [] and tagged == b"OK [MODIFIED 2:4] Conditional STORE failed."


def test_expunge_is_vanished_without_qresync(ternd, box):
    c = session(ternd)
    c.select(box)
    c.ok("UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    untagged = c.ok("EXPUNGE")
    assert untagged[0] == b"* VANISHED 2,4" and b"* 1 EXISTS" in untagged
    assert not any(b"EXPUNGE" in u for u in untagged)
    c.ok("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
    untagged = c.ok("UID EXPUNGE 3")
    assert untagged[0] == b"* VANISHED 3" and b"* 0 EXISTS" in untagged


def test_other_sessions_changes(ternd, box):
    c = session(ternd)
    c.select(box)
    other = Imap(ternd.imap_port)
    other.select(box)
    other.ok("UID STORE 3 +FLAGS (\\Flagged)")
    other.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    other.ok("EXPUNGE")
    other.append_ok(box, message("new"))
    untagged = c.ok("NOOP")
    assert b"* VANISHED 2" in untagged
    assert b"* 3 UIDFETCH (FLAGS (\\Flagged))" in untagged
    assert b"* 3 EXISTS" in untagged
    assert not any(b" EXPUNGE" in u or b" FETCH " in u for u in untagged), untagged
    # with CONDSTORE the MODSEQ comes along
    c.ok("ENABLE CONDSTORE")
    other.ok("UID STORE 4 +FLAGS (\\Answered)")
    untagged = c.ok("NOOP")
    assert len(untagged) == 1 and \
        untagged[0].startswith(b"* 4 UIDFETCH (FLAGS (\\Answered) MODSEQ ("), untagged


def test_idle_gets_vanished(ternd, box):
    c = session(ternd)
    c.select(box)
    c.send(b"t99 IDLE\r\n")
    assert c.read_response().startswith(b"+ ")
    other = Imap(ternd.imap_port)
    other.select(box)
    other.ok("UID STORE 4 +FLAGS.SILENT (\\Deleted)")
    other.ok("EXPUNGE")
    # the flag change may come first, or be merged into the expunge
    resp = c.wait_response(5)
    if resp == b"* 4 UIDFETCH (FLAGS (\\Deleted))":
        resp = c.wait_response(5)
    assert resp == b"* VANISHED 4"
    c.send(b"DONE\r\n")
    assert c.read_until_tagged("t99")[1].startswith(b"t99 OK")


def test_select_has_no_unseen_code(ternd, box):
    c = Imap(ternd.imap_port)
    untagged = c.select(box)
    assert any(u.startswith(b"* OK [UNSEEN 1]") for u in untagged)
    c = session(ternd)
    untagged = c.select(box)
    assert not any(b"[UNSEEN" in u for u in untagged), untagged
    assert b"* 3 EXISTS" in untagged


def test_move(ternd, box):
    c = session(ternd)
    c.ok("CREATE Dest")
    c.select(box)
    untagged = c.ok("UID MOVE 3:4 Dest")
    assert untagged[0].startswith(b"* OK [COPYUID ")
    assert untagged[1] == b"* VANISHED 3:4"
    untagged = c.ok("UID COPY 2 Dest")
    assert untagged == []


def test_qresync(ternd, box):
    c = session(ternd)
    c.ok("ENABLE QRESYNC")
    untagged = c.select(box)
    uidvalidity = next(int(u.split()[3][:-1]) for u in untagged if b"[UIDVALIDITY" in u)
    modseq = next(int(u.split()[3][:-1]) for u in untagged if b"[HIGHESTMODSEQ" in u)
    other = Imap(ternd.imap_port)
    other.select(box)
    other.ok("UID STORE 3 +FLAGS (\\Seen)")
    other.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    other.ok("EXPUNGE")
    # the sequence match data is sequence numbers
    untagged, tagged = c.cmd(f"SELECT {box} (QRESYNC ({uidvalidity} {modseq} 1:10 (1,2 2,3)))")
    assert tagged == BAD
    untagged = c.ok(f"SELECT {box} (QRESYNC ({uidvalidity} {modseq} 1:10))")
    assert b"* VANISHED (EARLIER) 2" in untagged
    changed = [u for u in untagged if b"UIDFETCH" in u]
    assert len(changed) == 1 and changed[0].startswith(b"* 3 UIDFETCH (FLAGS (\\Seen) MODSEQ (")
    assert not any(b" FETCH " in u for u in untagged)
    untagged = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
    assert untagged[0] == b"* VANISHED (EARLIER) 2"
    assert untagged[1].startswith(b"* 3 UIDFETCH (FLAGS (\\Seen) MODSEQ (")


def test_before_enable_unchanged(ternd, box):
    c = Imap(ternd.imap_port)
    c.select(box)
    assert c.ok("FETCH 1 (FLAGS)") == [b"* 1 FETCH (FLAGS ())"]
    assert c.ok("UID FETCH 3 (FLAGS)") == [b"* 2 FETCH (UID 3 FLAGS ())"]
    # enabling in the selected state switches at once
    assert c.ok("ENABLE UIDONLY") == [b"* ENABLED UIDONLY"]
    assert c.cmd("FETCH 1 (FLAGS)") == ([], BAD)
    assert c.ok("UID FETCH 3 (FLAGS)") == [b"* 3 UIDFETCH (FLAGS ())"]
