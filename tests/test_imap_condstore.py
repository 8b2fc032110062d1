"""CONDSTORE (RFC 7162 §3.1) against a running ternd: the enabling
commands and the HIGHESTMODSEQ they announce, SELECT/EXAMINE (CONDSTORE),
STATUS HIGHESTMODSEQ, FETCH MODSEQ and the CHANGEDSINCE modifier, STORE
UNCHANGEDSINCE with [MODIFIED], the SEARCH/SORT MODSEQ key with the
result's MODSEQ (plain and ESEARCH), and UID plus MODSEQ in every FETCH
the server sends unasked once CONDSTORE is on (§3.2.4): after STORE (also
.SILENT), after a FETCH that sets \\Seen, and for other sessions' changes.
Modseqs must persist across a restart and only grow.

One server is shared by the module; each test works in its own mailbox,
filled so that UIDs are sequence number + 1 (UID/sequence mix-ups show)."""
import itertools
import re

import pytest

from conftest import Ternd
from mailutil import Imap, close_sessions, fetches, message, seqset_expand


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("condstore")).start()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


_boxes = itertools.count(1)


@pytest.fixture
def box(srv):
    """A mailbox of the test's own with 5 messages, UIDs 2..6."""
    name = f"Cs{next(_boxes)}"
    c = Imap(srv.imap_port)
    c.ok(f"CREATE {name}")
    c.append_ok(name, message("dummy"), flags="\\Deleted")
    for i in range(5):
        c.append_ok(name, message(f"m{i + 1}", body=f"body {i + 1}\r\n"))
    c.select(name)
    c.ok("EXPUNGE")
    c.logout()
    return name


def session(srv, box=None, condstore=False):
    c = Imap(srv.imap_port)
    if condstore:
        assert c.ok("ENABLE CONDSTORE") == [b"* ENABLED CONDSTORE"]
    if box is not None:
        c.select(box)
    return c


def highestmodseq(untagged):
    found = [int(m.group(1)) for r in untagged
             for m in [re.match(rb"\* OK \[HIGHESTMODSEQ (\d+)\]", r)] if m]
    assert len(found) <= 1, untagged
    return found[0] if found else None


def modseqs(c, set_="1:*"):
    """{seq: modseq} by FETCH MODSEQ."""
    return {seq: int(items["MODSEQ"][0]) for seq, items in c.fetch(f"{set_} (MODSEQ)").items()}


def status_modseq(c, box):
    untagged = c.ok(f"STATUS {box} (HIGHESTMODSEQ)")
    m = [re.search(rb"HIGHESTMODSEQ (\d+)", r) for r in untagged if r.startswith(b"* STATUS")]
    assert len(m) == 1 and m[0], untagged
    return int(m[0].group(1))


# --- enabling ----------------------------------------------------------------------

def test_capability(srv):
    c = session(srv)
    caps = c.ok("CAPABILITY")[0].split()
    assert b"CONDSTORE" in caps


def test_select_announces_highestmodseq_only_when_enabled(srv, box):
    c = session(srv)
    assert highestmodseq(c.select(box)) is None
    untagged = c.ok(f"SELECT {box} (CONDSTORE)")
    hms = highestmodseq(untagged)
    assert hms is not None and hms == status_modseq(c, box)
    assert hms >= max(modseqs(c).values())
    # EXAMINE (CONDSTORE) too, and a plain SELECT once it is on
    assert highestmodseq(c.ok(f"EXAMINE {box} (condstore)")) == hms
    assert highestmodseq(c.select(box)) == hms


def test_enable_condstore(srv):
    c = session(srv)
    assert c.ok("ENABLE CONDSTORE") == [b"* ENABLED CONDSTORE"]
    # already on: nothing newly enabled
    assert c.ok("ENABLE CONDSTORE") == [b"* ENABLED"]


