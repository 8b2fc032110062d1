"""ESORT, CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267) against a running
ternd: SORT and UID SORT with RETURN (MIN MAX ALL COUNT) answered by
ESEARCH in sort order (§3), PARTIAL and the CONTEXT hint (§4.2, §4.4),
and UPDATE contexts (§4.3): the reply of the searching command, the
unsolicited ADDTO / REMOVEFROM updates when the session itself, another
session or a delivery changes which messages match (seen at the next
command and during IDLE), REMOVEFROM before the EXPUNGE and ADDTO after
the EXISTS they depend on, CANCELUPDATE, the end of every context when
the mailbox is closed, NOUPDATE when a session has too many, and BAD for
a searching command with UPDATE reusing the tag of a live context.

Updates are checked by a client-side mirror (Mirror below) that keeps
the session's view (a UID per sequence number) and each context's result
and applies every untagged response in the order it came, as a client
must (§4.3.2-§4.3.4): positions are 0 for SEARCH contexts, 1-based
positions in sort order for SORT contexts; after each change the mirror
must equal a fresh SEARCH or SORT. The mirror checks set contents, never
the spelling of the sets, and no order between untagged lines other
than EXISTS before the ADDTO that names the new message and REMOVEFROM
before the EXPUNGE of a result.

The ESORT answers and the SEARCH UPDATE behaviour are also compared with
a private Dovecot (as tests/test_dovecot_diff.py starts one; Dovecot 2.3
has ESORT and CONTEXT=SEARCH but not CONTEXT=SORT); that part is skipped
when Dovecot can't run.

One server is shared by the module; each test that changes anything
works in its own mailbox. Mailboxes are filled so that UIDs are sequence
number + 1, so UID/sequence mix-ups show."""
import itertools
import re
import time
import types

import pytest

from conftest import Ternd
from mailutil import (Imap, close_sessions, maildir, maildir_deliver, message, parse_data,
                      parse_fetch, seqset_expand)

WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]


def jan(day, hour=10):
    """A Date: value in January 2023 (the 1st was a Sunday)."""
    return f"{WEEKDAYS[(day - 1) % 7]}, {day:02d} Jan 2023 {hour:02d}:00:00 +0000"


def mail(subject, day, hour=10, body=None):
    return message(subject, date=jan(day, hour), body=body or f"about {subject}\r\n")


# --- the shared server ------------------------------------------------------------

# (subject, day of the Date:, flags) of the ESORT mailbox, sequence 1..6:
# DATE order 3 4 5 1 6 2, SUBJECT order 2 5 4 1 3 6; \Seen: 1 3 5
ESORT_MESSAGES = [
    ("delta", 4, "\\Seen"),
    ("alpha", 6, None),
    ("echo", 1, "\\Seen"),
    ("charlie", 2, None),
    ("bravo", 3, "\\Seen \\Flagged"),
    ("foxtrot", 5, None),
]


def fill(session, box, messages):
    """Creates box with messages ((data, flags) pairs) whose UIDs start
    at 2 and whose internal dates increase (so ARRIVAL has no ties);
    returns their UIDs. Leaves no mailbox selected."""
    session.ok(f"CREATE {box}")
    session.append_ok(box, message("dummy"), flags="\\Deleted")
    uids = [session.append_ok(box, data, flags=flags,
                              date=f"01-Feb-2023 {i // 60:02d}:{i % 60:02d}:00 +0000")
            for i, (data, flags) in enumerate(messages)]
    session.select(box)
    session.ok("EXPUNGE")
    session.ok("UNSELECT")
    assert uids == list(range(2, len(messages) + 2)), uids
    return uids


def fill_esort(session):
    fill(session, "Esort", [(mail(s, d), f) for s, d, f in ESORT_MESSAGES])


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Ternd(tmp_path_factory.mktemp("context")).start()
    c = Imap(s.imap_port)
    fill_esort(c)
    c.logout()
    yield s
    close_sessions()
    s.stop()


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


@pytest.fixture
def c(srv):
    return Imap(srv.imap_port)


_boxes = itertools.count(1)


@pytest.fixture
def box():
    """A mailbox name of the test's own."""
    return f"Ctx{next(_boxes)}"


def sessions(srv, box, messages, count=2):
    """count sessions with box (filled with messages) selected; returns
    (sessions, uids)."""
    first = Imap(srv.imap_port)
    uids = fill(first, box, messages)
    out = [first] + [Imap(srv.imap_port) for _ in range(count - 1)]
    for s in out:
        s.select(box)
    return out, uids


# --- commands and ESEARCH parsing -------------------------------------------------

