"""CATENATE (RFC 4469) in APPEND and MULTIAPPEND: TEXT literals and URL
parts (RFC 5092 URLs, relative ones against the selected mailbox, with
SECTION and PARTIAL) streamed into the new message; BADURL and TOOBIG, a
failing part failing the whole command; literal8 TEXT parts (RFC 3516);
UTF8 append data (RFC 6855 §4). Raw-socket tests with exact replies."""
import re

import pytest

from imaputil import login, read_responses, send

BASE = (b"From: a@example.com\r\nSubject: base\r\n"
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
        b"pre\r\n--x\r\nContent-Type: text/plain\r\n\r\npart one\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\npart two\r\n--x--\r\n")





def append(c, box, data):
    _, tagged = send(c, "ap", b"APPEND %s {%d+}\r\n%s\r\n" % (box.encode(), len(data), data))
    m = re.match(rb"ap OK \[APPENDUID (\d+) (\d+)\]", tagged)
    assert m, tagged
    return int(m.group(1)), int(m.group(2))


def body(c, box, uid):
    send(c, "ex", b"EXAMINE %s\r\n" % box.encode())
    untagged, tagged = send(c, "fe", b"UID FETCH %d BODY.PEEK[]\r\n" % uid)
    assert tagged.startswith(b"fe OK"), tagged
    data = untagged[0]
    return data[data.index(b"}\r\n") + 3:data.rindex(b")")]


def messages(c, box):
    untagged, _ = send(c, "st", b"STATUS %s (MESSAGES)\r\n" % box.encode())
    return int(re.search(rb"MESSAGES (\d+)", untagged[0]).group(1))


@pytest.fixture
def srv(ternd_factory):
    return ternd_factory(users={"alice": "secret", "bob": "secret"},
                         config_extra="imap {\n  urlauth_hosts = mail.example.com\n}\n").start()


def test_capability(srv):
    c = login(srv)
    caps = send(c, "c", b"CAPABILITY\r\n")[0][0].split()
    assert b"CATENATE" in caps and b"URL-PARTIAL" in caps


def test_text_and_url_parts(srv):
    c = login(srv)
    uv, uid = append(c, "INBOX", BASE)
    send(c, "cr", b"CREATE Dst\r\n")
    send(c, "se", b"SELECT INBOX\r\n")
    # absolute path, relative to the selected mailbox, a header field
    # section, a MIME part and a whole message
    _, tagged = send(c, "a", b'APPEND Dst (\\Seen) CATENATE (TEXT {10+}\r\nSubject: n'
                     b' URL "/INBOX;UIDVALIDITY=%d/;UID=%d/;SECTION=HEADER.FIELDS%%20(FROM)"'
                     b' URL ";UID=%d/;SECTION=2" URL "/INBOX/;UID=%d/;SECTION=1.MIME"'
                     b' TEXT {2+}\r\n\r\n)\r\n' % (uv, uid, uid, uid))
    m = re.match(rb"a OK \[APPENDUID (\d+) 1\] Append completed\.$", tagged)
    assert m, tagged
    assert body(c, "Dst", 1) == (b"Subject: nFrom: a@example.com\r\n\r\npart two"
                                 b"Content-Type: text/plain\r\n\r\n\r\n")
    untagged, _ = send(c, "f", b"UID FETCH 1 FLAGS\r\n")
    assert b"\\Seen" in untagged[0]
    # the whole message, and URLs in absolute imap:// form of this user
    _, tagged = send(c, "b", b'APPEND Dst CATENATE (URL "/INBOX/;UID=%d" URL '
                     b'"imap://alice@mail.example.com/INBOX/;UID=%d/;SECTION=TEXT")\r\n'
                     % (uid, uid))
    assert tagged.startswith(b"b OK [APPENDUID "), tagged
    assert body(c, "Dst", 2) == BASE + BASE[BASE.index(b"\r\n\r\n") + 4:]