@pytest.mark.parametrize("command", [
    "FETCH 1 (MODSEQ)",
    "FETCH 1 (FLAGS) (CHANGEDSINCE 1)",
    "SEARCH MODSEQ 1",
    "STORE 1 (UNCHANGEDSINCE 1) +FLAGS.SILENT (x)",
    "STATUS INBOX (HIGHESTMODSEQ)",
    "ENABLE CONDSTORE",
])
def test_enabling_command_sends_highestmodseq_once(srv, box, command):
    c = session(srv, box)
    untagged = c.ok(command)
    hms = highestmodseq(untagged)
    assert hms is not None and hms >= status_modseq(c, box) - 1, untagged
    # announced once; later commands don't repeat it
    assert highestmodseq(c.ok(command)) is None
    assert highestmodseq(c.ok("NOOP")) is None


def test_enabling_command_unselected_sends_nothing(srv, box):
    c = session(srv)
    untagged = c.ok(f"STATUS {box} (HIGHESTMODSEQ)")
    assert highestmodseq(untagged) is None
    # the session is now CONDSTORE: a plain SELECT announces it
    assert highestmodseq(c.select(box)) is not None


# --- modseqs ----------------------------------------------------------------------

def test_store_raises_modseq_once_per_change(srv, box):
    c = session(srv, box, condstore=True)
    before = modseqs(c)
    hms0 = status_modseq(c, box)
    c.ok("STORE 2,4 +FLAGS (\\Flagged)")
    after = modseqs(c)
    # one new modseq for the whole STORE, above everything before
    assert after[2] == after[4] == hms0 + 1
    assert {s: after[s] for s in (1, 3, 5)} == {s: before[s] for s in (1, 3, 5)}
    # a STORE that changes nothing takes no modseq
    c.ok("STORE 2 +FLAGS (\\Flagged)")
    assert modseqs(c) == after
    assert status_modseq(c, box) == hms0 + 1


def test_expunge_and_append_raise_highestmodseq(srv, box):
    c = session(srv, box, condstore=True)
    hms0 = status_modseq(c, box)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    hms1 = status_modseq(c, box)
    assert hms1 > hms0 + 1
    c.append_ok(box, message("new"))
    c.ok("NOOP")
    m = modseqs(c)
    assert m[max(m)] > hms1 and status_modseq(c, box) == m[max(m)]


def test_modseqs_survive_restart(tmp_path):
    srv = Ternd(tmp_path).start()
    try:
        c = Imap(srv.imap_port)
        c.ok("CREATE Keep")
        for i in range(3):
            c.append_ok("Keep", message(f"k{i}"))
        c.select("Keep")
        c.ok("STORE 2 +FLAGS (\\Seen)")
        before = modseqs(c)
        hms = status_modseq(c, "Keep")
        c.logout()
        srv.stop()
        srv.start()
        c = Imap(srv.imap_port)
        assert highestmodseq(c.ok("SELECT Keep (CONDSTORE)")) == hms
        assert modseqs(c) == before
        c.ok("STORE 1 +FLAGS (\\Seen)")
        assert modseqs(c, "1")[1] == hms + 1
        c.logout()
    finally:
        srv.stop()


# --- STORE -----------------------------------------------------------------------

def test_store_reports_uid_and_modseq(srv, box):
    c = session(srv, box, condstore=True)
    untagged = c.ok("STORE 2 +FLAGS (\\Answered)")
    f = fetches(untagged)
    assert list(f) == [2]
    assert f[2]["UID"] == "3" and "\\Answered" in f[2]["FLAGS"]
    assert int(f[2]["MODSEQ"][0]) == modseqs(c, "2")[2]
    # .SILENT still reports UID and MODSEQ (RFC 7162 §3.2.4), not FLAGS
    f = fetches(c.ok("STORE 3 +FLAGS.SILENT (\\Answered)"))
    assert list(f) == [3] and set(f[3]) == {"UID", "MODSEQ"} and f[3]["UID"] == "4"
    # without CONDSTORE: .SILENT is silent and no MODSEQ appears
    plain = session(srv, box)
    assert fetches(plain.ok("STORE 4 +FLAGS.SILENT (\\Answered)")) == {}
    f = fetches(plain.ok("STORE 4 -FLAGS (\\Answered)"))
    assert set(f[4]) == {"FLAGS"}


