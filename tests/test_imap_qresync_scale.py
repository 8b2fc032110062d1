"""QRESYNC at scale (RFC 7162 §3.2.5): a client that knew a 100,000-message
mailbox reconnects after 1,000 flag changes and 100 expunges made by
another session, and its SELECT (QRESYNC ...) answers exactly those
changes, quickly. The mailbox is built by dropping message files into the
Maildir (as another delivery program would), so the test takes seconds."""
import os
import time

from imaputil import RawImap

MESSAGES = 100_000
CHANGED = 1_000
EXPUNGED = 100


def fill_maildir(maildir, count):
    cur = os.path.join(maildir, "cur")
    for i in range(count):
        with open(os.path.join(cur, f"{1700000000 + i}.M{i}P1.qresync:2,"), "wb") as f:
            f.write(b"From: a@example.org\r\nSubject: message %d\r\n"
                    b"Message-ID: <%d@qresync.example>\r\n\r\nbody %d\r\n" % (i, i, i))


def select_line(c, tag, line):
    t = time.monotonic()
    untagged, tagged = c.command(tag, line)
    return untagged, tagged, time.monotonic() - t


def parse_uid_set(text):
    uids = set()
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        uids.update(range(int(lo), int(hi or lo) + 1))
    return uids


def test_qresync_reconnect_100k(ternd):
    c = RawImap(ternd.imap_port)
    c.command("l", "LOGIN alice secret")
    c.command("s", "SELECT INBOX")
    c.command("o", "LOGOUT")
    c.close()
    maildir = ternd.base / "mail" / "alice" / "Maildir"
    fill_maildir(str(maildir), MESSAGES)

    # the client's first session: learns UIDVALIDITY and HIGHESTMODSEQ
    a = RawImap(ternd.imap_port, timeout=120)
    a.command("l", "LOGIN alice secret")
    a.command("e", "ENABLE QRESYNC")
    untagged, tagged, _ = select_line(a, "s", "SELECT INBOX")
    assert tagged.startswith(b"s OK"), tagged
    assert b"* %d EXISTS" % MESSAGES in untagged
    uidvalidity = highest = None
    for line in untagged:
        if b"[UIDVALIDITY " in line:
            uidvalidity = int(line.split(b"[UIDVALIDITY ")[1].split(b"]")[0])
        if b"[HIGHESTMODSEQ " in line:
            highest = int(line.split(b"[HIGHESTMODSEQ ")[1].split(b"]")[0])
    assert uidvalidity and highest
    a.command("o", "LOGOUT")
    a.close()

    # another session: 1,000 flag changes (one STORE each) and 100 expunges,
    # on disjoint messages spread over the mailbox
    changed = set(range(7, MESSAGES + 1, MESSAGES // CHANGED))
    expunged = set(range(50, MESSAGES + 1, MESSAGES // EXPUNGED))
    assert len(changed) == CHANGED and len(expunged) == EXPUNGED and not changed & expunged
    b = RawImap(ternd.imap_port, timeout=120)
    b.command("l", "LOGIN alice secret")
    b.command("s", "SELECT INBOX")
    b.send("".join(f"f{uid} UID STORE {uid} +FLAGS.SILENT (\\Flagged)\r\n"
                   for uid in sorted(changed)))
    _, tagged = b.read_until_tagged(f"f{max(changed)}")
    assert b" OK" in tagged, tagged
    uid_list = ",".join(str(u) for u in sorted(expunged))
    _, tagged = b.command("d", f"UID STORE {uid_list} +FLAGS.SILENT (\\Deleted)")
    assert b"d OK" in tagged, tagged
    _, tagged = b.command("x", f"UID EXPUNGE {uid_list}")
    assert b"x OK" in tagged, tagged
    b.command("o", "LOGOUT")
    b.close()

    # reconnect: only the changes come back
    a = RawImap(ternd.imap_port, timeout=120)
    a.command("l", "LOGIN alice secret")
    a.command("e", "ENABLE QRESYNC")
    best = None
    for attempt in range(3):
        untagged, tagged, elapsed = select_line(
            a, f"q{attempt}", f"SELECT INBOX (QRESYNC ({uidvalidity} {highest}))")
        assert b" OK [READ-WRITE]" in tagged, tagged
        best = elapsed if best is None else min(best, elapsed)
    vanished, fetched = set(), set()
    for line in untagged:
        if line.startswith(b"* VANISHED (EARLIER) "):
            vanished |= parse_uid_set(line.split(b" ", 3)[3].decode())
        elif b" FETCH (" in line:
            uid = int(line.split(b"UID ")[1].split(b" ")[0].rstrip(b")"))
            assert b"\\Flagged" in line, line
            fetched.add(uid)
    assert vanished == expunged
    assert fetched == changed
    assert b"* %d EXISTS" % (MESSAGES - EXPUNGED) in untagged
    # the whole SELECT: ~1,100 lines for a 100,000-message mailbox
    assert best < 0.1, best
    print(f"QRESYNC select with {CHANGED} changes + {EXPUNGED} expunges: {best * 1000:.1f} ms")
    a.close()
