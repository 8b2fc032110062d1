"""SORT and THREAD (RFC 5256), SORT=DISPLAY (RFC 5957) and THREAD=REFS
(draft-ietf-morg-inthread-01) against a running ternd: every sort key,
REVERSE, several keys, ties in mailbox order, the Date: fallback to the
internal date, address and base-subject keys; ORDEREDSUBJECT, REFERENCES
and REFS on hand-made threads with the RFC 5256 results hard-coded; the
charset argument; syntax errors. The same mailboxes are also given to a
private Dovecot (as tests/test_dovecot_diff.py starts one) and every SORT
and THREAD answer must be the same there; that part is skipped when
Dovecot can't run. Known differences are kept out of those mailboxes:
Dovecot 2.3 sorts Date: values before 1970 last (test_sort_dates_before_1970
checks ours), gives "<>" addresses a placeholder mailbox where we have "",
and keeps titlecase digraphs such as U+01C5 whole where RFC 5051's NFKD
splits them.

One server is shared by the read-only tests (they EXAMINE its mailboxes).
UIDs are sequence number + 1, so UID/sequence mix-ups show."""
import re

import pytest

from conftest import Ternd
from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import (Imap, close_sessions, code, maildir, maildir_deliver, message,
                      search_result, select_info)


def raw(*headers, body="", size=None):
    """A message from header lines; padded with body lines to size bytes."""
    head = "\r\n".join(headers).encode() + b"\r\n\r\n"
    data = head + body.encode()
    if size is not None:
        assert len(data) + 2 <= size, (len(data), size)
        data += b"x" * (size - len(data) - 2) + b"\r\n"
    return data


# --- SORT -------------------------------------------------------------------------
# (message, internal date)

SORT_MESSAGES = [
    (raw("From: Adam Zed <zed@x.org>", "To: bob@x.org", "Subject: Re: apple",
         "Date: Thu, 05 Jan 2023 10:00:00 +0000", "Message-ID: <s1@x.org>", size=600),
     "01-Jan-2023 00:00:00 +0000"),
    (raw("From: alice@x.org", "To: Carol <carol@y.org>", "Cc: dave@z.org", "Subject: banana",
         "Date: Tue, 03 Jan 2023 10:00:00 -0500", "Message-ID: <s2@x.org>", size=900),
     "03-Jan-2023 00:00:00 +0000"),
    (raw('From: "Zack" <BOB@y.org>', 'To: "zoe" <aaron@w.org>', "Cc: Yves <abe@z.org>",
         "Subject: [list] Apple", "Date: Tue, 03 Jan 2023 14:00:00 +0000",
         "Message-ID: <s3@x.org>", size=500),
     "02-Jan-2023 00:00:00 +0000"),
    # no Date: the internal date counts
    (raw("From: carol@z.org", "To: dan@x.org", "Subject: Fwd: cherry",
         "Message-ID: <s4@x.org>", size=700),
     "04-Jan-2023 12:00:00 +0000"),
    # an invalid Date: likewise; groups: their names count
    (raw("From: Friends: ann@a.org, ben@b.org;", "To: undisclosed-recipients:;",
         'Cc: "Ann" <zz@a.org>', "Subject: cherry (fwd)", "Date: not a date",
         "Message-ID: <s5@x.org>", size=500),
     "02-Jan-2023 06:00:00 +0000"),
    (raw("From: =?utf-8?q?=C3=89mile?= <emile@x.org>", "To: =?utf-8?q?=C3=A9va?= <eva@x.org>",
         "Subject: APPLE", "Date: Sun, 01 Jan 2023 23:00:00 -0200", "Message-ID: <s6@x.org>",
         size=800),
     "06-Jan-2023 00:00:00 +0000"),
    # no From, To, Cc or Subject; the same internal date as message 1
    (raw("Date: Mon, 02 Jan 2023 00:30:00 +0000", "Message-ID: <s7@x.org>", size=650),
     "01-Jan-2023 00:00:00 +0000"),
]

