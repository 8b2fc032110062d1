"""INPROGRESS (RFC 9585) against a running ternd with
imap.progress_interval = 1ms: long commands send
`* OK [INPROGRESS ("tag" done total)] Still working.` between their other
responses, with done never decreasing nor passing total: FETCH per
message, SEARCH while it fills the full-text index
(mail.index_text_at_save = no), COPY and MOVE per copied file, EXPUNGE
per removed file, SORT and THREAD while their keys are indexed. A tag
holding ']' is sent as NIL. With the default interval (10 s) a short
command sends none."""
import re

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, maildir, maildir_deliver, message

PROGRESS = re.compile(rb'\* OK \[INPROGRESS \(("[^"]*"|NIL) (\d+) (\d+|NIL)\)\] Still working\.')
COUNT = 300


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("inprogress"),
              config_extra="imap.progress_interval = 1ms\nmail.index_text_at_save = no\n"
              ).start()
    c = Imap(s.imap_port)
    c.ok("CREATE Big")
    for i in range(COUNT):
        c.append_ok("Big", message(f"subject {i}", body=f"line {i} " * 200 + "\r\n"))
    c.logout()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


def progress_lines(untagged, tag, total):
    """Checks the progress responses among untagged; returns them."""
    found = [u for u in untagged if b"INPROGRESS" in u]
    last = -1
    for line in found:
        m = PROGRESS.fullmatch(line)
        assert m, line
        assert m.group(1) == b'"%s"' % tag.encode()
        done = int(m.group(2))
        assert m.group(3) == str(total).encode()
        assert last <= done <= total, (last, done, total)
        last = done
    return found


def command(c, line):
    tag = c.next_tag()
    c.send(f"{tag} {line}\r\n".encode())
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    return tag, untagged


def test_capability(srv):
    assert b"INPROGRESS" in Imap(srv.imap_port).ok("CAPABILITY")[0].split()


def test_fetch(srv):
    c = Imap(srv.imap_port)
    c.select("Big")
    tag, untagged = command(c, "FETCH 1:* (BODY.PEEK[] BODYSTRUCTURE)")
    found = progress_lines(untagged, tag, COUNT)
    assert found
    # between whole responses: every other line is a complete FETCH
    fetches = [u for u in untagged if b"INPROGRESS" not in u]
    assert len(fetches) == COUNT
    assert all(re.match(rb"\* \d+ FETCH \(", u) and u.endswith(b")") for u in fetches)


def test_search_fills_text_index(srv):
    c = Imap(srv.imap_port)
    c.select("Big")
    tag, untagged = command(c, 'UID SEARCH BODY "line 299 "')
    found = [u for u in untagged if b"INPROGRESS" in u]
    assert found, untagged[:3]
    # the fill's units are the messages still to index
    for line in found:
        m = PROGRESS.fullmatch(line)
        assert m and m.group(1) == b'"%s"' % tag.encode()
        assert int(m.group(2)) <= int(m.group(3)) <= COUNT
    assert untagged[-1] == b"* SEARCH 300"


def test_copy_move_expunge(srv):
    c = Imap(srv.imap_port)
    c.ok("CREATE Copies")
    c.select("Big")
    tag, untagged = command(c, "COPY 1:* Copies")
    assert progress_lines(untagged, tag, COUNT)
    c.select("Copies")
    c.ok("CREATE Moved")
    tag, untagged = command(c, "MOVE 1:* Moved")
    assert progress_lines(untagged, tag, COUNT)
    c.select("Moved")
    c.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    tag, untagged = command(c, "EXPUNGE")
    assert progress_lines(untagged, tag, COUNT)
    assert sum(1 for u in untagged if u.endswith(b" EXPUNGE")) == COUNT


@pytest.mark.parametrize("line", ["SORT (SUBJECT) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"])
def test_sort_and_thread(srv, line):
    # files another program dropped: their keys are indexed by the command
    c = Imap(srv.imap_port)
    name = "Sorted" + line[0]
    c.ok(f"CREATE {name}")
    for i in range(COUNT):
        maildir_deliver(maildir(srv, folder=name),
                        message(f"subject {i}", body=f"line {i} " * 200 + "\r\n"))
    c.select(name)
    tag, untagged = command(c, line)
    assert progress_lines(untagged, tag, COUNT)
    assert untagged[-1].startswith(b"* " + line.split()[0].encode())


def test_tag_with_bracket_is_nil(srv):
    c = Imap(srv.imap_port)
    c.select("Big")
    c.send(b"a]1 FETCH 1:* (BODY.PEEK[])\r\n")
    untagged, tagged = c.read_until_tagged("a]1")
    assert tagged.startswith(b"a]1 OK")
    found = [u for u in untagged if b"INPROGRESS" in u]
    assert found
    assert all(PROGRESS.fullmatch(u) and b"(NIL " in u for u in found)


def test_default_interval_sends_nothing_quickly(tmp_path):
    s = Ternd(tmp_path).start()
    try:
        c = Imap(s.imap_port)
        for i in range(20):
            c.append_ok("INBOX", message(f"m{i}"))
        c.select("INBOX")
        untagged = c.ok("FETCH 1:* (BODY.PEEK[])")
        assert not any(b"INPROGRESS" in u for u in untagged)
    finally:
        close_sessions()
        s.stop()
