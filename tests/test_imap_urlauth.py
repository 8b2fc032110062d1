"""URLAUTH (RFC 4467): GENURLAUTH with the INTERNAL mechanism, URLFETCH
by the access identifiers anonymous, authuser, user+name and
submit+name (imap.urlauth_submit_users), EXPIRE, RESETKEY; URLFETCH's
BINARY, BODY and BODYPARTSTRUCTURE (RFC 5524) and partial URLs
(RFC 5550). Raw-socket tests with exact replies."""
import os
import re
import stat

import pytest

from imaputil import login, read_responses

MSG = (b"From: a@example.com\r\nSubject: shared\r\n"
       b"Content-Type: multipart/mixed; boundary=q\r\n\r\n"
       b"--q\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       b"aGVsbG8gd29ybGQ=\r\n--q--\r\n")
HOST = "mail.example.com"




def cmd(c, tag, line):
    c.send(f"{tag} {line}\r\n".encode())
    return read_responses(c, tag)


def append(c, box, data):
    c.send(b"ap APPEND %s {%d+}\r\n%s\r\n" % (box.encode(), len(data), data))
    _, tagged = read_responses(c, "ap")
    return int(re.match(rb"ap OK \[APPENDUID \d+ (\d+)\]", tagged).group(1))


def genurlauth(c, rump):
    untagged, tagged = cmd(c, "g", f'GENURLAUTH "{rump}" INTERNAL')
    assert tagged == b"g OK GENURLAUTH completed.", tagged
    assert len(untagged) == 1 and untagged[0].startswith(b"* GENURLAUTH ")
    url = untagged[0][len(b"* GENURLAUTH "):].decode()
    assert re.fullmatch(re.escape(rump) + ":INTERNAL:[0-9a-f]{64}", url), url
    return url


def urlfetch(c, url):
    untagged, tagged = cmd(c, "u", f'URLFETCH "{url}"')
    assert tagged == b"u OK URLFETCH completed.", tagged
    assert len(untagged) == 1
    prefix = f"* URLFETCH {url} ".encode()
    assert untagged[0].startswith(prefix), untagged[0]
    return untagged[0][len(prefix):]


def literal(data):
    return b"{%d}\r\n%s" % (len(data), data)


@pytest.fixture
def srv(ternd_factory):
    return ternd_factory(users={"alice": "secret", "bob": "secret", "submitter": "secret"},
                         config_extra="imap {\n  urlauth_hosts = mail.example.com\n"
                         "  urlauth_submit_users = submitter\n}\n").start()


def test_capabilities(srv):
    c = login(srv)
    caps = cmd(c, "c", "CAPABILITY")[0][0].split()
    for cap in (b"URLAUTH", b"URLAUTH=BINARY", b"URL-PARTIAL"):
        assert cap in caps


@pytest.mark.parametrize("access,allowed", [
    ("anonymous", {"alice", "bob", "submitter"}),
    ("authuser", {"alice", "bob", "submitter"}),
    ("user+bob", {"bob"}),
    ("user+alice", {"alice"}),
    ("submit+bob", {"submitter"}),
])
def test_access_identifiers(srv, access, allowed):
    a = login(srv)
    uid = append(a, "INBOX", MSG)
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid};URLAUTH={access}")
    for user in ("alice", "bob", "submitter"):
        c = login(srv, user)
        expected = literal(MSG) if user in allowed else b"NIL"
        assert urlfetch(c, url) == expected, (access, user)
        c.close()


def test_section_partial_and_extended_forms(srv):
    a = login(srv)
    uid = append(a, "INBOX", MSG)
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid}/;SECTION=1;URLAUTH=authuser")
    b = login(srv, "bob")
    assert urlfetch(b, url) == literal(b"aGVsbG8gd29ybGQ=")
    untagged, tagged = cmd(b, "x", f'URLFETCH ("{url}" BINARY) ("{url}" BODYPARTSTRUCTURE)'
                           f' ("{url}" BODY BODYPARTSTRUCTURE) ("{url}" BINARY BODYPARTSTRUCTURE)')
    assert tagged == b"x OK URLFETCH completed."
    head = f"* URLFETCH {url} ".encode()
    assert untagged == [
        head + b"(BINARY ~{11}\r\nhello world)",
        head + b'(BODYPARTSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "base64" 16 0'
               b" NIL NIL NIL NIL))",
        head + b'(BODYPARTSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "base64" 16 0'
               b" NIL NIL NIL NIL) BODY {16}\r\naGVsbG8gd29ybGQ=)",
        # with BINARY the structure gives the decoded sizes (RFC 5524)
        head + b'(BODYPARTSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "base64" 11 0'
               b" NIL NIL NIL NIL) BINARY ~{11}\r\nhello world)",
    ]
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid}/;SECTION=HEADER/;PARTIAL=6.13;"
                        "URLAUTH=authuser")
    assert urlfetch(b, url) == literal(b"a@example.com")
    # BINARY of a header section is NIL, and so is a URL without a token
    untagged, _ = cmd(b, "y", f'URLFETCH ("{url}" BINARY) "imap://alice@{HOST}/INBOX/;UID={uid}"')
    assert untagged == [f"* URLFETCH {url} (BINARY NIL)".encode(),
                        f"* URLFETCH imap://alice@{HOST}/INBOX/;UID={uid} NIL".encode()]


