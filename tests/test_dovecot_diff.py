"""Differential test against Dovecot (issue 4): every message of the MIME
corpus (tests/fixtures/mime, hand-written and generated) is APPENDed to a
ternd and to a private Dovecot started here (Debian's dovecot-imapd, on
its own config, state and loopback port in a temp dir), and ENVELOPE,
BODY, BODYSTRUCTURE, RFC822.SIZE, HEADER, TEXT, HEADER.FIELDS(.NOT),
every part's [n] and [n.MIME], [n.HEADER], [n.TEXT] and
[n.HEADER.FIELDS] of message parts, partial ranges, and BINARY[] and
BINARY.SIZE[] of the message and of every part are fetched from both.
Values must be identical; a string counts the same whether it came quoted
or as a literal (RFC 9051 §4.3). The only exceptions are the intentional
differences documented in docs/imap-structure.md: each has an id there and
a predicate here, and the test checks that the two lists agree.

Needs root (Dovecot drops privileges to a mail user) and
/usr/sbin/dovecot; skipped otherwise. Run with -s to see the summary."""
import collections
import os
import pathlib
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import ROOT, Ternd, free_port, wait_port
from mailutil import Imap, code, parse_data

CORPUS = ROOT / "tests" / "fixtures" / "mime"
DOC = ROOT / "docs" / "imap-structure.md"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

MESSAGES = sorted(CORPUS.glob("*.eml")) + sorted((CORPUS / "generated").glob("*.eml"))

HEADER_FIELDS = "(FROM TO SUBJECT DATE MESSAGE-ID CONTENT-TYPE)"

DOVECOT_CONF = """
instance_name = tern-diff-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_greeting = Dovecot diff ready.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n
}}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
# store messages as sent (the default turns CRLF into LF, and "CR CR LF"
# into "CR LF" on the way)
mail_save_crlf = yes
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def dovecot_skip_reason():
    if not os.path.exists(DOVECOT):
        return "Dovecot is not installed (Debian packages dovecot-core, dovecot-imapd)"
    if os.geteuid() != 0:
        return "the private Dovecot instance needs root to drop to a mail user"
    for user in ("dovecot", "dovenull"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"Dovecot's system user {user} is missing"
    return None


def mail_user():
    """The uid/gid Dovecot delivers as: vmail if it exists, else nobody."""
    for name in ("vmail", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    pytest.skip("no vmail or nobody user for Dovecot's mail")


class Dovecot:
    def __init__(self):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="tern-dovecot-"))
        # the mail user must reach its home through the temp dir
        os.chmod(self.root, 0o755)
        self.port = free_port()
        uid, gid = mail_user()
        for d in ("run", "state", "mail"):
            (self.root / d).mkdir()
        os.chown(self.root / "mail", uid, gid)
        users = self.root / "users"
        users.write_text("alice:{PLAIN}secret::::::\n")
        os.chmod(users, 0o644)
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(DOVECOT_CONF.format(root=self.root, port=self.port,
                                                 uid=uid, gid=gid))

    def start(self):
        # the master daemonizes: output to a file, not a pipe it would
        # keep open
        with open(self.root / "startup.log", "wb") as log:
            subprocess.run([DOVECOT, "-c", str(self.conf)], check=True,
                           stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_port(self.port)
        return self

    def stop(self):
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def append(session, data):
    """The new UID, or None if the server refused the message (Dovecot
    refuses empty ones)."""
    _, tagged = session.append("INBOX", data)
    m = re.match(rb"OK \[APPENDUID \d+ (\d+)\]", tagged)
    return int(m.group(1)) if m else None


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    reason = dovecot_skip_reason()
    if reason:
        pytest.skip(reason)
    dovecot = Dovecot().start()
    d = tmp_path_factory.mktemp("tern")
    tern = Ternd(d).start()
    sessions = {}
    try:
        for name, port in (("tern", tern.imap_port), ("dovecot", dovecot.port)):
            s = Imap(port, timeout=60)
            uids = [append(s, m.read_bytes()) for m in MESSAGES]
            s.select()
            sessions[name] = (s, uids)
        yield sessions
    finally:
        for s, _ in sessions.values():
            s.logout()
        tern.stop()
        dovecot.stop()


# --- documented differences --------------------------------------------------

def doc_ids():
    """The ids of the differences listed in docs/imap-structure.md."""
    text = DOC.read_text()
    return set(re.findall(r"^\| *`(D\d+)` *\|", text, re.M))


def safe_parts(structure):
    return parts_of(structure) if isinstance(structure, list) and structure else []


def parts_of(structure, prefix=""):
    """(path, node) of every part in a parsed BODYSTRUCTURE, as section
    numbers: a multipart's children are 1..n; a leaf at the top is part
    1; a message/rfc822 part's message continues its numbering."""
    out = []
    if isinstance(structure[0], list):
        n = 0
        for child in structure:
            if not isinstance(child, list):
                break
            n += 1
            out += parts_of(child, f"{prefix}{n}.")
        return out
    path = prefix + "1" if prefix == "" else prefix[:-1]
    return [(path, structure)] + message_children(structure, path)


