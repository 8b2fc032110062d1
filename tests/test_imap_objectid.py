"""OBJECTID (RFC 8474): MAILBOXID in CREATE, SELECT and STATUS, stable
across RENAME and new for a mailbox created again; EMAILID per saved
message, kept by COPY and MOVE, searchable; THREADID is NIL (no thread
ids) and SEARCH THREADID matches nothing."""
import re

from mailutil import ternd  # noqa: F401  (fixture: closes sessions first)
from mailutil import Imap, message

OBJECTID = re.compile(rb"^[A-Za-z0-9_-]{1,255}$")


def mailboxid_from(lines):
    for line in lines:
        m = re.search(rb"\[MAILBOXID \(([^)]*)\)\]", line)
        if m:
            assert OBJECTID.match(m.group(1)), line
            return m.group(1)
    return None


def status_mailboxid(c, box):
    [line] = [u for u in c.ok(f"STATUS {box} (MAILBOXID MESSAGES)") if u.startswith(b"* STATUS")]
    m = re.search(rb"MAILBOXID \(([A-Za-z0-9_-]+)\)", line)
    assert m, line
    return m.group(1)


def emailids(c, seqset="1:*", uid=False):
    out = {}
    for line in c.ok(("UID " if uid else "") + f"FETCH {seqset} (UID EMAILID THREADID)"):
        m = re.match(rb"\* \d+ FETCH \(UID (\d+) EMAILID \(([A-Za-z0-9_-]+)\) THREADID NIL\)", line)
        assert m, line
        out[int(m.group(1))] = m.group(2)
    return out


def test_mailboxid_create_select_status_rename(ternd):
    c = Imap(ternd.imap_port)
    assert b"OBJECTID" in c.ok("CAPABILITY")[0]
    untagged, tagged = c.cmd("CREATE Projects")
    created = mailboxid_from([tagged])
    assert created is not None, tagged
    assert mailboxid_from(c.select("Projects")) == created
    assert status_mailboxid(c, "Projects") == created
    c.ok("UNSELECT")
    c.ok("RENAME Projects Archive2")
    assert status_mailboxid(c, "Archive2") == created
    # another mailbox, and the same name created again, get other ids
    _, tagged = c.cmd("CREATE Other")
    other = mailboxid_from([tagged])
    assert other not in (None, created)
    c.ok("DELETE Archive2")
    _, tagged = c.cmd("CREATE Archive2")
    again = mailboxid_from([tagged])
    assert again not in (None, created, other)
    assert mailboxid_from(c.select("INBOX")) == status_mailboxid(c, "INBOX")


def test_emailid_copy_move_search(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Dest")
    for i in range(3):
        c.append_ok("INBOX", message(f"m{i}"))
    c.select()
    ids = emailids(c)
    assert len(set(ids.values())) == 3
    c.ok("UID COPY 1 Dest")
    c.ok("UID MOVE 2 Dest")
    c.select("Dest")
    dest = emailids(c)
    assert sorted(dest.values()) == sorted([ids[1], ids[2]])
    # SEARCH EMAILID finds the copy here, THREADID nothing
    assert c.ok(f"UID SEARCH EMAILID {ids[2].decode()}")[0] == \
        b"* SEARCH " + str([u for u, e in dest.items() if e == ids[2]][0]).encode()
    assert c.ok(f"SEARCH EMAILID {ids[3].decode()}")[0] == b"* SEARCH"
    assert c.ok("SEARCH THREADID T123")[0] == b"* SEARCH"
    for bad in ("SEARCH EMAILID a.b", "SEARCH EMAILID", 'SEARCH EMAILID ""'):
        _, tagged = c.cmd(bad)
        assert tagged.startswith(b"BAD"), (bad, tagged)
