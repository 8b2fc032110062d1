"""Message structure over IMAP (issue 4) against a running ternd: ENVELOPE,
BODY, BODYSTRUCTURE, MIME part sections ([n], [n.MIME], [n.HEADER],
[n.TEXT], [n.HEADER.FIELDS (...)]) with partials, BINARY, BINARY.PEEK and
BINARY.SIZE (RFC 3516), the ALL and FULL macros and UNKNOWN-CTE.

Every message of the MIME corpus (tests/fixtures/mime) is checked for
consistency: the sizes and line counts in BODYSTRUCTURE are the parser's
(expected-structure.txt), sections are the exact byte ranges of BODY[],
HEADER + TEXT of each message part is the part, BINARY of base64 and
identity parts is the decoded body and BINARY.SIZE its length. Exact
values of hand-written cases were checked against Dovecot (see
tests/test_dovecot_diff.py and docs/imap-structure.md)."""
import base64
import re
import time

import pytest

import loadutil
from conftest import ROOT, Ternd
from mailutil import Imap, close_sessions, code, message, parse_data
from mailutil import ternd  # noqa: F401  (fixture: closes sessions first)

CORPUS = ROOT / "tests" / "fixtures" / "mime"
MESSAGES = sorted(CORPUS.glob("*.eml")) + sorted((CORPUS / "generated").glob("*.eml"))
LITERAL = re.compile(rb"(~?)\{(\d+)\}\r\n")
NO_SAVE_CACHE = "mail.cache_at_save = no\n"


