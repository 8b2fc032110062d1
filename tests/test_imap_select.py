"""SELECT and EXAMINE against a running ternd (RFC 9051 §6.3.2, §6.3.3;
RFC 3501 §6.3.1, §6.3.2 for IMAP4rev1 clients): the required untagged
data, READ-WRITE / READ-ONLY, \\Recent bookkeeping for rev1, the rev2
differences after ENABLE IMAP4rev2, failed SELECTs, and commands that need
a selected mailbox."""
import re

import pytest

from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import Imap, code, list_entries, message, select_info

SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]


def test_select_empty_inbox_rev1(ternd):
    c = Imap(ternd.imap_port)
    untagged, tagged = c.cmd("SELECT INBOX")
    assert re.match(rb"OK \[READ-WRITE\]", tagged), tagged
    info = select_info(untagged)
    assert sorted(info["FLAGS"]) == sorted(SYSTEM_FLAGS)
    assert sorted(info["PERMANENTFLAGS"]) == sorted(SYSTEM_FLAGS + ["\\*"])
    assert info["EXISTS"] == 0
    assert info["RECENT"] == 0
    assert "UNSEEN" not in info  # no unseen message: no [UNSEEN n]
    assert info["UIDVALIDITY"] > 0
    assert info["UIDNEXT"] == 1
    assert "LIST" not in info and "CLOSED" not in info
    assert info["other"] == []


def test_select_with_messages_rev1(ternd):
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("one"), flags="\\Seen")
    c.append_ok("INBOX", message("two"), flags="$Label1")
    c.append_ok("INBOX", message("three"))
    untagged, tagged = c.cmd("SELECT INBOX")
    assert tagged.startswith(b"OK [READ-WRITE]")
    info = select_info(untagged)
    assert info["EXISTS"] == 3
    # nobody had the mailbox selected: all three are recent for us
    assert info["RECENT"] == 3
    assert info["UNSEEN"] == 2  # the first unseen message's number
    assert info["UIDNEXT"] == 4
    assert "$Label1" in info["FLAGS"]
    assert sorted(info["FLAGS"]) == sorted(SYSTEM_FLAGS + ["$Label1"])
    # PERMANENTFLAGS lists the keywords too and \* for new ones
    assert "\\*" in info["PERMANENTFLAGS"] and "\\Seen" in info["PERMANENTFLAGS"]
    assert info["other"] == []

    # RFC 3501 §2.3.2: \Recent goes to one session only
    d = Imap(ternd.imap_port)
    info2 = select_info(d.select())
    assert info2["EXISTS"] == 3 and info2["RECENT"] == 0
    assert info2["UIDVALIDITY"] == info["UIDVALIDITY"]


def test_recent_flag_in_fetch_rev1(ternd):
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("one"))
    c.select()
    res = c.fetch("1 FLAGS")
    assert res[1]["FLAGS"] == ["\\Recent"]
    untagged = c.ok("SEARCH RECENT")
    assert b"* SEARCH 1" in untagged


def test_examine_is_read_only_and_keeps_recent(ternd):
    """RFC 3501 §6.3.2: EXAMINE MUST NOT cause messages to lose \\Recent."""
    a = Imap(ternd.imap_port)
    a.append_ok("INBOX", message("one"))
    a.append_ok("INBOX", message("two"))
    untagged, tagged = a.cmd("EXAMINE INBOX")
    assert tagged.startswith(b"OK [READ-ONLY]"), tagged
    info = select_info(untagged)
    assert info["EXISTS"] == 2
    assert info["RECENT"] == 2
    # RFC 9051 §7.1: PERMANENTFLAGS lists what can be changed: nothing
    assert info["PERMANENTFLAGS"] == []
    a.ok("CLOSE")
    b = Imap(ternd.imap_port)
    assert select_info(b.select())["RECENT"] == 2
    c = Imap(ternd.imap_port)
    assert select_info(c.select())["RECENT"] == 0