SORT_CASES = [
    ("ARRIVAL", [1, 7, 3, 5, 2, 4, 6]),
    ("DATE", [7, 6, 5, 3, 2, 4, 1]),
    ("FROM", [7, 2, 3, 4, 6, 5, 1]),
    ("TO", [7, 3, 1, 2, 4, 6, 5]),
    ("CC", [1, 4, 6, 7, 3, 2, 5]),
    ("SUBJECT", [7, 1, 3, 6, 2, 4, 5]),
    ("SIZE", [3, 5, 1, 7, 4, 6, 2]),
    ("DISPLAYFROM", [7, 1, 2, 4, 6, 5, 3]),
    ("DISPLAYTO", [7, 1, 2, 4, 6, 5, 3]),
    ("SUBJECT DATE", [7, 6, 3, 1, 2, 5, 4]),
    ("SIZE DATE", [5, 3, 1, 7, 4, 6, 2]),
    ("REVERSE SUBJECT", [4, 5, 2, 1, 3, 6, 7]),
    ("REVERSE SUBJECT REVERSE DATE", [4, 5, 2, 1, 3, 6, 7]),
    ("REVERSE SUBJECT DATE", [5, 4, 2, 6, 3, 1, 7]),
    ("REVERSE ARRIVAL", [6, 4, 2, 5, 3, 1, 7]),
    ("REVERSE DATE", [1, 4, 2, 3, 5, 6, 7]),
    ("REVERSE SIZE", [2, 6, 4, 7, 1, 3, 5]),
    ("CC REVERSE FROM", [1, 6, 4, 7, 3, 2, 5]),
    ("date", [7, 6, 5, 3, 2, 4, 1]),
]

# --- THREAD -----------------------------------------------------------------------


def tmsg(n, subject, date, refs=None, irt=None, msgid=True):
    headers = [f"From: t{n}@example.com", f"Subject: {subject}"]
    if date is not None:
        headers.append(f"Date: {date}")
    if msgid:
        headers.append(f"Message-ID: {msgid if isinstance(msgid, str) else f'<m{n}@t>'}")
    if irt is not None:
        headers.append(f"In-Reply-To: {irt}")
    if refs is not None:
        headers.append(f"References: {refs}")
    return raw(*headers, body=f"message {n}\r\n")


def jan(day, hour):
    """A Date: value in January 2023 (the 1st was a Sunday)."""
    weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][(day - 1) % 7]
    return f"{weekday}, {day:02d} Jan 2023 {hour:02d}:00:00 +0000"


THREAD_MESSAGES = [
    tmsg(1, "Project plan", jan(1, 10)),
    tmsg(2, "Re: Project plan", jan(1, 11), refs="<m1@t>", irt="<m1@t>"),
    tmsg(3, "Re: Project plan", jan(1, 12), refs="<m1@t> <m2@t>"),
    # the parent never arrived: a dummy holds the two
    tmsg(4, "Lost parent", jan(2, 10), refs="<missing@t>"),
    tmsg(5, "Re: Lost parent", jan(2, 11), refs="<missing@t>"),
    # no references: gathered by subject (REFERENCES), the reply below
    # the original; the reply is dated earlier
    tmsg(6, "Weekly report", jan(3, 10)),
    tmsg(7, "Re: Weekly report", jan(3, 9)),
    # two originals with one subject: a dummy holds them (REFERENCES)
    tmsg(8, "Coffee", jan(4, 10)),
    tmsg(9, "Coffee", jan(4, 11)),
    # In-Reply-To only
    tmsg(10, "Re: Project plan", jan(5, 10), irt="<m2@t>"),
]

THREAD_CASES = [
    ("ORDEREDSUBJECT", "ALL", "(1 (2)(3)(10))(4 5)(7 6)(8 9)"),
    ("REFERENCES", "ALL", "(1 2 (3)(10))((4)(5))(6 7)((8)(9))"),
    ("REFS", "ALL", "((4)(5))(7)(6)(8)(9)(1 2 (3)(10))"),
    ("REFERENCES", "SUBJECT plan", "(1 2 (3)(10))"),
    ("REFERENCES", "NOT 2", "(1 (3)(10))((4)(5))(6 7)((8)(9))"),
    ("ORDEREDSUBJECT", "1:5", "(1 (2)(3))(4 5)"),
    ("REFERENCES", "4", "(4)"),
    ("references", "8:9", "((8)(9))"),
]

