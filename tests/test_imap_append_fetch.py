"""APPEND (RFC 9051 §6.3.12, UIDPLUS RFC 4315, LITERAL+ RFC 7888) and
FETCH / UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2) against a running
ternd: flags and internal dates, literals, APPENDUID and TRYCREATE, large
and bare-LF messages, every body section with partial ranges, the RFC822
forms and FAST, sequence sets, and implicit \\Seen."""
import datetime
import re
import time

import pytest

from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import Imap, code, message, select_info

DATE_TIME = re.compile(r"^( \d|\d\d)-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}$")

MSG = (b"From: Bob Example <bob@example.com>\r\n"
       b"To: Alice <alice@example.org>\r\n"
       b"Subject: Fetch me\r\n"
       b"X-Folded: first part\r\n"
       b"\tsecond part\r\n"
       b"Date: Mon, 07 Feb 1994 21:52:25 -0800\r\n"
       b"\r\n"
       b"Line one of the body.\r\n"
       b"Line two of the body.\r\n")
HEADER, TEXT = MSG.split(b"\r\n\r\n", 1)
HEADER += b"\r\n\r\n"


def parse_internaldate(value):
    text = value.decode() if isinstance(value, bytes) else value
    assert DATE_TIME.match(text), text
    return datetime.datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")


@pytest.fixture
def one(ternd):
    """A rev2 session (no \\Recent noise) with MSG as UID 1 of INBOX,
    selected."""
    c = Imap(ternd.imap_port, rev2=True)
    assert c.append_ok("INBOX", MSG) == 1
    c.select()
    return c


# --- APPEND -------------------------------------------------------------------

