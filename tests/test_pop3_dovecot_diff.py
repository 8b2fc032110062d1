"""Differential test against Dovecot's POP3 server: every message of the
MIME corpus (tests/fixtures/mime, hand-written and generated: bare LF,
mixed line ends, no final newline, empty, lines starting with a dot...) is
read with LIST, RETR and TOP (0, 1, 3 and 100000 lines) from ternd and from
Debian's Dovecot 2.3 pop3 binary, run pre-authenticated on a Maildir holding
that one message. Octet counts and the raw multi-line bodies (dot-stuffing
and line ends included) must be identical, except for the intentional
differences listed in KNOWN_DIFFERENCES (documented in docs/pop3.md), and
ternd's UIDLs must have the shape of Dovecot's default (%08Xu%08Xv,
lower-case hex).

Needs root (Dovecot drops privileges to the user "nobody") and
/usr/lib/dovecot/pop3 (Debian package dovecot-pop3d); skipped otherwise."""
import os
import pathlib
import pwd
import re
import shutil
import socket
import subprocess
import tempfile

import pytest

from conftest import ROOT
from mailutil import Imap, close_sessions

CORPUS = ROOT / "tests" / "fixtures" / "mime"
MESSAGES = sorted(CORPUS.glob("*.eml")) + sorted((CORPUS / "generated").glob("*.eml"))
# what the corpus lacks: dot-stuffing and stray CRs
EXTRA_MESSAGES = [
    b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nmid.dle\r\n. \r\n",
    b"Subject: dots lf\n\n.\n..x\n.",
    b"Subject: cr\r\n\r\na\rb\r\nend\r",
    b".\r\n",
    b"\r\n",
    b"\n\n.\n",
    b"Subject: only a header\r\nX-Other: y",
    b"Subject: long\r\n\r\n" + b"x" * 200000 + b"\r\n.y\r\n",
]
DOVECOT_POP3 = "/usr/lib/dovecot/pop3"
TOP_LINES = (0, 1, 3, 100000)

DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
mail_uid = nobody
mail_gid = {group}
first_valid_uid = 0
first_valid_gid = 0
pop3_uidl_format = %08Xu%08Xv
pop3_no_flag_updates = yes
"""


def empty_message_has_no_lines(data, ours, theirs):
    """An empty message: Dovecot sends one empty line before the "." (as
    if the message were CRLF, 2 octets, while it announces 0); ternd sends
    no line at all, which is what the 0 octets say (docs/pop3.md)."""
    return data == b"" and ours == (theirs[0], b"") and theirs[1] == b"\r\n"


# Intentional differences: each is documented in docs/pop3.md.
KNOWN_DIFFERENCES = [empty_message_has_no_lines]


def dovecot_stuffs_first_line(data):
    """Dovecot 2.3 does not dot-stuff the first line of a message: a message
    starting with "." comes out changed (or, for ".\r\n", as the end of the
    reply). Such messages are checked against the RFC 1939 §3 form instead."""
    return data.startswith(b".")


def expected_retr(data):
    """RETR's body per RFC 1939 §3: CRLF form, dot-stuffed, final line
    ended."""
    crlf = re.sub(rb"(?<!\r)\n", b"\r\n", data)
    if crlf and not crlf.endswith(b"\n"):
        crlf += b"\r\n"
    return re.sub(rb"(^|\n)\.", rb"\1..", crlf)


def commands(num):
    return [f"LIST {num}", f"RETR {num}"] + [f"TOP {num} {n}" for n in TOP_LINES]


def parse_replies(data, cmds):
    """Splits raw POP3 output into the replies to cmds: (status line, raw
    body bytes without the final ".\r\n", or None). Raises ValueError if
    data ends before the last reply does."""
    replies = []
    pos = 0
    for cmd in cmds:
        end = data.index(b"\r\n", pos)
        status = data[pos:end]
        pos = end + 2
        body = None
        if status.startswith(b"+OK") and cmd.split()[0] in ("RETR", "TOP"):
            if data.startswith(b".\r\n", pos):
                body, pos = b"", pos + 3
            else:
                end = data.index(b"\r\n.\r\n", pos)
                body, pos = data[pos:end + 2], end + 5
        replies.append((status, body))
    return replies


@pytest.fixture
def dovecot_root():
    if os.geteuid() != 0 or not os.access(DOVECOT_POP3, os.X_OK):
        pytest.skip("needs root and Dovecot's pop3 (Debian package dovecot-pop3d)")
    # Dovecot's mail process runs as nobody: the tree must be reachable
    root = pathlib.Path(tempfile.mkdtemp(prefix="tern-pop3-diff-", dir="/var/tmp"))
    root.chmod(0o755)
    group = pwd.getpwnam("nobody").pw_gid
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, group=group))
    for d in ("run", "state"):
        (root / d).mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def dovecot_session(root, index, data):
    """Runs Dovecot's pop3 on a Maildir holding data; returns its raw
    output for commands(1) and the UIDL line."""
    md = root / f"md{index}"
    for d in ("cur", "new", "tmp"):
        (md / d).mkdir(parents=True)
    (md / "new" / "1.M1P1.diff").write_bytes(data)
    nobody = pwd.getpwnam("nobody")
    for path in [md] + list(md.rglob("*")):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    script = "".join(c + "\r\n" for c in commands(1) + ["UIDL 1", "QUIT"])
    out = subprocess.run([DOVECOT_POP3, "-c", str(root / "dovecot.conf"),
                          "-o", f"mail_location=maildir:{md}"],
                         input=script.encode(), capture_output=True, timeout=30,
                         env={"USER": "nobody", "HOME": str(md), "PATH": "/usr/bin:/bin"})
    assert out.stdout.startswith(b"+OK"), (out.stdout[:300], out.stderr[-2000:])
    return out.stdout


@pytest.fixture
def srv(ternd_factory):
    s = ternd_factory(pop3=True).start()
    yield s
    close_sessions()


def test_pop3_output_matches_dovecot(srv, dovecot_root):
    msgs = [p.read_bytes() for p in MESSAGES] + EXTRA_MESSAGES
    names = [p.name for p in MESSAGES] + [f"extra-{i}" for i in range(len(EXTRA_MESSAGES))]
    c = Imap(srv.imap_port, rev2=True)
    for data in msgs:
        c.append_ok("INBOX", data)
    c.logout()

    sock = socket.create_connection(("127.0.0.1", srv.pop3_port), timeout=30)
    sock.sendall(b"USER alice\r\nPASS secret\r\n")
    buf = b""
    while buf.count(b"\r\n") < 3:
        buf += sock.recv(65536)
    lines = buf.split(b"\r\n")
    assert lines[0].startswith(b"+OK") and lines[2].startswith(b"+OK Logged in"), buf
    mismatches = []
    for i, data in enumerate(msgs):
        cmds = commands(i + 1) + [f"UIDL {i + 1}"]
        sock.sendall("".join(c + "\r\n" for c in cmds).encode())
        ours_raw = b""
        while len(parse_replies_safe(ours_raw, cmds)) < len(cmds):
            chunk = sock.recv(1 << 20)
            assert chunk
            ours_raw += chunk
        ours = parse_replies(ours_raw, cmds)
        if dovecot_stuffs_first_line(data):
            assert ours[1] == (b"+OK %d octets" % len(re.sub(rb"(?<!\r)\n", b"\r\n", data)),
                               expected_retr(data)), (names[i], ours[1])
            continue
        theirs_raw = dovecot_session(dovecot_root, i, data)
        # pre-authenticated: no greeting
        theirs = parse_replies(theirs_raw, cmds)
        name = names[i]
        # LIST n: "+OK n size"
        if ours[0][0].split()[2] != theirs[0][0].split()[2]:
            mismatches.append((name, "LIST", ours[0][0], theirs[0][0]))
        for k, cmd in enumerate(cmds[1:-1], 1):
            if ours[k] != theirs[k] and \
                    not any(known(data, ours[k], theirs[k]) for known in KNOWN_DIFFERENCES):
                mismatches.append((name, cmd.split()[0] + " " + " ".join(cmd.split()[2:]),
                                   ours[k][0], theirs[k][0]))
        uidl = ours[-1][0].split()[2]
        assert re.fullmatch(rb"%08x[0-9a-f]{8}" % (i + 1), uidl), uidl
        assert re.fullmatch(rb"\+OK 1 00000001[0-9a-f]{8}", theirs[-1][0]), theirs_raw
    sock.sendall(b"QUIT\r\n")
    print(f"\n{len(msgs)} messages x {len(commands(1))} commands compared with Dovecot")
    assert not mismatches, "\n".join(repr(m) for m in mismatches[:20])


def parse_replies_safe(data, cmds):
    try:
        return parse_replies(data, cmds)
    except ValueError:
        return []