def message_children(node, path):
    if not is_message(node):
        return []
    inner = node[8]
    if isinstance(inner[0], list):
        return parts_of(inner, path + ".")
    return [(path + ".1", inner)] + message_children(inner, path + ".1")


def is_message(node):
    return (isinstance(node, list) and len(node) > 9 and isinstance(node[0], bytes)
            and node[0].lower() == b"message" and node[1].lower() in (b"rfc822", b"global")
            and isinstance(node[7], list))


def all_paths(structures):
    paths, message_paths = [], set()
    for structure in structures:
        if structure is None:
            continue
        for path, node in parts_of(structure):
            if path not in paths:
                paths.append(path)
            if is_message(node):
                message_paths.add(path)
    return paths, message_paths


def node_at(structure, path):
    for p, node in parts_of(structure) if structure is not None else []:
        if p == path:
            return node
    return None


def mime_type(node):
    if node is None or not isinstance(node[0], bytes):
        return None
    return (node[0] + b"/" + node[1]).lower()


def item_section(key):
    """'BODY[1.2.HEADER]<2>' -> ('BODY', '1.2', 'HEADER'); ('', '', '') for
    items without a section."""
    m = re.fullmatch(r"(BODY|BINARY|BINARY\.SIZE)\[([0-9.]*?)\.?([A-Z][^\]]*)?\](<\d+>)?", key)
    if not m:
        return "", "", ""
    return m.group(1), m.group(2), m.group(3) or ""


def under(path, parent):
    """True if section path is parent or inside it ('' is the message)."""
    return parent == "" or path == parent or path.startswith(parent + ".")


def unquote_ext_values(value):
    """RFC 2231 extended values ("name*" parameters) percent-decoded, in
    every parameter list of a parsed BODYSTRUCTURE."""
    if not isinstance(value, list):
        return value
    out = [unquote_ext_values(v) for v in value]
    if out and len(out) % 2 == 0 and all(isinstance(v, bytes) for v in out):
        for i in range(0, len(out), 2):
            if out[i].endswith(b"*"):
                out[i + 1] = urllib.parse.unquote_to_bytes(out[i + 1])
    return out


def header_values(raw, name):
    """Unfolded values of the header fields called name anywhere in the
    message (part headers included)."""
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", raw)
    return re.findall(rb"(?im)^" + name + rb"[ \t]*:[ \t]*([^\r\n]*)", unfolded)


def rfc2231_conflicts(raw):
    """True if some Content-Type/-Disposition has RFC 2231 segments that
    conflict: a name both plain and split, repeated, or with gaps."""
    for value in (header_values(raw, b"content-type") +
                  header_values(raw, b"content-disposition")):
        seen = collections.defaultdict(list)
        for name in re.findall(rb";\s*([^=;\s]+)\s*=", value):
            m = re.fullmatch(rb"([^*]+)(?:\*(\d+))?(\*)?", name.lower())
            if m:
                seen[m.group(1)].append(m.group(2))
        for indexes in seen.values():
            split = [int(i) for i in indexes if i is not None]
            if len(indexes) > 1 and (len(split) != len(indexes) or
                                     sorted(split) != list(range(len(split)))):
                return True
    return False


def paths_without_blank_line(ctx):
    """Sections (by Tern's structure) whose header, as Tern serves
    [n.MIME], has no empty line of its own (it ends at a boundary)."""
    out = []
    for path, node in safe_parts(ctx["tern_structure"]):
        mime = ctx["tern"].get(f"BODY[{path}.MIME]")
        if isinstance(mime, bytes) and not mime.endswith(b"\r\n\r\n"):
            out.append(path)
    return out


