"""IMAP METADATA and METADATA-SERVER (RFC 5464) against a running ternd:
GETMETADATA with DEPTH and MAXSIZE (LONGENTRIES), SETMETADATA all or
nothing with NIL deleting, binary values through literal8, entry-name
syntax, the limits (MAXSIZE, TOOMANY), server entries and /shared/admin,
/private/specialuse, entries following RENAME (hierarchies and INBOX) and
going with DELETE, persistence across a restart, two sessions, and
imap.metadata = no. Responses are checked as raw bytes."""
import re

import pytest

import mailutil
from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import Imap, code


def read_string(data, pos):
    """One astring/nstring/literal/literal8 at pos: (bytes or None, end)."""
    c = data[pos:pos + 1]
    if c == b'"':
        out = bytearray()
        pos += 1
        while data[pos:pos + 1] != b'"':
            if data[pos:pos + 1] == b"\\":
                pos += 1
            out += data[pos:pos + 1]
            pos += 1
        return bytes(out), pos + 1
    if c == b"{" or data[pos:pos + 2] == b"~{":
        start = data.index(b"{", pos)
        end = data.index(b"}", start)
        size = int(data[start + 1:end])
        assert data[end + 1:end + 3] == b"\r\n"
        return data[end + 3:end + 3 + size], end + 3 + size
    end = pos
    while end < len(data) and data[end:end + 1] not in b" )":
        end += 1
    atom = data[pos:end]
    return (None if atom.upper() == b"NIL" else atom), end


def parse_metadata(resp):
    """'* METADATA mbox (e1 v1 e2 v2)' -> (mbox, [(entry, value), ...])."""
    prefix = b"* METADATA "
    assert resp.startswith(prefix), resp
    mbox, pos = read_string(resp, len(prefix))
    assert resp[pos:pos + 2] == b" (", resp
    pos += 2
    items = []
    while resp[pos:pos + 1] != b")":
        entry, pos = read_string(resp, pos)
        assert resp[pos:pos + 1] == b" ", resp
        value, pos = read_string(resp, pos + 1)
        items.append((entry.decode(), value))
        if resp[pos:pos + 1] == b" ":
            pos += 1
    assert pos == len(resp) - 1, resp
    return mbox, items


def getmeta(s, line):
    """Runs a GETMETADATA that must succeed: (entries as a list of
    (name, value), tagged reply). At most one METADATA response."""
    untagged, tagged = s.cmd("GETMETADATA " + line)
    assert tagged.startswith(b"OK"), (line, untagged, tagged)
    meta = [u for u in untagged if u.startswith(b"* METADATA ")]
    assert len(meta) <= 1, untagged
    return (parse_metadata(meta[0])[1] if meta else []), tagged


def setmeta(s, mailbox, pairs):
    """SETMETADATA with quoted values (None: NIL); returns the tagged reply."""
    parts = []
    for entry, value in pairs:
        parts.append(entry)
        parts.append("NIL" if value is None else '"%s"' % value)
    return s.cmd("SETMETADATA %s (%s)" % (mailbox, " ".join(parts)))[1]


def caps(s):
    untagged = s.ok("CAPABILITY")
    return untagged[0].split()[2:]


# --- capabilities ----------------------------------------------------------

def test_capabilities_after_login_only(ternd):
    s = Imap(ternd.imap_port, login=False)
    assert b"METADATA" not in s.greeting
    untagged, tagged = s.cmd("CAPABILITY")
    assert b"METADATA" not in untagged[0]
    untagged, tagged = s.cmd("LOGIN alice secret")
    assert b" METADATA METADATA-SERVER" in tagged or \
        (b" METADATA " in tagged and b" METADATA-SERVER" in tagged), tagged
    c = caps(s)
    assert b"METADATA" in c and b"METADATA-SERVER" in c


def test_disabled(ternd_factory):
    srv = ternd_factory(config_extra="imap {\n  metadata = no\n}\n").start()
    try:
        s = Imap(srv.imap_port)
        c = caps(s)
        assert b"METADATA" not in c and b"METADATA-SERVER" not in c
        assert s.cmd("GETMETADATA INBOX /private/comment")[1].startswith(b"BAD")
        assert s.cmd('SETMETADATA INBOX (/private/comment "x")')[1].startswith(b"BAD")
        # the rest of the session is unaffected
        s.ok("NOOP")
    finally:
        mailutil.close_sessions()