def test_expire(srv):
    a = login(srv)
    uid = append(a, "INBOX", MSG)
    old = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid};EXPIRE=2001-01-01T00:00:00Z;"
                        "URLAUTH=authuser")
    new = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid};EXPIRE=2101-01-01T00:00:00+02:00;"
                        "URLAUTH=authuser")
    assert urlfetch(a, old) == b"NIL"
    assert urlfetch(a, new) == literal(MSG)


def test_tampered_urls_are_nil(srv):
    a = login(srv)
    uid = append(a, "INBOX", MSG)
    append(a, "INBOX", b"Subject: other\r\n\r\nsecret\r\n")
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid};URLAUTH=anonymous")
    token = url.rsplit(":", 1)[1]
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (url.replace(f"UID={uid}", f"UID={uid + 1}"), url[:-1] + flipped[-1],
                url.replace("anonymous", "authuser"), url.replace(":INTERNAL:", ":OTHER:"),
                url.replace(HOST, "other.example.com"), url.replace("alice@", "bob@"),
                url.replace(HOST, HOST.upper())):
        assert urlfetch(a, bad) == b"NIL", bad
    # the token is hex in either case, but the URL it signs is as it was
    assert urlfetch(a, url.replace(token, token.upper())) == literal(MSG)


def test_resetkey(srv):
    a = login(srv)
    cmd(a, "c", "CREATE Other")
    uid1 = append(a, "INBOX", MSG)
    uid2 = append(a, "Other", MSG)
    url1 = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid1};URLAUTH=authuser")
    url2 = genurlauth(a, f"imap://alice@{HOST}/Other/;UID={uid2};URLAUTH=authuser")
    assert cmd(a, "r", "RESETKEY INBOX INTERNAL")[1] == b"r OK RESETKEY completed."
    assert urlfetch(a, url1) == b"NIL"
    assert urlfetch(a, url2) == literal(MSG)
    # a new key signs new URLs; the old ones stay invalid
    url1b = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid1};URLAUTH=authuser")
    assert url1b != url1 and urlfetch(a, url1b) == literal(MSG) and urlfetch(a, url1) == b"NIL"
    assert cmd(a, "r", "RESETKEY")[1] == b"r OK RESETKEY completed."
    assert urlfetch(a, url2) == b"NIL" and urlfetch(a, url1b) == b"NIL"
    assert cmd(a, "r", "RESETKEY Nope")[1] == b"r NO [NONEXISTENT] Mailbox doesn't exist."
    assert cmd(a, "r", "RESETKEY INBOX XYZ")[1] == b"r BAD Unsupported URLAUTH mechanism."


def test_mailbox_recreated_invalidates(srv):
    a = login(srv)
    cmd(a, "c", "CREATE Box")
    uid = append(a, "Box", MSG)
    url = genurlauth(a, f"imap://alice@{HOST}/Box/;UID={uid};URLAUTH=authuser")
    cmd(a, "d", "DELETE Box")
    cmd(a, "c", "CREATE Box")
    assert append(a, "Box", MSG) == uid
    assert urlfetch(a, url) == b"NIL"


