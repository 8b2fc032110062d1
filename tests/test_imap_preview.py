"""FETCH PREVIEW (RFC 8970) against a running ternd: the preview comes from
the first text part (text/plain preferred, else text/html without its
markup), decoded from its transfer encoding and charset to UTF-8, with
quoted lines dropped, whitespace collapsed and at most 200 characters; ""
for a message without text. PREVIEW (LAZY) answers only from the message
cache (filled at save, or by an earlier PREVIEW) and NIL otherwise. The
preview never sets \\Seen, and a copy keeps its source's.

The fixture corpus gives the same previews as Dovecot 2.3.19 except where
the parsers differ on purpose (docs/imap-structure.md D3, D8) and three
choices: attachments and parts of attached messages are not the text, and
a no-break space is a space."""
import pathlib

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, maildir, maildir_deliver, message

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "mime"

# fixture file -> exact response value (bytes as sent)
FIXTURE_PREVIEWS = {
    "01-simple.eml": b'"Hi Bob, are you free for lunch tomorrow at noon? -- Alice"',
    # quoted-printable, soft breaks joined, ISO-8859-1 and UTF-8 parts
    "69-quoted-printable.eml":
        b"{185}\r\ncaf\xc3\xa9 and cr\xc3\xa8me, lower case \xc3\xa9 too a soft line break "
        b"joins these, trailing spaces are dropped bad escapes =ZZ and =4 and a lone = in "
        b"the text = is an equals sign ends with a soft break",
    # base64 text part
    "68-base64-parts.eml": b"{13}\r\nCaf\xc3\xa9 au lait",
    # HTML only: tags gone, &nbsp; a space
    "77-html-only.eml": b'"Hello world"',
    # multipart/alternative: the text/plain alternative
    "44-multipart-alternative-nested.eml": b"{23}\r\nCaf\xc3\xa9 with a soft break",
    # 8-bit body in a declared charset
    "70-binary-8bit.eml": b"{7}\r\nGr\xc3\xbc\xc3\x9fe",
    # no text part at all, only attachments
    "34-rfc2231-charset.eml": b'""',
    # a NUL-only text: nothing to show
    "08-nul-in-body.eml": b'""',
    # the forwarded message's text is not the message's own
    "62-message-rfc822-nested-multipart.eml": b'""',
    "61-message-rfc822-attachment.eml": b'"See the attached message."',
    "80-report.eml": b'"The message could not be delivered."',
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("preview")).start()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


_boxes = iter(range(1, 1000))


def new_box(c):
    name = f"Pv{next(_boxes)}"
    c.ok(f"CREATE {name}")
    return name


def preview_of(c, seq, lazy=False, uid=False):
    """The raw value after PREVIEW in the FETCH response of seq."""
    mod = " (LAZY)" if lazy else ""
    untagged = c.ok(f"{'UID ' if uid else ''}FETCH {seq} (PREVIEW{mod})")
    assert len(untagged) == 1, untagged
    line = untagged[0]
    head = f"* {seq} FETCH (PREVIEW ".encode()
    if uid:
        assert line.startswith(b"* ") and b" FETCH (" in line, line
        head = line[:line.index(b"PREVIEW ") + 8]
    assert line.startswith(head) and line.endswith(b")"), line
    return line[len(head):-1]


def append_and_preview(c, data):
    box = new_box(c)
    c.append_ok(box, data)
    c.select(box)
    return preview_of(c, 1)


def test_capability(srv):
    c = Imap(srv.imap_port)
    caps = c.ok("CAPABILITY")[0].split()
    assert b"PREVIEW" in caps


@pytest.mark.parametrize("name", sorted(FIXTURE_PREVIEWS))
def test_fixture_previews(srv, name):
    c = Imap(srv.imap_port)
    assert append_and_preview(c, (FIXTURES / name).read_bytes()) == FIXTURE_PREVIEWS[name]


def test_every_fixture_gives_a_bounded_preview(srv):
    c = Imap(srv.imap_port)
    box = new_box(c)
    files = [f for f in sorted(FIXTURES.glob("*.eml")) if f.stat().st_size > 0]
    for f in files:
        c.append_ok(box, f.read_bytes())
    c.select(box)
    untagged = c.ok("FETCH 1:* (PREVIEW)")
    assert len(untagged) == len(files)
    for line in untagged:
        value = line[line.index(b"PREVIEW ") + 8:-1]
        if value.startswith(b"{"):
            value = value.split(b"\r\n", 1)[1]
        else:
            value = value[1:-1]
        text = value.decode("utf-8")
        assert len(text) <= 200
        assert text == text.strip() and "  " not in text
        assert not any(ord(ch) < 0x20 for ch in text)


