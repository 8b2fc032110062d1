"""SEARCH text keys through the full-text index (issue 5; RFC 9051 §6.4.4,
I18NLEVEL=1 of RFC 5255 §4): FROM/TO/CC/BCC/SUBJECT/HEADER/BODY/TEXT match
the decoded text of a message - RFC 2047 encoded words, quoted-printable
and base64 bodies converted from their charset, HTML as its source text,
the text and header of attached messages - but not binary attachments;
comparisons are i;unicode-casemap (RFC 5051); addresses are matched in
their normalised form. Also: empty needles, CHARSET conversion of the
needle, SENT* on the Date: field as written, messages another program put
in the Maildir (indexed by the next search), EXPUNGE, COPY/MOVE/RENAME,
and the index surviving a restart.

One server with one mailbox is shared by the read-only tests (they
EXAMINE it); tests that change state run their own server. UIDs are
sequence number + 1, so UID/sequence mix-ups show."""
import base64
import re

import pytest

from conftest import Ternd
from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import (Imap, close_sessions, maildir, maildir_deliver, message,
                      search_result, select_info)


def raw(*headers, body=""):
    """A message from header lines and a body (str is UTF-8), CRLF form."""
    head = "\r\n".join(headers).encode() + b"\r\n\r\n"
    if isinstance(body, str):
        body = body.encode()
    return head + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def b64(data, width=76):
    text = base64.b64encode(data).decode()
    return "".join(text[i:i + width] + "\r\n" for i in range(0, len(text), width))


DATE_1994 = "Date: Mon, 07 Feb 1994 21:52:25 -0800"

LATIN1_BODY = "Größenwahn in München\r\nZürich\r\n".encode("iso-8859-1")
BINARY_PAYLOAD = b"secret zanzibar payload \x00\x01\x02"

