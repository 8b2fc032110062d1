"""QRESYNC (RFC 7162 §3.2) against a running ternd: ENABLE QRESYNC (which
implies CONDSTORE), SELECT/EXAMINE (QRESYNC (uidvalidity modseq
[known-uids] [seq-match-data])) with VANISHED (EARLIER) and FETCH (UID
FLAGS MODSEQ) of what changed, UID FETCH (CHANGEDSINCE n VANISHED),
VANISHED instead of EXPUNGE (own and other sessions' expunges, IDLE, MOVE,
held back during FETCH/STORE/SEARCH by number), [HIGHESTMODSEQ] in
EXPUNGE's reply, [CLOSED] when switching mailboxes, and the syntax errors.

The central check is a client cache: a client that kept (UID, flags) and
HIGHESTMODSEQ, then applies the VANISHED (EARLIER) and FETCH responses of
a QRESYNC SELECT, must end with exactly what a full FETCH 1:* returns,
after any mix of expunges, flag changes and deliveries by other sessions,
and across a server restart."""
import itertools
import random
import re

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, fetch_list, message, seqset_expand
from test_imap_condstore import highestmodseq, status_modseq


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("qresync")).start()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


_boxes = itertools.count(1)


def make_box(srv, count=8):
    """A new mailbox with count messages, UIDs 1..count."""
    name = f"Qr{next(_boxes)}"
    c = Imap(srv.imap_port)
    c.ok(f"CREATE {name}")
    for i in range(count):
        c.append_ok(name, message(f"q{i + 1}"))
    c.logout()
    return name


@pytest.fixture
def box(srv):
    return make_box(srv)


def qsession(srv):
    c = Imap(srv.imap_port)
    assert c.ok("ENABLE QRESYNC") == [b"* ENABLED QRESYNC"]
    return c


def uidvalidity(untagged):
    return int(re.search(rb"UIDVALIDITY (\d+)", b"\n".join(untagged)).group(1))


def vanished(untagged, earlier):
    """UIDs of the VANISHED (EARLIER) or plain VANISHED responses."""
    prefix = b"* VANISHED (EARLIER) " if earlier else b"* VANISHED "
    out = []
    for line in untagged:
        if line.startswith(prefix) and (earlier or not line.startswith(b"* VANISHED (")):
            out += seqset_expand(line[len(prefix):])
    return out


def flags_of(items):
    return frozenset(f for f in items["FLAGS"] if f != "\\Recent")


class Cache:
    """What a QRESYNC client keeps of a mailbox: UID -> flags, plus
    UIDVALIDITY and HIGHESTMODSEQ."""

    def __init__(self, c, box):
        untagged = c.ok(f"SELECT {box}")
        self.box = box
        self.uidvalidity = uidvalidity(untagged)
        self.modseq = highestmodseq(untagged)
        self.msgs = {int(i["UID"]): flags_of(i) for _, i in fetch_list(c.ok("FETCH 1:* (UID FLAGS)"))}

    def resync(self, c, known=None):
        """SELECT (QRESYNC ...) and applies what comes back; returns the
        untagged responses."""
        known_arg = f" {known}" if known else ""
        untagged = c.ok(f"SELECT {self.box} (QRESYNC ({self.uidvalidity} {self.modseq}{known_arg}))")
        for uid in vanished(untagged, earlier=True):
            self.msgs.pop(uid, None)
        for _, items in fetch_list(untagged):
            assert "MODSEQ" in items and "UID" in items, items
            self.msgs[int(items["UID"])] = flags_of(items)
        self.modseq = highestmodseq(untagged)
        return untagged


def truth(c):
    return {int(i["UID"]): flags_of(i) for _, i in fetch_list(c.ok("FETCH 1:* (UID FLAGS)"))}


# --- enabling and syntax -------------------------------------------------------------

def test_capability_and_enable(srv, box):
    c = Imap(srv.imap_port)
    assert b"QRESYNC" in c.ok("CAPABILITY")[0].split()
    assert c.ok("ENABLE QRESYNC") == [b"* ENABLED QRESYNC"]
    assert c.ok("ENABLE QRESYNC CONDSTORE") == [b"* ENABLED"]
    # QRESYNC implies CONDSTORE
    assert highestmodseq(c.select(box)) is not None
    d = Imap(srv.imap_port)
    assert d.ok("ENABLE CONDSTORE QRESYNC") == [b"* ENABLED CONDSTORE QRESYNC"]


def test_select_qresync_needs_enable(srv, box):
    c = Imap(srv.imap_port)
    untagged, tagged = c.cmd(f"SELECT {box} (QRESYNC (1 1))")
    assert tagged.startswith(b"BAD"), tagged
    # CONDSTORE alone isn't enough
    c.ok("ENABLE CONDSTORE")
    assert c.cmd(f"SELECT {box} (QRESYNC (1 1))")[1].startswith(b"BAD")


