"""STORE (RFC 9051 §6.4.6), COPY and MOVE with COPYUID (§6.4.7, §6.4.8,
RFC 6851, RFC 4315), EXPUNGE and UID EXPUNGE (§6.4.3, RFC 4315 §2.1),
CLOSE (§6.4.1), UNSELECT (§6.4.2) and CHECK (RFC 3501 §6.4.1) against a
running ternd."""
import re

import pytest

from mailutil import crashable_ternd, ternd  # noqa: F401,F811  (fixtures)
from mailutil import (Imap, apply_expunges, assert_log_clean, code, expunge_lines,
                      fetch_list, message, seqset_expand, select_info, status_items)


def session(ternd, count, rev2=True, box="INBOX"):
    """A session with count messages (subjects m1..mN) in box, selected."""
    c = Imap(ternd.imap_port, rev2=rev2)
    for i in range(1, count + 1):
        c.append_ok(box, message(f"m{i}"))
    c.select(box)
    return c


def uids(c):
    """UIDs of the selected mailbox in sequence order."""
    res = fetch_list(c.ok("UID FETCH 1:* UID"))
    assert [seq for seq, _ in res] == list(range(1, len(res) + 1)), res
    return [int(items["UID"]) for _, items in res]


def count(c, box):
    return status_items(c.ok(f"STATUS {box} (MESSAGES)")[0])[1]["MESSAGES"]


# --- STORE ------------------------------------------------------------------

def test_store_add_remove_replace(ternd):
    c = session(ternd, 2)
    untagged = c.ok("STORE 1 +FLAGS (\\Flagged \\Seen)")
    assert fetch_list(untagged) == [(1, {"FLAGS": ["\\Flagged", "\\Seen"]})]
    untagged = c.ok("STORE 1 -FLAGS (\\Seen)")
    assert fetch_list(untagged) == [(1, {"FLAGS": ["\\Flagged"]})]
    untagged = c.ok("STORE 1:2 FLAGS (\\Answered \\Draft)")
    assert fetch_list(untagged) == [(1, {"FLAGS": ["\\Answered", "\\Draft"]}),
                                    (2, {"FLAGS": ["\\Answered", "\\Draft"]})]
    untagged = c.ok("STORE 2 FLAGS ()")
    assert fetch_list(untagged) == [(2, {"FLAGS": []})]
    # a single flag without parentheses is allowed too
    untagged = c.ok("STORE 2 +FLAGS \\Deleted")
    assert fetch_list(untagged) == [(2, {"FLAGS": ["\\Deleted"]})]
    assert c.fetch("1:2 FLAGS") == {1: {"FLAGS": ["\\Answered", "\\Draft"]},
                                    2: {"FLAGS": ["\\Deleted"]}}


def test_store_on_messages_expunged_by_another_session(ternd):
    """RFC 2180 §4.2: a STORE that names messages another session expunged
    (not announced here yet) answers every message of its set; the
    expunged one shows the flags it had with the change applied."""
    a = session(ternd, 3)
    a.ok("STORE 2 +FLAGS.SILENT (\\Answered $Work)")
    b = Imap(ternd.imap_port)
    b.select()
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged = a.ok("STORE 1:3 +FLAGS (\\Flagged)")
    assert fetch_list(untagged) == [
        (1, {"FLAGS": ["\\Flagged"]}),
        (2, {"FLAGS": ["\\Answered", "\\Flagged", "\\Deleted", "$Work"]}),
        (3, {"FLAGS": ["\\Flagged"]})]
    # each STORE starts from the flags it had when it was expunged
    untagged = a.ok("STORE 2 -FLAGS ($Work \\Answered)")
    assert fetch_list(untagged) == [(2, {"FLAGS": ["\\Deleted"]})]
    # a conditional STORE claims nothing for it
    untagged = a.ok("STORE 2 (UNCHANGEDSINCE 1000) +FLAGS (\\Seen)")
    assert not fetch_list(untagged)
    # the expunge itself comes at the next command that may send it
    untagged = a.ok("NOOP")
    assert expunge_lines(untagged) == [b"* 2 EXPUNGE"]
    assert {seq: items["FLAGS"] for seq, items in fetch_list(a.ok("FETCH 1:2 FLAGS"))} == {
        1: ["\\Flagged"], 2: ["\\Flagged"]}


def test_store_silent(ternd):
    c = session(ternd, 2)
    untagged = c.ok("STORE 1:2 +FLAGS.SILENT (\\Seen)")
    assert fetch_list(untagged) == []
    untagged = c.ok("STORE 1 -FLAGS.SILENT (\\Seen)")
    assert fetch_list(untagged) == []
    assert c.fetch("1:2 FLAGS") == {1: {"FLAGS": []}, 2: {"FLAGS": ["\\Seen"]}}