def test_html_markup_entities_and_hidden_elements(srv):
    html = ("<html><head><title>T</title><style>p { color: red }</style></head>"
            "<body><!-- a <b>comment</b> --><script>var x = '<p>';</script>"
            "<p>Fish &amp; chips&nbsp;&lt;today&gt; &#233;t&#xE9; &quot;ok&quot;</p>"
            "<div>second&hellip;</div><p>&bogus; & alone</p></body></html>")
    data = message(body=html + "\r\n",
                   headers=("MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8"))
    c = Imap(srv.imap_port)
    text = 'Fish & chips <today> été "ok" second\u2026 &bogus; & alone'.encode()
    assert append_and_preview(c, data) == b"{%d}\r\n" % len(text) + text


def test_plain_preferred_over_html_alternative(srv):
    body = ("--b\r\nContent-Type: text/html\r\n\r\n<p>the html one</p>\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nthe plain one\r\n--b--\r\n")
    data = message(body=body, headers=("MIME-Version: 1.0",
                                       "Content-Type: multipart/alternative; boundary=b"))
    c = Imap(srv.imap_port)
    assert append_and_preview(c, data) == b'"the plain one"'


def test_html_used_when_plain_is_empty(srv):
    body = ("--b\r\nContent-Type: text/plain\r\n\r\n   \r\n"
            "--b\r\nContent-Type: text/html\r\n\r\n<p>only here</p>\r\n--b--\r\n")
    data = message(body=body, headers=("MIME-Version: 1.0",
                                       "Content-Type: multipart/alternative; boundary=b"))
    c = Imap(srv.imap_port)
    assert append_and_preview(c, data) == b'"only here"'


@pytest.mark.parametrize("charset,raw,text", [
    ("iso-8859-1", "Gr\xfc\xdfe aus K\xf6ln".encode("latin-1"), "Grüße aus Köln"),
    ("windows-1252", b"\x93quoted\x94 \x80 5", "\u201cquoted\u201d \u20ac 5"),
    ("koi8-r", "Привет мир".encode("koi8-r"), "Привет мир"),
    ("shift_jis", "こんにちは".encode("shift_jis"), "こんにちは"),
    ("utf-16", "hi there".encode("utf-16"), "hi there"),
])
def test_non_utf8_charsets(srv, charset, raw, text):
    import base64
    body = base64.encodebytes(raw).decode().replace("\n", "\r\n")
    data = message(body=body, headers=(
        "MIME-Version: 1.0", f"Content-Type: text/plain; charset={charset}",
        "Content-Transfer-Encoding: base64"))
    c = Imap(srv.imap_port)
    expected = text.encode()
    if all(b < 0x80 for b in expected):
        assert append_and_preview(c, data) == b'"' + expected + b'"'
    else:
        assert append_and_preview(c, data) == b"{%d}\r\n" % len(expected) + expected


def test_quoted_lines_dropped_and_whitespace_collapsed(srv):
    body = ("On Monday Bob wrote:\r\n> old text\r\n  >> older\r\n\r\n\tMy   answer\r\n"
            "is\t\there.\r\n")
    c = Imap(srv.imap_port)
    assert append_and_preview(c, message(body=body)) == \
        b'"On Monday Bob wrote: My answer is here."'
    # all of it quoted: the quote is the text
    assert append_and_preview(c, message(body="> only a quote\r\n")) == b'"> only a quote"'


def test_cut_at_200_characters(srv):
    c = Imap(srv.imap_port)
    got = append_and_preview(c, message(body=("word " * 100) + "\r\n"))
    assert got == b'"' + ("word " * 40).strip().encode() + b'"'
    # multi-byte characters count as one each, and are never split
    data = message(body="\u00e9" * 300 + "\r\n", headers=(
        "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit"))
    got = append_and_preview(c, data)
    assert got == b"{400}\r\n" + "\u00e9".encode() * 200


def test_no_text_is_empty_string(srv):
    body = ("--b\r\nContent-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n")
    data = message(body=body, headers=("MIME-Version: 1.0",
                                       "Content-Type: multipart/mixed; boundary=b"))
    c = Imap(srv.imap_port)
    assert append_and_preview(c, data) == b'""'
    assert append_and_preview(c, message(body="")) == b'""'