@pytest.mark.parametrize("param", [
    "(QRESYNC)",
    "(QRESYNC ())",
    "(QRESYNC (1))",
    "(QRESYNC (0 1))",
    "(QRESYNC (x 1))",
    "(QRESYNC (1 x))",
    "(QRESYNC (1 1 1:*))",
    "(QRESYNC (1 1 1:5 (1:3)))",
    "(QRESYNC (1 1 1:5 (1:* 1:3)))",
    "(QRESYNC (1 1 1:5 (1:3 1:3) extra))",
    "(QRESYNC (1 1) QRESYNC (1 1))",
    "(QRESYNC 1 1)",
])
def test_select_qresync_bad(srv, box, param):
    c = qsession(srv)
    assert c.cmd(f"SELECT {box} {param}")[1].startswith(b"BAD"), param


@pytest.mark.parametrize("line", [
    "FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
    "UID FETCH 1:* (FLAGS) (VANISHED)",
    "UID FETCH 1:* (FLAGS) (VANISHED VANISHED CHANGEDSINCE 1)",
])
def test_fetch_vanished_bad(srv, box, line):
    c = qsession(srv)
    c.select(box)
    assert c.cmd(line)[1].startswith(b"BAD"), line
    # and without ENABLE QRESYNC
    plain = Imap(srv.imap_port)
    plain.select(box)
    assert plain.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")[1].startswith(b"BAD")


# --- SELECT (QRESYNC) ------------------------------------------------------------------

def changes_by_other(srv, box):
    o = Imap(srv.imap_port)
    o.select(box)
    o.ok("STORE 2,4,7 +FLAGS.SILENT (\\Deleted)")
    o.ok("EXPUNGE")  # UIDs 2, 4, 7 go
    o.ok("UID STORE 1,5 +FLAGS.SILENT (\\Flagged)")
    new = o.append_ok(box, message("new"))
    o.logout()
    return new


def test_select_qresync_reports_exactly_what_changed(srv, box):
    c = qsession(srv)
    cache = Cache(c, box)
    c.ok("UNSELECT")
    new = changes_by_other(srv, box)
    untagged = cache.resync(c)
    assert vanished(untagged, earlier=True) == [2, 4, 7]
    assert sorted(int(i["UID"]) for _, i in fetch_list(untagged)) == [1, 5, new]
    assert cache.msgs == truth(c)
    assert cache.modseq == status_modseq(c, box)
    # nothing changed since: nothing to report
    untagged = cache.resync(c)
    assert vanished(untagged, earlier=True) == [] and fetch_list(untagged) == []


def test_select_qresync_known_uids(srv, box):
    c = qsession(srv)
    cache = Cache(c, box)
    c.ok("UNSELECT")
    new = changes_by_other(srv, box)
    untagged = c.ok(f"EXAMINE {box} (QRESYNC ({cache.uidvalidity} {cache.modseq} 1:4))")
    assert vanished(untagged, earlier=True) == [2, 4]
    assert [int(i["UID"]) for _, i in fetch_list(untagged)] == [1]
    # the sequence match data is accepted (and not needed)
    untagged = c.ok(f"EXAMINE {box} (QRESYNC ({cache.uidvalidity} {cache.modseq} 3:{new} "
                    f"(1:3 1,3,5)))")
    assert vanished(untagged, earlier=True) == [4, 7]
    assert [int(i["UID"]) for _, i in fetch_list(untagged)] == [5, new]


def test_select_qresync_other_uidvalidity_reports_nothing(srv, box):
    c = qsession(srv)
    cache = Cache(c, box)
    c.ok("UNSELECT")
    changes_by_other(srv, box)
    untagged = c.ok(f"SELECT {box} (QRESYNC ({cache.uidvalidity + 1} {cache.modseq}))")
    assert not any(b"VANISHED" in r or b"FETCH" in r for r in untagged), untagged
    # the client sees the new UIDVALIDITY and resyncs fully
    assert uidvalidity(untagged) == cache.uidvalidity


def test_select_qresync_random_changes(srv):
    """Random expunges, flag changes and deliveries by another session
    between resyncs; the cache must always equal the mailbox."""
    rnd = random.Random(7162)
    box = make_box(srv, 30)
    c = qsession(srv)
    cache = Cache(c, box)
    c.ok("UNSELECT")
    o = Imap(srv.imap_port)
    o.select(box)
    for _ in range(12):
        for _ in range(rnd.randint(1, 6)):
            count = len(truth(o))
            op = rnd.choice(["flag", "unflag", "expunge", "append", "keyword"])
            if op == "append" or count == 0:
                o.append_ok(box, message("r"), flags=rnd.choice([None, "\\Seen", "$Work"]))
                o.ok("NOOP")
                continue
            seqs = ",".join(str(rnd.randint(1, count)) for _ in range(rnd.randint(1, 3)))
            if op == "expunge":
                o.ok(f"STORE {seqs} +FLAGS.SILENT (\\Deleted)")
                o.ok("EXPUNGE")
            elif op == "keyword":
                o.ok(f"STORE {seqs} +FLAGS.SILENT (k{rnd.randint(1, 3)})")
            else:
                sign = "+" if op == "flag" else "-"
                flag = rnd.choice(["\\Seen", "\\Flagged"])
                o.ok(f"STORE {seqs} {sign}FLAGS.SILENT ({flag})")
        cache.resync(c)
        assert cache.msgs == truth(c)
        c.ok("UNSELECT")