def run(c, tag, line):
    """Sends 'tag line'; returns (untagged, tagged reply without the tag)."""
    if isinstance(line, str):
        line = line.encode()
    c.send(tag.encode() + b" " + line + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    return untagged, tagged[len(tag) + 1:]


def ordered_set(text):
    """A sequence-set in result order: '3:5,1' -> [3, 4, 5, 1]. Ranges
    may only stand for runs of increasing numbers (RFC 5267 §3.2)."""
    out = []
    for part in text.split(","):
        if ":" in part:
            lo, hi = (int(x) for x in part.split(":"))
            assert lo <= hi, f"range {part} in an ordered set {text}"
            out += range(lo, hi + 1)
        else:
            out.append(int(part))
    return out


def parse_esearch(line):
    """'* ESEARCH (TAG "x") UID MIN 3 ...' -> ('x', True, [('MIN', '3'), ...])
    with names upper-cased and values as mailutil.parse_data gives them
    (ADDTO (0 2:3) -> ('ADDTO', ['0', '2:3']))."""
    assert line.startswith(b"* ESEARCH"), line
    vals, _ = parse_data(line, len(b"* ESEARCH"))
    tag = None
    i = 0
    if vals and isinstance(vals[0], list):
        assert len(vals[0]) == 2 and vals[0][0].upper() == "TAG", line
        tag = vals[0][1].decode()
        i = 1
    uid = False
    if i < len(vals) and isinstance(vals[i], str) and vals[i].upper() == "UID":
        uid = True
        i += 1
    rest = vals[i:]
    assert len(rest) % 2 == 0, line
    return tag, uid, [(rest[j].upper(), rest[j + 1]) for j in range(0, len(rest), 2)]


def is_update(line):
    if not line.startswith(b"* ESEARCH"):
        return False
    return any(k in ("ADDTO", "REMOVEFROM") for k, _ in parse_esearch(line)[2])


def esearch_data(line):
    """The return data of an ESEARCH response as comparable values:
    (tag, {'UID': bool, 'MIN': n, 'MAX': n, 'COUNT': n, 'ALL': [in order],
    'PARTIAL': (lo, hi, [in order] or None)}, {name: raw value})."""
    tag, uid, items = parse_esearch(line)
    data, raw = {"UID": uid}, {}
    for key, value in items:
        assert key not in data, line
        raw[key] = value
        if key in ("MIN", "MAX", "COUNT"):
            data[key] = int(value)
        elif key == "ALL":
            data[key] = ordered_set(value)
        elif key == "PARTIAL":
            assert isinstance(value, list) and len(value) == 2, line
            lo, hi = sorted(int(x) for x in value[0].split(":"))
            data[key] = (lo, hi, None if value[1] is None else ordered_set(value[1]))
        else:
            data[key] = value
    return tag, data, raw


def one_esearch(c, line, tag=None):
    """Runs a searching command that must succeed with exactly one ESEARCH
    response (with the command's tag) and no SEARCH or SORT response;
    returns its esearch_data() data and raw values."""
    if tag is None:
        tag = c.next_tag()
    untagged, tagged = run(c, tag, line)
    assert tagged.startswith(b"OK"), (line, untagged, tagged)
    lines = [u for u in untagged if u.startswith(b"* ESEARCH")]
    assert len(lines) == 1, (line, untagged)
    assert not [u for u in untagged if u.startswith((b"* SEARCH", b"* SORT"))], untagged
    got_tag, data, raw = esearch_data(lines[0])
    assert got_tag == tag, lines[0]
    return data, raw


def numbers(untagged, kind):
    """The numbers of the single '* SEARCH' or '* SORT' response."""
    lines = [u for u in untagged if u == b"* " + kind or u.startswith(b"* " + kind + b" ")]
    assert len(lines) == 1, untagged
    return [int(x) for x in lines[0].split()[2:]]


# --- the client-side mirror of update contexts -------------------------------------

class Pending:
    """A message announced by EXISTS whose UID the mirror doesn't know yet."""
    made = 0

    def __init__(self):
        Pending.made += 1
        self.n = Pending.made

    def __repr__(self):
        return f"<new message #{self.n}>"


class Context:
    def __init__(self, tag, uid, sort, fresh):
        self.tag = tag
        self.uid = uid      # numbers are UIDs (else sequence numbers)
        self.sort = sort    # positions are sort positions (else 0)
        self.fresh = fresh  # a plain SEARCH / SORT giving the same result
        self.results = []   # message identities (UIDs or Pending), in result order
        self.changes = []   # (kind, position, numbers) since the last take()


class Mirror:
    """What a client keeps of a session that uses update contexts: the
    view (the UID of each sequence number) and each context's result,
    both changed only by the responses the session gets, in order.
    Messages are known by UID whether the context uses UIDs or not.
    strict: each update response carries one ADDTO or REMOVEFROM (the
    form ternd uses; RFC 5267 allows several)."""

    def __init__(self, session, strict=True):
        self.c = session
        self.strict = strict
        self.ctxs = {}
        self.incoming = []  # UIDs of messages added to the mailbox, not yet announced
        self.strays = []    # updates for tags without a live context
        self.noupdate = []  # tags of NOUPDATE responses
        self.c.ok("NOOP")
        self.view = numbers(self.c.ok("UID SEARCH ALL"), b"SEARCH")

    # responses

    def feed(self, untagged):
        for line in untagged:
            self.feed_line(line)

    def feed_line(self, line):
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE)$", line)
        if m and m.group(2) == b"EXISTS":
            n = int(m.group(1))
            assert n >= len(self.view), (line, self.view)
            while len(self.view) < n:
                self.view.append(self.incoming.pop(0) if self.incoming else Pending())
        elif m:
            n = int(m.group(1))
            assert 1 <= n <= len(self.view), (line, self.view)
            gone = self.view[n - 1]
            for ctx in self.ctxs.values():
                assert gone not in ctx.results, \
                    f"{line} (UID {gone}) came before REMOVEFROM for {ctx.tag}: {ctx.results}"
            del self.view[n - 1]
        elif re.match(rb"\* \d+ FETCH ", line):
            seq, items = parse_fetch(line)
            if "UID" in items:
                self.resolve(seq, int(items["UID"]))
        elif line.startswith(b"* ESEARCH"):
            self.feed_esearch(line)
        else:
            m = re.match(rb'\* NO \[NOUPDATE "([^"]*)"\]', line)
            if m:
                self.noupdate.append(m.group(1).decode())

    def feed_esearch(self, line):
        tag, uid, items = parse_esearch(line)
        updates = [(k, v) for k, v in items if k in ("ADDTO", "REMOVEFROM")]
        if not updates:
            return  # a searching command's own reply
        assert len(updates) == len(items), f"other data in an update: {line}"
        if self.strict:
            assert len(items) == 1, f"one ADDTO or REMOVEFROM per response: {line}"
        ctx = self.ctxs.get(tag)
        if ctx is None:
            self.strays.append(line)
            return
        assert uid == ctx.uid, f"UID indicator wrong for {tag}: {line}"
        for kind, payload in updates:
            assert isinstance(payload, list) and payload and len(payload) % 2 == 0, line
            for i in range(0, len(payload), 2):
                self.apply(ctx, kind, int(payload[i]), payload[i + 1], line)

    def apply(self, ctx, kind, pos, text, line):
        if not ctx.sort:
            assert pos == 0, f"position {pos} in a SEARCH context: {line}"
            nums = seqset_expand(text)
            for n in nums:
                ident = self.ident(ctx, n, kind, line)
                if kind == "ADDTO":
                    assert ident not in ctx.results, f"{n} added twice: {line}"
                    ctx.results.append(ident)
                else:
                    assert ident in ctx.results, f"{n} removed but not there: {line}"
                    ctx.results.remove(ident)
        else:
            assert pos >= 1, f"position {pos} in a SORT context: {line}"
            nums = ordered_set(text)
            for k, n in enumerate(nums):
                ident = self.ident(ctx, n, kind, line)
                if kind == "ADDTO":
                    assert ident not in ctx.results, f"{n} added twice: {line}"
                    assert pos - 1 + k <= len(ctx.results), \
                        f"position {pos + k} beyond {len(ctx.results)} results: {line}"
                    ctx.results.insert(pos - 1 + k, ident)
                else:
                    assert pos <= len(ctx.results) and ctx.results[pos - 1] == ident, \
                        f"{n} is not at position {pos} of {ctx.results}: {line}"
                    del ctx.results[pos - 1]
        ctx.changes.append((kind, pos, nums))

    def ident(self, ctx, n, kind, line):
        """The message a number of ctx names, which must be announced."""
        if not ctx.uid:
            assert 1 <= n <= len(self.view), \
                f"{kind} names message {n} of {len(self.view)} announced: {line}"
            return self.view[n - 1]
        if n in self.view:
            return n
        pending = [p for p in self.view if isinstance(p, Pending)]
        assert kind == "ADDTO" and pending, f"{kind} names UID {n}, not announced: {line}"
        self.replace(pending[0], n)
        return n

    def resolve(self, seq, uid):
        assert 1 <= seq <= len(self.view), (seq, uid, self.view)
        cur = self.view[seq - 1]
        if isinstance(cur, Pending):
            self.replace(cur, uid)
        else:
            assert cur == uid, f"message {seq} is UID {uid}, the mirror has {cur}"

    def replace(self, token, uid):
        self.view = [uid if v is token else v for v in self.view]
        for ctx in self.ctxs.values():
            ctx.results = [uid if v is token else v for v in ctx.results]

    # commands

    def cmd(self, line):
        untagged, tagged = self.c.cmd(line)
        self.feed(untagged)
        return untagged, tagged

    def ok(self, line):
        untagged, tagged = self.cmd(line)
        assert tagged.startswith(b"OK"), (line, untagged, tagged)
        return untagged

    def fresh(self, line):
        """The numbers a plain SEARCH or SORT gives."""
        untagged = self.ok(line)
        words = line.upper().split()
        return numbers(untagged, b"SORT" if "SORT" in words[:2] else b"SEARCH")

    def open(self, tag, line, fresh, initial=None):
        """Runs a searching command with UPDATE under tag; fresh is the
        plain command giving the same result. The context starts from
        the ALL data of the reply unless initial (its numbers) is given.
        Returns (context or None if refused with NOUPDATE, reply data)."""
        words = line.upper().split()
        ctx = Context(tag, words[0] == "UID", "SORT" in words[:2], fresh)
        untagged, tagged = run(self.c, tag, line)
        assert tagged.startswith(b"OK"), (line, untagged, tagged)
        replies = [i for i, u in enumerate(untagged)
                   if u.startswith(b"* ESEARCH") and not is_update(u)
                   and parse_esearch(u)[0] == tag]
        assert len(replies) == 1, (line, untagged)
        assert not [u for u in untagged if u.startswith((b"* SEARCH", b"* SORT"))], untagged
        idx = replies[0]
        self.feed(untagged[:idx])
        _, data, _ = esearch_data(untagged[idx])
        assert data["UID"] == ctx.uid, untagged[idx]
        refused = [u for u in untagged if re.match(rb'\* NO \[NOUPDATE "%s"\]' %
                                                   re.escape(tag.encode()), u)]
        if not refused:
            if initial is None:
                initial = data.get("ALL", [])
            ctx.results = [self.ident(ctx, n, "ALL", untagged[idx]) for n in initial]
            self.ctxs[tag] = ctx
        self.feed(untagged[idx + 1:])
        return (None if refused else ctx), data

    def append(self, box, data, flags=None):
        """The session's own APPEND into its selected mailbox."""
        untagged, tagged = self.c.append(box, data, flags=flags)
        m = re.match(rb"OK \[APPENDUID \d+ (\d+)\]", tagged)
        assert m, tagged
        self.incoming.append(int(m.group(1)))
        self.feed(untagged)
        return int(m.group(1))

    def cancel(self, *tags):
        untagged = self.ok("CANCELUPDATE " + " ".join(f'"{t}"' for t in tags))
        for t in tags:
            del self.ctxs[t]
        return untagged

    def forget_all(self):
        """The mailbox was closed: every context is gone."""
        self.ctxs.clear()

    def take(self):
        """{tag: [(kind, position, numbers)]} received since the last take."""
        out = {}
        for tag, ctx in self.ctxs.items():
            out[tag], ctx.changes = ctx.changes, []
        return out

    def numbers_of(self, ctx):
        if ctx.uid:
            assert all(isinstance(v, int) for v in ctx.results), ctx.results
            return list(ctx.results)
        return [self.view.index(v) + 1 for v in ctx.results]

    def sync(self):
        """Lets the session hear of every change; learns new UIDs."""
        self.ok("NOOP")
        if self.view:
            self.ok("FETCH 1:* (UID)")
        assert not [v for v in self.view if isinstance(v, Pending)], self.view

    def verify(self):
        """Every context holds what a fresh SEARCH or SORT gives."""
        self.sync()
        assert not self.strays, f"updates for no live context: {self.strays}"
        for ctx in list(self.ctxs.values()):
            got = self.numbers_of(ctx)
            expected = self.fresh(ctx.fresh)
            if ctx.sort:
                assert got == expected, (ctx.tag, ctx.fresh, got, expected)
            else:
                assert sorted(got) == sorted(expected), (ctx.tag, ctx.fresh, got, expected)


