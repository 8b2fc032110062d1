"""Deferred full-text indexing of LMTP deliveries and the storage an LMTP
session keeps open (src/lmtp/lmtp-storage.c, docs/lmtp.md): a delivered
message is acknowledged before its text is in the full-text index, the
session indexes it later in batches (input drained, idle, QUIT), and a
search right after a delivery still finds it (the search indexes what is
missing). A user's storage deleted while a session keeps it open is made
anew at the next delivery, not written through the old connection."""
import re
import shutil
import socket
import sqlite3
import time

from mailutil import Imap

USERS = {"alice": "secret", "bob": "hunter2"}


class Lmtp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        assert self.reply() == 220
        self.s.sendall(b"LHLO mta.example\r\n")
        assert self.reply() == 250

    def reply(self):
        while True:
            line = self.f.readline()
            if line[3:4] != b"-":
                self.last = line
                return int(line[:3])

    def send(self, rcpts, subject, body):
        cmds = "MAIL FROM:<a@example.net>\r\n" + "".join(f"RCPT TO:<{r}>\r\n" for r in rcpts)
        self.s.sendall((cmds + "DATA\r\n").encode())
        assert [self.reply() for _ in range(len(rcpts) + 2)] == [250] * (len(rcpts) + 1) + [354]
        self.s.sendall(f"Subject: {subject}\r\n\r\n{body}\r\n.\r\n".encode())
        return [self.reply() for _ in rcpts]

    def quit(self):
        self.s.sendall(b"QUIT\r\n")
        code = self.reply()
        self.s.close()
        return code


def indexed(srv, user, mailbox="INBOX"):
    """(documents, watermark) of the mailbox in the user's index."""
    db = sqlite3.connect(f"file:{srv.base}/mail/{user}/tern-index.db?mode=ro", uri=True,
                         timeout=10)
    try:
        mid = db.execute("SELECT id FROM mailboxes WHERE name = ?", (mailbox,)).fetchone()[0]
        docs = db.execute("SELECT count(*) FROM message_search WHERE mailbox_id = ?",
                          (mid,)).fetchone()[0]
        row = db.execute("SELECT indexed_uid FROM search_state WHERE mailbox_id = ?",
                         (mid,)).fetchone()
        return docs, (row[0] if row else 0)
    finally:
        db.close()


def search(srv, user, password, criteria):
    imap = Imap(srv.imap_port, user, password)
    imap.ok("SELECT INBOX")
    untagged = imap.ok(f"UID SEARCH {criteria}")
    imap.ok("LOGOUT")
    line = [u for u in untagged if u.startswith(b"* SEARCH")][0]
    return [int(x) for x in line.split()[2:]]


def test_search_right_after_delivery(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org"], "first", "pelican quartz") == [250]
    assert c.send(["alice@example.org", "bob@example.org"], "second", "heron quartz") == [250, 250]
    # the session is still open: the text waits, and the searches index it
    assert search(srv, "alice", "secret", 'BODY "quartz"') == [1, 2]
    assert search(srv, "alice", "secret", 'TEXT "heron"') == [2]
    assert search(srv, "bob", "hunter2", 'TEXT "second"') == [1]
    assert search(srv, "alice", "secret", 'SUBJECT "first"') == [1]
    assert c.send(["alice@example.org"], "third", "stork quartz") == [250]
    assert search(srv, "alice", "secret", 'BODY "quartz"') == [1, 2, 3]
    assert search(srv, "alice", "secret", 'BODY "stork"') == [3]
    assert c.quit() == 221


def test_quit_indexes_the_sessions_deliveries(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    c = Lmtp(srv.lmtp_port)
    for i in range(5):
        assert c.send(["alice@example.org"], f"m{i}", f"word{i} text") == [250]
    # acknowledged before indexing: five deliveries, below the batch size
    # that indexes while the session goes on, and no idle pause yet
    assert indexed(srv, "alice") == (0, 0)
    assert c.quit() == 221
    # QUIT's reply leaves after the batch is indexed
    assert indexed(srv, "alice") == (5, 5)
    assert search(srv, "alice", "secret", 'BODY "word3"') == [4]


def test_idle_session_indexes(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org", "bob@example.org"], "hello", "idle words") == [250, 250]
    deadline = time.monotonic() + 10
    while ((indexed(srv, "alice"), indexed(srv, "bob")) != ((1, 1), (1, 1))
           and time.monotonic() < deadline):
        time.sleep(0.1)
    assert indexed(srv, "alice") == (1, 1) and indexed(srv, "bob") == (1, 1)
    # the storages were closed meanwhile; the session goes on
    assert c.send(["alice@example.org"], "again", "more words") == [250]
    assert c.quit() == 221
    assert indexed(srv, "alice") == (2, 2)


def test_busy_session_indexes_in_batches(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    c = Lmtp(srv.lmtp_port)
    for i in range(40):
        assert c.send(["alice@example.org"], f"m{i}", f"batch{i} text") == [250]
    # 32 waiting: indexed between two transactions, in one batch
    docs, watermark = indexed(srv, "alice")
    assert docs >= 32 and watermark == docs, (docs, watermark)
    assert c.quit() == 221
    assert indexed(srv, "alice") == (40, 40)
    assert search(srv, "alice", "secret", 'BODY "batch39"') == [40]


def test_kept_storage_deleted_in_between(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    home = srv.base / "mail" / "alice"
    maildir = home / "Maildir"
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org"], "first", "one") == [250]
    assert c.send(["alice@example.org"], "second", "two") == [250]
    assert len(list((maildir / "cur").iterdir())) == 2
    # the session keeps alice's storage open; it goes
    shutil.rmtree(home)
    assert c.send(["alice@example.org"], "third", "three") == [250]
    assert b"Saved as UID 1." in c.last
    files = list((maildir / "cur").iterdir())
    assert len(files) == 1 and b"Subject: third" in files[0].read_bytes()
    assert c.quit() == 221
    uids = re.findall(r"event=delivered rcpt=alice@example.org user=alice mailbox=INBOX uid=(\d+) ",
                      srv.log_text())
    assert uids == ["1", "2", "1"], uids
    assert indexed(srv, "alice") == (1, 1)
    assert search(srv, "alice", "secret", 'BODY "three"') == [1]


def test_text_at_save_off_leaves_it_to_search(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra="mail {\n index_text_at_save = no\n}\n").start()
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org"], "first", "lonely words") == [250]
    assert c.quit() == 221
    assert indexed(srv, "alice") == (0, 0)
    assert search(srv, "alice", "secret", 'BODY "lonely"') == [1]
    assert indexed(srv, "alice") == (1, 1)