def test_append_synchronizing_literal(ternd):
    c = Imap(ternd.imap_port)
    data = message("sync")
    tag = c.next_tag()
    c.send(f"{tag} APPEND INBOX {{{len(data)}}}\r\n")
    assert c.readline().startswith(b"+")  # RFC 9051 §7.5: continuation
    c.send(data + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    m = re.match(rb"t\d+ OK \[APPENDUID (\d+) 1\]", tagged)
    assert m, tagged
    info = select_info(c.select())
    assert info["UIDVALIDITY"] == int(m.group(1))
    assert info["EXISTS"] == 1 and info["UIDNEXT"] == 2
    res = c.fetch("1 (RFC822.SIZE BODY.PEEK[])")
    assert res[1]["RFC822.SIZE"] == str(len(data))
    assert res[1]["BODY[]"] == data


def test_append_literal_plus_needs_no_continuation(ternd):
    c = Imap(ternd.imap_port)
    data = message("plus")
    tag = c.next_tag()
    c.send(f"{tag} APPEND INBOX {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert not any(u.startswith(b"+") for u in untagged), untagged
    assert tagged.startswith(tag.encode() + b" OK [APPENDUID "), tagged


def test_append_uids_increase(ternd):
    c = Imap(ternd.imap_port)
    uids = [c.append_ok("INBOX", message(f"m{i}")) for i in range(4)]
    assert uids == [1, 2, 3, 4]
    c.ok("CREATE Other")
    assert c.append_ok("Other", message("o")) == 1


def test_append_flags_and_internal_date(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.append_ok("INBOX", message("flags"), flags="\\Seen \\Flagged $Label1",
                date="14-Jul-2023 09:08:07 +0200")
    c.append_ok("INBOX", message("day"), date=" 4-Jul-2023 23:59:59 -0700")
    info = select_info(c.select())
    assert "$Label1" in info["FLAGS"]
    res = c.fetch("1:2 (FLAGS INTERNALDATE)")
    assert sorted(res[1]["FLAGS"]) == ["$Label1", "\\Flagged", "\\Seen"]
    assert res[2]["FLAGS"] == []
    d1 = parse_internaldate(res[1]["INTERNALDATE"])
    assert d1 == datetime.datetime(2023, 7, 14, 9, 8, 7,
                                   tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    d2 = parse_internaldate(res[2]["INTERNALDATE"])
    assert d2 == datetime.datetime(2023, 7, 4, 23, 59, 59,
                                   tzinfo=datetime.timezone(datetime.timedelta(hours=-7)))
    # Tern stores the zone the client gave (mail_record.internal_date_tz)
    # and answers in it
    assert res[1]["INTERNALDATE"] == b"14-Jul-2023 09:08:07 +0200"


def test_append_without_date_uses_now(ternd):
    c = Imap(ternd.imap_port)
    before = datetime.datetime.now(datetime.timezone.utc)
    c.append_ok("INBOX", message("now"))
    c.select()
    d = parse_internaldate(c.fetch("1 INTERNALDATE")[1]["INTERNALDATE"])
    assert abs((d - before).total_seconds()) < 120


def test_append_mailbox_name_as_literal(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Target")
    data = message("literal name")
    c.send("a1 APPEND {6}\r\n")
    assert c.readline().startswith(b"+")
    c.send(f"Target (\\Draft) {{{len(data)}}}\r\n")
    assert c.readline().startswith(b"+")
    c.send(data + b"\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged.startswith(b"a1 OK [APPENDUID "), tagged
    c.select("Target")
    res = c.fetch("1 (FLAGS BODY.PEEK[])")
    assert "\\Draft" in res[1]["FLAGS"] and res[1]["BODY[]"] == data


def test_append_trycreate(ternd):
    """RFC 9051 §6.3.12: a missing mailbox is not created; NO [TRYCREATE]."""
    c = Imap(ternd.imap_port)
    data = message("nowhere")
    # synchronizing: refused before the literal is sent
    tag = c.next_tag()
    c.send(f"{tag} APPEND Nowhere {{{len(data)}}}\r\n")
    line = c.readline()
    assert line.startswith(tag.encode() + b" NO [TRYCREATE]"), line
    # LITERAL+: the literal is read and dropped, then NO [TRYCREATE]
    _, tagged = c.append("Nowhere", data)
    assert tagged.startswith(b"NO [TRYCREATE]"), tagged
    assert c.cmd("NOOP")[1].startswith(b"OK")
    _, tagged = c.cmd("STATUS Nowhere (MESSAGES)")
    assert tagged.startswith(b"NO [NONEXISTENT]")


def test_append_syntax_errors(ternd):
    c = Imap(ternd.imap_port)
    data = message("bad")
    for args in ('INBOX "not a date"', 'INBOX "1-Jan-2023 10:00:00"',
                 'INBOX (\\Seen) (\\Draft)'):
        tag = c.next_tag()
        c.send(f"{tag} APPEND {args} {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
        _, tagged = c.read_until_tagged(tag)
        assert tagged.startswith(tag.encode() + b" BAD"), (args, tagged)
    _, tagged = c.cmd("APPEND INBOX")
    assert tagged.startswith(b"BAD"), tagged
    assert c.cmd("STATUS INBOX (MESSAGES)")[0] == [b"* STATUS INBOX (MESSAGES 0)"]


def test_append_to_selected_mailbox_reports_exists(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.select()
    untagged, tagged = c.append("INBOX", message("hello"))
    assert tagged.startswith(b"OK [APPENDUID")
    assert b"* 1 EXISTS" in untagged


def test_append_5mb_message(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-=+!\r\n"
    body = line * (5 * 1024 * 1024 // len(line) + 1)
    data = message("big", body=body)
    assert len(data) > 5 * 1024 * 1024
    c.append_ok("INBOX", data)
    c.select()
    res = c.fetch("1 (RFC822.SIZE BODY.PEEK[]<4000000.100>)")
    assert res[1]["RFC822.SIZE"] == str(len(data))
    assert res[1]["BODY[]<4000000>"] == data[4000000:4000100]
    res = c.fetch("1 BODY.PEEK[]")
    assert res[1]["BODY[]"] == data


def test_append_bare_lf_message_is_served_as_crlf(ternd):
    """RFC 9051 §2.3.4/§6.4.5: sizes and content are those of the CRLF
    form, whatever line ends were stored."""
    c = Imap(ternd.imap_port, rev2=True)
    lf = b"From: lf@example.com\nSubject: bare LF\n\nline one\nline two\n"
    crlf = lf.replace(b"\n", b"\r\n")
    _, tagged = c.append("INBOX", lf)
    assert tagged.startswith(b"OK [APPENDUID"), tagged
    c.select()
    res = c.fetch("1 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
    assert res[1]["RFC822.SIZE"] == str(len(crlf))
    assert res[1]["BODY[]"] == crlf
    assert res[1]["BODY[HEADER]"] == b"From: lf@example.com\r\nSubject: bare LF\r\n\r\n"
    assert res[1]["BODY[TEXT]"] == b"line one\r\nline two\r\n"
    # partial ranges count CRLF octets
    res = c.fetch("1 (BODY.PEEK[]<20.10> BODY.PEEK[TEXT]<8.4>)")
    assert res[1]["BODY[]<20>"] == crlf[20:30]
    assert res[1]["BODY[TEXT]<8>"] == b"line one\r\nline two\r\n"[8:12]
    untagged = c.ok("STATUS INBOX (SIZE)")
    assert untagged == [f"* STATUS INBOX (SIZE {len(crlf)})".encode()]


# --- FETCH --------------------------------------------------------------------

def test_fetch_metadata(one):
    res = one.fetch("1 (FLAGS UID INTERNALDATE RFC822.SIZE)")
    assert set(res[1]) == {"FLAGS", "UID", "INTERNALDATE", "RFC822.SIZE"}
    assert res[1]["FLAGS"] == [] and res[1]["UID"] == "1"
    assert res[1]["RFC822.SIZE"] == str(len(MSG))
    parse_internaldate(res[1]["INTERNALDATE"])


def test_fetch_fast_macro(one):
    res = one.fetch("1 FAST")
    assert set(res[1]) == {"FLAGS", "INTERNALDATE", "RFC822.SIZE"}


def test_fetch_body_sections(one):
    res = one.fetch("1 (BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
    assert res[1]["BODY[]"] == MSG
    assert res[1]["BODY[HEADER]"] == HEADER
    assert res[1]["BODY[TEXT]"] == TEXT


def test_fetch_header_fields(one):
    res = one.fetch("1 BODY.PEEK[HEADER.FIELDS (From Subject)]")
    assert list(res[1]) == ["BODY[HEADER.FIELDS (FROM SUBJECT)]"]
    assert res[1]["BODY[HEADER.FIELDS (FROM SUBJECT)]"] == (
        b"From: Bob Example <bob@example.com>\r\nSubject: Fetch me\r\n\r\n")
    # field names are case-insensitive; folded fields come whole
    res = one.fetch("1 BODY.PEEK[HEADER.FIELDS (x-folded)]")
    assert res[1]["BODY[HEADER.FIELDS (X-FOLDED)]"] == (
        b"X-Folded: first part\r\n\tsecond part\r\n\r\n")
    # a field that isn't there: just the empty line
    res = one.fetch("1 BODY.PEEK[HEADER.FIELDS (X-Missing)]")
    assert res[1]["BODY[HEADER.FIELDS (X-MISSING)]"] == b"\r\n"
    res = one.fetch("1 BODY.PEEK[HEADER.FIELDS.NOT (From Subject X-Folded)]")
    assert res[1]["BODY[HEADER.FIELDS.NOT (FROM SUBJECT X-FOLDED)]"] == (
        b"To: Alice <alice@example.org>\r\nDate: Mon, 07 Feb 1994 21:52:25 -0800\r\n\r\n")


def test_fetch_partial(one):
    res = one.fetch("1 (BODY.PEEK[]<0.10> BODY.PEEK[]<10.20> BODY.PEEK[TEXT]<5.1000>)")
    assert res[1]["BODY[]<0>"] == MSG[:10]
    assert res[1]["BODY[]<10>"] == MSG[10:30]
    assert res[1]["BODY[TEXT]<5>"] == TEXT[5:]  # truncated at the end
    # RFC 9051 §6.4.5: an origin beyond the end gives an empty string
    res = one.fetch("1 (BODY.PEEK[]<100000.10> BODY.PEEK[HEADER]<5.7>)")
    assert res[1]["BODY[]<100000>"] == b""
    assert res[1]["BODY[HEADER]<5>"] == HEADER[5:12]
    res = one.fetch("1 BODY.PEEK[HEADER.FIELDS (Subject)]<9.4>")
    assert res[1]["BODY[HEADER.FIELDS (SUBJECT)]<9>"] == b"Subject: Fetch me\r\n\r\n"[9:13]


def test_fetch_rfc822_forms(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    for i in range(3):
        c.append_ok("INBOX", MSG)
    c.select()
    res = c.fetch("1 RFC822.HEADER")
    assert res[1]["RFC822.HEADER"] == HEADER
    # RFC822.HEADER is like BODY.PEEK[HEADER]: no \Seen
    assert c.fetch("1 FLAGS")[1]["FLAGS"] == []
    res = c.fetch("2 RFC822.TEXT")
    assert res[2]["RFC822.TEXT"] == TEXT
    assert res[2]["FLAGS"] == ["\\Seen"]
    res = c.fetch("3 RFC822")
    assert res[3]["RFC822"] == MSG
    assert res[3]["FLAGS"] == ["\\Seen"]


def test_fetch_body_sets_seen_peek_does_not(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.append_ok("INBOX", MSG)
    c.append_ok("INBOX", MSG)
    c.select()
    res = c.fetch("1 BODY.PEEK[]")
    assert "FLAGS" not in res[1]
    assert c.fetch("1 FLAGS")[1]["FLAGS"] == []
    # RFC 9051 §6.4.5: BODY[] sets \Seen; the change is reported in the
    # same response (§7.5.2) as FLAGS
    res = c.fetch("2 BODY[TEXT]")
    assert res[2]["BODY[TEXT]"] == TEXT
    assert res[2]["FLAGS"] == ["\\Seen"]
    assert c.fetch("1:2 FLAGS") == {1: {"FLAGS": []}, 2: {"FLAGS": ["\\Seen"]}}
    untagged = c.ok("STATUS INBOX (UNSEEN)")
    assert untagged == [b"* STATUS INBOX (UNSEEN 1)"]


def test_examine_fetch_does_not_set_seen(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.append_ok("INBOX", MSG)
    c.select(examine=True)
    res = c.fetch("1 BODY[]")
    assert res[1]["BODY[]"] == MSG
    assert "\\Seen" not in res[1].get("FLAGS", [])
    assert c.fetch("1 FLAGS")[1]["FLAGS"] == []
    other = Imap(ternd.imap_port, rev2=True)
    assert other.ok("STATUS INBOX (UNSEEN)") == [b"* STATUS INBOX (UNSEEN 1)"]


def test_fetch_sequence_sets(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    for i in range(5):
        c.append_ok("INBOX", message(f"m{i}"))
    c.select()
    c.ok("STORE 2 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")  # UIDs are now 1 3 4 5 at sequence numbers 1-4
    assert c.fetch("1:* UID") == {1: {"UID": "1"}, 2: {"UID": "3"}, 3: {"UID": "4"},
                                  4: {"UID": "5"}}
    assert list(c.fetch("* UID")) == [4]
    assert sorted(c.fetch("3:* UID")) == [3, 4]
    assert sorted(c.fetch("*:3 UID")) == [3, 4]
    assert sorted(c.fetch("1,3 UID")) == [1, 3]
    assert sorted(c.fetch("1:2,4 UID")) == [1, 2, 4]
    # sequence numbers beyond the mailbox are an error (RFC 9051 §6.4.5)
    _, tagged = c.cmd("FETCH 5 UID")
    assert tagged.startswith(b"BAD"), tagged
    _, tagged = c.cmd("FETCH 0 UID")
    assert tagged.startswith(b"BAD"), tagged


def test_uid_fetch(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    for i in range(4):
        c.append_ok("INBOX", message(f"m{i}"))
    c.select()
    c.ok("STORE 1 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")  # UIDs 2 3 4 at 1-3
    # RFC 9051 §6.4.9: UID FETCH always includes UID
    res = c.fetch("2:3 FLAGS", uid=True)
    assert res == {1: {"UID": "2", "FLAGS": []}, 2: {"UID": "3", "FLAGS": []}}
    res = c.fetch("3 (UID RFC822.SIZE)", uid=True)
    assert list(res) == [2] and res[2]["UID"] == "3"
    # a UID that doesn't exist is no error, just no data
    untagged, tagged = c.cmd("UID FETCH 1 FLAGS")
    assert tagged.startswith(b"OK") and not [u for u in untagged if b"FETCH" in u]
    # n:* includes the highest UID even when n is larger (RFC 9051 §6.4.9)
    res = c.fetch("100:* FLAGS", uid=True)
    assert res == {3: {"UID": "4", "FLAGS": []}}
    res = c.fetch("* FLAGS", uid=True)
    assert res == {3: {"UID": "4", "FLAGS": []}}
    res = c.fetch("1:2,4 BODY.PEEK[HEADER.FIELDS (SUBJECT)]", uid=True)
    assert res[1]["UID"] == "2" and res[3]["UID"] == "4"
    assert res[3]["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: m3\r\n\r\n"


def test_fetch_syntax_errors(one):
    for line in ("FETCH 1", "FETCH 1 (", "FETCH 1 BOGUS", "FETCH 1 (FLAGS BOGUS)",
                 "FETCH x FLAGS", "FETCH 1 BODY[BOGUS]", "FETCH 1 BODY[]<5>",
                 "FETCH 1 BODY[]<1.0>", "FETCH 1 BODY[HEADER.FIELDS ()]"):
        _, tagged = one.cmd(line)
        assert tagged.startswith(b"BAD"), (line, tagged)
    assert one.cmd("NOOP")[1].startswith(b"OK")


def test_fetch_many_messages_streams(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    body = b"x" * 200000 + b"\r\n"
    for i in range(5):
        c.append_ok("INBOX", message(f"big{i}", body=body))
    c.select()
    t0 = time.monotonic()
    res = c.fetch("1:* (UID BODY.PEEK[])")
    assert sorted(res) == [1, 2, 3, 4, 5]
    for seq, items in res.items():
        assert items["BODY[]"] == message(f"big{seq - 1}", body=body)
    assert time.monotonic() - t0 < 10
    assert code(c.cmd("NOOP")[1]) is None


def test_fetch_savedate(ternd):
    """SAVEDATE (RFC 8514): advertised; FETCH SAVEDATE gives when the
    message was saved (not its internal date), in UTC; copies get their
    own; the SAVED* search keys agree with it."""
    import datetime
    c = Imap(ternd.imap_port)
    assert b"SAVEDATE" in c.ok("CAPABILITY")[0]
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    c.append_ok("INBOX", message("saved"), date="01-Jan-2001 10:00:00 +0200")
    c.select()
    resp = c.ok("FETCH 1 (INTERNALDATE SAVEDATE)")[0]
    m = re.search(rb'SAVEDATE "([^"]+)"', resp)
    assert m, resp
    saved = datetime.datetime.strptime(m.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    assert m.group(1).endswith(b"+0000")
    assert before - datetime.timedelta(seconds=2) <= saved <= \
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
    assert b'INTERNALDATE " 1-Jan-2001 10:00:00 +0200"' in resp
    day = saved.strftime("%d-%b-%Y")
    assert c.ok(f"SEARCH SAVEDON {day}")[0].split()[2:] == [b"1"]
    assert c.ok("SEARCH SAVEDBEFORE 01-Jan-2001")[0] == b"* SEARCH"
    assert c.ok("UID FETCH 1 (SAVEDATE)")[0].startswith(b"* 1 FETCH (UID 1 SAVEDATE ")


def test_appendlimit(ternd_factory):
    """APPENDLIMIT (RFC 7889): the capability and STATUS (APPENDLIMIT) give
    imap.max_literal_size, the largest APPEND accepted; a larger one is
    NO [TOOBIG]."""
    srv = ternd_factory(config_extra="imap.max_literal_size = 2k\n").start()
    c = Imap(srv.imap_port, login=False)
    assert b"APPENDLIMIT=2048" in c.ok("CAPABILITY")[0]
    c.ok("LOGIN alice secret")
    assert b"APPENDLIMIT=2048" in c.ok("CAPABILITY")[0]
    assert c.ok("STATUS INBOX (MESSAGES APPENDLIMIT)")[0] == \
        b"* STATUS INBOX (MESSAGES 0 APPENDLIMIT 2048)"
    lst = c.ok('LIST "" "INBOX" RETURN (STATUS (APPENDLIMIT))')
    assert b"* STATUS INBOX (APPENDLIMIT 2048)" in lst
    big = message("big", body="x" * 3000 + "\r\n")
    _, tagged = c.append("INBOX", big, sync=True)
    assert tagged.startswith(b"NO [TOOBIG]"), tagged
    c.append_ok("INBOX", message("small"))