# harder cases; the results (TRICKY_CASES) are the same as Dovecot's
TRICKY_MESSAGES = [
    # a child before its parent; a grandchild whose References skip a level
    tmsg(1, "Re: late parent", jan(6, 12), refs="<m2@t>"),
    tmsg(2, "late parent", jan(6, 11)),
    tmsg(3, "Re: late parent", jan(6, 13), refs="<m2@t> <gap@t> <m1@t>"),
    # a References loop
    tmsg(4, "loop", jan(7, 10), refs="<m5@t>"),
    tmsg(5, "Re: loop", jan(7, 11), refs="<m4@t>"),
    # duplicate Message-IDs
    tmsg(6, "dup", jan(8, 10), msgid="<dup@t>"),
    tmsg(7, "dup again", jan(8, 11), msgid="<dup@t>"),
    tmsg(8, "Re: dup", jan(8, 12), refs="<dup@t>"),
    # no Message-ID, no Date
    tmsg(9, "Re: Coffee", None, msgid=False),
    tmsg(10, "Fwd: coffee", jan(9, 10)),
    tmsg(11, "[list] Re: Coffee", jan(9, 11)),
    tmsg(12, "Coffee (fwd)", jan(9, 12)),
    # a reply-only subject root meets an original: the reply goes below
    tmsg(13, "Re: tea", jan(10, 10)),
    tmsg(14, "tea", jan(10, 11)),
    # comments, quoting and junk in the ids
    tmsg(15, "ids", jan(11, 10), msgid='<"quoted"@t>'),
    tmsg(16, "Re: ids", jan(11, 11), refs='junk <quoted@t> (comment)'),
    tmsg(17, "Re: ids", jan(11, 12), irt="<m16@t> (sent by x)"),
    # dummies in the middle of a chain vanish
    tmsg(18, "chain", jan(12, 10)),
    tmsg(19, "Re: chain", jan(12, 11), refs="<m18@t> <lost1@t> <lost2@t>"),
    tmsg(20, "Re: chain", jan(12, 12), refs="<lost1@t>"),
    # no subject at all
    raw("From: x@example.com", "Message-ID: <m21@t>", f"Date: {jan(13, 10)}",
        body="no subject\r\n"),
    raw("From: x@example.com", "Message-ID: <m22@t>", f"Date: {jan(13, 11)}", "Subject: ",
        "References: <nowhere@t>", body="empty subject\r\n"),
]


# odd Date:, address and subject forms; internal dates are spread out so
# the fallback shows. The results below are the same as Dovecot's.
ODD_MESSAGES = [
    raw(f"Date: {date}", f"From: {sender}", f"Subject: {subject}", f"To: {to}",
        f"Message-ID: <odd{i}@t>", body=f"odd {i}\r\n")
    for i, (date, sender, subject, to) in enumerate([
        ("05 Jan 23 10:00 EST", '"john doe"@x.org', "Re: [list] Re: Fwd: topic",
         "user@x.org (John Smith)"),
        ("Thu, 5 Jan 2023 10:00:00 GMT", "(only a comment)", "[fwd: topic]",
         "<@route.org:routed@x.org>"),
        ("5 Jan 2023 09:59 +0000", "Ärger <ärger@x.org>", "Re[2]: topic", "éa@x.org"),
        ("Thu, 05 Jan 2023 25:00:00 +0000", '"Doe, Jane" <jane@x.org>', "Fw: topic  (fwd)  (fwd)",
         "Group: ;"),
        ("Thu, 32 Jan 2023 10:00:00 +0000", "zz@x.org, aa@x.org", "Re: Re:", ""),
        ("Mon, 05 Jan 1970 10:00:00 +0000", "=?utf-8?b?w6k=?= <f@x.org>", "étoile", "f@x.org"),
        ("Thu, 05 Jan 2023 10:00:00 +1400", "e@x.org", "Ẽtoile", "Undisclosed:;, b@x.org"),
        ("Thu, 05 Jan 2023 10:00:00 -1200", "F@x.org", "RE:  topic", "b@x.org"),
        ("Thu, 05 Jan 2023 10:00:00 Z", "user (Name In Comment) <n@x.org>", "[] topic",
         "a@x.org"),
        ("Thu, 05 Jan 2023 10:00:00 +0000 (UTC)", "Q <q@x.org>", "re: [x] [y] topic",
         "c@x.org"),
        ("Tue, 05 Jan 99 10:00:00 +0000", "R <r@x.org>", "[x]", "d@x.org"),
        ("", "S <s@x.org>", "Fwd: Re: [fwd: [x] topic (fwd)]", "e@x.org"),
    ])
]
ODD_DATES = [f"{d:02d}-Feb-2023 00:00:00 +0000" for d in range(1, len(ODD_MESSAGES) + 1)]