# --- set, get, delete ------------------------------------------------------

def test_set_get_delete(ternd):
    s = Imap(ternd.imap_port)
    tagged = setmeta(s, "INBOX", [("/private/comment", "My own comment"),
                                  ("/shared/comment", "Everybody's")])
    assert tagged == b"OK Setmetadata completed.", tagged

    untagged = s.ok("GETMETADATA INBOX /private/comment")
    assert untagged == [b'* METADATA INBOX (/private/comment "My own comment")']
    untagged = s.ok("GETMETADATA INBOX (/shared/comment /private/comment)")
    assert untagged == [b'* METADATA INBOX (/shared/comment "Everybody\'s" '
                        b'/private/comment "My own comment")']

    # absent entries are left out, never sent as NIL
    untagged, tagged = s.cmd("GETMETADATA INBOX /private/nothing")
    assert untagged == [] and tagged == b"OK Getmetadata completed."
    entries, _ = getmeta(s, "INBOX (/private/nothing /private/comment)")
    assert entries == [("/private/comment", b"My own comment")]

    # entry names are case-insensitive; a name asked twice is sent once
    entries, _ = getmeta(s, "INBOX (/PRIVATE/Comment /private/comment)")
    assert entries == [("/private/comment", b"My own comment")]
    assert setmeta(s, "INBOX", [("/Private/COMMENT", "changed")]).startswith(b"OK")
    entries, _ = getmeta(s, "INBOX /private/comment")
    assert entries == [("/private/comment", b"changed")]

    # NIL deletes; deleting what does not exist is fine
    assert setmeta(s, "INBOX", [("/private/comment", None),
                                ("/private/never-set", None)]).startswith(b"OK")
    untagged, tagged = s.cmd("GETMETADATA INBOX /private/comment")
    assert untagged == [] and tagged.startswith(b"OK")
    entries, _ = getmeta(s, "INBOX /shared/comment")
    assert entries == [("/shared/comment", b"Everybody's")]

    # a vendor tree (Dovecot-style) and quoted names with spaces
    assert setmeta(s, "INBOX", [("/private/vendor/vendor.example/x", "1"),
                                ("/shared/vendor/vendor.example/y", "2"),
                                ('"/private/with space"', "3")]).startswith(b"OK")
    untagged = s.ok('GETMETADATA INBOX ("/private/with space" '
                    '/private/vendor/vendor.example/x /shared/vendor/vendor.example/y)')
    assert untagged == [b'* METADATA INBOX ("/private/with space" "3" '
                        b'/private/vendor/vendor.example/x "1" '
                        b'/shared/vendor/vendor.example/y "2")']

    # an empty list of entries (as Dovecot allows) changes or reads nothing
    assert s.cmd("SETMETADATA INBOX ()")[1].startswith(b"OK")
    assert s.cmd("GETMETADATA INBOX ()") == ([], b"OK Getmetadata completed.")


def test_values_quoted_literal_literal8(ternd):
    s = Imap(ternd.imap_port)
    binary = b"a\x00b\x00\xff\r\nz"
    s.send(b"t100 SETMETADATA INBOX (/private/vendor/t/bin ~{%d+}\r\n" % len(binary) +
           binary + b" /private/vendor/t/crlf {6+}\r\nl1\r\nl2"
           b" /private/vendor/t/utf8 {6+}\r\n\xc3\xa4\xc3\xb6\xc3\xbc"
           b' /private/vendor/t/empty "")\r\n')
    untagged, tagged = s.read_until_tagged("t100")
    assert tagged == b"t100 OK Setmetadata completed.", tagged

    # a synchronizing literal8 too
    s.send(b"t101 SETMETADATA INBOX (/private/vendor/t/sync ~{3}\r\n")
    assert s.read_response().startswith(b"+")
    s.send(b"\x00\x01\x02)\r\n")
    assert s.read_until_tagged("t101")[1] == b"t101 OK Setmetadata completed."

    untagged = s.ok("GETMETADATA (DEPTH 1) INBOX /private/vendor/t")
    assert len(untagged) == 1
    # NULs only go out in a literal8; CR LF and 8-bit in a literal
    assert b"/private/vendor/t/bin ~{%d}\r\n" % len(binary) + binary in untagged[0]
    assert b"/private/vendor/t/crlf {6}\r\nl1\r\nl2" in untagged[0]
    assert b"/private/vendor/t/utf8 {6}\r\n\xc3\xa4\xc3\xb6\xc3\xbc" in untagged[0]
    assert b'/private/vendor/t/empty ""' in untagged[0]
    assert b"/private/vendor/t/sync ~{3}\r\n\x00\x01\x02" in untagged[0]
    _, items = parse_metadata(untagged[0])
    assert dict(items) == {
        "/private/vendor/t/bin": binary, "/private/vendor/t/crlf": b"l1\r\nl2",
        "/private/vendor/t/empty": b"", "/private/vendor/t/sync": b"\x00\x01\x02",
        "/private/vendor/t/utf8": "äöü".encode()}
    assert [e for e, _ in items] == sorted(e for e, _ in items)