def test_partial(srv):
    c = login(srv)
    _, uid = append(c, "INBOX", BASE)
    _, tagged = send(c, "a", b'APPEND INBOX CATENATE (URL "/INBOX/;UID=%d/;PARTIAL=6.13" '
                     b'URL "/INBOX/;UID=%d/;SECTION=1/;PARTIAL=5" '
                     b'URL "/INBOX/;UID=%d/;PARTIAL=100000.1" TEXT {1+}\r\n.)\r\n'
                     % (uid, uid, uid))
    assert tagged.startswith(b"a OK"), tagged
    assert body(c, "INBOX", uid + 1) == b"a@example.com" + b"one" + b"."


def test_sync_literals_and_url_literal(srv):
    c = login(srv)
    _, uid = append(c, "INBOX", BASE)
    url = b"/INBOX/;UID=%d/;SECTION=1" % uid
    c.send(b"a APPEND INBOX CATENATE (TEXT {4}\r\n")
    assert c.readline() == b"+ OK"
    c.send(b"abc\n URL {%d}\r\n" % len(url))
    assert c.readline() == b"+ OK"
    c.send(url + b" TEXT ~{3}\r\n")
    assert c.readline() == b"+ OK"
    c.send(b"xyz)\r\n")
    _, tagged = read_responses(c, "a")
    assert tagged.startswith(b"a OK [APPENDUID "), tagged
    assert body(c, "INBOX", uid + 1) == b"abc\r\npart onexyz"


@pytest.mark.parametrize("url,reply", [
    ("/INBOX;UIDVALIDITY=1/;UID=1", b"NO [BADURL /INBOX;UIDVALIDITY=1/;UID=1] UIDVALIDITY doesn't match."),
    ("/INBOX/;UID=9", b"NO [BADURL /INBOX/;UID=9] No such message."),
    ("/INBOX/;UID=1/;SECTION=3", b"NO [BADURL /INBOX/;UID=1/;SECTION=3] No such section."),
    ("/INBOX/;UID=1/;SECTION=1.HEADER", b"NO [BADURL /INBOX/;UID=1/;SECTION=1.HEADER] No such section."),
    ("/INBOX/;UID=1/;SECTION=BOGUS", b"NO [BADURL /INBOX/;UID=1/;SECTION=BOGUS] Invalid section."),
    ("/Nope/;UID=1", b"NO [BADURL /Nope/;UID=1] Mailbox doesn't exist."),
    ("/INBOX", b"NO [BADURL /INBOX] URL doesn't name a message."),
    (";UID=1", b"NO [BADURL ;UID=1] URL doesn't name a message."),
    ("/a]b c/;UID=1", b"NO [BADURL /a%5Db%20c/;UID=1] Invalid URL: Invalid character in mailbox name."),
    ("http://x/INBOX/;UID=1", b"NO [BADURL http://x/INBOX/;UID=1] Invalid URL: Not an imap:// URL."),
    ("imap://bob@mail.example.com/INBOX/;UID=1",
     b"NO [BADURL imap://bob@mail.example.com/INBOX/;UID=1] URL is not for this user on this server."),
    ("imap://alice@other.example.com/INBOX/;UID=1",
     b"NO [BADURL imap://alice@other.example.com/INBOX/;UID=1] URL is not for this user on this server."),
])
def test_badurl(srv, url, reply):
    c = login(srv)
    append(c, "INBOX", BASE)
    _, tagged = send(c, "a", b'APPEND INBOX CATENATE (TEXT {1+}\r\nx URL "%s")\r\n' % url.encode())
    assert tagged == b"a " + reply
    assert messages(c, "INBOX") == 1


def test_badurl_fails_multiappend(srv):
    c = login(srv)
    append(c, "INBOX", BASE)
    # good messages before and after the bad part: none is stored
    _, tagged = send(c, "a", b'APPEND INBOX CATENATE (URL "/INBOX/;UID=1") {3+}\r\nabc'
                     b' CATENATE (TEXT {1+}\r\nx URL "/INBOX/;UID=5" TEXT {3+}\r\nxyz)'
                     b' CATENATE (TEXT {1+}\r\ny) {2+}\r\nzz\r\n')
    assert tagged == b"a NO [BADURL /INBOX/;UID=5] No such message."
    assert messages(c, "INBOX") == 1
    _, tagged = send(c, "n", b"NOOP\r\n")
    assert tagged == b"n OK NOOP completed."


