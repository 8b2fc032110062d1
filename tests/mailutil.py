"""Shared helpers for the post-login IMAP tests: a logged-in raw-socket
session that reads literals and numbers its own tags, a parser for IMAP
response data (FETCH, STATUS, LIST, ESEARCH), test-message builders, and
Maildir access for playing "another program" beside the server."""
import hashlib
import os
import pathlib
import re
import socket
import time

import pytest

from conftest import SANITIZER_MARKERS, Ternd
from imaputil import RawImap

LITERAL_END = re.compile(rb"\{(\d+)\+?\}$")
CRLF = b"\r\n"

# sessions still open at the end of a test: closed before ternd stops, so
# its shutdown doesn't linger waiting for clients to hang up
_sessions = []


def close_sessions():
    while _sessions:
        try:
            _sessions.pop().sock.close()
        except OSError:
            pass


@pytest.fixture
def ternd(ternd_factory):
    """conftest's ternd, closing the test's sessions before it stops.
    Test modules import it to override conftest's fixture."""
    srv = ternd_factory().start()
    yield srv
    close_sessions()


@pytest.fixture
def crashable_ternd(tmp_path):
    """A ternd whose teardown doesn't fail the test, for input that crashed
    a worker once: such tests call assert_log_clean() themselves, so a
    regression fails the test (and can be marked xfail) instead of
    erroring in teardown."""
    d = tmp_path / "crashable"
    d.mkdir()
    srv = Ternd(d).start()
    yield srv
    close_sessions()
    srv.stop(check=False)


def assert_log_clean(srv):
    text = srv.log_text()
    bad = [m for m in SANITIZER_MARKERS if m in text]
    assert not bad, text[-4000:]


class Imap(RawImap):
    """A session that logs in, tags its commands t1, t2... and returns
    untagged responses whole: a response with literals is one bytes value
    with the literal data inline (`* 1 FETCH (BODY[] {3}\\r\\nabc)`)."""

    def __init__(self, port, user="alice", password="secret", login=True, timeout=10,
                 rev2=False):
        super().__init__(port, timeout=timeout)
        _sessions.append(self)
        self.tagn = 0
        if login:
            tagged = self.cmd(f"LOGIN {user} {password}")[1]
            assert tagged.startswith(b"OK"), tagged
        if rev2:
            untagged = self.ok("ENABLE IMAP4rev2")
            assert untagged == [b"* ENABLED IMAP4rev2"], untagged

    def next_tag(self):
        self.tagn += 1
        return f"t{self.tagn}"

    def read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("closed; buffered: %r" % self.buf[:200])
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self):
        """One response line, with any literals it contains inline."""
        line = self.readline()
        out = [line]
        m = LITERAL_END.search(line)
        while m:
            out.append(CRLF + self.read_exact(int(m.group(1))))
            rest = self.readline()
            out.append(rest)
            m = LITERAL_END.search(rest)
        return b"".join(out)

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            resp = self.read_response()
            if resp.startswith(tag.encode() + b" "):
                return untagged, resp
            untagged.append(resp)

    def cmd(self, line):
        """Sends a command; returns (untagged, tagged without the tag)."""
        if isinstance(line, str):
            line = line.encode()
        tag = self.next_tag()
        self.send(tag.encode() + b" " + line + CRLF)
        untagged, tagged = self.read_until_tagged(tag)
        return untagged, tagged[len(tag) + 1:]

    def ok(self, line):
        """Runs a command that must succeed; returns its untagged lines."""
        untagged, tagged = self.cmd(line)
        assert tagged.startswith(b"OK"), (line, untagged, tagged)
        return untagged

    def append(self, mailbox, data, flags=None, date=None, sync=False):
        """APPEND with a synchronizing or LITERAL+ literal. Returns
        (untagged, tagged)."""
        if isinstance(data, str):
            data = data.encode()
        tag = self.next_tag()
        head = f"{tag} APPEND {mailbox}"
        if flags is not None:
            head += f" ({flags})"
        if date is not None:
            head += f' "{date}"'
        if sync:
            self.send(f"{head} {{{len(data)}}}\r\n")
            resp = self.read_response()
            if not resp.startswith(b"+"):
                assert resp.startswith(tag.encode() + b" "), resp
                return [], resp[len(tag) + 1:]
            self.send(data + CRLF)
        else:
            self.send(f"{head} {{{len(data)}+}}\r\n".encode() + data + CRLF)
        untagged, tagged = self.read_until_tagged(tag)
        return untagged, tagged[len(tag) + 1:]

    def append_ok(self, mailbox, data, **kwargs):
        """APPEND that must succeed; returns the new UID (APPENDUID)."""
        untagged, tagged = self.append(mailbox, data, **kwargs)
        m = re.match(rb"OK \[APPENDUID (\d+) (\d+)\]", tagged)
        assert m, tagged
        return int(m.group(2))

    def select(self, mailbox="INBOX", examine=False):
        return self.ok(f"{'EXAMINE' if examine else 'SELECT'} {mailbox}")

    def fetch(self, line, uid=False):
        """FETCH; returns {seq: {ITEM: value}} in response order (a dict,
        so a message answered twice keeps its last response)."""
        untagged = self.ok(("UID FETCH " if uid else "FETCH ") + line)
        return fetches(untagged)

    def logout(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, ConnectionError):
            pass
        self.close()

    def wait_response(self, timeout):
        """The next response within timeout seconds, else None."""
        self.sock.settimeout(timeout)
        try:
            return self.read_response()
        except socket.timeout:
            return None
        finally:
            self.sock.settimeout(10)