ODD_SORT_CASES = [
    # 2-digit years, obsolete and military zones, +1400/-1200, a comment;
    # 25:00, 32 Jan and an empty Date: fall back to the internal date
    ("DATE", [6, 11, 7, 3, 2, 9, 10, 1, 8, 4, 5, 12]),
    # a comment only: ""; "ärger" decomposes; a quoted local part unquoted
    ("FROM", [2, 3, 7, 6, 8, 4, 1, 9, 10, 11, 12, 5]),
    ("TO", [5, 9, 8, 10, 11, 12, 3, 6, 4, 2, 7, 1]),
    # "Re: Re:" has an empty base subject; "[x]" alone stays
    ("SUBJECT", [5, 6, 7, 1, 2, 3, 4, 8, 9, 10, 12, 11]),
    ("DISPLAYFROM", [2, 3, 4, 7, 6, 8, 1, 10, 11, 12, 9, 5]),
    ("DISPLAYTO", [5, 9, 8, 10, 11, 12, 3, 6, 4, 1, 2, 7]),
]


TRICKY_CASES = [
    # the same as Dovecot's
    ("ORDEREDSUBJECT",
     "(9 (10)(11)(12))(2 (1)(3))(4 5)(6 8)(7)(13 14)(15 (16)(17))(18 (19)(20))(21 22)"),
    ("REFERENCES", "((9)(10)(11)(12))(2 1 3)(5 4)(6 8)(7)(14 13)(15 16 17)(18 (19)(20))(21)(22)"),
    ("REFS", "(9)(2 1 3)(5 4)(7)(6 8)(10)(11)(12)(13)(14)(15 16 17)(18 (19)(20))(21)(22)"),
]


def fill(session, box, messages, internal_dates=None):
    """Creates box with the messages, UIDs starting at 2."""
    session.ok(f"CREATE {box}")
    session.append_ok(box, message("dummy"), flags="\\Deleted")
    for i, data in enumerate(messages):
        date = internal_dates[i] if internal_dates else "01-Jan-2023 00:00:00 +0000"
        session.append_ok(box, data, date=date)
    session.select(box)
    session.ok("EXPUNGE")
    session.ok("UNSELECT")


def fill_all(session):
    fill(session, "Sort", [m for m, _ in SORT_MESSAGES], [d for _, d in SORT_MESSAGES])
    fill(session, "Threads", THREAD_MESSAGES)
    fill(session, "Tricky", TRICKY_MESSAGES)
    fill(session, "Odd", ODD_MESSAGES, ODD_DATES)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("sortthread")).start()
    c = Imap(s.imap_port)
    fill_all(c)
    c.logout()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture
def c(srv):
    c = Imap(srv.imap_port)
    yield c
    c.logout()


def sort_result(untagged):
    lines = [r for r in untagged if r.startswith(b"* SORT")]
    assert len(lines) == 1, untagged
    assert lines[0] == b"* SORT" or lines[0].startswith(b"* SORT "), lines[0]
    return [int(x) for x in lines[0].split()[2:]]


def thread_result(untagged):
    lines = [r for r in untagged if r.startswith(b"* THREAD")]
    assert len(lines) == 1, untagged
    return lines[0][len(b"* THREAD"):].strip().decode()


def sort(c, criteria, program="ALL", uid=False, charset="UTF-8"):
    return sort_result(c.ok(f"{'UID ' if uid else ''}SORT ({criteria}) {charset} {program}"))


def thread(c, alg, program="ALL", uid=False, charset="UTF-8"):
    return thread_result(c.ok(f"{'UID ' if uid else ''}THREAD {alg} {charset} {program}"))


def test_capabilities(c):
    caps = c.ok("CAPABILITY")[0].split()
    for cap in (b"SORT", b"SORT=DISPLAY", b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES",
                b"THREAD=REFS", b"I18NLEVEL=1", b"ESEARCH"):
        assert cap in caps, caps


@pytest.mark.parametrize("criteria,expected", SORT_CASES)
def test_sort(c, criteria, expected):
    c.select("Sort", examine=True)
    assert sort(c, criteria) == expected
    assert sort(c, criteria, uid=True) == [n + 1 for n in expected]