MESSAGES = [
    # 1: RFC 2047 encoded words; "Grüße" spans two adjacent words, and in
    # X-Split the two UTF-8 bytes of "ü" are split between two words
    raw("From: =?iso-8859-1?q?J=F6rg_M=FCller?= <joerg@example.de>",
        "To: =?utf-8?b?w4ltaWxl?= <emile@example.fr>",
        "Subject: =?utf-8?q?Gr=C3=BC?= =?utf-8?q?=C3=9Fe_aus_Berlin?=",
        "X-Split: =?utf-8?q?M=C3?= =?utf-8?q?=BCnchen?=",
        "X-Fold: =?utf-8?q?Kohl?=\r\n =?utf-8?q?rabi?=",
        DATE_1994, "Message-ID: <m1@example.com>",
        body="first message\r\n"),
    # 2: quoted-printable UTF-8 body with a soft line break
    raw("From: Quentin <qp@example.com>", "To: alice@example.org", "Subject: qp body",
        DATE_1994, "Message-ID: <m2@example.com>", "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        body="Caf=C3=A9 cr=C3=A8me br=C3=BBl=C3=A9e, soft=\r\nbreak here\r\n"),
    # 3: base64 ISO-8859-1 body
    raw("From: Bea <b64@example.com>", "To: alice@example.org", "Subject: base64 body",
        DATE_1994, "Message-ID: <m3@example.com>", "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: base64",
        body=b64(LATIN1_BODY)),
    # 4: 8bit KOI8-R body
    raw("From: Ivan <koi@example.ru>", "To: alice@example.org", "Subject: koi8 body",
        DATE_1994, "Message-ID: <m4@example.com>", "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=koi8-r", "Content-Transfer-Encoding: 8bit",
        body="Привет, мир! Ёлка\r\n".encode("koi8-r")),
    # 5: text, a binary attachment (not searched) and HTML (its source)
    raw("From: Mia <mixed@example.com>", "To: alice@example.org", "Subject: mixed parts",
        DATE_1994, "Message-ID: <m5@example.com>", "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b1"',
        body="--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
             "See the attached file.\r\n"
             "--b1\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n" + b64(BINARY_PAYLOAD) +
             "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             "<html><body><p>Hello <b>World</b> &amp; friends</p></body></html>\r\n"
             "--b1--\r\n"),
    # 6: an attached message: its header and text are body text
    raw("From: Fred <fwd@example.com>", "To: alice@example.org", "Subject: Fwd: fruit",
        DATE_1994, "Message-ID: <m6@example.com>", "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b2"',
        body="--b2\r\nContent-Type: text/plain\r\n\r\nForwarding this one.\r\n"
             "--b2\r\nContent-Type: message/rfc822\r\n\r\n"
             "From: Inner Sender <inner@example.net>\r\n"
             "Subject: Inner subject kumquat\r\n"
             "Date: Sun, 01 Jan 2023 10:00:00 +0000\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
             "Inner body persimmon =C3=A0 la carte\r\n"
             "--b2--\r\n"),
    # 7: case folding: ü, ß, a decomposed é (e + U+0301), ñ
    raw("From: Hans <hans@example.de>", "To: alice@example.org", "Subject: casefold",
        DATE_1994, "Message-ID: <m7@example.com>", "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        body="Herr Müller wohnt in der Straße.\r\nCafe\u0301 au lait, Señor.\r\n"
             "Σίσυφος, ｗｉｄｅｎｅｓｓ\r\n"),
    # 8: addresses with comments and groups, folding, custom fields
    raw("From: <user (comment)@ (comment) domain.org>",
        'To: "Doe, John" <john.doe@example.com>, undisclosed-recipients:;',
        "Cc: Carol <carol@example.net>",
        "Bcc: Secret Person <hidden@example.org>",
        "Subject: Long subject line that is\r\n folded across lines",
        "X-Foo: bar baz", "X-Multi: first", "X-Multi: second value", "X-Empty:",
        "Date: Tue, 03 Jan 2023 00:30:00 +0200", "Message-ID: <m8@example.com>",
        body="qx marks the spot\r\n"),
    # 9: no From, no Subject
    raw("To: someone@example.com", "Date: Mon, 02 Jan 2023 23:30:00 -0800",
        "X-Foo: other", "Message-ID: <m9@example.com>",
        body='no sender here\r\nwe say "hi" in col:umn* NEAR (x)\r\n'),
    # 10: an empty From field, no Date
    raw("From: ", "Subject: empty from", "Message-ID: <m10@example.com>",
        body="body ten\r\n"),
    # 11: an attached message that is itself multipart; a text attachment
    raw("From: Nina <nested@example.com>", "To: alice@example.org", "Subject: nested",
        DATE_1994, "Message-ID: <m11@example.com>", "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="outer"',
        body="--outer\r\nContent-Type: message/rfc822\r\n\r\n"
             "From: Deep <deep@example.net>\r\nSubject: deep inside\r\n"
             'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="inner"\r\n\r\n'
             "--inner\r\nContent-Type: text/plain\r\n\r\ndurian flavour\r\n"
             "--inner\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"rambutan \xff\xfe") +
             "--inner--\r\n"
             "--outer\r\nContent-Type: text/plain; charset=utf-8; name=notes.txt\r\n"
             "Content-Disposition: attachment; filename=notes.txt\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n" + b64("lychee notes ü\r\n".encode()) +
             "--outer\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
             "a wombat in an unknown charset\r\n"
             "--outer--\r\n"),
]
ALL = list(range(1, len(MESSAGES) + 1))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("searchtext")).start()
    c = Imap(s.imap_port)
    c.append_ok("INBOX", message("dummy"), flags="\\Deleted")
    for data in MESSAGES:
        c.append_ok("INBOX", data)
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


def lit(text, charset="utf-8"):
    """A LITERAL+ literal of text in charset, for inline use in cmd()."""
    data = text.encode(charset)
    return b"{%d+}\r\n" % len(data) + data


def quoted(needle):
    """A quoted string for ASCII needles; others are sent as literals."""
    if not needle.isascii():
        return needle
    return '"' + needle.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search(c, *parts, uid=False):
    """SEARCH with parts joined by spaces: str as written, (text, charset)
    tuples or non-ASCII str as literals."""
    out = []
    for p in parts:
        if isinstance(p, tuple):
            out.append(lit(*p))
        elif isinstance(p, str) and not p.isascii():
            out.append(lit(p))
        else:
            out.append(p.encode() if isinstance(p, str) else p)
    return search_result(c.ok((b"UID SEARCH " if uid else b"SEARCH ") + b" ".join(out)))