def test_select_qresync_after_restart(tmp_path):
    srv = Ternd(tmp_path).start()
    try:
        box = make_box(srv)
        c = qsession(srv)
        cache = Cache(c, box)
        c.logout()
        changes_by_other(srv, box)
        srv.stop()
        srv.start()
        c = qsession(srv)
        untagged = cache.resync(c)
        assert vanished(untagged, earlier=True) == [2, 4, 7]
        assert cache.msgs == truth(c)
        c.logout()
    finally:
        srv.stop()


# --- UID FETCH (CHANGEDSINCE n VANISHED) --------------------------------------------

def test_uid_fetch_vanished(srv, box):
    c = qsession(srv)
    hms = highestmodseq(c.select(box))
    new = changes_by_other(srv, box)
    # expunges the session hasn't been told of yet come as the plain
    # VANISHED of the sync that ends the command, not as EARLIER
    untagged = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
    assert vanished(untagged, earlier=True) == []
    assert vanished(untagged, earlier=False) == [2, 4, 7]
    # (the sync may report the same flag changes once more)
    assert {int(i["UID"]) for _, i in fetch_list(untagged)} == {1, 5}
    # once told, they are EARLIER ones
    untagged = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
    assert vanished(untagged, earlier=True) == [2, 4, 7]
    assert [int(i["UID"]) for _, i in fetch_list(untagged)] == [1, 5, new]
    untagged = c.ok(f"UID FETCH 3:6 (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
    assert vanished(untagged, earlier=True) == [4]
    assert [int(i["UID"]) for _, i in fetch_list(untagged)] == [5]
    # '*' reaches expunged UIDs above the highest one left
    o = Imap(srv.imap_port)
    o.select(box)
    o.ok(f"UID STORE {new} +FLAGS.SILENT (\\Deleted)")
    o.ok("EXPUNGE")
    c.ok("NOOP")
    untagged = c.ok(f"UID FETCH 8:* (FLAGS) (CHANGEDSINCE {hms} VANISHED)")
    assert vanished(untagged, earlier=True) == [new]


# --- VANISHED instead of EXPUNGE ---------------------------------------------------

def test_own_expunge_reports_vanished_and_highestmodseq(srv, box):
    c = qsession(srv)
    c.select(box)
    c.ok("STORE 3,5,6 +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = c.cmd("EXPUNGE")
    assert vanished(untagged, earlier=False) == [3, 5, 6]
    assert not any(re.match(rb"\* \d+ EXPUNGE", r) for r in untagged)
    m = re.match(rb"OK \[HIGHESTMODSEQ (\d+)\]", tagged)
    assert m and int(m.group(1)) == status_modseq(c, box), tagged
    # UID EXPUNGE too
    c.ok("UID STORE 8 +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = c.cmd("UID EXPUNGE 8")
    assert vanished(untagged, earlier=False) == [8]
    assert tagged.startswith(b"OK [HIGHESTMODSEQ")


def test_other_sessions_expunges_as_vanished(srv, box):
    c = qsession(srv)
    c.select(box)
    o = Imap(srv.imap_port)
    o.select(box)
    o.ok("STORE 1,2 +FLAGS.SILENT (\\Deleted)")
    o.ok("EXPUNGE")
    # held back during FETCH by number, sent at the next command that allows it
    untagged = c.ok("FETCH 1:* (UID)")
    assert vanished(untagged, earlier=False) == []
    assert vanished(c.ok("NOOP"), earlier=False) == [1, 2]
    # during IDLE
    c.send("i1 IDLE\r\n")
    assert c.read_response().startswith(b"+")
    o.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    o.ok("EXPUNGE")
    seen = []
    while not seen or not seen[-1].startswith(b"* VANISHED"):
        resp = c.wait_response(5)
        assert resp is not None, seen
        seen.append(resp)
    assert seen[-1] == b"* VANISHED 3", seen
    assert all(re.match(rb"\* 1 FETCH \(", r) for r in seen[:-1]), seen
    c.send("DONE\r\n")
    c.read_until_tagged("i1")


def test_move_reports_vanished(srv, box):
    c = qsession(srv)
    c.ok("CREATE QrMoved")
    c.select(box)
    untagged = c.ok("MOVE 2:3 QrMoved")
    assert untagged[0].startswith(b"* OK [COPYUID ")
    assert vanished(untagged, earlier=False) == [2, 3]


def test_closed_when_switching(srv, box):
    c = qsession(srv)
    c.select(box)
    untagged = c.select("INBOX")
    assert untagged[0].startswith(b"* OK [CLOSED]"), untagged