# --- DEPTH and MAXSIZE -----------------------------------------------------

def test_depth_and_maxsize(ternd):
    s = Imap(ternd.imap_port)
    assert setmeta(s, "INBOX", [
        ("/private/comment", "c"),
        ("/private/vendor/v", "v"),
        ("/private/vendor/v/a", "a" * 10),
        ("/private/vendor/v/a/deep", "d" * 30),
        ("/private/vendor/v/b", "b" * 20),
        ("/private/vendor/vx", "sibling"),
        ("/shared/comment", "s"),
    ]).startswith(b"OK")

    entries, _ = getmeta(s, "(DEPTH 0) INBOX /private/vendor/v")
    assert [e for e, _ in entries] == ["/private/vendor/v"]
    entries, _ = getmeta(s, "(DEPTH 1) INBOX /private/vendor/v")
    assert [e for e, _ in entries] == ["/private/vendor/v", "/private/vendor/v/a",
                                       "/private/vendor/v/b"]
    entries, _ = getmeta(s, "(DEPTH infinity) INBOX /private/vendor/v")
    assert [e for e, _ in entries] == ["/private/vendor/v", "/private/vendor/v/a",
                                       "/private/vendor/v/a/deep", "/private/vendor/v/b"]
    entries, _ = getmeta(s, "(DEPTH 1) INBOX /private")
    assert [e for e, _ in entries] == ["/private/comment"]
    entries, _ = getmeta(s, "(DEPTH INFINITY) INBOX (/shared /private/vendor/vx)")
    assert [e for e, _ in entries] == ["/shared/comment", "/private/vendor/vx"]
    # overlapping requests: each entry once, in the order first found
    entries, _ = getmeta(s, "(DEPTH infinity) INBOX (%s /private/vendor/v/b /private)" %
                         " ".join(["/private/vendor/v"] * 500))
    assert [e for e, _ in entries] == [
        "/private/vendor/v", "/private/vendor/v/a", "/private/vendor/v/a/deep",
        "/private/vendor/v/b", "/private/comment", "/private/vendor/vx"]
    # a name with nothing at it lists nothing at DEPTH 0
    entries, _ = getmeta(s, "INBOX /private/vendor")
    assert entries == []

    # MAXSIZE leaves out larger values; LONGENTRIES is the largest of them
    entries, tagged = getmeta(s, "(MAXSIZE 15 DEPTH infinity) INBOX /private/vendor/v")
    assert [e for e, _ in entries] == ["/private/vendor/v", "/private/vendor/v/a"]
    assert tagged == b"OK [METADATA LONGENTRIES 30] Getmetadata completed."
    entries, tagged = getmeta(s, "(DEPTH infinity MAXSIZE 30) INBOX /private/vendor/v")
    assert len(entries) == 4 and tagged == b"OK Getmetadata completed."
    entries, tagged = getmeta(s, "(MAXSIZE 0) INBOX /private/vendor/v/b")
    assert entries == [] and tagged == b"OK [METADATA LONGENTRIES 20] Getmetadata completed."
    # options are case-insensitive, the last of a repeated one counts
    entries, _ = getmeta(s, "(depth 1 DEPTH 0) INBOX /private/vendor/v")
    assert len(entries) == 1
    entries, _ = getmeta(s, "() INBOX /private/comment")
    assert entries == [("/private/comment", b"c")]

    for opts in ("(DEPTH 2)", "(DEPTH)", "(DEPTH -1)", "(MAXSIZE -1)", "(MAXSIZE x)",
                 "(MAXSIZE 99999999999999999999)", "(MAXSIZE)", "(FOO 1)",
                 "(DEPTH (1))", '("MAXSIZE" 1)'):
        tagged = s.cmd(f"GETMETADATA {opts} INBOX /private/comment")[1]
        assert tagged.startswith(b"BAD"), (opts, tagged)