class Differences:
    """Predicates for the documented intentional differences
    (docs/imap-structure.md, same ids). Each gets the item and both
    values; it returns True if the difference is the documented one."""

    def __init__(self, ctx):
        self.ctx = ctx

    def D1(self, item, tern, dovecot):
        """message/global is a message (RFC 9051 §9 media-message)."""
        kind, path, _ = item_section(item)
        for p, node in safe_parts(self.ctx["tern_structure"]):
            if mime_type(node) == b"message/global" and is_message(node):
                if item in ("BODY", "BODYSTRUCTURE") or (kind and under(path, p)):
                    return True
        return False

    def D2(self, item, tern, dovecot):
        """BINARY.SIZE is the size of what BINARY sends (RFC 3516 §4.2)."""
        if not item.startswith("BINARY.SIZE[") or tern is None or dovecot is None:
            return False
        binary = self.ctx["dovecot"].get("BINARY" + item[len("BINARY.SIZE"):])
        return isinstance(binary, bytes) and int(tern) == len(binary)

    def D3(self, item, tern, dovecot):
        """An invalid Content-Type is the default type (RFC 2045 §5.2)."""
        invalid = [p for p, node in safe_parts(self.ctx["dovecot_structure"])
                   if isinstance(node[1], bytes) and node[1] == b""]
        kind, path, _ = item_section(item)
        if not invalid:
            return False
        return item in ("BODY", "BODYSTRUCTURE") or any(
            kind and path and under(path, p) for p in invalid)

    def D4(self, item, tern, dovecot):
        """Malformed base64 and quoted-printable are decoded leniently
        (RFC 2045 §6.8, §6.7) where Dovecot answers NO [PARSE]."""
        kind, path, _ = item_section(item)
        return kind.startswith("BINARY") and \
            self.ctx["binary_status"].get(item, (None, None))[1] == (b"NO", b"PARSE")

    def D5(self, item, tern, dovecot):
        """RFC 2231 extended values are sent in canonical form (RFC 2231
        §7: ext-value percent-encodes what isn't an attribute-char)."""
        return item in ("BODY", "BODYSTRUCTURE") and \
            unquote_ext_values(tern) == unquote_ext_values(dovecot)

    def D6(self, item, tern, dovecot):
        """Conflicting RFC 2231 segments are merged (RFC 2231 §3, §4.1)."""
        return item in ("BODY", "BODYSTRUCTURE") and rfc2231_conflicts(self.ctx["raw"])

    def D7(self, item, tern, dovecot):
        """An unquoted parameter value with '=' is taken whole (RFC 2045
        §5.1 wants it quoted; mailers write boundary=----=_Part_...)."""
        return any(re.search(rb";\s*[a-z-]+=[^\s\";]*=", v, re.I)
                   for v in header_values(self.ctx["raw"], b"content-type"))

    def D8(self, item, tern, dovecot):
        """Without MIME-Version, Content-Transfer-Encoding means nothing
        (RFC 2045 §4): BINARY doesn't decode."""
        raw = self.ctx["raw"]
        return item.startswith("BINARY") and not header_values(raw, b"mime-version") \
            and bool(header_values(raw, b"content-transfer-encoding"))

    def D9(self, item, tern, dovecot):
        """HEADER.FIELDS of a header without its empty line is taken from
        that header only (RFC 9051 §6.4.5); Dovecot reads past it."""
        kind, path, text = item_section(item)
        if kind != "BODY" or not path or not text.startswith("HEADER.FIELDS"):
            return False
        header = self.ctx["tern"].get(f"BODY[{path}.HEADER]")
        return isinstance(header, bytes) and not header.endswith(b"\r\n\r\n")

    def D10(self, item, tern, dovecot):
        """BINARY over a part whose header has no empty line of its own
        (it runs into a boundary): Tern copies that header as it is;
        Dovecot reads past the part, into the parts after it."""
        kind, path, _ = item_section(item)
        return kind.startswith("BINARY") and any(
            under(p, path) for p in paths_without_blank_line(self.ctx))


KNOWN = sorted((m for m in dir(Differences) if re.fullmatch(r"D\d+", m)),
               key=lambda m: int(m[1:]))
STATS = collections.Counter()
SKIPS = collections.Counter()


LITERAL = re.compile(rb"(~?)\{(\d+)\}\r\n")


def parse_values(data, pos):
    """mailutil.parse_data from pos, also reading literal8 (~{n}, RFC
    3516): a string is the same value whichever form carried it."""
    data, out = data[pos:], bytearray()
    pos = 0
    while (m := LITERAL.search(data, pos)) is not None:
        end = m.end() + int(m.group(2))
        out += data[pos:m.start()] + data[m.start() + len(m.group(1)):end]
        pos = end
    out += data[pos:]
    return parse_data(bytes(out), 0)


def fetch_items(session, uid, items):
    untagged, tagged = session.cmd(f"UID FETCH {uid} ({items})")
    values = {}
    for resp in untagged:
        m = re.match(rb"\* \d+ FETCH \(", resp)
        if not m:
            continue
        vals, _ = parse_values(resp, m.end())
        for i in range(0, len(vals) - 1, 2):
            values[vals[i].upper()] = vals[i + 1]
    status = tagged.split(b" ")[0]
    return values, (status, code(tagged))