def test_sort_with_search_program(c):
    c.select("Sort", examine=True)
    assert sort(c, "DATE", "SUBJECT apple") == [6, 3, 1]
    assert sort(c, "DATE", "SUBJECT apple", uid=True) == [7, 4, 2]
    assert sort(c, "DATE", "NOT SUBJECT apple") == [7, 5, 2, 4]
    assert sort(c, "REVERSE SIZE", "2:4") == [2, 4, 3]
    assert sort(c, "ARRIVAL", "UID 3:5") == [3, 2, 4]
    assert sort(c, "FROM", "OR FROM alice FROM carol") == [2, 4]
    assert sort(c, "SUBJECT", "SENTSINCE 03-Jan-2023") == [1, 3, 2]
    assert c.ok("SORT (DATE) UTF-8 SUBJECT nothing-like-this") == [b"* SORT"]
    assert c.ok("UID SORT (DATE) UTF-8 UID 100:200") == [b"* SORT"]


def test_sort_charsets(c):
    c.select("Sort", examine=True)
    assert sort(c, "DATE", charset="US-ASCII") == [7, 6, 5, 3, 2, 4, 1]
    assert sort(c, "DATE", charset="utf-8") == [7, 6, 5, 3, 2, 4, 1]
    assert sort(c, "DATE", "FROM zed", charset="ISO-8859-1") == [1]
    assert sort_result(c.ok(b"SORT (DATE) UTF-8 FROM {6+}\r\n" + "Émile".encode())) == [6]
    _, tagged = c.cmd("SORT (DATE) X-UNKNOWN ALL")
    assert tagged.startswith(b"NO") and code(tagged).startswith(b"BADCHARSET"), tagged
    _, tagged = c.cmd("UID SORT (DATE) X-UNKNOWN ALL")
    assert tagged.startswith(b"NO") and code(tagged).startswith(b"BADCHARSET"), tagged


def latin1_literal(text):
    data = text.encode("iso-8859-1")
    return b"{%d+}\r\n" % len(data) + data


def test_sort_charset_converts_search_strings(c):
    """RFC 5256 §3: the charset argument is that of the search criteria's
    strings, as CHARSET in SEARCH."""
    c.select("Sort", examine=True)
    assert sort_result(c.ok(b"SORT (DATE) ISO-8859-1 FROM " + latin1_literal("Émile"))) == [6]


def test_thread_charset_converts_search_strings(c):
    c.select("Sort", examine=True)
    untagged = c.ok(b"THREAD REFERENCES ISO-8859-1 FROM " + latin1_literal("Émile"))
    assert thread_result(untagged) == "(6)"


@pytest.mark.parametrize("line", [
    "SORT DATE UTF-8 ALL",
    "SORT () UTF-8 ALL",
    "SORT (BOGUS) UTF-8 ALL",
    "SORT (REVERSE) UTF-8 ALL",
    "SORT (DATE REVERSE) UTF-8 ALL",
    "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
    "SORT (DATE)",
    "SORT (DATE) UTF-8",
    "SORT (DATE) UTF-8 BOGUS",
    "SORT (DATE (SIZE)) UTF-8 ALL",
    "UID SORT (DATE) UTF-8 NOT",
    "THREAD",
    "THREAD BOGUS UTF-8 ALL",
    "THREAD REFERENCES",
    "THREAD REFERENCES UTF-8",
    "THREAD REFERENCES UTF-8 BOGUS",
    "THREAD (REFERENCES) UTF-8 ALL",
    "UID THREAD REFS UTF-8 (ALL",
])
def test_syntax_errors(c, line):
    c.select("Sort", examine=True)
    _, tagged = c.cmd(line)
    assert tagged.startswith(b"BAD"), (line, tagged)
    # the session goes on
    assert sort(c, "SIZE") == [3, 5, 1, 7, 4, 6, 2]


def test_thread_badcharset(c):
    c.select("Threads", examine=True)
    _, tagged = c.cmd("THREAD REFERENCES X-UNKNOWN ALL")
    assert tagged.startswith(b"NO") and code(tagged).startswith(b"BADCHARSET"), tagged
    assert thread(c, "REFERENCES", "4", charset="US-ASCII") == "(4)"