@pytest.mark.parametrize("key,needle,expected", [
    # RFC 2047: decoded, a needle across two adjacent encoded words
    ("SUBJECT", "Grüße aus Berlin", [1]),
    ("SUBJECT", "grüße", [1]),
    ("SUBJECT", "=?utf-8?q?", []),
    ("FROM", "Jörg Müller", [1]),
    ("FROM", "JÖRG", [1]),
    ("TO", "émile", [1]),
    ("HEADER X-Split", "münchen", [1]),
    ("HEADER X-Fold", "kohlrabi", [1]),
    ("HEADER Subject", "grüße", [1]),
    ("HEADER To", "émile", [1]),
    # quoted-printable, with a soft line break
    ("BODY", "café crème", [2]),
    ("BODY", "BRÛLÉE", [2]),
    ("BODY", "softbreak", [2]),
    ("BODY", "caf=c3", []),
    # base64, ISO-8859-1
    ("BODY", "größenwahn", [3]),
    ("BODY", "MÜNCHEN", [3]),
    ("TEXT", "münchen", [1, 3]),
    ("BODY", b64(LATIN1_BODY)[:12], []),
    # KOI8-R
    ("BODY", "привет", [4]),
    ("BODY", "МИР", [4]),
    ("BODY", "ёлка", [4]),
    # a binary attachment is not text; HTML is searched as source
    ("BODY", "zanzibar", []),
    ("TEXT", "zanzibar", []),
    ("BODY", "attached file", [5]),
    ("BODY", "<b>world</b>", [5]),
    ("BODY", "&amp; friends", [5]),
    # an attached message: its header fields and text are body text
    ("BODY", "kumquat", [6]),
    ("BODY", "inner@example.net", [6]),
    ("BODY", "persimmon", [6]),
    ("BODY", "à la carte", [6]),
    ("TEXT", "persimmon", [6]),
    ("SUBJECT", "kumquat", []),
    ("FROM", "inner", []),
    ("BODY", "durian", [11]),
    ("BODY", "deep inside", [11]),
    ("BODY", "rambutan", []),
    ("BODY", "lychee notes ü", [11]),
    ("BODY", "wombat", [11]),
    # i;unicode-casemap
    ("BODY", "MÜLLER", [7]),
    ("BODY", "müller", [7]),
    ("TEXT", "MÜLLER", [1, 7]),
    ("FROM", "müller", [1]),
    ("BODY", "STRASSE", []),
    ("BODY", "straße", [7]),
    ("BODY", "STRAßE", [7]),
    ("BODY", "café au", [7]),
    ("BODY", "cafe\u0301", [2, 7]),
    ("BODY", "CAFE\u0301 AU", [7]),
    ("BODY", "ΣΊΣΥΦΟΣ", [7]),
    ("BODY", "σίσυφοσ", [7]),
    ("BODY", "wideness", [7]),
    ("BODY", "Straße.\r\nCafé", [7]),
    # one- and two-character needles
    ("BODY", "Ñ", [7]),
    ("BODY", "ü", [3, 7, 11]),
    ("TEXT", "ü", [1, 3, 7, 11]),
    ("BODY", "é", [2, 7]),
    ("BODY", "qx", [8]),
    ("BODY", "QX", [8]),
    ("SUBJECT", "6", [3]),
    ("SUBJECT", "qp", [2]),
    ("FROM", "ö", [1]),
    ("FROM", "jö", [1]),
    ("SUBJECT", "ü", [1]),
    ("BODY", "ß", [3, 7]),
    # addresses in normalised form
    ("FROM", "user@domain.org", [8]),
    ("FROM", "comment", []),
    ("TO", "doe, john", [8]),
    ("TO", "john.doe@example.com", [8]),
    ("TO", "undisclosed-recipients", [8]),
    ("CC", "carol", [8]),
    ("CC", "carol@example.net", [8]),
    ("BCC", "hidden", [8]),
    ("BCC", "secret person", [8]),
    ("TEXT", "hidden@example.org", [8]),
    # unfolded values; fields by name, any instance
    ("SUBJECT", "that is folded", [8]),
    ("HEADER X-Foo", "baz", [8]),
    ("HEADER x-foo", "BAR", [8]),
    ("HEADER X-FOO", "other", [9]),
    ("HEADER X-Multi", "second", [8]),
    ("HEADER X-Multi", "first", [8]),
    ("HEADER X-Multi", "third", []),
    ("HEADER Foo", "", []),
    ("HEADER X-Fo", "", []),
    ("HEADER Foo", "bar", []),
    ("HEADER X-Foo", "X-Multi", []),
    ("TEXT", "x-multi", [8]),
    ("BODY", 'say "hi"', [9]),
    ("BODY", "col:umn* NEAR", [9]),
    ("HEADER Subject", "kumquat", []),
    # empty needles: the field exists / every message
    ("HEADER X-Foo", "", [8, 9]),
    ("HEADER X-Empty", "", [8]),
    ("HEADER X-Nothing", "", []),
    ("FROM", "", [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]),
    ("SUBJECT", "", [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]),
    ("CC", "", [8]),
    ("BCC", "", [8]),
    ("BODY", "", ALL),
    ("TEXT", "", ALL),
])
def test_text_keys(c, key, needle, expected):
    assert search(c, key, quoted(needle)) == expected


