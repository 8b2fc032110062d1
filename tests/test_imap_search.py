"""SEARCH and UID SEARCH (RFC 9051 §6.4.4, §6.4.9; RFC 3501 §6.4.4 for
rev1) against a running ternd: every search key on a fixed set of
messages, NOT/OR/parentheses, CHARSET and BADCHARSET, and ESEARCH results
(RFC 4731 RETURN options; the default form after ENABLE IMAP4rev2).

One server with one mailbox is shared by the read-only tests of this
module (they EXAMINE it); tests that change state run their own server.
UIDs are sequence number + 1, so UID/sequence mix-ups show."""
import re

import pytest

from conftest import Ternd
from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import Imap, close_sessions, message, search_result, seqset_expand

UTF8_SUBJECT = "Grüße aus Köln"

MESSAGES = [
    # (message, flags, internal date)
    (message("Quarterly report", sender="Alice Anderson <alice@example.org>",
             to="Bob <bob@example.com>", date="Mon, 02 Jan 2023 10:00:00 +0000",
             body="The numbers look good.\r\n"),
     "\\Seen \\Answered", "02-Jan-2023 10:00:00 +0000"),
    (message("Lunch?", sender="Bob <bob@example.com>", to="Alice <alice@example.org>",
             cc="Carol <carol@example.net>", date="Tue, 03 Jan 2023 23:30:00 -0800",
             body="Pizza at noon?\r\n"),
     "\\Flagged $Important", "04-Jan-2023 07:30:00 +0000"),
    (message("Re: Quarterly REPORT", sender="Carol <carol@example.net>",
             to="Team <team@example.org>", bcc="Dave <dave@example.com>",
             date="Wed, 04 Jan 2023 01:00:00 +0900",
             body="lorem ipsum dolor sit amet\r\n" * 200 + "the zebra crossing\r\n"),
     "\\Deleted", "03-Jan-2023 16:00:00 +0000"),
    (message(UTF8_SUBJECT, sender="Dave <dave@example.com>", to="Alice <alice@example.org>",
             date="Thu, 05 Jan 2023 12:00:00 +0100",
             body="Schöne Grüße von der Straße.\r\n"),
     "\\Draft", "05-Jan-2023 12:00:00 +0000"),
    (message("Priority", sender="eve@example.org", to="alice@example.org",
             date="Fri, 6 Jan 2023 08:00:00 GMT", headers=("X-Priority: 1", "X-Empty:"),
             body="Nothing to see.\r\n"),
     "", "06-Jan-2023 23:30:00 -0500"),
    (message("Keyword test", sender="Frank <frank@example.com>", to="team@example.org",
             date="Sat, 07 Jan 2023 00:30:00 +0100", body="small\r\n"),
     "\\Seen $Work", "07-Jan-2023 09:00:00 +0000"),
]
SIZES = [len(m[0]) for m in MESSAGES]
ALL = [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("search")).start()
    c = Imap(s.imap_port, rev2=True)
    c.append_ok("INBOX", message("dummy"), flags="\\Deleted")
    for data, flags, date in MESSAGES:
        c.append_ok("INBOX", data, flags=flags or None, date=date)
    c.select()
    c.ok("UID EXPUNGE 1")
    c.logout()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture
def c(srv):
    c = Imap(srv.imap_port)
    c.select(examine=True)
    yield c
    c.logout()


def search(c, criteria):
    return search_result(c.ok(f"SEARCH {criteria}"))


