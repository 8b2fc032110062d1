"""Deferred full-text indexing of LMTP deliveries and the storage an LMTP
session keeps open (src/lmtp/lmtp-storage.c, docs/lmtp.md): a delivered
message is acknowledged before its text is in the full-text index; the
indexer process (src/indexer) indexes it once the user's deliveries pause,
or without one (indexer.enabled = no) the session indexes it later in
batches (input drained, idle, QUIT); a search right after a delivery still
finds it (the search indexes what is missing). A user's storage deleted
while a session keeps it open is made anew at the next delivery, not
written through the old connection."""
import os
import re
import signal
import shutil
import socket
import sqlite3
import time

from mailutil import Imap

USERS = {"alice": "secret", "bob": "hunter2"}
NO_INDEXER = "indexer {\n enabled = no\n}\n"


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
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=NO_INDEXER).start()
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
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=NO_INDEXER).start()
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
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=NO_INDEXER).start()
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
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=NO_INDEXER).start()
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


def wait_for(cond, seconds=15):
    """Polls cond until it holds or seconds pass; its last answer."""
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.05)
    return cond()


def wait_indexed(srv, user, want, seconds=15):
    wait_for(lambda: indexed(srv, user) == want, seconds)
    return indexed(srv, user)


def indexer_pid(srv):
    pids = re.findall(r"event=spawn service=indexer role=indexer worker_pid=(\d+)",
                      srv.log_text())
    return int(pids[-1])


def indexer_conf(delay, max_delay="30s"):
    return f"indexer {{\n delay = {delay}\n max_delay = {max_delay}\n}}\n"


def test_indexer_indexes_once_deliveries_pause(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("2s")).start()
    c = Lmtp(srv.lmtp_port)
    t0 = time.monotonic()
    for i in range(4):
        assert c.send(["alice@example.org", "bob@example.org"], f"m{i}", f"pause{i} text") == [250, 250]
        time.sleep(0.4)  # the session goes idle and hands them over each time
    # deliveries came within the last 2 s: nothing indexed yet
    assert time.monotonic() - t0 < 2.5
    assert indexed(srv, "alice") == (0, 0) and indexed(srv, "bob") == (0, 0)
    assert wait_indexed(srv, "alice", (4, 4)) == (4, 4)
    assert wait_indexed(srv, "bob", (4, 4)) == (4, 4)
    # by the indexer, in one go per user, not by the session
    log = srv.log_text()
    assert re.search(r"service=indexer .*event=text_indexed user=alice messages=4 ", log), log
    assert not re.search(r"service=lmtp .*event=text_index", log)
    assert c.quit() == 221
    assert search(srv, "bob", "hunter2", 'BODY "pause2"') == [3]


def test_indexer_max_delay(ternd_factory):
    # a user whose mail never pauses is indexed after max_delay anyway
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("1h", "1s")).start()
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org"], "first", "patient words") == [250]
    assert c.quit() == 221
    assert wait_indexed(srv, "alice", (1, 1), seconds=10) == (1, 1)


def test_indexer_runs_at_low_priority(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    pid = indexer_pid(srv)

    def nice():
        stat = open(f"/proc/{pid}/stat").read()
        return int(stat[stat.rindex(")") + 2:].split()[16])
    # the master logs the spawn before the new process reaches its setup
    assert wait_for(lambda: nice() == 19, 10)


def test_indexer_restarted_keeps_requests(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("100ms")).start()
    pid = indexer_pid(srv)
    os.kill(pid, signal.SIGSTOP)
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org"], "first", "survivor words") == [250]
    assert c.quit() == 221
    # the request waits in the socket, which the master holds
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: indexer_pid(srv) != pid, 10)
    assert wait_indexed(srv, "alice", (1, 1)) == (1, 1)
    assert "event=worker_died service=indexer" in srv.log_text()


def test_indexer_queue_survives_reload(ternd_factory):
    # a reload retires the indexer: what it had queued goes back into the
    # socket (which the master keeps) for the next one, not to searches
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("3s")).start()
    old = indexer_pid(srv)
    c = Lmtp(srv.lmtp_port)
    for i in range(3):
        assert c.send(["alice@example.org", "bob@example.org"], f"m{i}", f"kept{i} words") == \
            [250, 250]
    assert c.quit() == 221
    time.sleep(0.5)  # the old indexer reads the session's hand-over
    srv.signal(signal.SIGHUP)
    assert wait_for(lambda: indexer_pid(srv) != old, 10)
    new = indexer_pid(srv)
    handed = (rf"service=indexer pid={old} "
              r"event=indexer_queue_handed_back messages=6 left_to_search=0")
    assert wait_for(lambda: re.search(handed, srv.log_text()), 10), srv.log_text()
    assert wait_indexed(srv, "alice", (3, 3)) == (3, 3)
    assert wait_indexed(srv, "bob", (3, 3)) == (3, 3)
    # by the new indexer, in one go per user
    assert re.search(rf"service=indexer pid={new} event=text_indexed user=alice messages=3 ",
                     srv.log_text())
    assert search(srv, "bob", "hunter2", 'BODY "kept1"') == [2]