@pytest.mark.parametrize("url,reply", [
    (f"imap://bob@{HOST}/INBOX/;UID=1;URLAUTH=authuser",
     f"NO [BADURL imap://bob@{HOST}/INBOX/;UID=1;URLAUTH=authuser] URL is not for this user"
     " on this server."),
    ("imap://alice@elsewhere.example.com/INBOX/;UID=1;URLAUTH=authuser",
     "NO [BADURL imap://alice@elsewhere.example.com/INBOX/;UID=1;URLAUTH=authuser] URL is not"
     " for this user on this server."),
    (f"imap://alice@{HOST}/Nope/;UID=1;URLAUTH=authuser",
     f"NO [BADURL imap://alice@{HOST}/Nope/;UID=1;URLAUTH=authuser] Mailbox doesn't exist."),
    (f"imap://alice@{HOST}/INBOX;UIDVALIDITY=7/;UID=1;URLAUTH=authuser",
     f"NO [BADURL imap://alice@{HOST}/INBOX;UIDVALIDITY=7/;UID=1;URLAUTH=authuser] Mailbox"
     " doesn't exist."),
    (f"imap://alice@{HOST}/INBOX/;UID=1",
     f"NO [BADURL imap://alice@{HOST}/INBOX/;UID=1] Not a URLAUTH rump URL."),
    (f"imap://alice@{HOST}/INBOX;URLAUTH=authuser",
     "BAD Invalid URL: URLAUTH is only allowed in an absolute message URL."),
    ("/INBOX/;UID=1;URLAUTH=authuser", "BAD Invalid URL: Not an imap:// URL."),
])
def test_genurlauth_errors(srv, url, reply):
    a = login(srv)
    append(a, "INBOX", MSG)
    assert cmd(a, "g", f'GENURLAUTH "{url}" INTERNAL') == ([], f"g {reply}".encode())


def test_command_syntax(srv):
    a = login(srv)
    url = f"imap://alice@{HOST}/INBOX/;UID=1;URLAUTH=authuser"
    assert cmd(a, "a", f'GENURLAUTH "{url}" XYZ')[1] == b"a BAD Unsupported URLAUTH mechanism."
    assert cmd(a, "b", f'GENURLAUTH "{url}"')[1] == \
        b"b BAD GENURLAUTH takes URL and mechanism pairs."
    assert cmd(a, "c", "URLFETCH")[1] == b"c BAD URLFETCH takes URLs, or (URL options)."
    assert cmd(a, "d", f'URLFETCH ("{url}" BINARY BODY)')[1] == \
        b"d BAD URLFETCH takes URLs, or (URL options)."
    assert cmd(a, "e", f'URLFETCH ("{url}" FOO)')[1] == \
        b"e BAD URLFETCH takes URLs, or (URL options)."


def test_key_file_and_persistence(srv):
    a = login(srv)
    uid = append(a, "INBOX", MSG)
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid};URLAUTH=anonymous")
    path = srv.base / "alice" / "tern-secrets"
    if not path.exists():
        path = next(srv.base.rglob("tern-secrets"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    srv.stop()
    srv.start()
    b = login(srv, "bob")
    assert urlfetch(b, url) == literal(MSG)


def test_catenate_with_urlauth(srv):
    a = login(srv)
    uid = append(a, "INBOX", MSG)
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid}/;SECTION=1;URLAUTH=user+bob")
    b = login(srv, "bob")
    b.send(f'c APPEND INBOX CATENATE (TEXT {{2+}}\r\nx: URL "{url}")\r\n'.encode())
    _, tagged = read_responses(b, "c")
    assert tagged.startswith(b"c OK [APPENDUID "), tagged
    cmd(b, "s", "SELECT INBOX")
    untagged, _ = cmd(b, "f", "FETCH 1 BODY.PEEK[]")
    assert untagged[0].endswith(literal(b"x:aGVsbG8gd29ybGQ=") + b")")
    # without the token, alice's mailbox is not bob's to read
    _, tagged = cmd(b, "d", f'APPEND INBOX CATENATE (URL "imap://alice@{HOST}/INBOX/;UID={uid}")')
    assert tagged == (f"d NO [BADURL imap://alice@{HOST}/INBOX/;UID={uid}] URL is not for "
                      "this user on this server.").encode()


def test_urlfetch_streams_large_part(srv):
    a = login(srv)
    big = b"Subject: big\r\n\r\n" + b"".join(b"line %07d of a big message\r\n" % i
                                              for i in range(200000))
    uid = append(a, "INBOX", big)
    url = genurlauth(a, f"imap://alice@{HOST}/INBOX/;UID={uid};URLAUTH=authuser")
    b = login(srv, "bob")
    # two URLs: the first is read only after the second is asked for
    b.send(f'u URLFETCH "{url}" "{url}"\r\n'.encode())
    untagged, tagged = read_responses(b, "u")
    assert tagged == b"u OK URLFETCH completed."
    assert untagged == [f"* URLFETCH {url} ".encode() + literal(big)] * 2