def test_unchangedsince(srv, box):
    c = session(srv, box)
    m = modseqs(c)
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    changed = modseqs(c, "2")[2]
    limit = max(m.values())
    untagged, tagged = c.cmd(f"STORE 1:3 (UNCHANGEDSINCE {limit}) +FLAGS (\\Seen)")
    # message 2 changed after limit: not stored, listed by number
    assert tagged.startswith(b"OK [MODIFIED 2]"), tagged
    f = fetches(untagged)
    assert sorted(f) == [1, 3]
    assert all("\\Seen" in f[s]["FLAGS"] and "UID" in f[s] and "MODSEQ" in f[s] for s in f)
    flags = c.fetch("2 (FLAGS MODSEQ)")[2]
    assert "\\Seen" not in flags["FLAGS"] and int(flags["MODSEQ"][0]) == changed
    # UID STORE lists UIDs
    _, tagged = c.cmd(f"UID STORE 2:6 (UNCHANGEDSINCE {limit}) -FLAGS.SILENT (\\Seen)")
    assert tagged.startswith(b"OK [MODIFIED "), tagged
    modified = seqset_expand(re.match(rb"OK \[MODIFIED ([\d:,]+)\]", tagged).group(1))
    assert modified == [2, 3, 4], tagged  # UIDs of messages 1..3, all changed since
    # a limit at the current modseq passes
    cur = modseqs(c, "5")[5]
    untagged, tagged = c.cmd(f"STORE 5 (UNCHANGEDSINCE {cur}) +FLAGS (\\Draft)")
    assert tagged.startswith(b"OK Store"), tagged
    assert int(fetches(untagged)[5]["MODSEQ"][0]) > cur


def test_unchangedsince_zero_always_fails(srv, box):
    c = session(srv, box)
    before = c.fetch("1:* (FLAGS MODSEQ)")
    untagged, tagged = c.cmd("STORE 1:5 (UNCHANGEDSINCE 0) +FLAGS (\\Flagged)")
    assert tagged.startswith(b"OK [MODIFIED 1:5]"), tagged
    assert fetches(untagged) == {}
    _, tagged = c.cmd("UID STORE 3,5 (UNCHANGEDSINCE 0) +FLAGS (\\Flagged)")
    assert tagged.startswith(b"OK [MODIFIED 3,5]"), tagged
    assert c.fetch("1:* (FLAGS MODSEQ)") == before


def test_unchangedsince_race_between_sessions(srv, box):
    a = session(srv, box, condstore=True)
    b = session(srv, box)
    seen = modseqs(a, "3")[3]
    b.ok("STORE 3 +FLAGS (\\Deleted)")
    untagged, tagged = a.cmd(f"STORE 3 (UNCHANGEDSINCE {seen}) +FLAGS (\\Seen)")
    assert tagged.startswith(b"OK [MODIFIED 3]"), tagged
    # the other session's change reaches a with UID and MODSEQ
    f = fetches(untagged)
    assert f[3]["UID"] == "4" and "\\Deleted" in f[3]["FLAGS"] and "\\Seen" not in f[3]["FLAGS"]
    assert int(f[3]["MODSEQ"][0]) > seen


@pytest.mark.parametrize("line", [
    "STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)",
    "STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)",
    "STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)",
    "STORE 1 (UNCHANGEDSINCE 99999999999999999999) +FLAGS (\\Seen)",
    "STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) +FLAGS (\\Seen)",
    "STORE 1 (FOO 1) +FLAGS (\\Seen)",
    "STORE 1 () +FLAGS (\\Seen)",
    "STORE 1 (UNCHANGEDSINCE 1)",
    "FETCH 1 FLAGS (CHANGEDSINCE)",
    "FETCH 1 FLAGS (CHANGEDSINCE x)",
    "FETCH 1 FLAGS (CHANGEDSINCE 1) extra",
    "FETCH 1 FLAGS (FOO)",
    "FETCH 1 FLAGS ()",
    "SEARCH MODSEQ",
    "SEARCH MODSEQ x",
    "SEARCH MODSEQ \"/flags/\\\\seen\" 5",
    "SEARCH MODSEQ \"/flags/\\\\seen\" bogus 5",
    "SEARCH MODSEQ \"/other/x\" all 5",
    "SELECT INBOX (FOO)",
    "SELECT INBOX (CONDSTORE) extra",
])
def test_bad_syntax(srv, box, line):
    c = session(srv, box)
    untagged, tagged = c.cmd(line)
    assert tagged.startswith(b"BAD"), (line, tagged)
    # the mailbox stays selected and nothing changed
    assert c.cmd("FETCH 1 UID")[1].startswith(b"OK")