def test_store_keywords_announced_in_flags(ternd):
    c = session(ternd, 2)
    untagged = c.ok("STORE 1 +FLAGS ($Label1 Project-X)")
    # RFC 9051 §7.3.5: new keywords are announced with a FLAGS response
    flags_lines = [u for u in untagged if u.startswith(b"* FLAGS ")]
    assert flags_lines, untagged
    assert b"$Label1" in flags_lines[-1] and b"Project-X" in flags_lines[-1]
    assert fetch_list(untagged) == [(1, {"FLAGS": ["$Label1", "Project-X"]})]
    untagged = c.ok("STORE 1 -FLAGS (project-x)")  # keywords match case-insensitively
    assert fetch_list(untagged) == [(1, {"FLAGS": ["$Label1"]})]
    untagged = c.ok("UID STORE 2 +FLAGS.SILENT ($Label1)")
    assert c.fetch("1:2 FLAGS") == {1: {"FLAGS": ["$Label1"]}, 2: {"FLAGS": ["$Label1"]}}
    other = Imap(ternd.imap_port)
    info = select_info(other.select())
    assert "$Label1" in info["FLAGS"] and "$Label1" in info["PERMANENTFLAGS"]


def test_store_recent_refused(ternd):
    """RFC 3501 §2.3.2: \\Recent can't be altered by the client."""
    c = session(ternd, 1, rev2=False)
    for op in ("+FLAGS", "-FLAGS", "FLAGS"):
        _, tagged = c.cmd(f"STORE 1 {op} (\\Recent)")
        assert tagged.startswith(b"BAD"), tagged
    assert c.fetch("1 FLAGS")[1]["FLAGS"] == ["\\Recent"]


def test_store_read_only(ternd):
    c = session(ternd, 1)
    c.select(examine=True)
    _, tagged = c.cmd("STORE 1 +FLAGS (\\Seen)")
    assert tagged.startswith(b"NO"), tagged
    assert c.fetch("1 FLAGS")[1]["FLAGS"] == []


def test_uid_store(ternd):
    c = session(ternd, 3)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")  # UIDs 2 3 at 1 2
    untagged = c.ok("UID STORE 3 +FLAGS (\\Flagged)")
    # RFC 9051 §6.4.9: the FETCH responses of UID STORE include UID
    assert fetch_list(untagged) == [(2, {"UID": "3", "FLAGS": ["\\Flagged"]})]
    untagged = c.ok("UID STORE 1:* -FLAGS (\\Flagged)")
    got = {seq: items for seq, items in fetch_list(untagged)}
    assert got[2] == {"UID": "3", "FLAGS": []}
    assert all("UID" in items for items in got.values())
    # UIDs that don't exist: no error, nothing changed
    untagged, tagged = c.cmd("UID STORE 1 +FLAGS (\\Seen)")
    assert tagged.startswith(b"OK") and fetch_list(untagged) == []


@pytest.mark.parametrize("line", ["STORE", "UID STORE"])
def test_store_without_arguments_is_bad(crashable_ternd, line):
    """Once a worker crash (args read past the end); the server's own
    teardown check is replaced by assert_log_clean() so a regression fails
    here, not as an error in teardown."""
    c = Imap(crashable_ternd.imap_port, rev2=True)
    c.append_ok("INBOX", message("m"))
    c.select()
    try:
        _, tagged = c.cmd(line)
        assert tagged.startswith(b"BAD"), tagged
    finally:
        assert_log_clean(crashable_ternd)


@pytest.mark.parametrize("line", [
    "STORE 1 +FLAG (\\Seen)", "STORE 2 +FLAGS (\\Seen)", "STORE 1 FLAGS.QUIET (\\Seen)",
    "STORE 1", "STORE x FLAGS (\\Seen)", "STORE 1 FLAGS (\\Seen) extra",
    # RFC 9051 §9 store-att-flags: SP and a flag list or flags are required
    "STORE 1 FLAGS", "STORE 1 +FLAGS", "UID STORE 1 -FLAGS.SILENT",
])
def test_store_syntax_errors(ternd, line):
    c = session(ternd, 1)
    c.ok("STORE 1 FLAGS.SILENT (\\Seen)")
    _, tagged = c.cmd(line)
    assert tagged.startswith(b"BAD"), (line, tagged)
    assert c.fetch("1 FLAGS") == {1: {"FLAGS": ["\\Seen"]}}


# --- COPY / MOVE ----------------------------------------------------------------

