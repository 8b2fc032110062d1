"""Durability under crashes (DESIGN.md "Storage"): ternd is killed with
SIGKILL, master and workers at once, at random points while a client runs
APPEND, STORE, MOVE and EXPUNGE. After a restart every acknowledged
message is there exactly once (in the mailbox its last acknowledged MOVE
put it), every acknowledged EXPUNGE stuck, and the index agrees with the
Maildir files."""
import os
import random
import re
import signal
import threading
import time
import imaplib

from conftest import wait_port

ROUNDS = 6


def message(n):
    return (f"From: crash@test\r\nSubject: crash test {n}\r\nX-Seq: {n}\r\n\r\n"
            f"body of message {n}\r\n" + "filler line\r\n" * random.randint(0, 200)).encode()


class Workload(threading.Thread):
    """Runs operations until the connection dies; records what was
    acknowledged."""

    def __init__(self, port, state, start_seq):
        super().__init__(daemon=True)
        self.port = port
        self.state = state  # seq -> "INBOX" | "Moved" | "expunged"
        self.next_seq = start_seq
        self.in_flight = None  # the message of an unanswered MOVE/EXPUNGE

    def run(self):
        try:
            m = imaplib.IMAP4("127.0.0.1", self.port)
            m.login("alice", "secret")
            m.select("INBOX")
            while True:
                op = random.random()
                inbox = [s for s, box in self.state.items() if box == "INBOX"]
                if op < 0.6 or len(inbox) < 3:
                    n = self.next_seq
                    self.next_seq += 1
                    typ, _ = m.append("INBOX", None, None, message(n))
                    if typ == "OK":
                        self.state[n] = "INBOX"
                elif op < 0.75:
                    n = random.choice(inbox)
                    m.uid("SEARCH", None, "HEADER", "X-Seq", str(n))
                    m.store("1:*", "+FLAGS", "(\\Seen)")
                elif op < 0.9:
                    n = random.choice(inbox)
                    typ, data = m.uid("SEARCH", None, "HEADER", "X-Seq", f"{n}")
                    uids = [u for u in data[0].split() if u]
                    if len(uids) == 1:
                        self.in_flight = n
                        typ, _ = m.uid("MOVE", uids[0], "Moved")
                        if typ == "OK":
                            self.state[n] = "Moved"
                        self.in_flight = None
                else:
                    n = random.choice(inbox)
                    typ, data = m.uid("SEARCH", None, "HEADER", "X-Seq", f"{n}")
                    uids = [u for u in data[0].split() if u]
                    if len(uids) == 1:
                        self.in_flight = n
                        m.uid("STORE", uids[0], "+FLAGS", "(\\Deleted)")
                        typ, _ = m.uid("EXPUNGE", uids[0])
                        if typ == "OK":
                            self.state[n] = "expunged"
                        self.in_flight = None
        except (imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError, EOFError):
            return


def seqs_in(m, box):
    typ, data = m.select(box)
    assert typ == "OK"
    if int(data[0]) == 0:
        return []
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (X-Seq)])")
    seqs = []
    for item in data:
        if isinstance(item, tuple):
            found = re.search(rb"X-Seq: (\d+)", item[1])
            assert found, item
            seqs.append(int(found.group(1)))
    return seqs


def maildir_count(ternd, folder):
    base = ternd.base / "mail" / "alice" / "Maildir"
    d = base if folder == "INBOX" else base / f".{folder}"
    return sum(len(os.listdir(d / sub)) for sub in ("cur", "new"))


def test_sigkill_during_writes_loses_nothing_acknowledged(ternd):
    random.seed(1234)
    m = imaplib.IMAP4("127.0.0.1", ternd.imap_port)
    m.login("alice", "secret")
    m.create("Moved")
    m.logout()
    state = {}
    next_seq = 1
    for _ in range(ROUNDS):
        work = Workload(ternd.imap_port, state, next_seq)
        work.start()
        time.sleep(random.uniform(0.3, 1.5))
        os.killpg(ternd.proc.pid, signal.SIGKILL)
        ternd.proc.wait()
        # the workers die a little later than the master (sanitizer
        # builds take a while to exit); their listening sockets with them
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(ternd.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        work.join(10)
        next_seq = work.next_seq
        ternd.log.close()
        ternd.start()
        m = imaplib.IMAP4("127.0.0.1", ternd.imap_port)
        m.login("alice", "secret")
        boxes = {box: seqs_in(m, box) for box in ("INBOX", "Moved")}
        for box, seqs in boxes.items():
            assert len(seqs) == len(set(seqs)), f"duplicates in {box}: {seqs}"
            # the index agrees with the Maildir after the sync SELECT did
            assert maildir_count(ternd, box) == len(seqs), box
        everywhere = boxes["INBOX"] + boxes["Moved"]
        for seq, where in list(state.items()):
            if seq == work.in_flight:
                # a MOVE or EXPUNGE cut off by the kill may have happened
                assert everywhere.count(seq) <= 1, f"message {seq} duplicated"
                continue
            if where == "expunged":
                assert seq not in everywhere, f"expunged message {seq} came back"
            else:
                assert everywhere.count(seq) == 1, f"acknowledged message {seq} lost ({where})"
                assert seq in boxes[where], f"message {seq} not in {where}"
        # operations that were cut off may have happened or not: adopt what
        # the server has, so the next round starts from the truth
        for seq in everywhere:
            state[seq] = "INBOX" if seq in boxes["INBOX"] else "Moved"
        if work.in_flight is not None and work.in_flight not in everywhere:
            state[work.in_flight] = "expunged"
        m.logout()
    assert len([s for s in state.values() if s != "expunged"]) > 20