# --- syntax ----------------------------------------------------------------

BAD_ENTRIES = [
    "/foo",                  # neither /private nor /shared
    "private/comment",       # no leading slash
    "/privatex/comment",
    "/private//comment",     # empty level
    "/private/comment/",     # trailing slash
    "/private/com*ment",     # list wildcards
    "/private/com%ment",
    '"/private/tab\tx"',     # control character
    "/shared/" + "x" * 1100,  # too long
]


def test_entry_syntax(ternd):
    s = Imap(ternd.imap_port)
    for entry in BAD_ENTRIES:
        tagged = s.cmd(f"GETMETADATA INBOX {entry}")[1]
        assert tagged.startswith(b"BAD"), (entry, tagged)
        tagged = s.cmd(f'SETMETADATA INBOX ({entry} "x")')[1]
        assert tagged.startswith(b"BAD"), (entry, tagged)
        # 20 bad commands in a row end the session
        s.ok("NOOP")
    # non-ASCII names, in a literal
    s.send(b"t200 GETMETADATA INBOX {12+}\r\n/private/\xc3\xa4x\r\n")
    assert s.read_until_tagged("t200")[1].startswith(b"t200 BAD")
    # a literal8 with a NUL can't be a name
    s.send(b"t201 GETMETADATA INBOX ~{11+}\r\n/private/\x00x\r\n")
    assert s.read_until_tagged("t201")[1].startswith(b"t201 BAD")
    # a good entry in a list with a bad one: BAD, nothing changed
    tagged = s.cmd('SETMETADATA INBOX (/private/comment "x" /private//y "z")')[1]
    assert tagged.startswith(b"BAD")
    assert getmeta(s, "INBOX /private/comment")[0] == []

    for line in ("GETMETADATA", "GETMETADATA INBOX", "GETMETADATA (DEPTH 1) INBOX",
                 "GETMETADATA INBOX /private/comment extra",
                 "GETMETADATA INBOX (/private/comment (x))",
                 "SETMETADATA", "SETMETADATA INBOX", "SETMETADATA INBOX /private/comment x",
                 "SETMETADATA INBOX (/private/comment)",
                 "SETMETADATA INBOX (/private/comment (\"x\"))",
                 'SETMETADATA INBOX (/private/comment "x") extra'):
        tagged = s.cmd(line)[1]
        assert tagged.startswith(b"BAD"), (line, tagged)
        s.ok("NOOP")
    # an atom is taken for a string (as Dovecot does)
    assert s.cmd("SETMETADATA INBOX (/private/comment atom)")[1].startswith(b"OK")
    assert getmeta(s, "INBOX /private/comment")[0] == [("/private/comment", b"atom")]
    # the roots name no entry: nothing to read, nothing to set
    assert getmeta(s, "INBOX (/private /shared)")[0] == []
    tagged = s.cmd('SETMETADATA INBOX (/private "x")')[1]
    assert tagged.startswith(b"NO [CANNOT]"), tagged
    s.ok("NOOP")


# --- mailboxes -------------------------------------------------------------

def test_nonexistent_mailbox(ternd):
    s = Imap(ternd.imap_port)
    for line in ("GETMETADATA nosuch /private/comment",
                 "GETMETADATA (DEPTH infinity) nosuch /private",
                 'SETMETADATA nosuch (/private/comment "x")',
                 "SETMETADATA nosuch (/private/comment NIL)",
                 "GETMETADATA nosuch ()", "SETMETADATA nosuch ()"):
        tagged = s.cmd(line)[1]
        assert tagged == b"NO [NONEXISTENT] Mailbox doesn't exist.", (line, tagged)
    # a \Noselect parent has no entries either
    s.ok("CREATE parent/child")
    s.ok("DELETE parent")
    assert b"\\Noselect" in s.ok('LIST "" parent')[0]
    assert code(s.cmd("GETMETADATA parent /private/comment")[1]) == b"NONEXISTENT"
    assert code(s.cmd('SETMETADATA parent (/private/comment "x")')[1]) == b"NONEXISTENT"
    # names are the client's: "inbox" is INBOX, rev1 names are modified UTF-7
    assert setmeta(s, "inbox", [("/private/comment", "i")]).startswith(b"OK")
    assert s.ok("GETMETADATA Inbox /private/comment") == \
        [b'* METADATA INBOX (/private/comment "i")']
    s.ok("CREATE &AOQ-rger")
    assert setmeta(s, "&AOQ-rger", [("/private/comment", "x")]).startswith(b"OK")
    assert s.ok("GETMETADATA &AOQ-rger /private/comment") == \
        [b'* METADATA &AOQ-rger (/private/comment "x")']
    r2 = Imap(ternd.imap_port, rev2=True)
    untagged = r2.ok('GETMETADATA "ärger" /private/comment'.encode())
    assert len(untagged) == 1
    assert parse_metadata(untagged[0]) == ("ärger".encode(), [("/private/comment", b"x")])