# --- response data parsing ---------------------------------------------------

ATOM_STOP = b' ()"{\r\n'


def parse_data(data, pos=0):
    """Parses a sequence of IMAP values from bytes up to the end or a ')'.
    Atoms become str (NIL becomes None), strings and literals bytes,
    parenthesised lists Python lists. Returns (values, end position)."""
    values = []
    n = len(data)
    while pos < n:
        c = data[pos:pos + 1]
        if c == b" ":
            pos += 1
        elif c == b"(":
            sub, pos = parse_data(data, pos + 1)
            values.append(sub)
            pos += 1  # ')'
        elif c == b")":
            return values, pos
        elif c == b'"':
            pos += 1
            out = bytearray()
            while data[pos:pos + 1] != b'"':
                if data[pos:pos + 1] == b"\\":
                    pos += 1
                out += data[pos:pos + 1]
                pos += 1
            values.append(bytes(out))
            pos += 1
        elif c == b"{":
            end = data.index(b"}", pos)
            size = int(data[pos + 1:end].rstrip(b"+"))
            start = end + 3  # "}\r\n"
            values.append(data[start:start + size])
            pos = start + size
        else:
            start = pos
            depth = 0
            while pos < n:
                ch = data[pos:pos + 1]
                if ch == b"[":
                    depth += 1
                elif ch == b"]":
                    depth -= 1
                elif depth == 0 and ch in ATOM_STOP:
                    break
                pos += 1
            atom = data[start:pos].decode()
            values.append(None if atom.upper() == "NIL" else atom)
    return values, pos


def parse_fetch(resp):
    """'* 3 FETCH (UID 7 FLAGS (\\Seen))' -> (3, {'UID': '7', 'FLAGS': [...]})
    Keys are upper-cased item names as the server wrote them."""
    m = re.match(rb"\* (\d+) FETCH \(", resp)
    assert m, resp
    items, _ = parse_data(resp, m.end())
    assert len(items) % 2 == 0, items
    return int(m.group(1)), {items[i].upper(): items[i + 1] for i in range(0, len(items), 2)}


def fetches(untagged):
    """All FETCH responses among untagged lines, {seq: items}."""
    out = {}
    for resp in untagged:
        if re.match(rb"\* \d+ FETCH ", resp):
            seq, items = parse_fetch(resp)
            out[seq] = items
    return out


def fetch_list(untagged):
    """FETCH responses as a list of (seq, items) in order."""
    return [parse_fetch(r) for r in untagged if re.match(rb"\* \d+ FETCH ", r)]


def list_entries(untagged, kind=b"LIST"):
    """'* LIST (\\HasNoChildren) "/" Foo' lines -> {name: (attrs, extra)}
    with names as str and attributes as a set."""
    out = {}
    for resp in untagged:
        if not resp.startswith(b"* " + kind + b" "):
            continue
        vals, _ = parse_data(resp, len(kind) + 3)
        attrs, delim, name = vals[0], vals[1], vals[2]
        assert delim == b"/", resp
        name = name.decode() if isinstance(name, bytes) else name
        out[name] = (set(attrs), vals[3:])
    return out


def status_items(resp):
    """'* STATUS box (MESSAGES 2 UIDNEXT 3)' -> (box, {'MESSAGES': 2, ...})"""
    assert resp.startswith(b"* STATUS "), resp
    vals, _ = parse_data(resp, 9)
    box = vals[0].decode() if isinstance(vals[0], bytes) else vals[0]
    items = vals[1]
    return box, {items[i].upper(): int(items[i + 1]) for i in range(0, len(items), 2)}


def search_result(untagged):
    """Numbers of the single '* SEARCH' response."""
    lines = [r for r in untagged if r.startswith(b"* SEARCH")]
    assert len(lines) == 1, untagged
    return [int(x) for x in lines[0].split()[2:]]