def test_indexer_gone_session_indexes(ternd_factory):
    # no indexer behind the socket (it exited and its restart is slow):
    # the request waits there; with no socket at all the session indexes
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("100ms")).start()
    sock = srv.base / "run" / "indexer"
    assert sock.is_socket() and (sock.stat().st_mode & 0o777) == 0o600
    sock.unlink()
    c = Lmtp(srv.lmtp_port)
    for i in range(3):
        assert c.send(["alice@example.org", "bob@example.org"], f"m{i}", f"alone{i}") == \
            [250, 250]
    # several storages in the session: each is indexed as it closes
    assert c.quit() == 221
    assert indexed(srv, "alice") == (3, 3) and indexed(srv, "bob") == (3, 3)


def test_indexer_socket_full_left_to_search(ternd_factory):
    # a stopped indexer: its socket fills (the kernel's queue of datagrams
    # is bounded), sessions never wait on it, and what didn't fit is left to
    # the first search
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("100ms")).start()
    pid = indexer_pid(srv)
    qlen = int(open("/proc/sys/net/unix/max_dgram_qlen").read())
    os.kill(pid, signal.SIGSTOP)
    try:
        count = qlen + 20
        t0 = time.monotonic()
        for i in range(count):
            c = Lmtp(srv.lmtp_port)
            assert c.send(["alice@example.org"], f"m{i}", f"full{i} words") == [250]
            assert c.quit() == 221
        assert time.monotonic() - t0 < 120
        assert indexed(srv, "alice")[0] == 0
    finally:
        os.kill(pid, signal.SIGCONT)
    # what the socket held is indexed by the indexer, the rest by the search
    uids = search(srv, "alice", "secret", 'BODY "words"')
    assert uids == list(range(1, count + 1))
    assert search(srv, "alice", "secret", f'BODY "full{count - 1} "') == [count]
    assert indexed(srv, "alice") == (count, count)


def test_indexer_doesnt_recreate_a_deleted_storage(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("500ms")).start()
    home = srv.base / "mail" / "alice"
    c = Lmtp(srv.lmtp_port)
    assert c.send(["alice@example.org"], "first", "doomed words") == [250]
    assert c.quit() == 221
    shutil.rmtree(home)
    assert wait_for(lambda: "event=text_index_skipped user=alice" in srv.log_text(), 10)
    assert not home.exists()


def test_indexer_after_fetch_and_expunge(ternd_factory):
    # a FETCH before the indexer runs renders and stores the cache itself,
    # an expunge removes a message it was told about: the indexer's later
    # pass neither fails nor changes what FETCH answers
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1,
                        config_extra=indexer_conf("1s")).start()
    c = Lmtp(srv.lmtp_port)
    for i in range(3):
        assert c.send(["alice@example.org"], f"m{i}", f"early{i} words") == [250]
    assert c.quit() == 221

    def by_uid(untagged):
        out = {}
        for line in untagged:
            m = re.match(rb"\* \d+ FETCH \(UID (\d+) (.*)", line, re.S)
            if m:
                out[int(m.group(1))] = m.group(2)
        return out
    imap = Imap(srv.imap_port, "alice", "secret")
    imap.ok("SELECT INBOX")
    before = by_uid(imap.ok("UID FETCH 1:3 (UID BODYSTRUCTURE ENVELOPE)"))
    assert sorted(before) == [1, 2, 3]
    imap.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    imap.ok("EXPUNGE")
    assert wait_for(lambda: indexed(srv, "alice")[0] == 2)
    assert "text_index_failed" not in srv.log_text()
    after = by_uid(imap.ok("UID FETCH 1:3 (UID BODYSTRUCTURE ENVELOPE)"))
    assert after == {1: before[1], 3: before[3]}
    imap.ok("LOGOUT")
    assert search(srv, "alice", "secret", 'BODY "words"') == [1, 3]
    assert indexed(srv, "alice") == (2, 3)