def test_rename_and_delete(ternd):
    s = Imap(ternd.imap_port)
    s.ok("CREATE a/b/c")
    for name in ("a", "a/b", "a/b/c"):
        assert setmeta(s, name, [("/private/comment", name),
                                 ("/shared/comment", name.upper())]).startswith(b"OK")

    # RENAME takes the entries of the mailbox and of its children along
    s.ok("RENAME a/b x/y")
    assert getmeta(s, "x/y /private/comment")[0] == [("/private/comment", b"a/b")]
    assert getmeta(s, "x/y/c (/private/comment /shared/comment)")[0] == \
        [("/private/comment", b"a/b/c"), ("/shared/comment", b"A/B/C")]
    assert getmeta(s, "a /private/comment")[0] == [("/private/comment", b"a")]
    s.ok("CREATE a/b")
    assert getmeta(s, "a/b /private/comment")[0] == []

    # DELETE takes them away: a new mailbox of the same name has none
    s.ok("DELETE x/y/c")
    s.ok("CREATE x/y/c")
    assert getmeta(s, "(DEPTH infinity) x/y/c (/private /shared)")[0] == []
    # also when the deleted mailbox stays as a \Noselect parent
    s.ok("DELETE x/y")
    s.ok("CREATE x/y")
    assert getmeta(s, "(DEPTH infinity) x/y /private")[0] == []

    # RENAME INBOX: the messages move to the new mailbox and so do the
    # entries; INBOX is left empty and without entries
    assert setmeta(s, "INBOX", [("/private/comment", "inbox"),
                                ("/shared/vendor/v/x", "shared")]).startswith(b"OK")
    s.ok("RENAME INBOX old-inbox")
    assert getmeta(s, "(DEPTH infinity) old-inbox (/private /shared)")[0] == \
        [("/private/comment", b"inbox"), ("/shared/vendor/v/x", b"shared")]
    assert getmeta(s, "(DEPTH infinity) INBOX (/private /shared)")[0] == []


def test_specialuse(ternd):
    s = Imap(ternd.imap_port)
    # new users get Sent, Drafts, Trash, Junk, Archive
    assert s.ok("GETMETADATA Sent /private/specialuse") == \
        [b'* METADATA Sent (/private/specialuse "\\\\Sent")']
    assert getmeta(s, "INBOX /private/specialuse")[0] == []
    s.ok("CREATE Stuff (USE (\\Archive))")
    assert getmeta(s, "Stuff /private/specialuse")[0] == \
        [("/private/specialuse", b"\\Archive")]
    # read-only, also in a list with other entries (nothing is changed)
    tagged = s.cmd('SETMETADATA Sent (/private/comment "x" /private/specialuse "\\\\Trash")')[1]
    assert tagged.startswith(b"NO [CANNOT]"), tagged
    assert getmeta(s, "Sent /private/comment")[0] == []
    assert s.cmd("SETMETADATA Sent (/private/specialuse NIL)")[1].startswith(b"NO [CANNOT]")
    # listed among the stored entries, in name order
    assert setmeta(s, "Sent", [("/private/comment", "c"),
                               ("/private/vendor/x", "v")]).startswith(b"OK")
    entries, _ = getmeta(s, "(DEPTH infinity) Sent /private")
    assert entries == [("/private/comment", b"c"), ("/private/specialuse", b"\\Sent"),
                       ("/private/vendor/x", b"v")]
    # a /shared/specialuse is an ordinary entry
    assert setmeta(s, "Sent", [("/shared/specialuse", "mine")]).startswith(b"OK")