def test_badurl_refuses_sync_literal(srv):
    c = login(srv)
    # the TEXT literal after the bad URL is not invited: the command ends
    c.send(b'a APPEND INBOX CATENATE (URL "/INBOX/;UID=7" TEXT {5}\r\n')
    assert c.readline() == b"a NO [BADURL /INBOX/;UID=7] No such message."
    _, tagged = send(c, "n", b"NOOP\r\n")
    assert tagged == b"n OK NOOP completed."
    assert messages(c, "INBOX") == 0


def test_trycreate_comes_first(srv):
    c = login(srv)
    for parts in (b'URL "/INBOX/;UID=1"', b'TEXT {2+}\r\nhi URL "/INBOX/;UID=99"'):
        _, tagged = send(c, "a", b"APPEND Nope CATENATE (%s)\r\n" % parts)
        assert tagged == b"a NO [TRYCREATE] Mailbox doesn't exist."


@pytest.mark.parametrize("args,reply", [
    (b"CATENATE ()", b"BAD CATENATE needs at least one part."),
    (b'CATENATE (TEXT "x")', b"BAD CATENATE TEXT needs a literal."),
    (b"CATENATE (FOO {1+}\r\nx)", b"BAD Invalid CATENATE part."),
    (b"CATENATE (URL)", b"BAD Invalid CATENATE part."),
    (b"CATENATE (URL (x))", b"BAD CATENATE URL needs a string."),
    (b"CATENATE TEXT", b"BAD APPEND needs a message literal."),
    (b"(\\Seen) \"bad date\" CATENATE (TEXT {1+}\r\nx)", b"BAD Invalid internal date."),
    (b"CATENATE (TEXT {1+}\r\nx", b"BAD Missing ')'"),
])
def test_syntax_errors(srv, args, reply):
    c = login(srv)
    _, tagged = send(c, "a", b"APPEND INBOX " + args + b"\r\n")
    assert tagged == b"a " + reply
    _, tagged = send(c, "n", b"NOOP\r\n")
    assert tagged == b"n OK NOOP completed."
    assert messages(c, "INBOX") == 0


def test_toobig(ternd_factory):
    srv = ternd_factory(config_extra="imap {\n  max_literal_size = 2k\n}\n").start()
    c = login(srv)
    big = b"Subject: big\r\n\r\n" + b"x" * 1500 + b"\r\n"
    append(c, "INBOX", big)
    # two TEXT parts that fit alone but not together: the second is
    # refused before it is invited
    c.send(b"a APPEND INBOX CATENATE (TEXT {1200}\r\n")
    assert c.readline() == b"+ OK"
    c.send(b"y" * 1200 + b" TEXT {1000}\r\n")
    assert c.readline() == b"a NO [TOOBIG] Message is larger than 2048 bytes."
    # a URL part that makes the message too big
    _, tagged = send(c, "b", b'APPEND INBOX CATENATE (TEXT {600+}\r\n' + b"z" * 600 +
                     b' URL "/INBOX/;UID=1")\r\n')
    assert tagged == b"b NO [TOOBIG] Message is larger than 2048 bytes."
    assert messages(c, "INBOX") == 1