def test_select_rev2(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.append_ok("INBOX", message("one"))
    c.append_ok("INBOX", message("two"), flags="\\Seen")
    untagged, tagged = c.cmd("SELECT INBOX")
    assert tagged.startswith(b"OK [READ-WRITE]")
    info = select_info(untagged)
    # RFC 9051 §6.3.2: no RECENT, no [UNSEEN n]; a LIST response instead
    assert "RECENT" not in info and "UNSEEN" not in info
    assert info["EXISTS"] == 2
    assert info["UIDNEXT"] == 3
    assert re.match(rb'\* LIST \([^)]*\) "/" "?INBOX"?$', info["LIST"]), info["LIST"]
    assert sorted(info["FLAGS"]) == sorted(SYSTEM_FLAGS)
    assert info["other"] == []
    # \Recent isn't a flag in rev2
    assert c.fetch("1:2 FLAGS") == {1: {"FLAGS": []}, 2: {"FLAGS": ["\\Seen"]}}
    # SEARCH answers with ESEARCH in rev2
    untagged = c.ok("SEARCH UNSEEN")
    assert untagged == [f'* ESEARCH (TAG "t{c.tagn}") ALL 1'.encode()]


def test_reselect_rev2_sends_closed(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.select()
    untagged, tagged = c.cmd("EXAMINE Sent")
    assert tagged.startswith(b"OK [READ-ONLY]")
    # RFC 9051 §7.1 CLOSED: the boundary between the two mailboxes' data
    assert untagged[0].startswith(b"* OK [CLOSED]"), untagged
    assert select_info(untagged)["LIST"].endswith(b'"/" Sent')


def test_new_user_special_use_folders(ternd):
    c = Imap(ternd.imap_port)
    untagged = c.ok('LIST "" "*"')
    entries = list_entries(untagged)
    assert set(entries) == {"INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"}
    for name, use in (("Drafts", "\\Drafts"), ("Sent", "\\Sent"), ("Trash", "\\Trash"),
                      ("Junk", "\\Junk"), ("Archive", "\\Archive")):
        attrs = entries[name][0]
        assert use in attrs, (name, attrs)
        assert "\\HasNoChildren" in attrs
        assert "\\Noselect" not in attrs
    assert not any(a in entries["INBOX"][0] for a in
                   ("\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive"))
    # RFC 6154 §3: LIST (SPECIAL-USE) lists only the special-use ones
    special = list_entries(c.ok('LIST (SPECIAL-USE) "" "*"'))
    assert set(special) == {"Drafts", "Sent", "Trash", "Junk", "Archive"}
    # each special-use folder can be selected
    for name in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
        info = select_info(c.select(name))
        assert info["EXISTS"] == 0


def test_select_missing_mailbox_unselects(ternd):
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("one"))
    c.select()
    untagged, tagged = c.cmd("SELECT nosuchbox")
    assert tagged.startswith(b"NO [NONEXISTENT]"), tagged
    # RFC 9051 §6.3.2: a failed SELECT leaves no mailbox selected
    _, tagged = c.cmd("FETCH 1 FLAGS")
    assert tagged.startswith(b"BAD"), tagged
    _, tagged = c.cmd("EXAMINE nosuchbox")
    assert tagged.startswith(b"NO [NONEXISTENT]"), tagged


def test_select_missing_mailbox_rev2_closed(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.select()
    untagged, tagged = c.cmd("SELECT nosuchbox")
    assert tagged.startswith(b"NO [NONEXISTENT]"), tagged
    # RFC 9051 §6.3.2: deselecting sends [CLOSED], also when the new
    # SELECT fails
    assert [r for r in untagged if r.startswith(b"* OK [CLOSED]")], untagged
    _, tagged = c.cmd("UID FETCH 1 FLAGS")
    assert tagged.startswith(b"BAD")


@pytest.mark.parametrize("command", [
    "FETCH 1 FLAGS", "UID FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "UID STORE 1 FLAGS ()",
    "SEARCH ALL", "UID SEARCH ALL", "COPY 1 Sent", "UID COPY 1 Sent", "MOVE 1 Sent",
    "UID MOVE 1 Sent", "EXPUNGE", "UID EXPUNGE 1", "CLOSE", "UNSELECT", "CHECK",
])
def test_commands_need_selected_mailbox(ternd, command):
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("one"))
    _, tagged = c.cmd(command)
    assert tagged.startswith(b"BAD"), tagged
    _, tagged = c.cmd("NOOP")
    assert tagged.startswith(b"OK")


def test_select_syntax_errors(ternd):
    c = Imap(ternd.imap_port)
    for line in ("SELECT", "SELECT INBOX extra", "EXAMINE", "SELECT (INBOX)"):
        _, tagged = c.cmd(line)
        assert tagged.startswith(b"BAD"), (line, tagged)


def test_select_inbox_any_case_and_quoted(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    info = select_info(c.select("inbox"))
    assert info["LIST"].endswith(b'"/" INBOX') or info["LIST"].endswith(b'"/" "INBOX"')
    info = select_info(c.select('"InBoX"'))
    assert info["EXISTS"] == 0


def test_select_literal_mailbox_name(ternd):
    c = Imap(ternd.imap_port)
    c.send("s1 SELECT {5}\r\n")
    assert c.readline().startswith(b"+")
    c.send("INBOX\r\n")
    untagged, tagged = c.read_until_tagged("s1")
    assert tagged.startswith(b"s1 OK [READ-WRITE]"), tagged
    c.send("s2 EXAMINE {4+}\r\nSent\r\n")
    untagged, tagged = c.read_until_tagged("s2")
    assert tagged.startswith(b"s2 OK [READ-ONLY]"), tagged


def test_uidvalidity_stable_across_sessions(ternd):
    c = Imap(ternd.imap_port)
    v1 = select_info(c.select())["UIDVALIDITY"]
    c.append_ok("INBOX", message("one"))
    info = select_info(c.select())
    assert info["UIDVALIDITY"] == v1 and info["UIDNEXT"] == 2
    d = Imap(ternd.imap_port, rev2=True)
    info = select_info(d.select(examine=True))
    assert info["UIDVALIDITY"] == v1 and info["UIDNEXT"] == 2
    # APPENDUID names the same UIDVALIDITY
    _, tagged = d.append("INBOX", message("two"))
    assert code(tagged) == f"APPENDUID {v1} 2".encode()