def copyuid(text):
    m = re.search(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]", text)
    assert m, text
    return int(m.group(1)), seqset_expand(m.group(2)), seqset_expand(m.group(3))


def test_copy_with_copyuid(ternd):
    c = session(ternd, 3)
    c.ok("CREATE Dest")
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged $Work)")
    _, tagged = c.cmd("COPY 2:3 Dest")
    assert tagged.startswith(b"OK [COPYUID "), tagged
    uidvalidity, src, dst = copyuid(tagged)
    assert src == [2, 3] and dst == [1, 2]
    d = Imap(ternd.imap_port, rev2=True)
    info = select_info(d.select("Dest"))
    assert info["UIDVALIDITY"] == uidvalidity and info["EXISTS"] == 2
    src_items = c.fetch("2:3 (INTERNALDATE BODY.PEEK[])")
    dst_items = d.fetch("1:2 (FLAGS INTERNALDATE BODY.PEEK[])")
    # RFC 9051 §6.4.7: flags and internal date SHOULD be preserved
    assert sorted(dst_items[1]["FLAGS"]) == ["$Work", "\\Flagged"]
    for s, t in ((2, 1), (3, 2)):
        assert dst_items[t]["BODY[]"] == src_items[s]["BODY[]"]
        assert dst_items[t]["INTERNALDATE"] == src_items[s]["INTERNALDATE"]
    # the source is unchanged
    assert count(c, "INBOX") == 3


def test_uid_copy(ternd):
    c = session(ternd, 4)
    c.ok("CREATE Dest")
    c.append_ok("Dest", message("already there"))
    _, tagged = c.cmd("UID COPY 1,3:4 Dest")
    _, src, dst = copyuid(tagged)
    assert src == [1, 3, 4] and dst == [2, 3, 4]
    assert count(c, "Dest") == 4
    # a UID set that names nothing copies nothing, successfully
    _, tagged = c.cmd("UID COPY 99 Dest")
    assert tagged.startswith(b"OK"), tagged
    assert count(c, "Dest") == 4


def test_copy_trycreate_and_errors(ternd):
    c = session(ternd, 1)
    _, tagged = c.cmd("COPY 1 Missing")
    assert tagged.startswith(b"NO [TRYCREATE]"), tagged
    _, tagged = c.cmd("MOVE 1 Missing")
    assert tagged.startswith(b"NO [TRYCREATE]"), tagged
    assert count(c, "INBOX") == 1
    for line in ("COPY 2 Sent", "COPY 1", "COPY x Sent", "MOVE 2 Sent"):
        _, tagged = c.cmd(line)
        assert tagged.startswith(b"BAD"), (line, tagged)


def test_copy_to_same_mailbox(ternd):
    c = session(ternd, 1)
    untagged, tagged = c.cmd("COPY 1 INBOX")
    _, src, dst = copyuid(tagged)
    assert src == [1] and dst == [2]
    assert b"* 2 EXISTS" in untagged


