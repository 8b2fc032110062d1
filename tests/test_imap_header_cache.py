"""The header block in the message cache (issue 4): a FETCH that parses a
message keeps its root header in the index, and later BODY[HEADER],
BODY[HEADER.FIELDS (...)], BODY[HEADER.FIELDS.NOT (...)] and
RFC822.HEADER of it are answered from there without opening the file.

Checked on the whole MIME fixture corpus (bare LF, NULs, 8-bit and
overlong headers, messages without a body or without the empty line):
the answers from the cache, before it is filled, and after a restart
are byte for byte the same, partials included. That the file is really
not read is shown by overwriting a message file after the cache was
filled (Maildir files never change, so the old header is the right
answer). Headers over 64 KiB are not cached and still answered exactly."""
import pathlib
import re

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, fetch_list, maildir, message

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "mime"
MESSAGES = sorted(CORPUS.glob("*.eml")) + sorted((CORPUS / "generated").glob("*.eml"))

HEADER_ITEMS = (
    "BODY.PEEK[HEADER] BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID)] "
    "BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED CONTENT-TYPE)] "
    "BODY.PEEK[HEADER.FIELDS (X-NOT-THERE)] BODY.PEEK[HEADER]<5.40> "
    "BODY.PEEK[HEADER.FIELDS (SUBJECT)]<2.10>"
)


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


def headers(c, uids):
    """{uid: raw FETCH response} of the header items, in one command."""
    untagged = c.ok(f"UID FETCH {uids} ({HEADER_ITEMS})")
    out = {}
    for resp in untagged:
        m = re.match(rb"\* \d+ FETCH \(.*?UID (\d+)", resp)
        if m:
            # the sequence number and item order are the same every time
            out[int(m.group(1))] = resp
    return out


def fill_corpus(c, box):
    c.ok(f"CREATE {box}")
    n = 0
    for path in MESSAGES:
        data = path.read_bytes()
        untagged, tagged = c.append(box, data)
        if tagged.startswith(b"OK"):
            n += 1
    c.select(box)
    return n


@pytest.mark.parametrize("at_save", ["no", "yes"])
def test_corpus_same_from_cache_and_after_restart(tmp_path, at_save):
    # with "no" the first FETCH parses the files and fills the cache;
    # with "yes" the saves filled it already
    srv = Ternd(tmp_path, config_extra=f"mail.cache_at_save = {at_save}\n").start()
    try:
        c = Imap(srv.imap_port, timeout=60)
        count = fill_corpus(c, "Hdr")
        assert count >= 80
        cold = headers(c, "1:*")          # parsed (and cached), or cached at save
        assert len(cold) == count
        warm = headers(c, "1:*")          # from the cache
        assert warm == cold
        # ENVELOPE/BODYSTRUCTURE fetches keep the header block too
        c.ok("UID FETCH 1:* (ENVELOPE BODYSTRUCTURE)")
        assert headers(c, "1:*") == cold
        # one message at a time (another read path) and out of order
        for uid in (3, 1, count):
            assert headers(c, str(uid))[uid] == cold[uid]
        c.logout()
        srv.stop()
        srv.start()
        c = Imap(srv.imap_port, timeout=60)
        c.select("Hdr")
        assert headers(c, "1:*") == cold
        c.logout()
    finally:
        srv.stop()


def test_cached_header_needs_no_file(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Nofile")
    original = message("cached subject", body="body text\r\n")
    uid = c.append_ok("Nofile", original)
    c.select("Nofile")
    first = headers(c, str(uid))[uid]
    assert b"cached subject" in first
    # overwrite the file in place with other bytes of the same size
    files = list((maildir(ternd, folder="Nofile") / "cur").iterdir()) + \
        list((maildir(ternd, folder="Nofile") / "new").iterdir())
    assert len(files) == 1
    data = files[0].read_bytes()
    files[0].write_bytes(data.replace(b"cached subject", b"CHANGED SUBJEC"))
    assert headers(c, str(uid))[uid] == first
    # the body is still read from the file
    body = fetch_list(c.ok(f"UID FETCH {uid} BODY.PEEK[TEXT]"))[0][1]["BODY[TEXT]"]
    assert body == b"body text\r\n"


def test_big_header_not_cached_but_exact(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Bighdr")
    fields = "".join(f"X-Filler-{i}: {'x' * 70}\r\n" for i in range(1200))  # ~100 KB
    data = f"Subject: big\r\n{fields}\r\nbody\r\n".encode()
    uid = c.append_ok("Bighdr", data)
    c.select("Bighdr")
    one = headers(c, str(uid))[uid]
    two = headers(c, str(uid))[uid]
    assert one == two
    whole = fetch_list(c.ok(f"UID FETCH {uid} BODY.PEEK[HEADER]"))[0][1]["BODY[HEADER]"]
    assert whole == data[:data.index(b"\r\n\r\n") + 4]