def test_text_keys_uid_and_logic(c):
    assert search(c, "BODY", "zebra") == []
    assert search(c, "BODY", "persimmon", uid=True) == [7]
    assert search(c, "UID", "2:5", "BODY", '"here"', uid=True) == [3]
    assert search(c, "OR", "BODY", "zanzibar", "BODY", "kumquat") == [6]
    assert search(c, "NOT", "BODY", "müller") == [i for i in ALL if i != 7]
    assert search(c, "TEXT", "müller", "NOT", "FROM", "jörg") == [7]
    assert search(c, "1:5", "TEXT", "ü") == [1, 3]
    assert search(c, "HEADER", "X-Foo", '""', "NOT", "HEADER", "X-Foo", "baz") == [9]
    assert search(c, "BODY", "café", "BODY", "lait") == [7]
    line = b"SEARCH (BODY " + lit("café") + b") (OR BODY zanzibar (BODY " + lit("brûlée") + b"))"
    assert search_result(c.ok(line)) == [2]


def test_search_charset_conversion(c):
    """CHARSET converts the needles (RFC 9051 §6.4.4)."""
    assert search(c, "CHARSET", "ISO-8859-1", "BODY", ("münchen", "iso-8859-1")) == [3]
    assert search(c, "CHARSET", "iso-8859-1", "FROM", ("JÖRG", "iso-8859-1")) == [1]
    assert search(c, "CHARSET", "KOI8-R", "BODY", ("мир", "koi8-r")) == [4]
    assert search(c, "CHARSET", "UTF-8", "BODY", "мир") == [4]
    assert search(c, "CHARSET", "US-ASCII", "BODY", "softbreak") == [2]


def test_search_badcharset(c):
    """RFC 9051 §6.4.4: NO with BADCHARSET, which may list the supported
    charsets."""
    _, tagged = c.cmd("SEARCH CHARSET X-UNKNOWN BODY foo")
    assert tagged.startswith(b"NO [BADCHARSET"), tagged
    m = re.match(rb"NO \[BADCHARSET(?: \(([^)]*)\))?\]", tagged)
    assert m, tagged
    if m.group(1):
        assert b"UTF-8" in m.group(1).upper().split()
    _, tagged = c.cmd("UID SEARCH CHARSET X-UNKNOWN ALL")
    assert tagged.startswith(b"NO [BADCHARSET"), tagged


@pytest.mark.parametrize("criteria,expected", [
    # the day of the Date: field as written, its zone ignored
    ("SENTON 03-Jan-2023", [8]),
    ("SENTON 02-Jan-2023", [9]),
    ("SENTSINCE 02-Jan-2023", [8, 9]),
    ("SENTSINCE 03-Jan-2023", [8]),
    ("SENTBEFORE 03-Jan-2023 SENTSINCE 01-Jan-2000", [9]),
    # (1:9: message 10 has no Date field)
    ("1:9 SENTBEFORE 03-Jan-2023", [1, 2, 3, 4, 5, 6, 7, 9]),
    ("SENTON 07-Feb-1994", [1, 2, 3, 4, 5, 6, 7, 11]),
    ("SENTON 08-Feb-1994", []),
    ("SENTSINCE 04-Jan-2023", []),
])
def test_sent_dates(c, criteria, expected):
    assert search(c, criteria) == expected


# --- state-changing tests, each on its own server ---------------------------------

