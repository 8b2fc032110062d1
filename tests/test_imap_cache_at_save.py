"""The message cache filled at save (issue 4, mail.cache_at_save): APPEND
and MULTIAPPEND parse each message as it streams to disk and store its
ENVELOPE, BODY, BODYSTRUCTURE and root header block in the index in the
save's own transaction, so the first FETCH of them reads no file. LMTP
leaves it to the indexer process, which renders it from the same read that
indexes the message's text (src/indexer).

The renderings must be exactly those a FETCH would make by parsing the
file: the whole MIME fixture corpus is fetched once from the save-time
cache and once after the cache rows were deleted (so every message is
parsed again from its file), and the answers must be byte for byte the
same; literals are sent in odd-sized pieces so the parser sees other
chunk boundaries than the file read does."""
import pathlib
import re
import smtplib
import socket
import sqlite3
import time

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, mail_home, maildir, message

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "mime"
MESSAGES = sorted(CORPUS.glob("*.eml")) + sorted((CORPUS / "generated").glob("*.eml"))

ITEMS = ("UID ENVELOPE BODY BODYSTRUCTURE BODY.PEEK[HEADER] "
         "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT MESSAGE-ID)] "
         "BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED)] RFC822.SIZE")


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


def cache_rows(srv, user="alice"):
    """{uid: (has envelope, has bodystructure, has header)} of the index's
    message cache (read while the server runs: WAL readers don't block)."""
    db = sqlite3.connect(mail_home(srv, user) / "tern-index.db")
    try:
        return {uid: (env is not None, bs is not None, hdr is not None)
                for uid, env, bs, hdr in db.execute(
                    "SELECT uid, envelope, bodystructure, header FROM message_cache")}
    finally:
        db.close()


def rows_per_mailbox(srv, user="alice"):
    """The message cache's row counts, one per mailbox that has rows."""
    db = sqlite3.connect(mail_home(srv, user) / "tern-index.db")
    try:
        return [n for _, n in db.execute("SELECT mailbox_id, count(*) FROM message_cache"
                                         " GROUP BY mailbox_id")]
    finally:
        db.close()


def wait_cache_rows(srv, count, user="alice", seconds=20):
    """The cache rows once there are count (LMTP's come from the indexer
    after its delay)."""
    deadline = time.monotonic() + seconds
    rows = cache_rows(srv, user)
    while len(rows) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        rows = cache_rows(srv, user)
    return rows


def drop_cache(srv, user="alice"):
    db = sqlite3.connect(mail_home(srv, user) / "tern-index.db", timeout=10)
    try:
        db.execute("DELETE FROM message_cache")
        db.commit()
    finally:
        db.close()


def by_uid(untagged):
    out = {}
    for resp in untagged:
        m = re.match(rb"\* \d+ FETCH \(UID (\d+) ", resp)
        if m:
            out[int(m.group(1))] = resp
    return out


def assert_cached_equals_parsed(srv, c, n):
    """The selected mailbox's n messages (MESSAGES in order) are all
    cached, and FETCH answers the same from the cache as from the files
    once the rows are gone. Returns the cached answers by UID."""
    rows = cache_rows(srv)
    assert len(rows) == n
    assert all(env and bs for env, bs, _ in rows.values())
    cached = by_uid(c.ok(f"UID FETCH 1:* ({ITEMS})"))
    assert len(cached) == n
    drop_cache(srv)
    parsed = by_uid(c.ok(f"UID FETCH 1:* ({ITEMS})"))
    for uid in cached:
        assert parsed[uid] == cached[uid], f"uid {uid}: {MESSAGES[uid - 1].name}"
    return cached