def structure_items(paths, message_paths):
    """The non-BINARY items for one FETCH."""
    items = ["ENVELOPE", "BODY", "BODYSTRUCTURE", "RFC822.SIZE", "BODY.PEEK[HEADER]",
             "BODY.PEEK[TEXT]", "BODY.PEEK[]<3.20>", "BODY.PEEK[TEXT]<1.7>",
             f"BODY.PEEK[HEADER.FIELDS {HEADER_FIELDS}]",
             f"BODY.PEEK[HEADER.FIELDS.NOT {HEADER_FIELDS}]"]
    for path in paths:
        items += [f"BODY.PEEK[{path}]", f"BODY.PEEK[{path}.MIME]", f"BODY.PEEK[{path}]<2.9>"]
        if path in message_paths:
            items += [f"BODY.PEEK[{path}.HEADER]", f"BODY.PEEK[{path}.TEXT]",
                      f"BODY.PEEK[{path}.HEADER.FIELDS (FROM SUBJECT)]"]
    return items


def response_key(item):
    """The name a server answers item with."""
    key = item.replace(".PEEK", "")
    return re.sub(r"<(\d+)\.\d+>$", r"<\1>", key)


@pytest.mark.parametrize("index", range(len(MESSAGES)), ids=[m.name for m in MESSAGES])
def test_same_as_dovecot(servers, index):
    name = MESSAGES[index].name
    raw = MESSAGES[index].read_bytes()
    tern_s, tern_uids = servers["tern"]
    dc_s, dc_uids = servers["dovecot"]
    tern_uid, dc_uid = tern_uids[index], dc_uids[index]
    assert tern_uid is not None, f"ternd refused {name}"
    if dc_uid is None:
        pytest.skip(f"Dovecot refuses to store {name}")

    structures = []
    for s, uid in ((dc_s, dc_uid), (tern_s, tern_uid)):
        values, _ = fetch_items(s, uid, "BODYSTRUCTURE")
        structures.append(values.get("BODYSTRUCTURE"))
    paths, message_paths = all_paths(structures)

    items = structure_items(paths, message_paths)
    tern, _ = fetch_items(tern_s, tern_uid, " ".join(items))
    dovecot, _ = fetch_items(dc_s, dc_uid, " ".join(items))
    keys = [response_key(i) for i in items]

    # one command per BINARY item: a NO (UNKNOWN-CTE, PARSE) fails the
    # whole command, and should fail only its own item here
    binary_status = {}
    for section in [""] + paths:
        for item in (f"BINARY.PEEK[{section}]", f"BINARY.SIZE[{section}]"):
            t_vals, t_status = fetch_items(tern_s, tern_uid, item)
            d_vals, d_status = fetch_items(dc_s, dc_uid, item)
            tern.update(t_vals)
            dovecot.update(d_vals)
            keys.append(response_key(item))
            binary_status[response_key(item)] = (t_status, d_status)

    ctx = {"raw": raw, "dovecot": dovecot, "tern": tern, "binary_status": binary_status,
           "dovecot_structure": structures[0], "tern_structure": structures[1]}
    diffs = Differences(ctx)
    failures = []
    skipped = False
    for key in keys:
        t_val, d_val = tern.get(key), dovecot.get(key)
        STATS["items"] += 1
        if t_val == d_val:
            STATS["identical"] += 1
            continue
        why = next((d for d in KNOWN if getattr(diffs, d)(key, t_val, d_val)), None)
        if why:
            SKIPS[why] += 1
            skipped = True
            continue
        failures.append(f"{key}:\n  tern:    {t_val!r:.600}\n  dovecot: {d_val!r:.600}")
    for key, (t_status, d_status) in binary_status.items():
        if t_status != d_status and not diffs.D4(key, None, None):
            failures.append(f"{key} status: tern {t_status} dovecot {d_status}")
    STATS["messages"] += 1
    if not failures and not skipped:
        STATS["identical messages"] += 1
    assert not failures, f"{name}: " + "\n".join(failures)


def test_documented_differences_match():
    """Every difference the test accepts is documented, and every
    documented difference has its predicate."""
    if not DOC.exists():
        pytest.fail(f"{DOC} is missing")
    assert doc_ids() == set(KNOWN)


def test_summary(servers):
    print(f"\nDovecot differential: {STATS['messages']} messages, "
          f"{STATS['identical messages']} fully identical; {STATS['items']} items, "
          f"{STATS['identical']} identical; documented differences: {dict(SKIPS)}")