def crlf(data):
    """The CRLF form IMAP serves (RFC 9051 §2.3.4)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def values(resp):
    """The items of one FETCH response as {NAME: value}, literal8 read
    like a literal; also {NAME: True} in 'literal8' for the ~{n} ones."""
    m = re.match(rb"\* \d+ FETCH \(", resp)
    assert m, resp
    data, out, pos, lit8 = resp[m.end():], bytearray(), 0, set()
    while (lm := LITERAL.search(data, pos)) is not None:
        end = lm.end() + int(lm.group(2))
        if lm.group(1):
            name = re.search(rb"(\S+) $", data[:lm.start()])
            lit8.add(name.group(1).decode().upper())
        out += data[pos:lm.start()] + data[lm.start() + len(lm.group(1)):end]
        pos = end
    out += data[pos:]
    vals, _ = parse_data(bytes(out), 0)
    items = {vals[i].upper(): vals[i + 1] for i in range(0, len(vals) - 1, 2)}
    items["literal8"] = lit8
    return items


def fetch(session, uid, items):
    """UID FETCH that must succeed (or fail only with UNKNOWN-CTE for an
    encoding ternd can't decode: then BINARY items are left out); the
    items of its one response."""
    untagged, tagged = session.cmd(f"UID FETCH {uid} ({items})")
    assert tagged.startswith(b"OK") or code(tagged) == b"UNKNOWN-CTE", (items, tagged)
    resps = [r for r in untagged if re.match(rb"\* \d+ FETCH", r)]
    assert len(resps) == 1, untagged
    return values(resps[0])


# --- the parser's view: expected-structure.txt --------------------------------

def expected_parts():
    """{file name: [part dicts in pre-order]} from expected-structure.txt:
    depth, type, header/body offsets, sizes and LF counts, CRLF sizes,
    flags (M multipart, R message, U unterminated header)."""
    out = {}
    for line in (CORPUS / "expected-structure.txt").read_text().splitlines():
        name, rest = line.split("\t", 1)
        parts = []
        for spec in rest.split(" | "):
            m = re.match(r"(\d+):(\S+) H(\d+)\+(\d+)/(\d+) B(\d+)\+(\d+)/(\d+)"
                         r"(?:~(\d+),(\d+))?(.*)", spec)
            assert m, spec
            g = m.groups()
            hsize, bsize = int(g[3]), int(g[6])
            parts.append({"depth": int(g[0]), "type": g[1], "hsize": hsize,
                          "bsize": bsize, "blines": int(g[7]),
                          "hcrlf": int(g[8]) if g[8] else hsize,
                          "bcrlf": int(g[9]) if g[9] else bsize,
                          "flags": g[10].split()})
        out[name.split("/")[-1]] = parts
    return out


def number_parts(parts):
    """Section numbers of the parser's parts (RFC 9051 §6.4.5): children of
    a multipart are 1..n, a leaf message is part 1 of itself, a message
    part's message continues its number. Returns [(path, part)]."""
    out = []
    stack = []  # (depth, path, is_multipart, is_message, child count)
    for part in parts:
        while stack and stack[-1][0] >= part["depth"]:
            stack.pop()
        if not stack:
            path = "" if "M" in part["flags"] else "1"
        else:
            pdepth, ppath, pmulti, pmsg, count = stack[-1]
            if pmulti:
                count += 1
                stack[-1] = (pdepth, ppath, pmulti, pmsg, count)
                path = f"{ppath}.{count}" if ppath else str(count)
            elif "M" in part["flags"]:
                # a message part's multipart: its parts are numbered
                # under the message part's number, and it has none
                stack.append((part["depth"], ppath, True, False, 0))
                continue
            else:
                path = f"{ppath}.1"
        stack.append((part["depth"], path, "M" in part["flags"], "R" in part["flags"], 0))
        out.append((path, part))
    return out


EXPECTED = expected_parts()


def bodystructure_parts(structure, prefix=""):
    """(path, node) of every part in a parsed BODYSTRUCTURE, numbered the
    same way."""
    if not isinstance(structure[0], list):
        return node_parts(structure, prefix[:-1] if prefix else "1")
    out, n = [], 0
    for child in structure:
        if not isinstance(child, list):
            break
        n += 1
        out += node_parts(child, f"{prefix}{n}")
    return out


def node_parts(node, path):
    if isinstance(node[0], list):
        return [(path, node)] + bodystructure_parts(node, path + ".")
    out = [(path, node)]
    if is_message_node(node):
        inner = node[8]
        if isinstance(inner[0], list):
            out += bodystructure_parts(inner, path + ".")
        else:
            out += node_parts(inner, path + ".1")
    return out


def is_message_node(node):
    return (len(node) > 9 and isinstance(node[0], bytes) and node[0].lower() == b"message"
            and isinstance(node[7], list) and isinstance(node[8], list))


def strip_extension_data(node):
    """BODY from BODYSTRUCTURE: the same structure without extension data."""
    if isinstance(node[0], list):
        n = next(i for i, c in enumerate(node) if not isinstance(c, list))
        return [strip_extension_data(c) for c in node[:n]] + [node[n]]
    if is_message_node(node):
        return node[:8] + [strip_extension_data(node[8]), node[9]]
    text = isinstance(node[0], bytes) and node[0].lower() == b"text"
    return node[:8] if text else node[:7]


# --- the corpus ---------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A ternd with every corpus message in INBOX; (session, {name: uid})."""
    srv = Ternd(tmp_path_factory.mktemp("structure")).start()
    try:
        s = Imap(srv.imap_port, timeout=60)
        uids = {m.name: s.append_ok("INBOX", m.read_bytes()) for m in MESSAGES}
        s.select()
        yield s, uids
    finally:
        close_sessions()
        srv.stop()


def lenient_base64(data):
    """RFC 2045 §6.8: characters outside the alphabet are ignored;
    decoding stops at the padding."""
    chars = re.sub(rb"[^A-Za-z0-9+/=]", b"", data).split(b"=", 1)[0]
    chars = chars[:len(chars) - len(chars) % 4 if len(chars) % 4 == 1 else len(chars)]
    return base64.b64decode(chars + b"=" * (-len(chars) % 4))


@pytest.mark.parametrize("path", MESSAGES, ids=[m.name for m in MESSAGES])
def test_corpus_message(corpus, path):
    s, uids = corpus
    raw = path.read_bytes()
    uid = uids[path.name]
    whole = fetch(s, uid, "RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] "
                          "BODY BODYSTRUCTURE ENVELOPE BINARY.PEEK[] BINARY.SIZE[]")
    served = crlf(raw).replace(b"\0", b"\x80")
    assert whole["BODY[]"] == served
    assert int(whole["RFC822.SIZE"]) == len(served)
    assert whole["BODY[HEADER]"] + whole["BODY[TEXT]"] == served
    assert len(whole["ENVELOPE"]) == 10
    assert whole["BODY"] == strip_extension_data(whole["BODYSTRUCTURE"])
    if whole.get("BINARY[]") is not None:
        assert int(whole["BINARY.SIZE[]"]) == len(whole["BINARY[]"])

    if any(p["depth"] >= 99 for p in EXPECTED[path.name]):
        # expected-structure.txt is the MIME parser's default depth (100);
        # IMAP parses 99 deep, as Dovecot (docs/imap-structure.md)
        return
    parts = number_parts(EXPECTED[path.name])
    root = parts[0][1]
    assert len(whole["BODY[HEADER]"]) == root["hcrlf"]
    structure = dict(bodystructure_parts(whole["BODYSTRUCTURE"]))
    for section, part in parts:
        if not section:
            continue
        check_part(s, uid, section, part, structure.get(section), served)


def check_part(s, uid, section, part, node, served):
    items = fetch(s, uid, f"BODY.PEEK[{section}] BODY.PEEK[{section}.MIME] "
                          f"BODY.PEEK[{section}]<1.7> BINARY.PEEK[{section}] "
                          f"BINARY.SIZE[{section}]")
    body, mime = items[f"BODY[{section}]"], items[f"BODY[{section}.MIME]"]
    assert len(body) == part["bcrlf"], (section, part)
    assert items[f"BODY[{section}]<1>"] == body[1:8]
    if f"BINARY[{section}]" not in items:
        assert b"uuencode" in mime.lower() or b"uuencode" in served.lower()
        return
    assert int(items[f"BINARY.SIZE[{section}]"]) == len(items[f"BINARY[{section}]"])
    # the header and body are adjacent in the message (the header may
    # have lost the line ending that belongs to a boundary line)
    assert mime + body in served or mime + b"\r\n" + body in served, section
    if node is None or "M" in part["flags"]:
        return
    # a leaf in BODYSTRUCTURE: size and lines are the parser's
    assert int(node[6]) == part["bcrlf"], (section, node)
    if node[0].lower() == b"text" or is_message_node(node):
        lines = node[7] if node[0].lower() == b"text" else node[9]
        assert int(lines) == part["blines"], (section, node)
    binary = items[f"BINARY[{section}]"]
    encoding = node[5].lower() if isinstance(node[5], bytes) else b"7bit"
    if encoding in (b"7bit", b"8bit", b"binary") and not is_message_node(node):
        assert binary.replace(b"\0", b"\x80") == body, section
    elif encoding == b"base64" and not is_message_node(node):
        assert binary == lenient_base64(body), section
    if "R" in part["flags"]:
        check_message_part(s, uid, section, body)


def check_message_part(s, uid, section, body):
    items = fetch(s, uid, f"BODY.PEEK[{section}.HEADER] BODY.PEEK[{section}.TEXT] "
                          f"BODY.PEEK[{section}.HEADER.FIELDS (SUBJECT FROM)] "
                          f"BODY.PEEK[{section}.HEADER.FIELDS.NOT (SUBJECT FROM)]")
    header, text = items[f"BODY[{section}.HEADER]"], items[f"BODY[{section}.TEXT]"]
    # a header cut by a boundary leaves its last line ending to the part
    assert header + text == body or (header + b"\r\n" == body and text == b"")
    fields = items[f"BODY[{section}.HEADER.FIELDS (SUBJECT FROM)]"]
    others = items[f"BODY[{section}.HEADER.FIELDS.NOT (SUBJECT FROM)]"]
    for line in re.findall(rb"(?m)^(?:subject|from)[ \t]*:.*$", fields, re.I):
        assert line in header
    assert not re.search(rb"(?mi)^(?:subject|from)[ \t]*:", others)


# --- exact values (the same bytes as Dovecot) ---------------------------------

ENVELOPES = {
    "21-addresses-groups.eml":
        b'(NIL "groups" ((NIL NIL "A Group" NIL)("Ed Jones" NIL "c" "a.test")'
        b'(NIL NIL "joe" "where.test")("John" NIL "jdoe" "one.test")(NIL NIL NIL NIL)) '
        b'((NIL NIL "A Group" NIL)("Ed Jones" NIL "c" "a.test")(NIL NIL "joe" "where.test")'
        b'("John" NIL "jdoe" "one.test")(NIL NIL NIL NIL)) ((NIL NIL "A Group" NIL)'
        b'("Ed Jones" NIL "c" "a.test")(NIL NIL "joe" "where.test")("John" NIL "jdoe" '
        b'"one.test")(NIL NIL NIL NIL)) ((NIL NIL "undisclosed-recipients" NIL)'
        b'(NIL NIL NIL NIL)) ((NIL NIL "group" NIL)(NIL NIL "a" "example.com")'
        b'("B, Bee" NIL "b" "example.com")(NIL NIL NIL NIL)(NIL NIL "solo" "example.com")) '
        b'((NIL NIL "empty group" NIL)(NIL NIL NIL NIL)) NIL NIL)',
    "23-addresses-routes.eml":
        b'(NIL "source routes" (("Obsolete" "@relay1.example,@relay2.example" "user" '
        b'"host.example")) (("Obsolete" "@relay1.example,@relay2.example" "user" '
        b'"host.example")) (("Obsolete" "@relay1.example,@relay2.example" "user" '
        b'"host.example")) ((NIL "@a.example,@b.example" "user" "host.example")'
        b'("Name" "@a,@b" "x" "y")) NIL NIL NIL NIL)',
    "24-addresses-quoted.eml":
        b'(NIL "quoted local parts and comments" (("Doe, John \\"JD\\"" NIL "john.doe" '
        b'"example.com")) (("Doe, John \\"JD\\"" NIL "john.doe" "example.com")) '
        b'(("Doe, John \\"JD\\"" NIL "john.doe" "example.com")) (("A Comment" NIL '
        b'"user name" "example.com")("Pete" NIL "pete" "silly.test")) (("comment" NIL '
        b'"jdoe" "machine.example")(NIL NIL "user" "[192.0.2.1]")(NIL NIL "empty" '
        b'"example.com")) NIL NIL NIL)',
    "25-addresses-encoded-names.eml":
        b'(NIL "encoded display names" (("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" '
        b'"example.de")) (("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.de")) '
        b'(("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.de")) '
        b'(("=?iso-8859-1?q?Fran=E7ois?=" NIL "francois" "example.fr")'
        b'("=?utf-8?q?in_quotes?=" NIL "q" "example.com")) NIL NIL NIL NIL)',
}

BODYSTRUCTURES = {
    "41-content-disposition.eml":
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL ("inline" NIL) '
        b'NIL NIL)("application" "pdf" ("name" "report.pdf") NIL NIL "base64" 12 NIL '
        b'("attachment" ("filename" "report.pdf" "size" "10" "creation-date" '
        b'"Mon, 02 Mar 2026 10:15:00 +0100")) NIL NIL)("image" "png" NIL NIL NIL "base64" '
        b'12 NIL ("attachment" NIL) NIL NIL) "mixed" ("boundary" "d") NIL NIL NIL)',
    "42-content-language-location.eml":
        b'("text" "html" ("charset" "utf-8") "<page@example.com>" '
        b'"A =?utf-8?q?described?= page" "7bit" 14 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" NIL '
        b'("en" "de-CH") "http://example.com/page.html")',
    "59-multipart-digest.eml":
        b'(("message" "rfc822" NIL NIL NIL "7bit" 51 (NIL "first" ((NIL NIL "one" '
        b'"example.org")) ((NIL NIL "one" "example.org")) ((NIL NIL "one" "example.org")) '
        b'NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 '
        b'NIL NIL NIL NIL) 3 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 136 '
        b'(NIL "second" ((NIL NIL "two" "example.org")) ((NIL NIL "two" "example.org")) '
        b'((NIL NIL "two" "example.org")) NIL NIL NIL NIL NIL) (("text" "plain" '
        b'("charset" "us-ascii") NIL NIL "7bit" 4 0 NIL NIL NIL NIL) "mixed" '
        b'("boundary" "inner") NIL NIL NIL) 9 NIL NIL NIL NIL) "digest" '
        b'("boundary" "---- next message ----") NIL NIL NIL)',
}


def raw_item(session, uid, item):
    untagged, tagged = session.cmd(f"UID FETCH {uid} ({item})")
    assert tagged.startswith(b"OK"), tagged
    m = re.search(rb"\b" + item.encode() + rb" (\(.*\))\)$", untagged[0], re.S)
    assert m, untagged
    return m.group(1)


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_envelope_exact(corpus, name):
    s, uids = corpus
    assert raw_item(s, uids[name], "ENVELOPE") == ENVELOPES[name]


@pytest.mark.parametrize("name", sorted(BODYSTRUCTURES))
def test_bodystructure_exact(corpus, name):
    s, uids = corpus
    assert raw_item(s, uids[name], "BODYSTRUCTURE") == BODYSTRUCTURES[name]


def test_sections_of_an_attached_message(corpus):
    """BODY[2] of a message/rfc822 part is the attached message; its
    HEADER, TEXT, HEADER.FIELDS and the numbers inside it."""
    s, uids = corpus
    uid = uids["61-message-rfc822-attachment.eml"]
    items = fetch(s, uid, "BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1] "
                          "BODY.PEEK[2.HEADER.FIELDS (Subject)] BODY.PEEK[2.MIME] "
                          "BODY.PEEK[2.1.MIME] BODY.PEEK[1]<4.3> BODY.PEEK[3] BODY.PEEK[2.2]")
    assert items["BODY[2.HEADER]"].startswith(b"From: original@example.org\r\n")
    assert items["BODY[2.HEADER]"].endswith(b"Message-ID: <orig@example.org>\r\n\r\n")
    assert items["BODY[2.TEXT]"] == b"original body"
    assert items["BODY[2.1]"] == b"original body"
    assert items["BODY[2.HEADER.FIELDS (SUBJECT)]"] == b"Subject: the original\r\n\r\n"
    assert items["BODY[2.MIME]"] == (b"Content-Type: message/rfc822\r\nContent-Disposition: "
                                     b'attachment; filename="original.eml"\r\n\r\n')
    assert items["BODY[2.1.MIME]"] == items["BODY[2.HEADER]"]
    assert items["BODY[1]<4>"] == b"the"
    # parts that don't exist are empty strings
    assert items["BODY[3]"] == b"" and items["BODY[2.2]"] == b""


def test_single_part_message_is_part_one(corpus):
    s, uids = corpus
    uid = uids["01-simple.eml"]
    items = fetch(s, uid, "BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[TEXT] BODY.PEEK[HEADER] "
                          "BODY.PEEK[2] BODY.PEEK[1.1] BODY.PEEK[1.HEADER]")
    assert items["BODY[1]"] == items["BODY[TEXT]"]
    assert items["BODY[1.MIME]"] == items["BODY[HEADER]"]
    assert items["BODY[2]"] == b"" and items["BODY[1.1]"] == b""
    # HEADER of a part that isn't a message is empty
    assert items["BODY[1.HEADER]"] == b""


# --- BINARY ---------------------------------------------------------------------

def test_binary_decodes_and_rewrites_headers(corpus):
    s, uids = corpus
    uid = uids["44-multipart-alternative-nested.eml"]
    items = fetch(s, uid, "BINARY.PEEK[1.1] BINARY.PEEK[1.2.2] BINARY.SIZE[1.2.2] "
                          "BINARY.PEEK[2] BINARY.PEEK[1] BINARY.PEEK[1.2.2]<1.3>")
    assert items["BINARY[1.1]"] == "Café with a soft break".encode()
    assert items["BINARY[1.2.2]"] == base64.b64decode(b"R0lGODlhAQABAAAAACw=")
    assert int(items["BINARY.SIZE[1.2.2]"]) == 14
    assert items["BINARY[2]"] == bytes(range(8))
    assert items["BINARY[1.2.2]<1>"] == b"IF8"
    # a multipart's BINARY decodes its parts; their headers say so
    whole = items["BINARY[1]"]
    assert whole.count(b"Content-Transfer-Encoding: binary\r\n") == 2
    assert b"quoted-printable" not in whole and items["BINARY[1.2.2]"] in whole
    # decoded content comes as literal8 (~{n})
    assert {"BINARY[1.2.2]", "BINARY[2]", "BINARY[1]"} <= items["literal8"]


def test_binary_of_plain_text_is_a_literal(corpus):
    s, uids = corpus
    items = fetch(s, uids["01-simple.eml"], "BINARY.PEEK[1] BINARY.PEEK[]")
    assert "BINARY[1]" not in items["literal8"]
    assert items["BINARY[]"] == crlf((CORPUS / "01-simple.eml").read_bytes())


def test_binary_keeps_nuls(corpus):
    s, uids = corpus
    items = fetch(s, uids["08-nul-in-body.eml"], "BINARY.PEEK[1] BODY.PEEK[1]")
    assert b"\0" in items["BINARY[1]"] and "BINARY[1]" in items["literal8"]
    assert b"\0" not in items["BODY[1]"] and b"\x80" in items["BODY[1]"]


def test_unknown_cte(corpus):
    """RFC 3516 §4.3: an encoding the server can't decode is NO
    [UNKNOWN-CTE]; the other items are still answered."""
    s, uids = corpus
    uid = uids["71-uuencode.eml"]
    untagged, tagged = s.cmd(f"UID FETCH {uid} (BINARY.PEEK[1] BINARY.SIZE[1] UID)")
    assert tagged.startswith(b"NO") and code(tagged) == b"UNKNOWN-CTE", tagged
    assert len(untagged) == 1 and b"BINARY" not in untagged[0], untagged
    assert re.search(rb"\bUID %d\b" % uid, untagged[0])
    # BODY still serves it as it is
    untagged, tagged = s.cmd(f"UID FETCH {uid} (BODY.PEEK[1])")
    assert tagged.startswith(b"OK") and b"begin 644" in untagged[0]


def test_binary_of_missing_part(corpus):
    s, uids = corpus
    items = fetch(s, uids["01-simple.eml"], "BINARY.PEEK[3] BINARY.SIZE[3]")
    assert items["BINARY[3]"] == b"" and items["BINARY.SIZE[3]"] == "0"


@pytest.mark.parametrize("item", [
    "BINARY[HEADER]", "BINARY[1.MIME]", "BINARY[1.TEXT]", "BINARY.SIZE[1]<0.5>",
    "BODY[0]", "BODY[1.0]", "BODY[01]", "BODY[1.]", "BODY[MIME]", "BODY[1.FOO]",
    "BODY[1.2.HEADER.FIELDS ()]", "BINARY[", "BINARY.SIZE",
])
def test_bad_sections(corpus, item):
    s, _ = corpus
    untagged, tagged = s.cmd(f"FETCH 1 ({item})")
    assert tagged.startswith(b"BAD"), (item, tagged)
    assert not [r for r in untagged if b"FETCH" in r]


# --- macros, capability, flags ----------------------------------------------------

def test_all_and_full_macros(corpus):
    s, uids = corpus
    uid = uids["01-simple.eml"]
    for macro, names in (("ALL", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}),
                         ("FULL", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE",
                                   "BODY"})):
        untagged, tagged = s.cmd(f"UID FETCH {uid} {macro}")
        assert tagged.startswith(b"OK")
        items = values(untagged[0])
        del items["literal8"]
        assert set(items) == names | {"UID"}, items
        if macro == "FULL":
            assert items["BODY"][0] == b"text"