def test_server_entries(ternd_factory):
    srv = ternd_factory(config_extra="imap {\n  metadata_admin = mailto:postmaster@example.com\n}\n")
    srv.start()
    try:
        s = Imap(srv.imap_port)
        assert s.ok('GETMETADATA "" /shared/admin') == \
            [b'* METADATA "" (/shared/admin "mailto:postmaster@example.com")']
        tagged = s.cmd('SETMETADATA "" (/shared/admin "mailto:me@example.com")')[1]
        assert tagged.startswith(b"NO [CANNOT]"), tagged
        assert setmeta(s, '""', [("/shared/comment", "server note"),
                                 ("/private/vendor/x", "mine")]).startswith(b"OK")
        entries, _ = getmeta(s, '(DEPTH infinity) "" (/shared /private)')
        assert entries == [("/shared/admin", b"mailto:postmaster@example.com"),
                           ("/shared/comment", b"server note"),
                           ("/private/vendor/x", b"mine")]
        # server and mailbox entries are separate
        assert getmeta(s, "INBOX /shared/comment")[0] == []
        # the server has no special use
        assert getmeta(s, '"" /private/specialuse')[0] == []
    finally:
        mailutil.close_sessions()


def test_no_admin_by_default(ternd):
    s = Imap(ternd.imap_port)
    assert getmeta(s, '"" /shared/admin')[0] == []
    assert getmeta(s, '(DEPTH infinity) "" /shared')[0] == []
    # without an admin configured it is still not settable
    assert s.cmd('SETMETADATA "" (/shared/admin "x")')[1].startswith(b"NO [CANNOT]")


# --- limits ----------------------------------------------------------------

LIMITS = """imap {
  metadata_max_value_size = 16
  metadata_max_entries = 3
  metadata_max_user_entries = 5
  metadata_max_user_size = 200
}
"""


def test_limits(ternd_factory):
    srv = ternd_factory(config_extra=LIMITS).start()
    try:
        s = Imap(srv.imap_port)
        tagged = setmeta(s, "INBOX", [("/private/a", "x" * 17)])
        assert tagged.startswith(b"NO [METADATA MAXSIZE 16] "), tagged
        assert setmeta(s, "INBOX", [("/private/a", "x" * 16)]).startswith(b"OK")
        # a literal8 counts its bytes too
        s.send(b"t300 SETMETADATA INBOX (/private/b ~{17+}\r\n" + b"\x00" * 17 + b")\r\n")
        assert s.read_until_tagged("t300")[1].startswith(b"t300 NO [METADATA MAXSIZE 16]")

        # three entries per mailbox; all or nothing
        assert setmeta(s, "INBOX", [("/private/b", "1"), ("/shared/c", "2")]).startswith(b"OK")
        tagged = setmeta(s, "INBOX", [("/private/b", "changed"), ("/private/d", "4")])
        assert tagged.startswith(b"NO [METADATA TOOMANY] "), tagged
        assert getmeta(s, "INBOX /private/b")[0] == [("/private/b", b"1")]
        # replacing and deleting at the limit work; one out, one in too
        assert setmeta(s, "INBOX", [("/private/b", "changed")]).startswith(b"OK")
        assert setmeta(s, "INBOX", [("/private/b", None), ("/private/d", "4")]).startswith(b"OK")
        assert getmeta(s, "(DEPTH 1) INBOX /private")[0] == \
            [("/private/a", b"x" * 16), ("/private/d", b"4")]

        # five entries per user, in all mailboxes and the server
        assert setmeta(s, "Sent", [("/private/x", "1")]).startswith(b"OK")
        assert setmeta(s, '""', [("/shared/y", "2")]).startswith(b"OK")
        tagged = setmeta(s, "Drafts", [("/private/z", "3")])
        assert tagged.startswith(b"NO [METADATA TOOMANY] "), tagged
        assert setmeta(s, '""', [("/shared/y", None)]).startswith(b"OK")

        # 200 bytes of names and values per user (now: 1+16, 1+1, 1+1 and
        # 1+1 = 23 bytes in INBOX and Sent)
        for i in range(10):
            tagged = setmeta(s, "Drafts", [("/private/vendor/%02d" % i, "y" * 16)])
            if not tagged.startswith(b"OK"):
                break
            assert setmeta(s, "Drafts", [("/private/vendor/%02d" % i, None)]).startswith(b"OK")
        assert setmeta(s, "Drafts", [("/private/vendor/long-name-of-an-entry-" + "n" * 150,
                                      "y")]).startswith(b"NO [METADATA TOOMANY] ")
        # never NOPRIVATE: private entries are supported
        assert b"NOPRIVATE" not in s.cmd('SETMETADATA INBOX (/private/q "1")')[1]
    finally:
        mailutil.close_sessions()


