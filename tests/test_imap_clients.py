"""Real IMAP clients against a running ternd: curl (list, fetch by UID,
upload), mbsync (isync) and offlineimap3 doing two-way Maildir syncs,
where a second sync must change nothing on either side. mbsync and
offlineimap are skipped when not installed (Debian packages isync and
offlineimap3)."""
import os
import pathlib
import re
import shutil
import time
import subprocess

import pytest

from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import Imap, fetches, list_entries, maildir_deliver, message, status_items


def curl(ternd, url, *extra):
    return subprocess.run(["curl", "-sS", "-u", "alice:secret", *extra,
                           f"imap://127.0.0.1:{ternd.imap_port}{url}"],
                          capture_output=True, timeout=30)


# --- curl ---------------------------------------------------------------------------

def test_curl_lists_inbox(ternd):
    out = curl(ternd, "/INBOX")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines == ['* LIST (\\HasNoChildren) "/" INBOX'], lines


def test_curl_lists_all_mailboxes(ternd):
    out = curl(ternd, "/")
    assert out.returncode == 0, out.stderr
    entries = list_entries([line.encode() for line in out.stdout.decode().splitlines()])
    assert set(entries) == {"INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"}
    assert "\\Sent" in entries["Sent"][0]


def test_curl_fetches_by_uid(ternd):
    c = Imap(ternd.imap_port, rev2=True)
    first = message("first for curl")
    second = message("second for curl", body="Line\r\n" * 1000)
    c.append_ok("INBOX", first)
    c.append_ok("INBOX", second)
    out = curl(ternd, "/INBOX;UID=2")
    assert out.returncode == 0, out.stderr
    assert out.stdout == second
    out = curl(ternd, "/INBOX;UID=1")
    assert out.stdout == first
    # curl fetches BODY[], which sets \Seen
    c.select()
    assert c.fetch("1:2 FLAGS") == {1: {"FLAGS": ["\\Seen"]}, 2: {"FLAGS": ["\\Seen"]}}
    # a UID that doesn't exist: curl reports an error, the server stays up
    out = curl(ternd, "/INBOX;UID=9")
    assert out.returncode != 0 and out.stdout == b""


def test_curl_uploads(ternd, tmp_path):
    data = message("uploaded by curl")
    path = tmp_path / "upload.eml"
    path.write_bytes(data)
    out = curl(ternd, "/Sent", "-T", str(path))
    assert out.returncode == 0, out.stderr
    c = Imap(ternd.imap_port, rev2=True)
    c.select("Sent")
    assert c.fetch("1 BODY.PEEK[]") == {1: {"BODY[]": data}}


# --- sync tools -----------------------------------------------------------------------

def server_state(ternd):
    """{mailbox: (MESSAGES, UIDNEXT, UIDVALIDITY, {uid: sorted flags})}"""
    c = Imap(ternd.imap_port, rev2=True)
    state = {}
    for name in list_entries(c.ok('LIST "" "*"')):
        st = status_items(c.ok(f'STATUS "{name}" (MESSAGES UIDNEXT UIDVALIDITY)')[0])[1]
        c.select(f'"{name}"')
        untagged, tagged = c.cmd("UID FETCH 1:* FLAGS")
        flags = {int(i["UID"]): sorted(i["FLAGS"]) for i in fetches(untagged).values()}
        state[name] = (st["MESSAGES"], st["UIDNEXT"], st["UIDVALIDITY"], flags)
    c.logout()
    return state


def local_state(root):
    """Relative paths of the message files under a Maildir tree."""
    root = pathlib.Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.parent.name in ("cur", "new"))


