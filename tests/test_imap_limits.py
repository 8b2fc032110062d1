"""MESSAGELIMIT and SAVELIMIT (RFC 9738) against a running ternd with
imap.message_limit = 5 and imap.save_limit = 3: both advertised; a UID
FETCH, UID STORE, UID SEARCH, UID MOVE or UID EXPUNGE naming more messages
processes the 5 lowest UIDs and answers OK [LIMIT], so that the client
continues after the last UID it got; the same commands by sequence
number are NO [LIMIT] and change nothing; COPY, which is all or nothing,
over 3 messages is NO [LIMIT]. Without the settings nothing is limited or
advertised."""
import itertools

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, message, search_result

LIMIT_NO = b"NO [LIMIT] Too many messages for one command; use UID ranges within the limit."
SAVE_NO = b"NO [LIMIT] Too many messages to save in one command."


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("limits"),
              config_extra="imap.message_limit = 5\nimap.save_limit = 3\n").start()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


_boxes = itertools.count(1)


@pytest.fixture
def box(srv):
    """A mailbox with 12 messages, UIDs 1..12, selected in the session."""
    name = f"Lim{next(_boxes)}"
    c = Imap(srv.imap_port)
    c.ok(f"CREATE {name}")
    for i in range(12):
        c.append_ok(name, message(f"s{i + 1}", body=f"text {i + 1}\r\n"))
    c.select(name)
    return c, name


def uids_of(untagged):
    return [int(u.split(b"UID ")[1].split()[0].rstrip(b")")) for u in untagged if b" FETCH " in u]


def test_capabilities(srv, tmp_path):
    c = Imap(srv.imap_port)
    caps = c.ok("CAPABILITY")[0].split()
    assert b"MESSAGELIMIT=5" in caps and b"SAVELIMIT=3" in caps
    plain = Ternd(tmp_path).start()
    try:
        caps = Imap(plain.imap_port).ok("CAPABILITY")[0]
        assert b"MESSAGELIMIT" not in caps and b"SAVELIMIT" not in caps
    finally:
        close_sessions()
        plain.stop()


def test_uid_fetch_pages(box):
    c, _ = box
    untagged, tagged = c.cmd("UID FETCH 1:* (FLAGS)")
    assert uids_of(untagged) == [1, 2, 3, 4, 5]
    assert tagged == b"OK [LIMIT] Fetch completed with partial results."
    untagged, tagged = c.cmd("UID FETCH 6:* (FLAGS)")
    assert uids_of(untagged) == [6, 7, 8, 9, 10] and tagged.startswith(b"OK [LIMIT] ")
    untagged, tagged = c.cmd("UID FETCH 11:* (FLAGS)")
    assert uids_of(untagged) == [11, 12] and tagged == b"OK Fetch completed."
    # exactly the limit is not over it
    assert c.cmd("UID FETCH 1:5 (UID)")[1] == b"OK Fetch completed."
    # sparse sets count messages, not numbers
    untagged, tagged = c.cmd("UID FETCH 2,4,6,8,10,12 (UID)")
    assert uids_of(untagged) == [2, 4, 6, 8, 10] and tagged.startswith(b"OK [LIMIT] ")


def test_fetch_by_number_refused(box):
    c, _ = box
    assert c.cmd("FETCH 1:* (FLAGS)") == ([], LIMIT_NO)
    assert c.cmd("FETCH 1:6 (BODY[])") == ([], LIMIT_NO)
    # nothing was marked \Seen
    assert c.cmd("FETCH 1:5 (FLAGS)")[1] == b"OK Fetch completed."
    assert all(b"\\Seen" not in u for u in c.ok("UID FETCH 1:5 (FLAGS)"))


def test_changedsince_counts_the_changed(box):
    c, _ = box
    untagged = c.ok("UID FETCH 12 (MODSEQ)")
    c.ok("UID STORE 3,5,7,9,11,12 +FLAGS.SILENT (\\Flagged)")
    untagged, tagged = c.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
    assert len(uids_of(untagged)) == 5 and tagged.startswith(b"OK [LIMIT] ")


def test_uid_store(box):
    c, _ = box
    untagged, tagged = c.cmd("UID STORE 1:* +FLAGS (\\Flagged)")
    assert uids_of(untagged) == [1, 2, 3, 4, 5]
    assert tagged == b"OK [LIMIT] Store completed with partial results."
    untagged, tagged = c.cmd("UID STORE 1:* +FLAGS.SILENT (\\Answered)")
    assert untagged == [] and tagged.startswith(b"OK [LIMIT] ")
    assert c.cmd("STORE 1:6 +FLAGS (\\Deleted)") == ([], LIMIT_NO)
    flagged = search_result(c.ok("UID SEARCH UID 1:5 FLAGGED"))
    assert flagged == [1, 2, 3, 4, 5]
    assert search_result(c.ok("UID SEARCH UID 6:10 FLAGGED")) == []
    assert search_result(c.ok("UID SEARCH UID 1:5 DELETED")) == []