def test_maildir_delivery_indexed_on_next_search(ternd):
    """Messages another program puts in the Maildir were never indexed at
    save time: the next search indexes them."""
    a = Imap(ternd.imap_port)
    a.append_ok("INBOX", message("appended", body="nothing special\r\n"))
    a.select()
    assert search(a, "BODY", "xylophone") == []
    lf = (b"From: MDA <mda@example.com>\nTo: alice@example.org\nSubject: delivered\n"
          b"Date: Wed, 04 Jan 2023 12:00:00 +0000\nMIME-Version: 1.0\n"
          b"Content-Type: text/plain; charset=utf-8\n"
          b"Content-Transfer-Encoding: quoted-printable\n\n"
          b"a xylo=\nphone for Gr=C3=BC=C3=9Fen\n")
    maildir_deliver(maildir(ternd), lf)
    assert b"* 2 EXISTS" in a.ok("NOOP")
    assert search(a, "BODY", "xylophone") == [2]
    assert search(a, "BODY", "GRÜSSEN") == []
    assert search(a, "BODY", "grüßen") == [2]
    assert search(a, "FROM", "mda@example.com") == [2]
    assert search(a, "SENTON", "04-Jan-2023") == [2]
    # delivered while no session has the mailbox open, into cur/ too
    a.logout()
    maildir_deliver(maildir(ternd), raw("From: x@example.com", "Subject: saxophone",
                                        body="brass\r\n"), subdir="cur", info=":2,S")
    maildir_deliver(maildir(ternd), raw("From: y@example.com", "Subject: oboe",
                                        body="woodwind saxophone\r\n"))
    b = Imap(ternd.imap_port)
    assert select_info(b.select())["EXISTS"] == 4
    # the two files may come in either order
    oboe = [s for s, items in b.fetch("3:4 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").items()
            if b"oboe" in items["BODY[HEADER.FIELDS (SUBJECT)]"]]
    assert len(oboe) == 1
    sax = 7 - oboe[0]
    assert search(b, "TEXT", "saxophone") == [3, 4]
    assert search(b, "SUBJECT", "saxophone") == [sax]
    assert search(b, "SEEN", "TEXT", "saxophone") == [sax]
    assert search(b, "BODY", "saxophone") == oboe


def test_maildir_many_deliveries(ternd):
    """More unindexed messages than one indexing batch."""
    a = Imap(ternd.imap_port)
    a.select()  # creates the Maildir
    a.ok("UNSELECT")
    for i in range(150):
        word = "needle" if i % 7 == 0 else "hay"
        maildir_deliver(maildir(ternd), raw(f"From: n{i}@example.com", f"Subject: number {i}",
                                            body=f"{word} {i}\r\n"))
    assert select_info(a.select())["EXISTS"] == 150
    # delivery order is not necessarily the order of the file names: map
    # sequence numbers through the subjects
    subjects = {seq: int(items["BODY[HEADER.FIELDS (SUBJECT)]"].split()[-1])
                for seq, items in a.fetch("1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]").items()}
    expected = sorted(seq for seq, n in subjects.items() if n % 7 == 0)
    assert search(a, "BODY", "needle") == expected
    assert search(a, "FROM", "n140@") == [s for s, n in subjects.items() if n == 140]
    assert search(a, "BODY", "hay") == sorted(set(subjects) - set(expected))