@pytest.mark.parametrize("criteria,expected", [
    ("ALL", ALL),
    ("1", [1]),
    ("2:4", [2, 3, 4]),
    ("1,3,5:*", [1, 3, 5, 6]),
    ("*", [6]),
    ("*:5", [5, 6]),
    ("UID 3:5", [2, 3, 4]),
    ("UID *", [6]),
    ("UID 1", []),
    ("UID 2,7", [1, 6]),
    ("ANSWERED", [1]), ("UNANSWERED", [2, 3, 4, 5, 6]),
    ("DELETED", [3]), ("UNDELETED", [1, 2, 4, 5, 6]),
    ("DRAFT", [4]), ("UNDRAFT", [1, 2, 3, 5, 6]),
    ("FLAGGED", [2]), ("UNFLAGGED", [1, 3, 4, 5, 6]),
    ("SEEN", [1, 6]), ("UNSEEN", [2, 3, 4, 5]),
    ("KEYWORD $Important", [2]), ("KEYWORD $Work", [6]), ("KEYWORD $Nope", []),
    ("UNKEYWORD $Work", [1, 2, 3, 4, 5]), ("UNKEYWORD $Nope", ALL),
    ("LARGER 1000", [3]), ("SMALLER 1000", [1, 2, 4, 5, 6]),
    (f"LARGER {SIZES[5]}", [i + 1 for i, s in enumerate(SIZES) if s > SIZES[5]]),
    (f"SMALLER {SIZES[5]}", [i + 1 for i, s in enumerate(SIZES) if s < SIZES[5]]),
    (f"LARGER {SIZES[5] - 1} SMALLER {SIZES[5] + 1}",
     [i + 1 for i, s in enumerate(SIZES) if s == SIZES[5]]),
    # internal date, disregarding time and zone (the day as written)
    ("BEFORE 04-Jan-2023", [1, 3]),
    ("ON 04-Jan-2023", [2]),
    ("ON 4-Jan-2023", [2]),
    ("SINCE 05-Jan-2023", [4, 5, 6]),
    ("ON 06-Jan-2023", [5]),
    ("ON 07-Jan-2023", [6]),
    ("SINCE 01-Feb-2023", []),
    # Date: header, disregarding time and zone
    ("SENTON 03-Jan-2023", [2]),
    ("SENTON 04-Jan-2023", [3]),
    ("SENTBEFORE 04-Jan-2023", [1, 2]),
    ("SENTSINCE 06-Jan-2023", [5, 6]),
    ("SENTON 07-Jan-2023", [6]),
    ("SENTON 06-Jan-2023", [5]),
    # header keys: case-insensitive substrings
    ("FROM anderson", [1]),
    ("FROM ALICE", [1]),
    ('FROM "example.COM"', [2, 4, 6]),
    ("TO alice", [2, 4, 5]),
    ("CC carol", [2]),
    ("BCC dave", [3]),
    ("SUBJECT quarterly", [1, 3]),
    ('SUBJECT "re: quarterly"', [3]),
    ("HEADER X-Priority 1", [5]),
    ("HEADER x-priority 1", [5]),
    ('HEADER X-Empty ""', [5]),
    ('HEADER X-Nope ""', []),
    ('HEADER Cc ""', [2]),
    ('HEADER Subject ""', ALL),
    ("BODY pizza", [2]),
    ("BODY PIZZA", [2]),
    ("BODY quarterly", []),
    ("BODY zebra", [3]),
    ('BODY "zebra crossing"', [3]),
    ("TEXT quarterly", [1, 3]),
    ("TEXT frank", [6]),
    ("BODY frank", []),
    # logic
    ("NOT SEEN", [2, 3, 4, 5]),
    ("NOT NOT SEEN", [1, 6]),
    ("OR SEEN FLAGGED", [1, 2, 6]),
    ("OR OR SEEN DRAFT DELETED", [1, 3, 4, 6]),
    ("(OR FROM bob FROM carol) UNDELETED", [2]),
    ("OR (SEEN ANSWERED) DRAFT", [1, 4]),
    ("NOT (OR SEEN DELETED)", [2, 4, 5]),
    ("((SEEN))", [1, 6]),
    ("2:5 NOT (SUBJECT report)", [2, 4, 5]),
    ("SEEN UNSEEN", []),
    ("OR 1 UID 7 FROM eve", []),
    ("OR 1 UID 7", [1, 6]),
])
def test_search_keys(c, criteria, expected):
    assert search(c, criteria) == expected


def test_search_empty_result_still_answers(c):
    untagged = c.ok("SEARCH KEYWORD $Nope")
    assert untagged == [b"* SEARCH"]


def test_uid_search(c):
    assert search_result(c.ok("UID SEARCH SEEN")) == [2, 7]
    assert search_result(c.ok("UID SEARCH UID 3:5")) == [3, 4, 5]
    # a plain set in UID SEARCH is still sequence numbers
    assert search_result(c.ok("UID SEARCH 1:2")) == [2, 3]
    assert search_result(c.ok("UID SEARCH ALL")) == [2, 3, 4, 5, 6, 7]


def test_search_charset_utf8_literal(c):
    word = "Grüße".encode()
    c.send(f"x1 SEARCH CHARSET UTF-8 SUBJECT {{{len(word)}+}}\r\n".encode() + word + b"\r\n")
    untagged, tagged = c.read_until_tagged("x1")
    assert tagged.startswith(b"x1 OK"), tagged
    assert search_result(untagged) == [4]
    word = "Straße".encode()
    c.send(f"x2 SEARCH CHARSET utf-8 BODY {{{len(word)}}}\r\n".encode())
    assert c.readline().startswith(b"+")
    c.send(word + b"\r\n")
    untagged, tagged = c.read_until_tagged("x2")
    assert tagged.startswith(b"x2 OK"), tagged
    assert search_result(untagged) == [4]
    assert search(c, "CHARSET US-ASCII SUBJECT lunch") == [2]


def test_search_utf8_quoted_rev2(srv):
    c = Imap(srv.imap_port, rev2=True)
    c.select(examine=True)
    untagged = c.ok('SEARCH SUBJECT "Köln"')
    assert untagged == [f'* ESEARCH (TAG "t{c.tagn}") ALL 4'.encode()]


def test_search_badcharset(c):
    """RFC 9051 §6.4.4: an unsupported charset is NO (not BAD), with
    BADCHARSET that may list the supported ones."""
    _, tagged = c.cmd("SEARCH CHARSET X-NOSUCH ALL")
    m = re.match(rb"NO \[BADCHARSET(?: \(([^)]*)\))?\]", tagged)
    assert m, tagged
    if m.group(1):
        assert b"UTF-8" in m.group(1).upper().split()