def test_sort_thread_need_selected_mailbox(c):
    _, tagged = c.cmd("SORT (DATE) UTF-8 ALL")
    assert tagged.startswith(b"BAD") or tagged.startswith(b"NO"), tagged
    _, tagged = c.cmd("THREAD REFERENCES UTF-8 ALL")
    assert tagged.startswith(b"BAD") or tagged.startswith(b"NO"), tagged


@pytest.mark.parametrize("alg,program,expected", THREAD_CASES)
def test_thread(c, alg, program, expected):
    c.select("Threads", examine=True)
    assert thread(c, alg, program) == expected
    uids = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), expected)
    assert thread(c, alg, program, uid=True) == uids


@pytest.mark.parametrize("alg,expected", TRICKY_CASES)
def test_thread_tricky(c, alg, expected):
    c.select("Tricky", examine=True)
    assert thread(c, alg) == expected


@pytest.mark.parametrize("criteria,expected", ODD_SORT_CASES)
def test_sort_odd_headers(c, criteria, expected):
    c.select("Odd", examine=True)
    assert sort(c, criteria) == expected


def test_sort_dates_before_1970(ternd):
    """Dates before the epoch sort before it (Dovecot 2.3 puts them
    last); the day of SENT* is the one written."""
    a = Imap(ternd.imap_port)
    for date, internal in (("Mon, 02 Jan 2023 10:00:00 +0000", "01-Jan-1990 00:00:00 +0000"),
                           ("Wed, 31 Dec 1969 23:00:00 -0100", "02-Jan-1990 00:00:00 +0000"),
                           ("Thu, 05 Jan 1950 10:00:00 +0000", "03-Jan-1990 00:00:00 +0000"),
                           ("Thu, 01 Jan 1970 00:00:01 +0000", "04-Jan-1990 00:00:00 +0000")):
        a.append_ok("INBOX", raw(f"Date: {date}", "Subject: old", body="old\r\n"), date=internal)
    a.select()
    assert sort(a, "DATE") == [3, 2, 4, 1]
    assert sort(a, "REVERSE DATE") == [1, 4, 2, 3]
    assert sort(a, "ARRIVAL") == [1, 2, 3, 4]
    assert thread(a, "ORDEREDSUBJECT") == "(3 (2)(4)(1))"
    assert search_result(a.ok("SEARCH SENTON 31-Dec-1969")) == [2]
    assert search_result(a.ok("SEARCH SENTBEFORE 01-Jan-1970")) == [2, 3]


def test_thread_empty_result(c):
    c.select("Threads", examine=True)
    untagged = c.ok("THREAD REFERENCES UTF-8 SUBJECT nothing-like-this")
    assert len(untagged) == 1 and untagged[0].rstrip() == b"* THREAD", untagged


# --- messages from other paths, expunges ------------------------------------------

def test_sort_thread_messages_delivered_to_maildir(ternd):
    """Sort and thread keys of messages never indexed at save time."""
    a = Imap(ternd.imap_port)
    a.append_ok("INBOX", tmsg(1, "Delivery", jan(1, 10)))
    a.select()
    maildir_deliver(maildir(ternd), tmsg(2, "Re: Delivery", jan(1, 9), refs="<m1@t>")
                    .replace(b"\r\n", b"\n"))
    assert b"* 2 EXISTS" in a.ok("NOOP")
    assert sort(a, "DATE") == [2, 1]
    assert sort(a, "FROM") == [1, 2]
    assert sort(a, "REVERSE FROM") == [2, 1]
    assert thread(a, "REFERENCES") == "(1 2)"
    a.logout()
    maildir_deliver(maildir(ternd), tmsg(3, "Re: Delivery", jan(1, 11), refs="<m1@t> <m2@t>"))
    b = Imap(ternd.imap_port)
    assert select_info(b.select())["EXISTS"] == 3
    assert thread(b, "REFERENCES") == "(1 2 3)"
    assert thread(b, "ORDEREDSUBJECT") == "(2 (1)(3))"
    assert sort(b, "DATE") == [2, 1, 3]