def test_binary_capability(ternd):
    c = Imap(ternd.imap_port)
    untagged = c.ok("CAPABILITY")
    assert b" BINARY" in untagged[0]


def test_binary_sets_seen_unless_peek(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    for _ in range(3):
        c.append_ok("INBOX", message("seen"))
    c.select()
    untagged = c.ok("FETCH 1 (BINARY.PEEK[1])")
    assert b"\\Seen" not in untagged[0]
    untagged = c.ok("FETCH 2 (BINARY.SIZE[1])")
    assert b"\\Seen" not in untagged[0]
    untagged = c.ok("FETCH 3 (BINARY[1])")
    assert b"FLAGS (\\Seen)" in untagged[0]
    flags = [values(r)["FLAGS"] for r in c.ok("FETCH 1:3 FLAGS")]
    assert flags == [[], [], ["\\Seen"]]


def test_envelope_and_bodystructure_of_appended_message(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    c.append_ok("INBOX", message("Hello  there", cc="c@d.example", bcc="Blind <b@d.example>"))
    c.select()
    items = values(c.ok("FETCH 1 (ENVELOPE BODYSTRUCTURE BODY)")[0])
    env = items["ENVELOPE"]
    assert env[0] == b"Mon, 07 Feb 1994 21:52:25 -0800"
    assert env[1] == b"Hello there"
    assert env[2] == [[b"Bob Example", None, b"bob", b"example.com"]]
    assert env[3] == env[4] == env[2]
    assert env[5] == [[b"Alice", None, b"alice", b"example.org"]]
    assert env[6] == [[None, None, b"c", b"d.example"]]
    assert env[7] == [[b"Blind", None, b"b", b"d.example"]]
    assert env[8] is None and env[9].startswith(b"<")
    assert items["BODYSTRUCTURE"][:8] == [b"text", b"plain", [b"charset", b"us-ascii"],
                                          None, None, b"7bit", "33", "3"]
    assert items["BODY"] == items["BODYSTRUCTURE"][:8]


# --- large messages: streaming with back-pressure, bounded memory -------------------

def big_message(size):
    payload = bytes((i * 7) % 256 for i in range(size))
    b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    head = (b"From: big@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=BIG\r\n\r\n"
            b"--BIG\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
            b"--BIG\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n")
    # the body ends before the line ending of the boundary line
    return head + b64 + b"--BIG--\r\n", payload, b64[:-2]


def read_literal_slowly(sock, buf, size, on_progress, chunk=65536, pause=0.002):
    """Reads size bytes of a literal a little at a time (a slow client),
    calling on_progress every 64 reads."""
    data = bytearray(buf)
    reads = 0
    while len(data) < size:
        more = sock.recv(chunk)
        assert more, "connection closed"
        data += more
        reads += 1
        if reads % 64 == 0:
            on_progress()
        time.sleep(pause)
    return bytes(data[:size]), bytes(data[size:])


@pytest.fixture
def rss_ternd(ternd_factory, monkeypatch):
    """A ternd whose RSS is measured (small ASan quarantine)."""
    loadutil.asan_small_quarantine(monkeypatch)
    srv = ternd_factory().start()
    yield srv
    close_sessions()


def test_big_binary_streams_with_bounded_memory(rss_ternd):
    ternd = rss_ternd
    msg, payload, b64 = big_message(24 * 1024 * 1024)
    c = Imap(ternd.imap_port, rev2=True, timeout=120)
    c.append_ok("INBOX", msg)
    c.select()
    rss_before = ternd.rss_kb()
    items = values(c.ok("FETCH 1 (BINARY.SIZE[2] BODYSTRUCTURE)")[0])
    assert int(items["BINARY.SIZE[2]"]) == len(payload)
    assert int(items["BODYSTRUCTURE"][1][6]) == len(b64)
    # a slow reader: the server must pause instead of buffering it all
    c.send("t99 FETCH 1 (BINARY.PEEK[2] BODY.PEEK[2]<1000.2000>)\r\n")
    line = c.readline()
    m = re.match(rb"\* 1 FETCH \(BINARY\[2\] ~\{(\d+)\}$", line)
    assert m, line
    samples = [rss_before]
    data, c.buf = read_literal_slowly(c.sock, c.buf, int(m.group(1)),
                                      lambda: samples.append(ternd.rss_kb()))
    peak = max(samples)
    assert data == payload
    rest = c.read_until_tagged("t99")
    assert rest[1].startswith(b"t99 OK"), rest
    # far less than the message: the literal was produced while sent
    print(f"\nBINARY of a 24 MiB attachment, slow reader: RSS {rss_before} KB -> {peak} KB")
    assert peak - rss_before < 16 * 1024, (rss_before, peak)


def test_big_message_body_sections_and_partials(ternd):
    msg, payload, b64 = big_message(3 * 1024 * 1024)
    c = Imap(ternd.imap_port, rev2=True, timeout=60)
    c.append_ok("INBOX", msg)
    c.select()
    start = 1024 * 1024 + 3
    items = values(c.ok(f"FETCH 1 (BODY.PEEK[2] BODY.PEEK[2]<{start}.100> "
                        f"BINARY.PEEK[2]<{start}.100> BODY.PEEK[1] BODY.PEEK[2.MIME])")[0])
    assert items["BODY[2]"] == b64
    assert items[f"BODY[2]<{start}>"] == b64[start:start + 100]
    assert items[f"BINARY[2]<{start}>"] == payload[start:start + 100]
    assert items["BODY[1]"] == b"see attachment"
    assert items["BODY[2.MIME]"].endswith(b"base64\r\n\r\n")


def test_structure_cache_serves_the_right_message(ternd):
    """Two messages, fetched alternately from two sessions: each answer
    belongs to its own message (the cache is keyed by user and GUID)."""
    a, b = Imap(ternd.imap_port), Imap(ternd.imap_port)
    a.append_ok("INBOX", message("first", body="one\r\n"))
    a.append_ok("INBOX", message("second", body="two two\r\n"))
    a.select()
    b.select()
    for _ in range(3):
        for session in (a, b):
            r1 = values(session.ok("FETCH 1 (ENVELOPE BODY.PEEK[1])")[0])
            r2 = values(session.ok("FETCH 2 (BODYSTRUCTURE BODY.PEEK[1])")[0])
            assert r1["ENVELOPE"][1] == b"first" and r1["BODY[1]"] == b"one\r\n"
            assert r2["BODYSTRUCTURE"][6] == "9" and r2["BODY[1]"] == b"two two\r\n"


# --- the message cache in the index (issue 4: "Caching") ----------------------------

def test_structure_cached_in_index_across_restart(ternd_factory):
    """ENVELOPE, BODY and BODYSTRUCTURE are parsed once and then answered
    from the index: after a restart (no process memory left) a changed
    file still gets the first answers, while BODY[] reads the file. Maildir
    files never change, so this only shows where the answers come from.
    Expunging the message drops its cache row."""
    # FETCH fills the cache here, not the save (tests/test_imap_cache_at_save.py)
    ternd = ternd_factory(config_extra=NO_SAVE_CACHE).start()
    import sqlite3
    from mailutil import mail_home, maildir
    c = Imap(ternd.imap_port, rev2=True)
    c.append_ok("INBOX", message("cached one", body="first body\r\n"))
    c.select()
    items = "(ENVELOPE BODY BODYSTRUCTURE)"
    first = c.fetch(f"1 {items}")
    path = next((maildir(ternd) / "cur").iterdir())
    # the same size (the index keeps it), another subject and body
    other = path.read_bytes().replace(b"cached one", b"cached two").replace(b"first", b"other")
    path.write_bytes(other)
    close_sessions()
    ternd.stop()
    ternd.start()
    c = Imap(ternd.imap_port, rev2=True)
    c.select()
    assert c.fetch(f"1 {items}") == first
    assert b"cached one" in first[1]["ENVELOPE"]
    assert c.fetch("1 BODY.PEEK[]")[1]["BODY[]"] == crlf(other)
    db = sqlite3.connect(mail_home(ternd) / "tern-index.db")
    assert db.execute("SELECT count(*) FROM message_cache WHERE bodystructure IS NOT NULL"
                      ).fetchone()[0] == 1
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    assert db.execute("SELECT count(*) FROM message_cache").fetchone()[0] == 0
    db.close()


def test_envelope_only_fetch_fills_envelope_then_structure(ternd_factory):
    """A FETCH ENVELOPE parses the header only and caches the envelope; a
    later BODYSTRUCTURE adds the rest, and every answer equals the one of
    a fresh parse (the in-memory path of a new mailbox copy)."""
    # FETCH fills the cache here, not the save (tests/test_imap_cache_at_save.py)
    ternd = ternd_factory(config_extra=NO_SAVE_CACHE).start()
    c = Imap(ternd.imap_port, rev2=True)
    data = (CORPUS / "multipart-alternative.eml").read_bytes() \
        if (CORPUS / "multipart-alternative.eml").exists() else MESSAGES[0].read_bytes()
    c.append_ok("INBOX", data)
    c.select()
    env = c.fetch("1 ENVELOPE")[1]["ENVELOPE"]
    full = c.fetch("1 (ENVELOPE BODYSTRUCTURE BODY)")[1]
    again = c.fetch("1 (BODY BODYSTRUCTURE ENVELOPE)")[1]
    assert full["ENVELOPE"] == env == again["ENVELOPE"]
    assert full["BODYSTRUCTURE"] == again["BODYSTRUCTURE"]
    assert full["BODY"] == again["BODY"]
    # a copy takes the source's cache row along: same answers
    c.ok("COPY 1 INBOX")
    c.ok("NOOP")
    assert c.fetch("2 (BODY BODYSTRUCTURE ENVELOPE)")[2] == again


def test_structure_cache_fill_over_several_batches(ternd_factory):
    """One FETCH that parses more messages than one cache write batch
    (256) answers every message right, and the next FETCH, from the
    cache, answers the same."""
    # FETCH fills the cache here, not the save (tests/test_imap_cache_at_save.py)
    ternd = ternd_factory(config_extra=NO_SAVE_CACHE).start()
    import sqlite3
    from mailutil import mail_home
    c = Imap(ternd.imap_port, rev2=True)
    sources = MESSAGES[:40]
    for i in range(600):
        c.append_ok("INBOX", sources[i % len(sources)].read_bytes())
    c.select()
    first = c.fetch("1:* (ENVELOPE BODYSTRUCTURE)")
    assert len(first) == 600
    for i in range(600):
        assert first[i + 1] == first[(i % len(sources)) + 1]
    db = sqlite3.connect(mail_home(ternd) / "tern-index.db")
    assert db.execute("SELECT count(*) FROM message_cache").fetchone()[0] == 600
    db.close()
    assert c.fetch("1:* (ENVELOPE BODYSTRUCTURE)") == first