@pytest.mark.parametrize("criteria", [
    "", "BOGUS", "BEFORE notadate", "LARGER x", "HEADER X-Priority", "OR SEEN",
    "NOT", "(SEEN", "KEYWORD", "UID", "FROM",
])
def test_search_syntax_errors(c, criteria):
    _, tagged = c.cmd(f"SEARCH {criteria}".rstrip())
    assert tagged.startswith(b"BAD"), (criteria, tagged)


# --- ESEARCH --------------------------------------------------------------------

def esearch(c, line):
    """Runs a search; returns the parsed single ESEARCH response:
    {'TAG': ..., 'UID': bool, 'MIN': n, 'MAX': n, 'COUNT': n, 'ALL': [..]}"""
    untagged = c.ok(line)
    lines = [u for u in untagged if u.startswith(b"* ESEARCH")]
    assert len(lines) == 1 and not [u for u in untagged if u.startswith(b"* SEARCH")], untagged
    m = re.match(rb'\* ESEARCH \(TAG "([^"]+)"\)( UID)?(.*)$', lines[0])
    assert m, lines[0]
    assert m.group(1).decode() == f"t{c.tagn}"
    out = {"UID": bool(m.group(2))}
    words = m.group(3).split()
    assert len(words) % 2 == 0, lines[0]
    for i in range(0, len(words), 2):
        key = words[i].decode().upper()
        assert key not in out, lines[0]
        out[key] = seqset_expand(words[i + 1]) if key == "ALL" else int(words[i + 1])
    return out


def test_esearch_return_options(c):
    assert esearch(c, "SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN") == {
        "UID": False, "MIN": 2, "MAX": 5, "COUNT": 4, "ALL": [2, 3, 4, 5]}
    assert esearch(c, "SEARCH RETURN (COUNT) ALL") == {"UID": False, "COUNT": 6}
    assert esearch(c, "SEARCH RETURN (MIN) SEEN") == {"UID": False, "MIN": 1}
    assert esearch(c, "SEARCH RETURN (MAX) SEEN") == {"UID": False, "MAX": 6}
    # RFC 4731 §3.1: RETURN () is RETURN (ALL)
    assert esearch(c, "SEARCH RETURN () FLAGGED") == {"UID": False, "ALL": [2]}
    assert esearch(c, "UID SEARCH RETURN (MIN MAX ALL) SEEN") == {
        "UID": True, "MIN": 2, "MAX": 7, "ALL": [2, 7]}
    # no match: MIN, MAX and ALL are left out; COUNT 0 is given
    assert esearch(c, "SEARCH RETURN (MIN MAX ALL COUNT) KEYWORD $Nope") == {
        "UID": False, "COUNT": 0}
    _, tagged = c.cmd("SEARCH RETURN (BOGUS) ALL")
    assert tagged.startswith(b"BAD"), tagged


def test_esearch_default_in_rev2(srv):
    c = Imap(srv.imap_port, rev2=True)
    c.select(examine=True)
    assert esearch(c, "SEARCH UNSEEN") == {"UID": False, "ALL": [2, 3, 4, 5]}
    assert esearch(c, "UID SEARCH UNSEEN") == {"UID": True, "ALL": [3, 4, 5, 6]}
    assert esearch(c, "SEARCH KEYWORD $Nope") == {"UID": False}
    assert esearch(c, "SEARCH RETURN (COUNT) SEEN") == {"UID": False, "COUNT": 2}


# --- \Recent, NEW and OLD (rev1), flags changing -----------------------------------

def test_recent_new_old(ternd):
    a = Imap(ternd.imap_port)
    a.append_ok("INBOX", message("one"))
    a.append_ok("INBOX", message("two"))
    a.select()
    assert search(a, "RECENT") == [1, 2]
    assert search(a, "NEW") == [1, 2]
    assert search(a, "OLD") == []
    a.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
    # NEW is RECENT UNSEEN
    assert search(a, "NEW") == [2]
    assert search(a, "RECENT") == [1, 2]
    b = Imap(ternd.imap_port)
    b.select()
    assert search(b, "RECENT") == []
    assert search(b, "NEW") == []
    assert search(b, "OLD") == [1, 2]
    # a message arriving while a and b have the mailbox selected is recent
    # for the one told first (CHECK syncs like NOOP; NOOP is tested in
    # test_imap_concurrency.py)
    Imap(ternd.imap_port).append_ok("INBOX", message("three"))
    a.ok("CHECK")
    assert search(a, "RECENT") == [1, 2, 3]
    assert search(a, "NEW") == [2, 3]
    b.ok("CHECK")
    assert search(b, "RECENT") == []
    assert search(b, "OLD") == [1, 2, 3]


def test_search_sees_own_flag_changes(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    for i in range(3):
        c.append_ok("INBOX", message(f"m{i}"))
    c.select()
    assert esearch(c, "SEARCH FLAGGED") == {"UID": False}
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    assert esearch(c, "SEARCH FLAGGED") == {"UID": False, "ALL": [2]}
    c.ok("STORE 2 +FLAGS.SILENT ($Later)")
    assert esearch(c, "SEARCH KEYWORD $Later") == {"UID": False, "ALL": [2]}