def append_in_pieces(port, box, data, piece):
    """APPEND over a raw socket with the literal sent piece bytes at a
    time (the server reads what has arrived: other chunk boundaries)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN alice secret\r\n")
    while not f.readline().startswith(b"a "):
        pass
    s.sendall(b"b APPEND %s {%d}\r\n" % (box.encode(), len(data)))
    assert f.readline().startswith(b"+")
    for i in range(0, len(data), piece):
        s.sendall(data[i:i + piece])
    s.sendall(b"\r\n")
    line = f.readline()
    while not line.startswith(b"b "):
        line = f.readline()
    s.sendall(b"c LOGOUT\r\n")
    s.close()
    assert line.startswith(b"b OK"), line


def test_append_fills_cache_before_any_fetch(tmp_path):
    srv = Ternd(tmp_path).start()
    try:
        c = Imap(srv.imap_port, rev2=True)
        uid = c.append_ok("INBOX", (CORPUS / MESSAGES[0].name).read_bytes())
        assert cache_rows(srv) == {uid: (True, True, True)}
        # and the answers come from there: the file may change (Maildir
        # files never do; this only shows where the answer comes from)
        c.select()
        path = next((maildir(srv) / "cur").iterdir())
        path.write_bytes(b"Subject: not this one\r\n\r\nx\r\n".ljust(path.stat().st_size, b"x"))
        got = c.fetch("1 (ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER])")[1]
        assert b"not this one" not in got["ENVELOPE"]
        assert b"not this one" not in got["BODY[HEADER]"]
    finally:
        srv.stop()


def test_corpus_cached_at_save_equals_parsed_from_file(tmp_path):
    srv = Ternd(tmp_path).start()
    try:
        c = Imap(srv.imap_port, timeout=60)
        c.ok("CREATE Corpus")
        pieces = (1, 7, 100, 4093)
        n = 0
        for i, path in enumerate(MESSAGES):
            data = path.read_bytes()
            if i % 5 == 0:
                append_in_pieces(srv.imap_port, "Corpus", data, pieces[(i // 5) % len(pieces)])
            else:
                c.append_ok("Corpus", data)
            n += 1
        c.select("Corpus")
        saved = assert_cached_equals_parsed(srv, c, n)
        # the FETCH filled the rows again, with the same answers
        assert len(cache_rows(srv)) == n
        assert by_uid(c.ok(f"UID FETCH 1:* ({ITEMS})")) == saved
    finally:
        srv.stop()


def test_multiappend_and_lmtp_fill_the_cache(tmp_path):
    srv = Ternd(tmp_path, lmtp=True).start()
    try:
        c = Imap(srv.imap_port, rev2=True)
        msgs = [message(f"multi {i}", body=f"body {i}\r\n") for i in range(3)]
        tag = c.next_tag()
        line = f"{tag} APPEND INBOX".encode()
        for m in msgs:
            data = m if isinstance(m, bytes) else m.encode()
            line += b" {%d+}\r\n" % len(data) + data
        c.sock.sendall(line + b"\r\n")
        _, tagged = c.read_until_tagged(tag)
        assert tagged.startswith(tag.encode() + b" OK [APPENDUID"), tagged
        with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as lmtp:
            lmtp.sendmail("bob@example.com", ["alice@example.org"], message("via lmtp"))
        rows = wait_cache_rows(srv, 4)
        assert len(rows) == 4 and all(v == (True, True, True) for v in rows.values())
        c.select()
        env = by_uid(c.ok("UID FETCH 4 (UID ENVELOPE)"))[4]
        assert b'"via lmtp"' in env
        # LMTP's added Return-Path/Received are in the cached header block
        hdr = c.fetch("4 BODY.PEEK[HEADER]")[4]["BODY[HEADER]"]
        assert hdr.startswith(b"Return-Path: ")
        drop_cache(srv)
        assert c.fetch("4 BODY.PEEK[HEADER]")[4]["BODY[HEADER]"] == hdr
    finally:
        srv.stop()


def test_lmtp_corpus_cached_by_indexer_equals_parsed_from_file(tmp_path):
    srv = Ternd(tmp_path, lmtp=True, config_extra="indexer {\n delay = 100ms\n}\n").start()
    try:
        with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as lmtp:
            for path in MESSAGES:
                refused = lmtp.sendmail("bob@example.com", ["alice@example.org"],
                                        path.read_bytes())
                assert refused == {}
        assert len(wait_cache_rows(srv, len(MESSAGES))) == len(MESSAGES)
        c = Imap(srv.imap_port, timeout=60)
        c.select()
        assert_cached_equals_parsed(srv, c, len(MESSAGES))
    finally:
        srv.stop()


def test_cache_at_save_off(tmp_path):
    srv = Ternd(tmp_path, config_extra="mail.cache_at_save = no\n").start()
    try:
        c = Imap(srv.imap_port, rev2=True)
        c.append_ok("INBOX", message("not cached yet"))
        assert cache_rows(srv) == {}
        c.select()
        c.fetch("1 (ENVELOPE BODYSTRUCTURE)")
        assert cache_rows(srv) == {1: (True, True, True)}
    finally:
        srv.stop()


def test_copy_and_move_take_the_cache_along(tmp_path):
    """COPY and MOVE give the new messages their source's cache rows (the
    content is the same), so they are not parsed again; the answers equal
    the source's. Filled by FETCH here, to show the rows travel."""
    srv = Ternd(tmp_path, config_extra="mail.cache_at_save = no\n").start()
    try:
        c = Imap(srv.imap_port, rev2=True)
        for path in MESSAGES[:5]:
            c.append_ok("INBOX", path.read_bytes())
        c.ok("CREATE Other")
        c.select()
        assert cache_rows(srv) == {}
        src = by_uid(c.ok("UID FETCH 1:* (UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER])"))
        assert len(cache_rows(srv)) == 5
        c.ok("UID COPY 1:3 Other")
        assert sorted(rows_per_mailbox(srv)) == [3, 5]
        c.ok("UID MOVE 4:5 Other")
        assert sorted(rows_per_mailbox(srv)) == [3, 5]
        c.select("Other")
        dst = by_uid(c.ok("UID FETCH 1:* (UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER])"))
        assert [re.sub(rb"^\* \d+ FETCH \(UID \d+ ", b"", v) for _, v in sorted(dst.items())] == \
            [re.sub(rb"^\* \d+ FETCH \(UID \d+ ", b"", v) for _, v in sorted(src.items())]
    finally:
        srv.stop()


def test_big_header_not_cached_but_served(tmp_path):
    """A header over 64 KiB keeps ENVELOPE/BODYSTRUCTURE cached at save
    but not the block; header sections still answer exactly."""
    srv = Ternd(tmp_path).start()
    try:
        c = Imap(srv.imap_port, rev2=True)
        big = "".join(f"X-Filler-{i}: {'y' * 70}\r\n" for i in range(1200))
        data = ("Subject: big header\r\n" + big + "\r\nbody\r\n").encode()
        c.append_ok("INBOX", data)
        assert cache_rows(srv) == {1: (True, True, False)}
        c.select()
        assert c.fetch("1 BODY.PEEK[HEADER]")[1]["BODY[HEADER]"] == data[:-len(b"body\r\n")]
    finally:
        srv.stop()