def test_binary_text_parts(srv):
    c = login(srv)
    mime = (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n")
    data = b"\x00\x01\x02binary\x00"
    tail = b"\r\n--b--\r\n"
    # the first part is literal8: the message is stored as binary content
    _, tagged = send(c, "a", b"APPEND INBOX CATENATE (TEXT ~{%d+}\r\n%s TEXT ~{%d+}\r\n%s"
                     b" TEXT {%d+}\r\n%s)\r\n" % (len(mime), mime, len(data), data, len(tail), tail))
    assert tagged.startswith(b"a OK [APPENDUID "), tagged
    stored = body(c, "INBOX", 1)
    assert b"Content-Transfer-Encoding: base64" in stored and b"\x00" not in stored
    untagged, _ = send(c, "f", b"UID FETCH 1 BINARY.PEEK[1]\r\n")
    assert untagged[0].endswith(b"BINARY[1] ~{%d}\r\n%s)" % (len(data), data))
    # a later literal8 may only carry text when the first part wasn't binary
    _, tagged = send(c, "b", b"APPEND INBOX CATENATE (TEXT {2+}\r\nhi TEXT ~{3+}\r\nabc)\r\n")
    assert tagged.startswith(b"b OK [APPENDUID "), tagged
    _, tagged = send(c, "c", b"APPEND INBOX CATENATE (TEXT {2+}\r\nhi TEXT ~{3+}\r\na\x00c"
                     b" TEXT {1+}\r\n.)\r\n")
    assert tagged == (b"c NO [UNKNOWN-CTE] Binary data only when the message's first part "
                      b"is binary.")
    assert messages(c, "INBOX") == 2


def test_catenate_from_other_mailbox_and_multiappend(srv):
    c = login(srv)
    send(c, "cr", b"CREATE Src\r\n")
    _, uid = append(c, "Src", BASE)
    _, tagged = send(c, "a", b'APPEND INBOX CATENATE (URL "/Src/;UID=%d/;SECTION=2")'
                     b' {3+}\r\nabc CATENATE (TEXT {2+}\r\nhi)\r\n' % uid)
    assert re.match(rb"a OK \[APPENDUID \d+ 1:3\] Append completed\.$", tagged), tagged
    assert [body(c, "INBOX", u) for u in (1, 2, 3)] == [b"part two", b"abc", b"hi"]


def test_large_url_part_streams(srv):
    c = login(srv)
    big = b"Subject: big\r\n\r\n" + b"".join(b"line %07d of a big message\r\n" % i
                                              for i in range(150000))
    _, uid = append(c, "INBOX", big)
    _, tagged = send(c, "a", b'APPEND INBOX CATENATE (URL "/INBOX/;UID=%d" URL '
                     b'"/INBOX/;UID=%d/;SECTION=TEXT")\r\n' % (uid, uid))
    assert tagged.startswith(b"a OK"), tagged
    send(c, "se", b"SELECT INBOX\r\n")
    untagged, _ = send(c, "f", b"UID FETCH %d RFC822.SIZE\r\n" % (uid + 1))
    assert b"RFC822.SIZE %d" % (2 * len(big) - 16) in untagged[0]


def test_utf8_append_data(srv):
    c = login(srv)
    msg = "Subject: Grüße\r\n\r\nÄpfel\r\n".encode()
    _, tagged = send(c, "a", b"APPEND INBOX UTF8 (~{%d+}\r\n%s)\r\n" % (len(msg), msg))
    assert tagged == b"a BAD UTF8 data needs ENABLE UTF8=ACCEPT."
    send(c, "e", b"ENABLE UTF8=ACCEPT\r\n")
    _, tagged = send(c, "b", b"APPEND INBOX UTF8 (~{%d+}\r\n%s)\r\n" % (len(msg), msg))
    assert tagged.startswith(b"b OK [APPENDUID "), tagged
    assert body(c, "INBOX", 1) == msg
    _, tagged = send(c, "c", b"APPEND INBOX UTF8 (~{1+}\r\nx ~{1+}\r\ny)\r\n")
    assert tagged == b"c BAD UTF8 takes one literal."


def test_multiappend_savelimit(ternd_factory):
    srv = ternd_factory(config_extra="imap {\n  save_limit = 2\n}\n").start()
    c = login(srv)
    _, tagged = send(c, "a", b"APPEND INBOX {1+}\r\na CATENATE (TEXT {1+}\r\nb) {1+}\r\nc\r\n")
    assert tagged == b"a NO [LIMIT] Too many messages to save in one command."
    assert messages(c, "INBOX") == 0
    _, tagged = send(c, "b", b"APPEND INBOX {1+}\r\na CATENATE (TEXT {1+}\r\nb)\r\n")
    assert tagged.startswith(b"b OK [APPENDUID "), tagged


def test_capability_removed(ternd_factory):
    srv = ternd_factory(config_extra="imap {\n  capability_remove = CATENATE\n}\n").start()
    c = login(srv)
    assert b"CATENATE" not in send(c, "c", b"CAPABILITY\r\n")[0][0].split()
    _, tagged = send(c, "a", b"APPEND INBOX CATENATE (TEXT {1+}\r\nx)\r\n")
    assert tagged == b"a BAD APPEND needs a message literal."