# --- FETCH -----------------------------------------------------------------------

def test_changedsince(srv, box):
    c = session(srv, box, condstore=True)
    base = status_modseq(c, box)
    c.ok("STORE 2 +FLAGS (\\Seen)")
    c.ok("STORE 4 +FLAGS (\\Seen)")
    f = c.fetch(f"1:* (FLAGS) (CHANGEDSINCE {base})")
    assert sorted(f) == [2, 4]
    assert all("MODSEQ" in f[s] and "\\Seen" in f[s]["FLAGS"] for s in f)
    # only within the set, and UID FETCH
    f = c.fetch(f"4,1,2 (FLAGS) (CHANGEDSINCE {base})")
    assert sorted(f) == [2, 4]
    f = c.fetch(f"1:* (FLAGS) (CHANGEDSINCE {base + 1})", uid=True)
    assert list(f) == [4] and f[4]["UID"] == "5"
    assert c.fetch(f"1:* (FLAGS) (CHANGEDSINCE {status_modseq(c, box)})") == {}
    # CHANGEDSINCE 0: every message
    assert sorted(c.fetch("1:* (UID) (CHANGEDSINCE 0)")) == [1, 2, 3, 4, 5]


def test_changedsince_uses_the_modseq_index(srv, box):
    """CHANGEDSINCE past every change answers nothing without a
    per-message read; with content items it still reads only what
    changed."""
    c = session(srv, box, condstore=True)
    base = status_modseq(c, box)
    c.ok("STORE 3 +FLAGS (\\Flagged)")
    f = c.fetch(f"1:* (BODY.PEEK[TEXT] RFC822.SIZE) (CHANGEDSINCE {base})")
    assert list(f) == [3] and f[3]["BODY[TEXT]"] == b"body 3\r\n"


def test_fetch_modseq_item_in_macros_and_lists(srv, box):
    c = session(srv, box)
    f = c.fetch("1:2 (UID MODSEQ FLAGS INTERNALDATE)")
    assert all(set(v) == {"UID", "MODSEQ", "FLAGS", "INTERNALDATE"} for v in f.values())
    assert all(len(v["MODSEQ"]) == 1 and int(v["MODSEQ"][0]) > 0 for v in f.values())


def test_fetch_setting_seen_reports_uid_and_modseq(srv, box):
    c = session(srv, box, condstore=True)
    before = modseqs(c, "2")[2]
    f = c.fetch("2 (BODY[TEXT])")
    assert f[2]["UID"] == "3" and "\\Seen" in f[2]["FLAGS"]
    assert int(f[2]["MODSEQ"][0]) > before
    # PEEK: nothing unasked
    f = c.fetch("3 (BODY.PEEK[TEXT])")
    assert set(f[3]) == {"BODY[TEXT]"}


# --- unsolicited FETCH -------------------------------------------------------------

def test_other_sessions_changes_carry_modseq(srv, box):
    a = session(srv, box, condstore=True)
    plain = session(srv, box)
    b = session(srv, box)
    b.ok("STORE 1:2 +FLAGS (\\Flagged)")
    f = fetches(a.ok("NOOP"))
    assert sorted(f) == [1, 2]
    ms = modseqs(b, "1:2")
    for s in (1, 2):
        assert f[s]["UID"] == str(s + 1) and int(f[s]["MODSEQ"][0]) == ms[s]
    f = fetches(plain.ok("NOOP"))
    assert sorted(f) == [1, 2] and all("MODSEQ" not in v for v in f.values())