def test_sort_thread_while_another_session_expunges(ternd):
    """Messages another session expunged may be left out or still listed
    until the expunges are announced; the rest keep their order."""
    a = Imap(ternd.imap_port)
    for m, date in SORT_MESSAGES:
        a.append_ok("INBOX", m, date=date)
    a.select()
    b = Imap(ternd.imap_port)
    b.select()
    b.ok("STORE 2,5 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    for criteria, expected in SORT_CASES[:9]:
        got = sort(a, criteria)
        assert [n for n in got if n not in (2, 5)] == [n for n in expected if n not in (2, 5)]
        assert len(got) == len(set(got)) and set(got) <= set(range(1, 8)), got
    a.ok("NOOP")
    assert sort(a, "FROM") == [5, 2, 3, 4, 1]
    assert thread(a, "REFERENCES") == "(5)((4)(2)(1))(3)"


def test_sort_thread_after_expunge(ternd):
    a = Imap(ternd.imap_port)
    for m in THREAD_MESSAGES[:5]:
        a.append_ok("INBOX", m)
    a.select()
    assert thread(a, "REFERENCES") == "(1 2 3)((4)(5))"
    a.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    # 3 still names 2 in its References: a dummy takes its place and
    # vanishes below message 1; the lone 5 loses its dummy
    assert thread(a, "REFERENCES") == "(1 2)(3)"
    assert thread(a, "REFERENCES", uid=True) == "(1 3)(5)"
    assert sort(a, "REVERSE DATE") == [3, 2, 1]
    assert sort(a, "REVERSE DATE", uid=True) == [5, 3, 1]
    a.append_ok("INBOX", THREAD_MESSAGES[3])
    a.ok("NOOP")
    assert thread(a, "REFERENCES", uid=True) == "(1 3)((6)(5))"


def test_sort_after_restart(ternd):
    a = Imap(ternd.imap_port)
    fill(a, "Sort", [m for m, _ in SORT_MESSAGES], [d for _, d in SORT_MESSAGES])
    a.select("Sort")
    assert sort(a, "DISPLAYFROM") == [7, 1, 2, 4, 6, 5, 3]
    a.logout()
    close_sessions()
    ternd.stop()
    ternd.start()
    b = Imap(ternd.imap_port)
    b.select("Sort")
    for criteria, expected in SORT_CASES:
        assert sort(b, criteria) == expected, criteria


# --- the same answers as Dovecot --------------------------------------------------

DIFF_COMMANDS = (
    [("Sort", f"SORT ({criteria}) UTF-8 ALL") for criteria, _ in SORT_CASES] +
    [("Sort", f"UID SORT ({criteria}) UTF-8 ALL") for criteria, _ in SORT_CASES[:3]] +
    [("Sort", "SORT (DATE) UTF-8 SUBJECT apple"),
     ("Sort", "SORT (REVERSE SIZE) UTF-8 2:4")] +
    [(box, f"{uid}THREAD {alg} UTF-8 {program}")
     for box in ("Threads", "Tricky")
     for alg in ("ORDEREDSUBJECT", "REFERENCES", "REFS")
     for uid in ("", "UID ")
     for program in ("ALL", "NOT 2")] +
    [(box, f"THREAD {alg} UTF-8 ALL") for alg in ("ORDEREDSUBJECT", "REFERENCES", "REFS")
     for box in ("Sort", "Odd")] +
    [("Odd", f"SORT ({criteria}) UTF-8 ALL")
     for criteria in ("DATE", "FROM", "TO", "SUBJECT", "DISPLAYFROM", "DISPLAYTO",
                      "REVERSE DATE", "SUBJECT REVERSE ARRIVAL")]
)


@pytest.fixture(scope="module")
def dovecot_session():
    from test_dovecot_diff import Dovecot, dovecot_skip_reason
    reason = dovecot_skip_reason()
    if reason:
        pytest.skip(reason)
    dovecot = Dovecot().start()
    try:
        s = Imap(dovecot.port, timeout=30)
        fill_all(s)
        yield s
        s.logout()
    finally:
        dovecot.stop()


def normalise(untagged):
    """The SORT or THREAD response, whitespace at the end stripped."""
    lines = [r.rstrip() for r in untagged if r.startswith((b"* SORT", b"* THREAD"))]
    assert len(lines) == 1, untagged
    return lines[0]


@pytest.mark.parametrize("box,line", DIFF_COMMANDS)
def test_same_as_dovecot(c, dovecot_session, box, line):
    c.select(box, examine=True)
    dovecot_session.select(box, examine=True)
    ours = normalise(c.ok(line))
    theirs = normalise(dovecot_session.ok(line))
    assert ours == theirs, (line, ours, theirs)