def test_uid_search_window(box):
    c, _ = box
    untagged, tagged = c.cmd("UID SEARCH ALL")
    assert search_result(untagged) == [1, 2, 3, 4, 5]
    assert tagged == b"OK [LIMIT] Search completed with partial results."
    untagged, tagged = c.cmd("UID SEARCH UID 6:* ALL")
    assert search_result(untagged) == [6, 7, 8, 9, 10] and tagged.startswith(b"OK [LIMIT] ")
    untagged, tagged = c.cmd("UID SEARCH UID 11:* ALL")
    assert search_result(untagged) == [11, 12] and tagged == b"OK Search completed."
    # the window is of messages searched, not of matches
    untagged, tagged = c.cmd('UID SEARCH BODY "text 1"')
    assert search_result(untagged) == [1] and tagged.startswith(b"OK [LIMIT] ")
    untagged, tagged = c.cmd("UID SEARCH RETURN (COUNT) UID 4:12 SUBJECT s")
    assert untagged[0].endswith(b"UID COUNT 5") and tagged.startswith(b"OK [LIMIT] ")
    # by sequence numbers: within the limit, or refused
    assert search_result(c.ok("SEARCH 8:12 ALL")) == [8, 9, 10, 11, 12]
    assert c.cmd("SEARCH ALL") == ([], LIMIT_NO)
    assert c.cmd("SEARCH 1:6") == ([], LIMIT_NO)


def test_copy_over_save_limit_refused(box, srv):
    c, name = box
    c.ok(f"CREATE {name}Dest")
    assert c.cmd(f"UID COPY 1:4 {name}Dest") == ([], SAVE_NO)
    assert c.cmd(f"COPY 1:4 {name}Dest") == ([], SAVE_NO)
    assert c.ok(f"STATUS {name}Dest (MESSAGES)") == [f"* STATUS {name}Dest (MESSAGES 0)".encode()]
    untagged, tagged = c.cmd(f"UID COPY 1:3 {name}Dest")
    assert tagged.startswith(b"OK [COPYUID ")
    assert c.ok(f"STATUS {name}Dest (MESSAGES)") == [f"* STATUS {name}Dest (MESSAGES 3)".encode()]


def test_uid_move_partial(box):
    c, name = box
    c.ok(f"CREATE {name}Moved")
    assert c.cmd(f"MOVE 1:6 {name}Moved") == ([], LIMIT_NO)
    untagged, tagged = c.cmd(f"UID MOVE 1:* {name}Moved")
    assert untagged[0].startswith(b"* OK [COPYUID ") and b" 1:5 1:5]" in untagged[0]
    assert untagged[1:6] == [b"* 1 EXPUNGE"] * 5
    assert tagged == b"OK [LIMIT] Move completed with partial results."
    assert search_result(c.ok("UID SEARCH UID 1:*")) == [6, 7, 8, 9, 10]


def test_uid_expunge_partial(box):
    c, _ = box
    c.ok("UID STORE 1:5 +FLAGS.SILENT (\\Deleted)")
    c.ok("UID STORE 6:10 +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = c.cmd("UID EXPUNGE 1:*")
    assert untagged[:5] == [b"* 1 EXPUNGE"] * 5
    assert tagged == b"OK [LIMIT] Expunge completed."
    untagged, tagged = c.cmd("UID EXPUNGE 6:*")
    assert untagged[:5] == [b"* 1 EXPUNGE"] * 5 and tagged == b"OK [LIMIT] Expunge completed."
    untagged, tagged = c.cmd("UID EXPUNGE 11:*")
    assert tagged == b"OK Expunge completed."
    assert search_result(c.ok("UID SEARCH ALL")) == [11, 12]


def test_uid_expunge_with_qresync_keeps_modseq(srv):
    c = Imap(srv.imap_port)
    name = f"Lim{next(_boxes)}"
    c.ok(f"CREATE {name}")
    for i in range(7):
        c.append_ok(name, message(f"q{i}"), flags="\\Deleted")
    c.ok("ENABLE QRESYNC")
    c.select(name)
    untagged, tagged = c.cmd("UID EXPUNGE 1:*")
    assert untagged[0] == b"* VANISHED 1:5"
    assert any(u.startswith(b"* OK [HIGHESTMODSEQ ") for u in untagged)
    assert tagged == b"OK [LIMIT] Expunge completed."