def test_limit_lowered_later(ternd_factory):
    srv = ternd_factory().start()
    s = Imap(srv.imap_port)
    for i in range(5):
        assert setmeta(s, "INBOX", [(f"/private/e{i}", "v" * 10)]).startswith(b"OK")
    s.logout()
    srv.stop()
    srv.write_config(LIMITS)
    srv.start()
    try:
        s = Imap(srv.imap_port)
        # over the new limits: no new entry, but shrinking and deleting work
        assert setmeta(s, "INBOX", [("/private/new", "1")]).startswith(b"NO [METADATA TOOMANY]")
        assert setmeta(s, "INBOX", [("/private/e0", "short")]).startswith(b"OK")
        assert setmeta(s, "INBOX", [("/private/e1", None)]).startswith(b"OK")
        assert len(getmeta(s, "(DEPTH 1) INBOX /private")[0]) == 4
    finally:
        mailutil.close_sessions()


# --- persistence, sessions, big responses ----------------------------------

def test_persistent_across_restart(ternd_factory):
    srv = ternd_factory().start()
    s = Imap(srv.imap_port)
    s.ok("CREATE Keep")
    assert setmeta(s, "Keep", [("/private/comment", "kept")]).startswith(b"OK")
    assert setmeta(s, '""', [("/shared/comment", "server kept")]).startswith(b"OK")
    s.logout()
    srv.stop()
    srv.start()
    try:
        s = Imap(srv.imap_port)
        assert getmeta(s, "Keep /private/comment")[0] == [("/private/comment", b"kept")]
        assert getmeta(s, '"" /shared/comment')[0] == [("/shared/comment", b"server kept")]
    finally:
        mailutil.close_sessions()


def test_two_sessions(ternd):
    a = Imap(ternd.imap_port)
    b = Imap(ternd.imap_port)
    a.select("INBOX")
    assert setmeta(a, "INBOX", [("/private/comment", "from a")]).startswith(b"OK")
    assert getmeta(b, "INBOX /private/comment")[0] == [("/private/comment", b"from a")]
    assert setmeta(b, "INBOX", [("/private/comment", None),
                                ("/shared/comment", "from b")]).startswith(b"OK")
    assert getmeta(a, "INBOX (/private/comment /shared/comment)")[0] == \
        [("/shared/comment", b"from b")]
    # b renames the mailbox a has selected: a finds the entries under the
    # new name
    b.ok("CREATE Other")
    assert setmeta(b, "Other", [("/private/comment", "o")]).startswith(b"OK")
    b.ok("RENAME Other Renamed")
    assert getmeta(a, "Renamed /private/comment")[0] == [("/private/comment", b"o")]
    assert code(a.cmd("GETMETADATA Other /private/comment")[1]) == b"NONEXISTENT"


def test_large_response(ternd_factory):
    """A response bigger than the output buffer is written as the client
    reads it."""
    srv = ternd_factory(config_extra="imap {\n  metadata_max_user_size = 16M\n}\n").start()
    try:
        s = Imap(srv.imap_port, timeout=60)
        value = bytes(range(256)) * 120  # 30 KiB with NULs: literal8
        for i in range(0, 200, 2):
            s.send(b"t%d SETMETADATA INBOX (/private/vendor/big/%03d ~{%d+}\r\n%s"
                   b" /private/vendor/big/%03d ~{%d+}\r\n%s)\r\n" %
                   (1000 + i, i, len(value), value, i + 1, len(value), value))
            assert s.read_until_tagged("t%d" % (1000 + i))[1].endswith(b"OK Setmetadata completed.")
        untagged, tagged = s.cmd("GETMETADATA (DEPTH infinity) INBOX /private/vendor/big")
        assert tagged == b"OK Getmetadata completed."
        assert len(untagged) == 1
        _, items = parse_metadata(untagged[0])
        assert len(items) == 200 and all(v == value for _, v in items)
        assert [e for e, _ in items] == ["/private/vendor/big/%03d" % i for i in range(200)]
        s.ok("NOOP")
    finally:
        mailutil.close_sessions()