def test_expunged_messages_never_returned(ternd):
    a = Imap(ternd.imap_port)
    for i, word in enumerate(["pelican", "heron", "pelican", "stork"]):
        a.append_ok("INBOX", message(f"bird {i}", body=f"a {word} flies\r\n"))
    a.select()
    assert search(a, "BODY", "pelican") == [1, 3]
    a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    assert search(a, "BODY", "pelican") == [2]
    assert search(a, "BODY", "pelican", uid=True) == [3]
    assert search(a, "TEXT", "bird") == [1, 2, 3]
    # a new message with the same text is found, the old one still not
    uid = a.append_ok("INBOX", message("bird 4", body="another pelican\r\n"))
    assert uid == 5
    a.ok("NOOP")
    assert search(a, "BODY", "pelican", uid=True) == [3, 5]
    # expunged by another session: gone once announced
    b = Imap(ternd.imap_port)
    b.select()
    b.ok("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    assert search(b, "BODY", "pelican", uid=True) == [5]
    a.ok("NOOP")
    assert search(a, "BODY", "pelican", uid=True) == [5]
    assert search(a, "BODY", "pelican") == [3]
    # a file removed from the Maildir by another program
    files = sorted((maildir(ternd) / "cur").iterdir()) + sorted((maildir(ternd) / "new").iterdir())
    victim = [f for f in files if b"stork" in f.read_bytes()]
    assert len(victim) == 1
    victim[0].unlink()
    a.ok("NOOP")
    assert search(a, "BODY", "stork") == []
    assert search(a, "TEXT", "bird", uid=True) == [2, 5]


def test_expunge_all_then_append(ternd):
    a = Imap(ternd.imap_port)
    for i in range(3):
        a.append_ok("INBOX", message(f"gone {i}", body="ephemeral words\r\n"))
    a.select()
    a.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    assert search(a, "BODY", "ephemeral") == []
    assert search(a, "BODY", '""') == []
    a.append_ok("INBOX", message("back", body="ephemeral again\r\n"))
    a.ok("NOOP")
    assert search(a, "BODY", "ephemeral", uid=True) == [4]
    assert search(a, "BODY", "again") == [1]


def test_copy_move_rename_delete(ternd):
    a = Imap(ternd.imap_port)
    a.ok("CREATE Birds")
    a.ok("CREATE Other")
    a.append_ok("INBOX", message("one", body="albatross and gull\r\n"))
    a.append_ok("INBOX", message("two", body="only a gull\r\n"))
    a.select()
    assert search(a, "BODY", "albatross") == [1]
    a.ok("COPY 1 Birds")
    a.ok("MOVE 2 Birds")
    assert search(a, "BODY", "gull") == [1]
    a.select("Birds")
    assert search(a, "BODY", "gull") == [1, 2]
    assert search(a, "BODY", "albatross") == [1]
    a.ok("UNSELECT")
    a.ok("RENAME Birds Seabirds")
    a.select("Seabirds")
    assert search(a, "BODY", "gull") == [1, 2]
    a.ok("UNSELECT")
    # a deleted and recreated mailbox has none of the old texts
    a.ok("DELETE Seabirds")
    a.ok("CREATE Seabirds")
    a.append_ok("Seabirds", message("three", body="a puffin\r\n"))
    a.select("Seabirds")
    assert search(a, "BODY", "gull") == []
    assert search(a, "BODY", "puffin") == [1]
    assert search(a, "BODY", '""') == [1]
    a.select("Other")
    assert search(a, "BODY", '""') == []


def test_index_survives_restart(ternd):
    a = Imap(ternd.imap_port)
    a.append_ok("INBOX", message("before", body="persistent marmot\r\n"))
    a.append_ok("INBOX", message("München", body="Größe zählt\r\n",
                                 sender="=?utf-8?q?Z=C3=BCrich?= <z@example.ch>"))
    a.select()
    assert search(a, "BODY", "marmot") == [1]
    assert search(a, "BODY", "GRÖSSE") == []
    a.logout()
    close_sessions()
    ternd.stop()
    # delivered while the server is down
    maildir_deliver(maildir(ternd), raw("From: late@example.com", "Subject: late",
                                        body="late marmot\r\n"))
    ternd.start()
    b = Imap(ternd.imap_port)
    b.select()
    assert search(b, "BODY", "marmot") == [1, 3]
    assert search(b, "BODY", "größe") == [2]
    assert search(b, "FROM", "zürich") == [2]
    assert search(b, "SUBJECT", "münchen") == [2]
    b.append_ok("INBOX", message("after", body="new marmot\r\n"))
    b.ok("NOOP")
    assert search(b, "BODY", "marmot") == [1, 3, 4]
    assert search(b, "BODY", '"new marmot"') == [4]


def test_index_text_at_save_off_indexes_on_first_search(tmp_path):
    """mail.index_text_at_save = no: APPEND and LMTP leave the full-text
    index alone (no document rows), and the first text search indexes
    what arrived (a save with the setting on never moves the indexed
    watermark across such a gap: test-mail-search.c)."""
    import smtplib
    import sqlite3
    from mailutil import mail_home
    srv = Ternd(tmp_path / "off", config_extra="mail.index_text_at_save = no\n",
                lmtp=True).start()
    try:
        a = Imap(srv.imap_port)
        a.append_ok("INBOX", message("one", body="a marimba here\r\n"))
        a.append_ok("INBOX", message("two", body="nothing\r\n"))
        with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as lmtp:
            lmtp.sendmail("bob@example.com", ["alice@example.org"],
                          message("three", body="more marimba\r\n"))
        db = sqlite3.connect(mail_home(srv) / "tern-index.db")
        assert db.execute("SELECT count(*) FROM message_search").fetchone()[0] == 0
        a.select()
        assert search(a, "BODY", "marimba") == [1, 3]
        assert search(a, "SUBJECT", "two") == [2]
        assert db.execute("SELECT count(*) FROM message_search").fetchone()[0] == 3
        db.close()
    finally:
        close_sessions()
        srv.stop()