def test_move(ternd):
    c = session(ternd, 3)
    c.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    untagged, tagged = c.cmd("MOVE 2 Trash")
    assert tagged.startswith(b"OK"), tagged
    # RFC 6851 §4.3: COPYUID in an untagged OK, before the EXPUNGE
    ok_lines = [i for i, u in enumerate(untagged) if u.startswith(b"* OK [COPYUID ")]
    exp_lines = [i for i, u in enumerate(untagged) if re.match(rb"\* \d+ EXPUNGE$", u)]
    assert len(ok_lines) == 1, untagged
    assert exp_lines and min(exp_lines) > ok_lines[0], untagged
    assert expunge_lines(untagged) == [b"* 2 EXPUNGE"]
    _, src, dst = copyuid(untagged[ok_lines[0]])
    assert src == [2] and dst == [1]
    assert code(tagged) is None or not code(tagged).startswith(b"COPYUID")
    assert uids(c) == [1, 3]
    t = Imap(ternd.imap_port, rev2=True)
    t.select("Trash")
    res = t.fetch("1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert res[1]["FLAGS"] == ["\\Seen"]
    assert res[1]["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: m2\r\n\r\n"


def test_move_several_expunge_order(ternd):
    c = session(ternd, 6)
    untagged = c.ok("MOVE 2:3,5 Archive")
    assert len(expunge_lines(untagged)) == 3
    assert apply_expunges([1, 2, 3, 4, 5, 6], untagged) == [1, 4, 6]
    assert uids(c) == [1, 4, 6]
    untagged = c.ok("UID MOVE 4,6 Archive")
    assert apply_expunges([1, 4, 6], untagged) == [1]
    _, src, dst = copyuid([u for u in untagged if u.startswith(b"* OK [COPYUID")][0])
    assert src == [4, 6] and dst == [4, 5]
    assert count(c, "Archive") == 5


def test_move_read_only(ternd):
    c = session(ternd, 1)
    c.select(examine=True)
    _, tagged = c.cmd("MOVE 1 Trash")
    assert tagged.startswith(b"NO"), tagged
    assert count(c, "INBOX") == 1 and count(c, "Trash") == 0
    # COPY from a read-only mailbox is fine
    _, tagged = c.cmd("COPY 1 Trash")
    assert tagged.startswith(b"OK"), tagged


# --- EXPUNGE --------------------------------------------------------------------

def test_expunge_order(ternd):
    c = session(ternd, 7)
    c.ok("STORE 2:3,5,7 +FLAGS.SILENT (\\Deleted)")
    untagged = c.ok("EXPUNGE")
    lines = expunge_lines(untagged)
    assert len(lines) == 4, untagged
    assert apply_expunges(list(range(1, 8)), untagged) == [1, 4, 6]
    assert uids(c) == [1, 4, 6]
    # nothing left to expunge: no responses
    untagged = c.ok("EXPUNGE")
    assert expunge_lines(untagged) == []


def test_expunge_rev1_reports_exists_consistently(ternd):
    c = session(ternd, 3, rev2=False)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged = c.ok("EXPUNGE")
    assert expunge_lines(untagged) == [b"* 1 EXPUNGE"]
    assert c.fetch("1:* UID") == {1: {"UID": "2"}, 2: {"UID": "3"}}


def test_uid_expunge(ternd):
    """RFC 4315 §2.1: only messages with \\Deleted among the UIDs go."""
    c = session(ternd, 4)
    c.ok("STORE 2:4 +FLAGS.SILENT (\\Deleted)")
    untagged = c.ok("UID EXPUNGE 3:4")
    assert apply_expunges([1, 2, 3, 4], untagged) == [1, 2]
    assert uids(c) == [1, 2]
    untagged = c.ok("UID EXPUNGE 1")  # not \Deleted: stays
    assert expunge_lines(untagged) == []
    assert uids(c) == [1, 2]
    untagged = c.ok("UID EXPUNGE 1:*")
    assert expunge_lines(untagged) == [b"* 2 EXPUNGE"]
    _, tagged = c.cmd("UID EXPUNGE")
    assert tagged.startswith(b"BAD")


def test_expunge_read_only(ternd):
    c = session(ternd, 1)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.select(examine=True)
    _, tagged = c.cmd("EXPUNGE")
    assert tagged.startswith(b"NO"), tagged
    assert count(c, "INBOX") == 1


# --- CLOSE / UNSELECT / CHECK -----------------------------------------------------

def test_close_expunges_silently(ternd):
    c = session(ternd, 3)
    c.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = c.cmd("CLOSE")
    assert tagged.startswith(b"OK"), tagged
    # RFC 9051 §6.4.1: no untagged EXPUNGE responses
    assert expunge_lines(untagged) == [], untagged
    _, tagged = c.cmd("FETCH 1 FLAGS")
    assert tagged.startswith(b"BAD")  # back in authenticated state
    assert count(c, "INBOX") == 1


def test_close_read_only_doesnt_expunge(ternd):
    c = session(ternd, 2)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.select(examine=True)
    c.ok("CLOSE")
    assert count(c, "INBOX") == 2


def test_unselect_doesnt_expunge(ternd):
    c = session(ternd, 2)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = c.cmd("UNSELECT")
    assert tagged.startswith(b"OK") and expunge_lines(untagged) == []
    _, tagged = c.cmd("FETCH 1 FLAGS")
    assert tagged.startswith(b"BAD")
    assert count(c, "INBOX") == 2
    _, tagged = c.cmd("UNSELECT")
    assert tagged.startswith(b"BAD")


def test_check(ternd):
    c = session(ternd, 1, rev2=False)
    _, tagged = c.cmd("CHECK")
    assert tagged.startswith(b"OK"), tagged
    _, tagged = c.cmd("CHECK now")
    assert tagged.startswith(b"BAD")


def test_store_nil_is_the_keyword_nil(ternd):
    """NIL where a flag is expected is the atom NIL, a keyword (as Dovecot;
    imaptest nil)."""
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("nil keyword"))
    c.select()
    c.ok("STORE 1 +FLAGS NIL")
    assert b" NIL" in c.ok("FETCH 1 FLAGS")[0]
    c.ok("STORE 1 -FLAGS (NIL)")
    assert b"NIL" not in c.ok("FETCH 1 FLAGS")[0]