def test_idle_reports_modseq(srv, box):
    a = session(srv, box, condstore=True)
    b = session(srv, box)
    a.send("i1 IDLE\r\n")
    assert a.read_response().startswith(b"+")
    b.ok("STORE 5 +FLAGS (\\Answered)")
    resp = a.wait_response(5)
    assert resp is not None and re.match(rb"\* 5 FETCH \(", resp), resp
    f = fetches([resp])[5]
    assert f["UID"] == "6" and int(f["MODSEQ"][0]) == modseqs(b, "5")[5]
    a.send("DONE\r\n")
    a.read_until_tagged("i1")


# --- SEARCH and SORT ---------------------------------------------------------------

def search_line(untagged, kind=b"SEARCH"):
    lines = [r for r in untagged if r.startswith(b"* " + kind)]
    assert len(lines) == 1, untagged
    return lines[0]


def test_search_modseq(srv, box):
    c = session(srv, box)
    c.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    c.ok("STORE 4 +FLAGS.SILENT (\\Seen)")
    m = modseqs(c)
    limit = m[2]
    want = sorted(s for s, v in m.items() if v >= limit)
    assert want == [2, 4]
    line = search_line(c.ok(f"SEARCH MODSEQ {limit}"))
    assert line == b"* SEARCH 2 4 (MODSEQ %d)" % m[4]
    line = search_line(c.ok(f"UID SEARCH MODSEQ \"/flags/\\\\Seen\" all {limit}"))
    assert line == b"* SEARCH 3 5 (MODSEQ %d)" % m[4]
    line = search_line(c.ok(f"SEARCH MODSEQ \"/flags/$Label1\" priv {limit} NOT SEEN"))
    assert line == b"* SEARCH"
    line = search_line(c.ok(f"SEARCH OR MODSEQ {m[4]} 1"))
    assert line == b"* SEARCH 1 4 (MODSEQ %d)" % max(m[1], m[4])
    # no MODSEQ key: no MODSEQ in the reply
    assert search_line(c.ok("SEARCH SEEN")) == b"* SEARCH 2 4"


def test_esearch_modseq(srv, box):
    """RFC 7162 §3.1.5: the MODSEQ of an ESEARCH is the highest of the
    messages shown: only MIN and/or MAX when only those were asked."""
    c = session(srv, box)
    for s in (1, 3, 2):  # modseqs: 2 highest, then 3, then 1
        c.ok(f"STORE {s} +FLAGS.SILENT (\\Seen)")
    m = modseqs(c)
    low = m[1]

    def es(ret):
        line = search_line(c.ok(f"SEARCH RETURN ({ret}) MODSEQ {low} SEEN"), b"ESEARCH")
        return line.split(b")", 1)[1].strip()
    assert es("MIN") == b"MIN 1 MODSEQ %d" % m[1]
    assert es("MAX") == b"MAX 3 MODSEQ %d" % m[3]
    assert es("MIN MAX") == b"MIN 1 MAX 3 MODSEQ %d" % m[3]
    assert es("") == b"ALL 1:3 MODSEQ %d" % m[2]
    assert es("COUNT") == b"COUNT 3 MODSEQ %d" % m[2]
    assert es("PARTIAL 1:1") == b"PARTIAL (1:1 1) MODSEQ %d" % m[1]
    # nothing found: no MODSEQ
    line = search_line(c.ok(f"SEARCH RETURN (COUNT) MODSEQ {m[2] + 1}"), b"ESEARCH")
    assert line.endswith(b"COUNT 0")


def test_sort_modseq(srv, box):
    c = session(srv, box)
    c.ok("STORE 1,5 +FLAGS.SILENT (\\Flagged)")
    m = modseqs(c)
    line = search_line(c.ok(f"SORT (REVERSE SUBJECT) UTF-8 MODSEQ {m[1]}"), b"SORT")
    assert line == b"* SORT 5 1 (MODSEQ %d)" % m[1]
    line = search_line(c.ok(f"SORT RETURN (MIN) (REVERSE SUBJECT) UTF-8 MODSEQ {m[1]}"),
                       b"ESEARCH")
    assert line.endswith(b"MIN 5 MODSEQ %d" % m[5])