def test_preview_does_not_set_seen(srv):
    c = Imap(srv.imap_port)
    append_and_preview(c, message(body="unread\r\n"))
    assert c.ok("FETCH 1 (FLAGS)") == [b"* 1 FETCH (FLAGS (\\Recent))"]


def test_lazy_from_cache_and_nil_when_not_cached(srv):
    c = Imap(srv.imap_port)
    box = new_box(c)
    c.append_ok(box, message(body="saved through APPEND\r\n"))
    # a file another program dropped: no cache row yet
    maildir_deliver(maildir(srv, folder=box), message(body="dropped into new/\r\n"))
    c.select(box)
    assert c.ok(f"FETCH 1:2 (PREVIEW (LAZY))") == [
        b'* 1 FETCH (PREVIEW "saved through APPEND")', b"* 2 FETCH (PREVIEW NIL)"]
    # the top-level form, and UID FETCH
    assert c.ok("FETCH 2 PREVIEW (LAZY)") == [b"* 2 FETCH (PREVIEW NIL)"]
    assert c.ok("UID FETCH 2 (PREVIEW (LAZY) FLAGS)") == [
        b"* 2 FETCH (UID 2 FLAGS (\\Recent) PREVIEW NIL)"]
    # PREVIEW computes it and caches it; LAZY finds it then
    assert preview_of(c, 2) == b'"dropped into new/"'
    assert preview_of(c, 2, lazy=True) == b'"dropped into new/"'
    # with a structure item that has to parse anyway, LAZY gets it too
    maildir_deliver(maildir(srv, folder=box), message(body="third\r\n"))
    c.ok("NOOP")
    untagged = c.ok("FETCH 3 (BODYSTRUCTURE PREVIEW (LAZY))")
    assert untagged[0].endswith(b' PREVIEW "third")'), untagged


def test_lazy_without_cache_at_save(tmp_path):
    srv = Ternd(tmp_path, config_extra="mail.cache_at_save = no\n").start()
    try:
        c = Imap(srv.imap_port)
        c.append_ok("INBOX", message(body="not cached at save\r\n"))
        c.select("INBOX")
        assert preview_of(c, 1, lazy=True) == b"NIL"
        assert c.ok("FETCH 1 (ENVELOPE)")  # header-only: no preview yet
        assert preview_of(c, 1, lazy=True) == b"NIL"
        assert preview_of(c, 1) == b'"not cached at save"'
        c.logout()
        # kept in the index across a restart
        srv.stop()
        srv.start()
        c = Imap(srv.imap_port)
        c.select("INBOX")
        assert preview_of(c, 1, lazy=True) == b'"not cached at save"'
        c.logout()
    finally:
        close_sessions()
        srv.stop()


def test_copy_keeps_preview(srv):
    c = Imap(srv.imap_port)
    src = new_box(c)
    dst = new_box(c)
    c.append_ok(src, message(body="travels with the copy\r\n"))
    c.select(src)
    c.ok(f"COPY 1 {dst}")
    c.select(dst)
    assert preview_of(c, 1, lazy=True) == b'"travels with the copy"'


def test_huge_header_preview_not_cached(srv):
    # the preview rides on the cached header block: past 64 KiB of header
    # there is none, so LAZY has nothing and PREVIEW reads the file again
    c = Imap(srv.imap_port)
    big = tuple(f"X-Filler-{i}: {'y' * 900}" for i in range(100))
    box = new_box(c)
    maildir_deliver(maildir(srv, folder=box), message(body="after a 90k header\r\n",
                                                      headers=big))
    c.select(box)
    assert preview_of(c, 1) == b'"after a 90k header"'
    assert preview_of(c, 1, lazy=True) == b"NIL"
    assert preview_of(c, 1) == b'"after a 90k header"'
    # the header sections still come from the file
    assert b"X-Filler-99" in c.ok("FETCH 1 (BODY.PEEK[HEADER])")[0]


@pytest.mark.parametrize("items", [
    "(PREVIEW (FOO))", "(PREVIEW ())", "(PREVIEW (LAZY FOO))", "(PREVIEW LAZY)",
    "PREVIEW (LAZY FOO)",
])
def test_syntax_errors(srv, items):
    c = Imap(srv.imap_port)
    box = new_box(c)
    c.append_ok(box, message())
    c.select(box)
    untagged, tagged = c.cmd(f"FETCH 1 {items}")
    assert tagged.startswith(b"BAD "), (items, tagged)