def added_removed(changes):
    """(added, removed) numbers of a SEARCH context's changes."""
    added, removed = set(), set()
    for kind, _, nums in changes:
        (added if kind == "ADDTO" else removed).update(nums)
    return added, removed


# --- IDLE ---------------------------------------------------------------------------

def idle_start(c, tag):
    c.send(f"{tag} IDLE\r\n")
    lines = []
    while True:
        line = c.read_response()
        if line.startswith(b"+"):
            return lines
        assert line.startswith(b"* "), line
        lines.append(line)


def idle_wait(c, lines, pred, timeout=3.0):
    """Reads responses during IDLE into lines until pred(lines)."""
    deadline = time.monotonic() + timeout
    while not pred(lines):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"not seen during IDLE; got {lines}")
        line = c.wait_response(left)
        if line is not None:
            assert line.startswith(b"* "), line
            lines.append(line)


def idle_done(c, tag, lines):
    c.send("DONE\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    lines += untagged


def updates_of(lines, tag):
    return [u for u in lines if is_update(u) and parse_esearch(u)[0] == tag]


def added_in(lines, tag):
    """The numbers of the ADDTO updates for tag among lines."""
    out = set()
    for line in updates_of(lines, tag):
        for kind, payload in parse_esearch(line)[2]:
            if kind == "ADDTO":
                for i in range(1, len(payload), 2):
                    out.update(seqset_expand(payload[i]))
    return out


# =================================================================================
# ESORT (RFC 5267 §3)
# =================================================================================

def test_capabilities(c):
    caps = c.ok("CAPABILITY")[0].split()
    for cap in (b"ESORT", b"CONTEXT=SEARCH", b"CONTEXT=SORT", b"ESEARCH", b"SORT"):
        assert cap in caps, caps


# (command, the data of its ESEARCH response, ALL as written or None)
ESORT_CASES = [
    # MIN and MAX are the first and last in sort order, not the lowest
    # and highest numbers
    ("SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL",
     {"UID": False, "MIN": 3, "MAX": 2, "COUNT": 6, "ALL": [3, 4, 5, 1, 6, 2]}, "3:5,1,6,2"),
    ("UID SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL",
     {"UID": True, "MIN": 4, "MAX": 3, "COUNT": 6, "ALL": [4, 5, 6, 2, 7, 3]}, "4:6,2,7,3"),
    # RFC 4731 §3.1: RETURN () is RETURN (ALL)
    ("SORT RETURN () (REVERSE DATE) UTF-8 ALL",
     {"UID": False, "ALL": [2, 6, 1, 5, 4, 3]}, "2,6,1,5,4,3"),
    ("SORT RETURN (ALL) (ARRIVAL) UTF-8 ALL", {"UID": False, "ALL": [1, 2, 3, 4, 5, 6]}, "1:6"),
    ("SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL",
     {"UID": False, "ALL": [6, 5, 4, 3, 2, 1]}, "6,5,4,3,2,1"),
    ("UID SORT RETURN (ALL) (ARRIVAL) UTF-8 ALL", {"UID": True, "ALL": [2, 3, 4, 5, 6, 7]}, "2:7"),
    ("SORT RETURN (MIN MAX) (REVERSE SUBJECT) UTF-8 ALL",
     {"UID": False, "MIN": 6, "MAX": 2}, None),
    ("SORT RETURN (MIN) (SUBJECT) UTF-8 ALL", {"UID": False, "MIN": 2}, None),
    ("SORT RETURN (MAX) (SUBJECT) UTF-8 SEEN", {"UID": False, "MAX": 3}, None),
    ("UID SORT RETURN (MAX) (SUBJECT) UTF-8 SEEN", {"UID": True, "MAX": 4}, None),
    ("SORT RETURN (COUNT) (DATE) UTF-8 SEEN", {"UID": False, "COUNT": 3}, None),
    ("SORT RETURN (ALL) (DATE) UTF-8 SEEN", {"UID": False, "ALL": [3, 5, 1]}, "3,5,1"),
    ("UID SORT RETURN (COUNT ALL) (DATE) UTF-8 UNSEEN",
     {"UID": True, "COUNT": 3, "ALL": [5, 7, 3]}, "5,7,3"),
    ("SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 FLAGGED",
     {"UID": False, "MIN": 5, "MAX": 5, "ALL": [5], "COUNT": 1}, "5"),
    ("sort return (min all) (date) utf-8 seen", {"UID": False, "MIN": 3, "ALL": [3, 5, 1]}, None),
    ("SORT RETURN (COUNT MIN) (DATE SUBJECT) UTF-8 2:5",
     {"UID": False, "COUNT": 4, "MIN": 3}, None),
    # the CONTEXT hint changes nothing (§4.2); alone it leaves RETURN ()
    ("SORT RETURN (CONTEXT COUNT) (DATE) UTF-8 ALL", {"UID": False, "COUNT": 6}, None),
    ("SORT RETURN (CONTEXT) (DATE) UTF-8 ALL",
     {"UID": False, "ALL": [3, 4, 5, 1, 6, 2]}, "3:5,1,6,2"),
    ("SEARCH RETURN (CONTEXT COUNT MIN) SEEN", {"UID": False, "COUNT": 3, "MIN": 1}, None),
    # PARTIAL: positions in sort order (§4.4)
    ("SORT RETURN (PARTIAL 2:4) (REVERSE ARRIVAL) UTF-8 ALL",
     {"UID": False, "PARTIAL": (2, 4, [5, 4, 3])}, None),
    ("SORT RETURN (PARTIAL 4:2) (REVERSE ARRIVAL) UTF-8 ALL",
     {"UID": False, "PARTIAL": (2, 4, [5, 4, 3])}, None),
    ("SORT RETURN (PARTIAL 5:10) (REVERSE ARRIVAL) UTF-8 ALL",
     {"UID": False, "PARTIAL": (5, 10, [2, 1])}, None),
    ("SORT RETURN (PARTIAL 7:9) (DATE) UTF-8 ALL", {"UID": False, "PARTIAL": (7, 9, None)}, None),
    ("UID SORT RETURN (PARTIAL 1:3) (DATE) UTF-8 ALL",
     {"UID": True, "PARTIAL": (1, 3, [4, 5, 6])}, None),
    ("UID SORT RETURN (PARTIAL 3:5) (DATE) UTF-8 ALL",
     {"UID": True, "PARTIAL": (3, 5, [6, 2, 7])}, None),
    ("SORT RETURN (COUNT PARTIAL 2:3 MIN) (DATE) UTF-8 ALL",
     {"UID": False, "COUNT": 6, "MIN": 3, "PARTIAL": (2, 3, [4, 5])}, None),
    ("SORT RETURN (PARTIAL 1:2) (REVERSE DATE) UTF-8 SEEN",
     {"UID": False, "PARTIAL": (1, 2, [1, 5])}, None),
    # PARTIAL on SEARCH: positions in mailbox order
    ("SEARCH RETURN (PARTIAL 2:3) SEEN", {"UID": False, "PARTIAL": (2, 3, [3, 5])}, None),
    ("UID SEARCH RETURN (PARTIAL 1:100) ALL",
     {"UID": True, "PARTIAL": (1, 100, [2, 3, 4, 5, 6, 7])}, None),
]


@pytest.mark.parametrize("line,expected,all_text", ESORT_CASES)
def test_esort(c, line, expected, all_text):
    c.select("Esort", examine=True)
    data, raw = one_esearch(c, line)
    assert data == expected, line
    if all_text is not None:
        assert raw["ALL"] == all_text, (line, raw)


def test_esort_no_match(c):
    """No MIN, MAX or ALL without a match; COUNT 0 if asked (RFC 4731 §3.1)."""
    c.select("Esort", examine=True)
    for line, data in (("SORT RETURN (MIN MAX ALL) (DATE) UTF-8 SUBJECT nomatch", ""),
                       ("SORT RETURN () (DATE) UTF-8 SUBJECT nomatch", ""),
                       ("UID SORT RETURN (MIN ALL) (SUBJECT) UTF-8 SUBJECT nomatch", " UID"),
                       ("SORT RETURN (COUNT) (DATE) UTF-8 KEYWORD $Nope", " COUNT 0")):
        untagged = c.ok(line)
        assert untagged == [f'* ESEARCH (TAG "t{c.tagn}"){data}'.encode()], (line, untagged)
    untagged = c.ok("UID SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 SUBJECT nomatch")
    assert untagged == [f'* ESEARCH (TAG "t{c.tagn}") UID COUNT 0'.encode()], untagged


def test_plain_sort_and_search_unchanged(c):
    c.select("Esort", examine=True)
    assert numbers(c.ok("SORT (DATE) UTF-8 ALL"), b"SORT") == [3, 4, 5, 1, 6, 2]
    assert numbers(c.ok("UID SORT (SUBJECT) UTF-8 ALL"), b"SORT") == [3, 6, 5, 2, 4, 7]
    assert numbers(c.ok("SEARCH SEEN"), b"SEARCH") == [1, 3, 5]


@pytest.mark.parametrize("line", [
    "SORT RETURN (PARTIAL 1:2 ALL) (DATE) UTF-8 ALL",
    "SORT RETURN (ALL PARTIAL 1:2) (DATE) UTF-8 ALL",
    "UID SORT RETURN (MIN PARTIAL 2:3 ALL) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL 1) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL 0:3) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL 0:0) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL x:y) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL) (DATE) UTF-8 ALL",
    "SORT RETURN (PARTIAL 1:2 PARTIAL 3:4) (DATE) UTF-8 ALL",
    "SORT RETURN (BOGUS) (DATE) UTF-8 ALL",
    "SORT RETURN MIN (DATE) UTF-8 ALL",
    "SORT RETURN (MIN) UTF-8 ALL",
    "SORT RETURN (MIN) (DATE) UTF-8",
    "UID SORT RETURN (MIN (DATE) UTF-8 ALL",
    "SEARCH RETURN (PARTIAL 1:2 ALL) ALL",
    "SEARCH RETURN (PARTIAL 1) ALL",
    "SEARCH RETURN (PARTIAL 1:*) ALL",
    "UID SEARCH RETURN (PARTIAL 0:3) ALL",
    "SEARCH RETURN (UPDATE PARTIAL) ALL",
])
def test_return_syntax_errors(c, line):
    c.select("Esort", examine=True)
    untagged, tagged = c.cmd(line)
    assert tagged.startswith(b"BAD"), (line, tagged)
    assert not [u for u in untagged if u.startswith(b"* ESEARCH")], untagged
    # the session goes on
    assert numbers(c.ok("SORT (DATE) UTF-8 ALL"), b"SORT") == [3, 4, 5, 1, 6, 2]


# =================================================================================
# UPDATE contexts (RFC 5267 §4.3)
# =================================================================================

# six messages: days 1..6 in order; \Seen on 1 and 4, $Work on 3
BASIC = [(mail(f"basic {i}", i), flags) for i, flags in
         enumerate(["\\Seen", None, "$Work", "\\Seen", None, None], start=1)]


def test_update_reply_has_only_the_data_asked_for(srv, box):
    (a,), _ = sessions(srv, box, BASIC, count=1)
    for tag, line, expected in (
            ("R1", "SEARCH RETURN (UPDATE) ALL", b'* ESEARCH (TAG "R1")'),
            ("R2", "UID SEARCH RETURN (UPDATE) ALL", b'* ESEARCH (TAG "R2") UID'),
            ("R3", "UID SEARCH RETURN (UPDATE COUNT) SEEN", b'* ESEARCH (TAG "R3") UID COUNT 2'),
            ("R4", "SORT RETURN (UPDATE) (DATE) UTF-8 ALL", b'* ESEARCH (TAG "R4")')):
        untagged, tagged = run(a, tag, line)
        assert tagged.startswith(b"OK"), (line, tagged)
        assert [u for u in untagged if u.startswith((b"* ESEARCH", b"* SEARCH", b"* SORT"))] \
            == [expected], (line, untagged)
    # CANCELUPDATE so the next ones get contexts too (a session may have
    # only four)
    a.ok('CANCELUPDATE "R1" "R2" "R3" "R4"')
    for tag, line, expected in (
            ("R5", "SEARCH RETURN (UPDATE MIN MAX ALL) UNSEEN",
             {"UID": False, "MIN": 2, "MAX": 6, "ALL": [2, 3, 5, 6]}),
            ("R6", "UID SORT RETURN (UPDATE ALL) (REVERSE ARRIVAL) UTF-8 UNSEEN",
             {"UID": True, "ALL": [7, 6, 4, 3]}),
            ("R7", "SEARCH RETURN (UPDATE CONTEXT COUNT) ALL", {"UID": False, "COUNT": 6}),
            ("R8", "UID SEARCH RETURN (UPDATE MIN) SUBJECT nomatch", {"UID": True})):
        data, _ = one_esearch(a, line, tag=tag)
        assert data == expected, line
    # nothing changed: no updates
    untagged = a.ok("NOOP")
    assert not [u for u in untagged if u.startswith(b"* ESEARCH")], untagged


def test_update_search_own_store(srv, box):
    (a,), uids = sessions(srv, box, BASIC, count=1)
    m = Mirror(a)
    m.open("F1", "SEARCH RETURN (UPDATE ALL) FLAGGED", "SEARCH FLAGGED")
    m.open("F2", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    m.open("F3", "UID SEARCH RETURN (UPDATE ALL) NOT FLAGGED", "UID SEARCH NOT FLAGGED")
    m.open("F4", "SEARCH RETURN (UPDATE MIN MAX) KEYWORD $Work", "SEARCH KEYWORD $Work",
           initial=m.fresh("SEARCH KEYWORD $Work"))
    m.take()
    m.ok("STORE 2,4 +FLAGS (\\Flagged)")
    m.sync()
    got = m.take()
    # sequence numbers for SEARCH, UIDs for UID SEARCH (UID = seq + 1)
    assert added_removed(got["F1"]) == ({2, 4}, set()), got
    assert added_removed(got["F2"]) == ({3, 5}, set()), got
    assert added_removed(got["F3"]) == (set(), {3, 5}), got
    assert got["F4"] == [], got
    m.verify()
    m.ok(f"UID STORE {uids[1]} -FLAGS.SILENT (\\Flagged)")
    m.ok("STORE 3,5 +FLAGS.SILENT (\\Flagged $Work)")
    m.sync()
    got = m.take()
    assert added_removed(got["F1"]) == ({3, 5}, {2}), got
    assert added_removed(got["F4"]) == ({5}, set()), got
    m.verify()
    m.ok("STORE 1:* +FLAGS.SILENT (\\Flagged)")
    m.verify()
    m.ok("STORE 1:* -FLAGS (\\Flagged $Work)")
    m.verify()
    assert m.numbers_of(m.ctxs["F3"]) and not m.numbers_of(m.ctxs["F1"])


def test_update_search_other_session_store(srv, box):
    """Another session's change is told at the session's next command,
    whichever it is; a change that leaves the result alone is not told."""
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("O1", "SEARCH RETURN (UPDATE ALL) FLAGGED", "SEARCH FLAGGED")
    m.open("O2", "UID SEARCH RETURN (UPDATE COUNT ALL) UNSEEN", "UID SEARCH UNSEEN")
    b.ok(f"UID STORE {uids[2]} +FLAGS.SILENT (\\Flagged \\Seen)")
    untagged = m.ok(f"UID FETCH {uids[0]} (FLAGS)")
    assert updates_of(untagged, "O1") and updates_of(untagged, "O2"), untagged
    got = m.take()
    assert added_removed(got["O1"]) == ({3}, set()), got
    assert added_removed(got["O2"]) == (set(), {uids[2]}), got
    m.verify()
    m.take()
    # \Seen on a message already seen; $Other changes neither result
    b.ok(f"UID STORE {uids[0]} +FLAGS.SILENT (\\Seen $Other)")
    untagged = m.ok("NOOP")
    assert not [u for u in untagged if is_update(u)], untagged
    b.ok("STORE 1:* -FLAGS.SILENT (\\Seen)")
    b.ok("STORE 6 +FLAGS.SILENT (\\Flagged)")
    m.verify()


def test_update_new_messages_and_text_keys(srv, box):
    """ADDTO for appended and delivered messages, after their EXISTS;
    contexts with header and body keys see new messages too."""
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("N1", "SEARCH RETURN (UPDATE ALL) UNSEEN", "SEARCH UNSEEN")
    m.open("N2", "UID SEARCH RETURN (UPDATE) SUBJECT foo", "UID SEARCH SUBJECT foo", initial=[])
    m.open("N3", "SEARCH RETURN (UPDATE) BODY bar", "SEARCH BODY bar", initial=[])
    m.open("N4", "UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 TEXT baz",
           "UID SORT (DATE) UTF-8 TEXT baz")
    for data, flags in ((mail("a foo report", 20, body="nothing here\r\n"), None),
                        (mail("plain", 21, body="a bar of chocolate\r\n"), "\\Seen"),
                        (mail("other", 22, body="nothing\r\n"), "\\Seen")):
        m.incoming.append(b.append_ok(box, data, flags=flags))
    new = list(m.incoming)
    untagged = m.ok("NOOP")
    assert b"* 9 EXISTS" in untagged, untagged
    got = m.take()
    assert added_removed(got["N1"]) == ({7}, set()), got
    assert added_removed(got["N2"]) == ({new[0]}, set()), got
    assert added_removed(got["N3"]) == ({8}, set()), got
    assert got["N4"] == [], got
    m.verify()
    # a delivery into the Maildir (the UID becomes known from the ADDTO
    # or the mirror's FETCH)
    d = maildir(srv, folder=box)
    (d / "tmp").mkdir(exist_ok=True)
    maildir_deliver(d, b"From: x@example.com\nSubject: foo delivered\nDate: " +
                    jan(3, 12).encode() + b"\n\nbar baz\n")
    untagged = m.ok("NOOP")
    assert b"* 10 EXISTS" in untagged, untagged
    got = m.take()
    assert added_removed(got["N1"])[0] == {10} and added_removed(got["N3"])[0] == {10}, got
    assert len(added_removed(got["N2"])[0]) == 1, got
    assert [(k, p) for k, p, _ in got["N4"]] == [("ADDTO", 1)], got
    m.verify()
    # the session's own APPEND to the selected mailbox
    m.append(box, mail("foo again", 2, body="bar baz\r\n"))
    m.verify()
    assert len(m.ctxs["N4"].results) == 2


def test_update_expunges(srv, box):
    """REMOVEFROM comes before the EXPUNGE of a result (the mirror fails
    otherwise), for the session's own EXPUNGE and UID EXPUNGE and for
    another session's expunges."""
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("E1", "SEARCH RETURN (UPDATE ALL) ALL", "SEARCH ALL")
    m.open("E2", "UID SEARCH RETURN (UPDATE ALL) UNSEEN", "UID SEARCH UNSEEN")
    m.open("E3", "UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 ALL",
           "UID SORT (REVERSE DATE) UTF-8 ALL")
    m.open("E4", "SORT RETURN (UPDATE ALL) (DATE) UTF-8 UNDELETED", "SORT (DATE) UTF-8 UNDELETED")
    m.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    untagged = m.ok("EXPUNGE")
    first_expunge = min(i for i, u in enumerate(untagged) if re.match(rb"\* \d+ EXPUNGE$", u))
    e1 = [i for i, u in enumerate(untagged) if u in updates_of(untagged, "E1")]
    assert e1 and min(e1) < first_expunge, untagged
    m.verify()
    m.ok(f"UID STORE {uids[4]} +FLAGS.SILENT (\\Deleted)")
    m.ok(f"UID EXPUNGE {uids[4]}")
    m.verify()
    # another session: not told during FETCH (RFC 9051 §7.5.1), then at NOOP
    b.ok(f"UID STORE {uids[0]},{uids[5]} +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged = m.ok("FETCH 1:* (FLAGS)")
    assert not [u for u in untagged if re.match(rb"\* \d+ EXPUNGE$", u)], untagged
    m.verify()
    assert m.view == [uids[2]], m.view
    b.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    m.verify()
    assert m.view == [] and all(not ctx.results for ctx in m.ctxs.values())


def test_sort_update_expunges_told_late(srv, box):
    """Another session expunges the first and the last result of SORT
    contexts (and appends); the session runs FETCH, SEARCH and STORE,
    which may not announce the expunges (RFC 9051 §7.5.1), before NOOP
    does: the positions of the REMOVEFROMs must still be right."""
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("T1", "UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 ALL",
           "UID SORT (REVERSE DATE) UTF-8 ALL")
    m.open("T2", "SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 ALL",
           "SORT (REVERSE DATE) UTF-8 ALL")
    m.open("T3", "UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 UNSEEN",
           "UID SORT (DATE) UTF-8 UNSEEN")
    b.ok(f"UID STORE {uids[0]},{uids[5]} +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    m.incoming.append(b.append_ok(box, mail("late", 4, 12)))
    for line in ("FETCH 1:* (FLAGS)", "SEARCH ALL", "STORE 2 +FLAGS.SILENT ($Late)"):
        m.ok(line)
    m.verify()


def test_update_during_idle(srv, box):
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("I1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    m.open("I2", "SEARCH RETURN (UPDATE ALL) FLAGGED", "SEARCH FLAGGED")
    m.open("I3", "UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 FLAGGED",
           "UID SORT (REVERSE DATE) UTF-8 FLAGGED")
    lines = idle_start(a, "I9")
    b.ok(f"UID STORE {uids[1]},{uids[3]} +FLAGS.SILENT (\\Flagged)")
    idle_wait(a, lines, lambda ls: all(updates_of(ls, t) for t in ("I1", "I2", "I3")))
    # new mail: EXISTS, then ADDTO
    uid = b.append_ok(box, mail("flagged news", 3, 12), flags="\\Flagged")
    m.incoming.append(uid)
    idle_wait(a, lines, lambda ls: b"* 7 EXISTS" in ls and uid in added_in(ls, "I1") and
              7 in added_in(ls, "I2"))
    # expunge: REMOVEFROM, then EXPUNGE
    b.ok(f"UID STORE {uids[1]} +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    idle_wait(a, lines, lambda ls: b"* 2 EXPUNGE" in ls)
    idle_done(a, "I9", lines)
    m.feed(lines)
    got = m.take()
    assert added_removed(got["I1"]) == ({uids[1], uids[3], uid}, {uids[1]}), got
    assert added_removed(got["I2"]) == ({2, 4, 7}, {2}), got
    m.verify()


def test_update_keeps_going_after_other_commands(srv, box):
    (a, b), uids = sessions(srv, box, BASIC)
    a.ok("CREATE Side" + box)
    m = Mirror(a)
    m.open("K1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    for line in ("FETCH 1:* (FLAGS)", "SEARCH ALL", "SORT (DATE) UTF-8 ALL",
                 "UID SEARCH RETURN (COUNT) ALL", "SEARCH RETURN (MIN) ALL",
                 f"STATUS Side{box} (MESSAGES)", 'LIST "" "*"', "NOOP", "CHECK",
                 "STORE 1 +FLAGS.SILENT ($Seen2)", f"COPY 1 Side{box}"):
        m.ok(line)
    m.open("K2", "SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 FLAGGED",
           "SORT (REVERSE DATE) UTF-8 FLAGGED")
    b.ok(f"UID STORE {uids[2]} +FLAGS.SILENT (\\Flagged)")
    m.ok("UID FETCH 1:* (UID)")
    got = m.take()
    assert added_removed(got["K1"]) == ({uids[2]}, set()), got
    assert [(k, p) for k, p, _ in got["K2"]] == [("ADDTO", 1)], got
    m.verify()


def test_cancelupdate(srv, box):
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("C1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    m.open("C2", "SEARCH RETURN (UPDATE ALL) FLAGGED", "SEARCH FLAGGED")
    m.open("C3", "UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 FLAGGED",
           "UID SORT (DATE) UTF-8 FLAGGED")
    m.cancel("C1")
    b.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    m.ok("NOOP")
    got = m.take()
    assert got["C2"] and got["C3"], got
    m.verify()  # fails on any update for C1
    m.cancel("C2", "C3")
    b.ok("STORE 2 -FLAGS.SILENT (\\Flagged)")
    b.ok("STORE 3 +FLAGS.SILENT (\\Flagged)")
    untagged = m.ok("NOOP")
    assert not [u for u in untagged if u.startswith(b"* ESEARCH")], untagged
    # unknown tags: BAD
    for line in ('CANCELUPDATE "C1"', 'CANCELUPDATE "nosuch"', "CANCELUPDATE"):
        _, tagged = m.cmd(line)
        assert tagged.startswith(b"BAD"), (line, tagged)
    # the tag is free again
    m.open("C1", "SEARCH RETURN (UPDATE ALL) FLAGGED", "SEARCH FLAGGED")
    b.ok("STORE 4 +FLAGS.SILENT (\\Flagged)")
    m.ok("NOOP")
    assert added_removed(m.take()["C1"]) == ({4}, set())
    m.verify()
    m.ok("UNSELECT")
    _, tagged = m.cmd('CANCELUPDATE "C1"')
    assert tagged.startswith((b"BAD", b"NO")), tagged


@pytest.mark.parametrize("how", ["UNSELECT", "CLOSE", "SELECT", "EXAMINE"])
def test_updates_end_when_mailbox_closed(srv, box, how):
    (a, b), uids = sessions(srv, box, BASIC)
    other = "Other" + box
    a.ok(f"CREATE {other}")
    b.append_ok(other, mail("other one", 1))
    m = Mirror(a)
    m.open("X1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    m.open("X2", "SEARCH RETURN (UPDATE ALL) ALL", "SEARCH ALL")
    if how in ("UNSELECT", "CLOSE"):
        untagged = a.ok(how)
    else:
        untagged = a.ok(f"{how} {other}")
    assert not [u for u in untagged if u.startswith(b"* ESEARCH")], untagged
    m.forget_all()
    # changes the old contexts would report, here and in the other mailbox
    b.ok("STORE 1:* +FLAGS.SILENT (\\Flagged)")
    b.append_ok(box, mail("late", 9), flags="\\Flagged")
    b.ok(f"SELECT {other}")
    b.ok("STORE 1:* +FLAGS.SILENT (\\Flagged)")
    b.append_ok(other, mail("late other", 9), flags="\\Flagged")
    seen = a.ok("NOOP")
    a.select(box)
    seen += a.ok("NOOP")
    seen += a.ok("FETCH 1:* (UID)")
    assert not [u for u in seen if u.startswith(b"* ESEARCH")], seen
    _, tagged = a.cmd('CANCELUPDATE "X1"')
    assert tagged.startswith(b"BAD"), tagged
    # the tags may name new contexts
    m = Mirror(a)
    m.open("X1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    b.ok(f"SELECT {box}")
    b.ok(f"UID STORE {uids[0]} -FLAGS.SILENT (\\Flagged)")
    m.ok("NOOP")
    assert added_removed(m.take()["X1"]) == (set(), {uids[0]})
    m.verify()


def test_update_tag_reuse_is_bad(srv, box):
    """§4.3: a searching command with UPDATE under the tag of a live
    context is BAD and changes nothing; after CANCELUPDATE it is fine."""
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    m.open("Q1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    for line in ("SEARCH RETURN (UPDATE) ALL", "UID SEARCH RETURN (UPDATE ALL) UNSEEN",
                 "UID SORT RETURN (UPDATE) (DATE) UTF-8 ALL",
                 "SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL"):
        untagged, tagged = run(a, "Q1", line)
        assert tagged.startswith(b"BAD"), (line, tagged)
        assert not [u for u in untagged if u.startswith(b"* ESEARCH")], untagged
        m.feed(untagged)
    # the context is still the FLAGGED one
    b.ok(f"UID STORE {uids[1]} +FLAGS.SILENT (\\Flagged)")
    b.ok(f"UID STORE {uids[2]} +FLAGS.SILENT (\\Seen)")
    m.ok("NOOP")
    assert added_removed(m.take()["Q1"]) == ({uids[1]}, set())
    m.verify()
    m.cancel("Q1")
    m.open("Q1", "SEARCH RETURN (UPDATE ALL) UNSEEN", "SEARCH UNSEEN")
    b.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    m.verify()


def test_update_context_limit(srv, box):
    """At least four contexts at once; a later one may be refused with
    NOUPDATE (naming its tag, before the OK), its other data still sent;
    refused ones get no updates."""
    (a, b), uids = sessions(srv, box, BASIC)
    m = Mirror(a)
    kinds = [("SEARCH RETURN (UPDATE COUNT) UNSEEN", "SEARCH UNSEEN"),
             ("UID SEARCH RETURN (UPDATE COUNT) UNSEEN", "UID SEARCH UNSEEN"),
             ("UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 UNSEEN",
              "UID SORT (DATE) UTF-8 UNSEEN")]
    accepted, refused = [], []
    for i in range(12):
        line, fresh = kinds[i % 3]
        tag = f"L{i + 1}"
        ctx, data = m.open(tag, line, fresh, initial=m.fresh(fresh))
        assert data["COUNT"] == 4, (tag, data)
        (accepted if ctx else refused).append(tag)
    assert accepted[:4] == ["L1", "L2", "L3", "L4"], (accepted, refused)
    assert m.noupdate == refused, (m.noupdate, refused)
    b.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    m.ok("NOOP")
    got = m.take()
    assert all(got[t] for t in accepted), got
    m.verify()  # fails on updates for refused tags


# --- SORT contexts (CONTEXT=SORT) --------------------------------------------------

def test_sort_update_positions(srv, box):
    """Positions by hand: ADDTO (n ...) puts the message at position n,
    REMOVEFROM (n ...) takes the one at position n."""
    msgs = [(mail("p1", 10), None), (mail("p2", 30), None), (mail("p3", 20), None)]
    (a, b), uids = sessions(srv, box, msgs)
    u1, u2, u3 = uids
    m = Mirror(a)
    ctx, data = m.open("P1", "UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 ALL",
                       "UID SORT (DATE) UTF-8 ALL")
    assert data["ALL"] == [u1, u3, u2]
    u4 = b.append_ok(box, mail("p4", 25))
    m.incoming.append(u4)
    m.ok("NOOP")
    assert m.take()["P1"] == [("ADDTO", 3, [u4])]
    assert ctx.results == [u1, u3, u4, u2]
    u5 = b.append_ok(box, mail("p5", 5))
    m.incoming.append(u5)
    m.ok("NOOP")
    assert m.take()["P1"] == [("ADDTO", 1, [u5])]
    m.ok(f"UID STORE {u3} +FLAGS.SILENT (\\Deleted)")
    untagged = m.ok(f"UID EXPUNGE {u3}")
    assert b"* 3 EXPUNGE" in untagged, untagged
    assert m.take()["P1"] == [("REMOVEFROM", 3, [u3])]
    assert ctx.results == [u5, u1, u4, u2]
    # two at once, next to each other
    for day in (26, 27):
        m.incoming.append(b.append_ok(box, mail(f"p{day}", day)))
    m.ok("NOOP")
    assert ctx.results == [u5, u1, u4] + m.view[-2:] + [u2]
    m.verify()


# (subject, day, hour, flags, body padding): SIZE has ties, SUBJECT too
SORT_MESSAGES = [
    ("kiwi", 8, 10, None, 0),
    ("apple", 3, 10, "\\Seen", 10),
    ("Re: mango", 12, 10, None, 20),
    ("banana", 6, 10, "\\Seen", 0),
    ("apple", 10, 10, None, 10),
    ("cherry", 1, 10, "\\Flagged", 20),
    ("date", 14, 10, "\\Seen", 0),
    ("fig", 5, 10, None, 10),
]


def sort_mail(subject, day, hour, pad):
    return message(subject, date=jan(day, hour), body="body" + "x" * pad + "\r\n")


def test_sort_update_matches_fresh_sort(srv, box):
    """Several SORT contexts in two sessions through new mail (dates
    before, between and after the others, and equal to one), flag
    changes by either session and expunges by either: after each change
    the updates applied in order give what a fresh SORT gives."""
    (a, b, c), uids = sessions(srv, box, [(sort_mail(s, d, h, p), f)
                                           for s, d, h, f, p in SORT_MESSAGES], count=3)
    m = Mirror(a)
    m.open("S1", "UID SORT RETURN (UPDATE ALL) (DATE) UTF-8 ALL", "UID SORT (DATE) UTF-8 ALL")
    m.open("S2", "UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 UNSEEN",
           "UID SORT (REVERSE DATE) UTF-8 UNSEEN")
    m.open("S3", "UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 NOT FLAGGED",
           "UID SORT (SUBJECT) UTF-8 NOT FLAGGED")
    m.open("S4", "SORT RETURN (UPDATE ALL) (DATE) UTF-8 UNDELETED", "SORT (DATE) UTF-8 UNDELETED")
    n = Mirror(c)
    n.open("S5", "UID SORT RETURN (UPDATE PARTIAL 1:3) (SIZE) UTF-8 ALL",
           "UID SORT (SIZE) UTF-8 ALL", initial=n.fresh("UID SORT (SIZE) UTF-8 ALL"))
    n.open("S6", "UID SORT RETURN (UPDATE MIN) (REVERSE ARRIVAL) UTF-8 SEEN",
           "UID SORT (REVERSE ARRIVAL) UTF-8 SEEN",
           initial=n.fresh("UID SORT (REVERSE ARRIVAL) UTF-8 SEEN"))
    n.open("S7", "SORT RETURN (UPDATE ALL) (REVERSE SUBJECT DATE) UTF-8 UNSEEN",
           "SORT (REVERSE SUBJECT DATE) UTF-8 UNSEEN")
    mirrors = (m, n)

    def append(subject, day, hour, pad, flags=None):
        uid = b.append_ok(box, sort_mail(subject, day, hour, pad), flags=flags)
        for mi in mirrors:
            mi.incoming.append(uid)
        return uid

    def check():
        for mi in mirrors:
            mi.verify()

    # new mail sorting first, in the middle, last
    append("aardvark", 1, 8, 10)
    append("lime", 9, 10, 0, "\\Seen")
    append("zucchini", 20, 10, 20)
    check()
    # a's own STORE: in and out of UNSEEN, NOT FLAGGED
    m.ok(f"UID STORE {uids[0]},{uids[2]} +FLAGS.SILENT (\\Seen)")
    m.ok(f"UID STORE {uids[1]} -FLAGS.SILENT (\\Seen)")
    m.ok(f"UID STORE {uids[4]} +FLAGS (\\Flagged)")
    check()
    # b's STORE
    b.ok(f"UID STORE {uids[3]},{uids[6]} +FLAGS.SILENT (\\Deleted)")
    b.ok(f"UID STORE {uids[5]} -FLAGS.SILENT (\\Flagged)")
    check()
    # a's EXPUNGE of messages in the middle of the sort orders
    m.ok("EXPUNGE")
    check()
    # the same Date: as a message already there (ties in mailbox order),
    # and one in the middle, then b expunges another
    append("kiwi", 8, 10, 0)
    append("grape", 7, 10, 10, "\\Seen")
    b.ok(f"UID STORE {uids[7]} +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    check()
    # a's own APPEND into the selected mailbox
    uid = m.append(box, sort_mail("banana", 6, 9, 20))
    n.incoming.append(uid)
    check()
    # c's flag changes, told to a
    n.ok("STORE 1:* -FLAGS.SILENT (\\Seen \\Flagged)")
    n.ok("STORE 2:4 +FLAGS.SILENT (\\Seen)")
    check()


# =================================================================================
# The same as Dovecot
# =================================================================================

@pytest.fixture(scope="module")
def dovecot():
    from test_dovecot_diff import Dovecot, dovecot_skip_reason
    reason = dovecot_skip_reason()
    if reason:
        pytest.skip(reason)
    d = Dovecot().start()
    try:
        s = Imap(d.port, timeout=30)
        fill_esort(s)
        s.logout()
        yield d
    finally:
        d.stop()


DOVECOT_ESORT = [line for line, _, _ in ESORT_CASES if "CONTEXT" not in line.upper()] + [
    "SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 SUBJECT nomatch",
    "UID SORT RETURN (MIN MAX ALL) (DATE) UTF-8 SUBJECT nomatch",
]


@pytest.mark.parametrize("line", DOVECOT_ESORT)
def test_esort_same_as_dovecot(c, dovecot, line):
    theirs = Imap(dovecot.port, timeout=30)
    c.select("Esort", examine=True)
    theirs.select("Esort", examine=True)
    ours, _ = one_esearch(c, line, tag="E1")
    want, _ = one_esearch(theirs, line, tag="E1")
    assert ours == want, (line, ours, want)


def search_update_scenario(a, b, box, uids, strict):
    """UID SEARCH and SEARCH contexts through flag changes, new mail and
    expunges by another session (IMAP only, so it runs on Dovecot too)."""
    m = Mirror(a, strict=strict)
    m.open("D1", "UID SEARCH RETURN (UPDATE ALL) FLAGGED", "UID SEARCH FLAGGED")
    m.open("D2", "UID SEARCH RETURN (UPDATE ALL) UNSEEN", "UID SEARCH UNSEEN")
    m.open("D3", "SEARCH RETURN (UPDATE ALL) UNSEEN", "SEARCH UNSEEN")
    b.ok(f"UID STORE {uids[1]},{uids[2]} +FLAGS.SILENT (\\Flagged)")
    b.ok(f"UID STORE {uids[4]} +FLAGS.SILENT (\\Seen)")
    m.verify()
    for i, flags in enumerate(("\\Flagged", None, "\\Seen")):
        m.incoming.append(b.append_ok(box, mail(f"new {i}", 20 + i), flags=flags))
    m.verify()
    b.ok(f"UID STORE {uids[1]},{uids[5]} +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    m.verify()
    m.ok("STORE 1:2 +FLAGS.SILENT (\\Seen \\Flagged)")
    m.verify()
    return m


def test_search_updates_scenario(srv, box):
    (a, b), uids = sessions(srv, box, BASIC)
    search_update_scenario(a, b, box, uids, strict=True)


def test_search_updates_scenario_on_dovecot(dovecot, box):
    """The scenario above against Dovecot: checks the mirror (the test's
    reading of RFC 5267) against another implementation."""
    (a, b), uids = sessions(types.SimpleNamespace(imap_port=dovecot.port), box, BASIC)
    search_update_scenario(a, b, box, uids, strict=False)