def select_info(untagged):
    """SELECT/EXAMINE responses -> dict with FLAGS, PERMANENTFLAGS (lists),
    EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT (ints), LIST (raw line),
    MAILBOXID (str), CLOSED (bool) and 'other': lines that fit none of
    these."""
    info = {"other": []}
    for resp in untagged:
        m = re.match(rb"\* (\d+) (EXISTS|RECENT)$", resp)
        if m:
            assert m.group(2).decode() not in info, untagged
            info[m.group(2).decode()] = int(m.group(1))
            continue
        m = re.match(rb"\* OK \[(UNSEEN|UIDVALIDITY|UIDNEXT) (\d+)\]", resp)
        if m:
            assert m.group(1).decode() not in info, untagged
            info[m.group(1).decode()] = int(m.group(2))
            continue
        m = re.match(rb"\* OK \[PERMANENTFLAGS \(([^)]*)\)\]", resp)
        if m:
            info["PERMANENTFLAGS"] = m.group(1).decode().split()
            continue
        m = re.match(rb"\* FLAGS \(([^)]*)\)$", resp)
        if m:
            info["FLAGS"] = m.group(1).decode().split()
            continue
        if resp.startswith(b"* LIST "):
            info["LIST"] = resp
            continue
        if resp.startswith(b"* OK [CLOSED]"):
            info["CLOSED"] = True
            continue
        m = re.match(rb"\* OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\]", resp)
        if m:
            assert "MAILBOXID" not in info, untagged
            info["MAILBOXID"] = m.group(1).decode()
            continue
        info["other"].append(resp)
    return info


def without_recent(flags):
    return sorted(f for f in flags if f != "\\Recent")


def apply_expunges(uids, untagged):
    """Applies the '* n EXPUNGE' responses among untagged to a list of
    UIDs by sequence number (each number as seen after the previous
    expunges, RFC 9051 §7.4.1); returns the remaining UIDs."""
    uids = list(uids)
    for resp in untagged:
        m = re.match(rb"\* (\d+) EXPUNGE$", resp)
        if m:
            n = int(m.group(1))
            assert 1 <= n <= len(uids), (n, uids, untagged)
            del uids[n - 1]
    return uids


def expunge_lines(untagged):
    return [r for r in untagged if re.match(rb"\* \d+ EXPUNGE$", r)]


def seqset_expand(text):
    """'1:3,7' -> [1, 2, 3, 7]"""
    out = []
    for part in (text.decode() if isinstance(text, bytes) else text).split(","):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            out += list(range(min(a, b), max(a, b) + 1))
        else:
            out.append(int(part))
    return out


def code(tagged):
    """The response code of 'OK [CODE args] text' as bytes, or None."""
    m = re.match(rb"(?:OK|NO|BAD) \[([^\]]*)\]", tagged)
    return m.group(1) if m else None


# --- messages ----------------------------------------------------------------

def _msgid(*parts):
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def message(subject="Test message", sender="Bob Example <bob@example.com>",
            to="Alice <alice@example.org>", date="Mon, 07 Feb 1994 21:52:25 -0800",
            body="Hello Alice,\r\n\r\nthis is a test.\r\n", headers=(), cc=None, bcc=None):
    """A small RFC 5322 message in CRLF form."""
    lines = [f"From: {sender}", f"To: {to}"]
    if cc is not None:
        lines.append(f"Cc: {cc}")
    if bcc is not None:
        lines.append(f"Bcc: {bcc}")
    lines += [f"Subject: {subject}", f"Date: {date}",
              f"Message-ID: <{_msgid(subject, body, date)}@example.com>"]
    lines += list(headers)
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode() + (body.encode() if isinstance(body, str) else body)


# --- Maildir access ----------------------------------------------------------

def mail_home(srv, user="alice"):
    return pathlib.Path(srv.base) / "mail" / user


def maildir(srv, user="alice", folder=""):
    """The Maildir++ directory of a mailbox: the root for INBOX, '.a.b'
    for a/b (plain ASCII names only)."""
    root = mail_home(srv, user) / "Maildir"
    if folder in ("", "INBOX"):
        return root
    return root / ("." + folder.replace("/", "."))


_deliveries = 0


def maildir_deliver(directory, data, subdir="new", info=""):
    """Delivers a message the way an MDA does: written to tmp/ under a
    unique name, then renamed into new/ (or cur/ with an info suffix).
    Returns the final path."""
    global _deliveries
    _deliveries += 1
    directory = pathlib.Path(directory)
    base = f"{int(time.time())}.P{os.getpid()}Q{_deliveries}.testhost"
    tmp = directory / "tmp" / base
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    final = directory / subdir / (base + info)
    os.rename(tmp, final)
    return final


def maildir_files(directory):
    """{subdir: [names]} of a Maildir's new/ and cur/."""
    directory = pathlib.Path(directory)
    return {d: sorted(p.name for p in (directory / d).iterdir()) for d in ("new", "cur")}


def wait_for(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