def subjects(ternd, box):
    c = Imap(ternd.imap_port, rev2=True)
    c.select(f'"{box}"')
    untagged, _ = c.cmd("FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    c.logout()
    return sorted(i["BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip()
                  for i in fetches(untagged).values())


def local_subjects(directory):
    out = []
    for sub in ("cur", "new"):
        for p in (pathlib.Path(directory) / sub).iterdir():
            for line in p.read_bytes().split(b"\n"):
                if line.startswith(b"Subject: "):
                    out.append(line.decode().strip())
                    break
    return sorted(out)


def local_file(directory, subject):
    """The message file in a local Maildir with this subject."""
    found = [p for sub in ("cur", "new") for p in (pathlib.Path(directory) / sub).iterdir()
             if re.search(rb"\nSubject: " + subject.encode() + rb"\r?\n", p.read_bytes())]
    assert len(found) == 1, found
    return found[0]


def make_local_maildir(root, folders):
    for name in folders:
        for sub in ("cur", "new", "tmp"):
            (root / name / sub).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def sync_setup(ternd, tmp_path):
    """Server: INBOX with two messages, Sent with one. Local Maildir tree:
    INBOX with one new message, and a folder Local the server hasn't got."""
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("server one"))
    c.append_ok("INBOX", message("server two"), flags="\\Seen \\Flagged")
    c.append_ok("Sent", message("server sent"))
    c.logout()
    local = tmp_path / "local"
    make_local_maildir(local, ("INBOX", "Local"))
    maildir_deliver(local / "INBOX", message("local one"))
    maildir_deliver(local / "Local", message("local folder"), subdir="cur", info=":2,S")
    return local


MBSYNC = shutil.which("mbsync")
OFFLINEIMAP = shutil.which("offlineimap")


def age_dirs(root):
    """mbsync sleeps a second before reading a Maildir directory changed
    within the last second; make them look older."""
    old = time.time() - 10
    for p in [pathlib.Path(root), *pathlib.Path(root).rglob("*")]:
        if p.is_dir():
            os.utime(p, (old, old))


def run(cmd, local=None):
    if local is not None:
        age_dirs(local)
    out = subprocess.run(cmd, capture_output=True, timeout=120, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.mark.skipif(MBSYNC is None, reason="mbsync not installed (Debian package isync)")
def test_mbsync_two_way_sync(ternd, sync_setup, tmp_path):
    local = sync_setup
    rc = tmp_path / "mbsyncrc"
    rc.write_text(f"""
IMAPAccount tern
Host 127.0.0.1
Port {ternd.imap_port}
User alice
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account tern

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    cmd = ["mbsync", "-c", str(rc), "-a"]
    run(cmd, local)
    assert subjects(ternd, "INBOX") == ["Subject: local one", "Subject: server one",
                                        "Subject: server two"]
    assert subjects(ternd, "Local") == ["Subject: local folder"]
    assert local_subjects(local / "INBOX") == subjects(ternd, "INBOX")
    assert local_subjects(local / "Sent") == ["Subject: server sent"]
    for name in ("Drafts", "Trash", "Junk", "Archive"):
        assert (local / name / "cur").is_dir()
    server = server_state(ternd)
    assert server["Local"][3] == {1: ["\\Seen"]}
    near = local_state(local)
    # a second sync finds nothing to do on either side
    run(cmd, local)
    assert server_state(ternd) == server
    assert local_state(local) == near
    # flags go both ways: \Flagged set locally, \Seen set on the server
    path = local_file(local / "INBOX", "server one")
    os.rename(path, path.parent.parent / "cur" / (path.name.split(":")[0] + ":2,FS"))
    c = Imap(ternd.imap_port, rev2=True)
    c.select("Sent")
    c.ok("STORE 1 +FLAGS.SILENT (\\Answered)")
    c.logout()
    run(cmd, local)
    assert server_state(ternd)["INBOX"][3][1] == ["\\Flagged", "\\Seen"]
    assert local_file(local / "Sent", "server sent").name.endswith(":2,R")


@pytest.mark.skipif(OFFLINEIMAP is None, reason="offlineimap not installed "
                    "(Debian package offlineimap3)")
def test_offlineimap_sync(ternd, sync_setup, tmp_path):
    local = sync_setup
    rc = tmp_path / "offlineimaprc"
    rc.write_text(f"""
[general]
accounts = tern
metadata = {tmp_path}/offlineimap-meta
[Account tern]
localrepository = local
remoterepository = remote
[Repository local]
type = Maildir
localfolders = {local}
sep = /
[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = {ternd.imap_port}
remoteuser = alice
remotepass = secret
ssl = no
starttls = no
""")
    cmd = ["offlineimap", "-c", str(rc), "-o", "-u", "basic"]
    out = run(cmd)
    assert "ERROR" not in out.stdout + out.stderr, out.stdout + out.stderr
    assert subjects(ternd, "INBOX") == ["Subject: local one", "Subject: server one",
                                        "Subject: server two"]
    assert subjects(ternd, "Local") == ["Subject: local folder"]
    assert local_subjects(local / "INBOX") == subjects(ternd, "INBOX")
    assert local_subjects(local / "Sent") == ["Subject: server sent"]
    server = server_state(ternd)
    assert server["INBOX"][3][2] == ["\\Flagged", "\\Seen"]
    assert server["Local"][3] == {1: ["\\Seen"]}
    near = local_state(local)
    out = run(cmd)
    assert "Copy message" not in out.stdout + out.stderr
    assert server_state(ternd) == server
    assert local_state(local) == near
