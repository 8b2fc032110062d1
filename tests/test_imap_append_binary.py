"""APPEND of binary content (RFC 3516 §4.4): a message sent in a literal8
(~{n}) may carry raw binary parts. Parts declared Content-Transfer-
Encoding: binary are stored base64-encoded, so BODY[] never has to carry
NULs, while BINARY[] gives the original bytes back and BINARY.SIZE their
count. Everything else is stored exactly as sent."""
import base64
import re

from mailutil import ternd  # noqa: F401  (fixture: closes sessions first)
from mailutil import Imap, message
from test_imap_structure import fetch

PAYLOAD = bytes(range(256)) * 8 + b"\x00\r\n\x00tail"


def append8(c, box, data, nonsync=False):
    """APPEND with a literal8; returns the new UID."""
    tag = c.next_tag()
    if nonsync:
        c.sock.sendall(f"{tag} APPEND {box} ~{{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    else:
        c.sock.sendall(f"{tag} APPEND {box} ~{{{len(data)}}}\r\n".encode())
        assert c.read_response().startswith(b"+")
        c.sock.sendall(data + b"\r\n")
    _, tagged = c.read_until_tagged(tag)
    m = re.match(rb"\S+ OK \[APPENDUID \d+ (\d+)\]", tagged)
    assert m, tagged
    return int(m.group(1))


def single_part(payload=PAYLOAD):
    return (b"From: bin@example.org\r\nSubject: binary\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n\r\n" + payload)


def multipart():
    return (b"From: bin@example.org\r\nSubject: mixed\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
            b"--XX\r\nContent-Type: text/plain\r\n\r\nhello text\r\n"
            b"--XX\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: BINARY\r\n"
            b"X-After: kept\r\n\r\n" + PAYLOAD + b"\r\n"
            b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n"
            b"--XX--\r\n")


def test_single_binary_part_stored_as_base64(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    uid = append8(c, "INBOX", single_part())
    c.select()
    items = fetch(c, uid, "BODY.PEEK[1] BINARY.PEEK[1] BINARY.SIZE[1] BODYSTRUCTURE "
                          "BODY.PEEK[HEADER]")
    body = items["BODY[1]"]
    assert b"\x00" not in body
    assert base64.b64decode(body) == PAYLOAD
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert items["BINARY[1]"] == PAYLOAD and "BINARY[1]" in items["literal8"]
    assert int(items["BINARY.SIZE[1]"]) == len(PAYLOAD)
    assert items["BODYSTRUCTURE"][5].lower() == b"base64"
    header = items["BODY[HEADER]"]
    assert b"Content-Transfer-Encoding: base64\r\n" in header
    assert b"binary" not in header.lower().split(b"content-transfer-encoding:")[1][:20]
    # the whole message holds no NUL and its size is the stored one
    whole = c.fetch(f"{uid} (BODY.PEEK[] RFC822.SIZE)", uid=True)
    [(seq, got)] = list(whole.items())
    assert b"\x00" not in got["BODY[]"] and int(got["RFC822.SIZE"]) == len(got["BODY[]"])


def test_multipart_only_binary_parts_converted(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    uid = append8(c, "INBOX", multipart(), nonsync=True)
    c.select()
    items = fetch(c, uid, "BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[2] BODY.PEEK[3] "
                          "BINARY.SIZE[2]")
    assert items["BODY[1]"] == b"hello text"
    mime = items["BODY[2.MIME]"]
    assert mime == (b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
                    b"X-After: kept\r\n\r\n")
    assert items["BINARY[2]"] == PAYLOAD
    assert int(items["BINARY.SIZE[2]"]) == len(PAYLOAD)
    assert items["BODY[3]"] == "Grüße".encode()


def test_literal8_without_binary_parts_stored_as_sent(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    data = message("eight bit", body="na\xefve caf\xe9\r\n")
    uid = append8(c, "INBOX", data)
    # a non-binary literal with a "binary" header is not touched either
    plain = single_part(b"just text, no NULs\r\n")
    uid2 = c.append_ok("INBOX", plain)
    c.select()
    got = list(c.fetch(f"{uid}:{uid2} BODY.PEEK[]", uid=True).values())
    assert got[0]["BODY[]"] == data
    assert got[1]["BODY[]"] == plain


def test_multiappend_with_binary_literal(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    first = message("plain one")
    second = single_part()
    tag = c.next_tag()
    c.sock.sendall(f"{tag} APPEND INBOX {{{len(first)}+}}\r\n".encode() + first +
                   f" ~{{{len(second)}+}}\r\n".encode() + second + b"\r\n")
    _, tagged = c.read_until_tagged(tag)
    assert b"OK [APPENDUID" in tagged, tagged
    c.select()
    items = fetch(c, 2, "BINARY.PEEK[1] BODY.PEEK[1]")
    assert items["BINARY[1]"] == PAYLOAD and b"\x00" not in items["BODY[1]"]


def test_binary_part_inside_an_attached_message(ternd):
    """Offsets inside a message/rfc822 part are the outer message's: the
    inner binary part is converted, the rest kept."""
    inner = single_part().replace(b"Subject: binary", b"Subject: inner")
    outer = (b"From: a@example.org\r\nSubject: outer\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=OUT\r\n\r\n"
             b"--OUT\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
             b"--OUT\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n"
             b"--OUT--\r\n")
    c = Imap(ternd.imap_port, rev2=True)
    uid = append8(c, "INBOX", outer)
    c.select()
    items = fetch(c, uid, "BODY.PEEK[1] BINARY.PEEK[2.1] BODY.PEEK[2.HEADER] BODY.PEEK[2.1]")
    assert items["BODY[1]"] == b"see attached"
    assert items["BINARY[2.1]"] == PAYLOAD
    assert b"Subject: inner" in items["BODY[2.HEADER]"]
    assert b"Content-Transfer-Encoding: base64" in items["BODY[2.HEADER]"]
    assert b"\x00" not in items["BODY[2.1]"]
