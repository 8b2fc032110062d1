"""LMTP connections spread over the LMTP worker processes
(src/ternd/ternd-worker.c): a worker saves one message at a time, so an
MTA's parallel connections must not all land on the worker that happened
to run first after they arrived (a worker serving n connections pauses
accepting for n x 5 ms). And deliveries keep working across the parked
index connections of a worker (src/index/index-db-park.c): a user's
storage deleted between two deliveries is made anew, not written through
the old connection."""
import collections
import re
import shutil
import socket
import time

from mailutil import Imap

USERS = {"alice": "secret", "bob": "hunter2"}


def lmtp_pids(srv, count):
    pids = re.findall(r"service=lmtp pid=(\d+) session=\S+ remote=\S+ event=connect",
                      srv.log_text())
    return pids[-count:]


def test_connections_spread_over_workers(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=4).start()
    for _ in range(2):
        socks = [socket.create_connection(("127.0.0.1", srv.lmtp_port), timeout=30)
                 for _ in range(8)]
        for s in socks:
            assert s.recv(200).startswith(b"220 ")
        deadline = time.monotonic() + 10
        while len(lmtp_pids(srv, 8)) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        per_worker = collections.Counter(lmtp_pids(srv, 8))
        # 8 connections over 4 workers: nobody takes most of them
        assert len(per_worker) >= 3 and max(per_worker.values()) <= 4, per_worker
        for s in socks:
            s.sendall(b"QUIT\r\n")
            s.close()
        time.sleep(0.2)


def deliver(port, rcpt, subject):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                return int(line[:3])
    assert reply() == 220
    s.sendall(b"LHLO mta.example\r\n")
    assert reply() == 250
    s.sendall(f"MAIL FROM:<a@example.net>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
    assert [reply(), reply(), reply()] == [250, 250, 354]
    s.sendall(f"Subject: {subject}\r\n\r\nbody\r\n.\r\nQUIT\r\n".encode())
    code = reply()
    s.close()
    return code


def test_storage_recreated_between_deliveries(ternd_factory):
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1).start()
    home = srv.base / "mail" / "alice"
    maildir = home / "Maildir"
    assert deliver(srv.lmtp_port, "alice@example.org", "first") == 250
    assert deliver(srv.lmtp_port, "alice@example.org", "second") == 250
    assert len(list((maildir / "cur").iterdir())) == 2
    # the worker still has alice's index open (parked); her storage goes
    shutil.rmtree(home)
    assert deliver(srv.lmtp_port, "alice@example.org", "third") == 250
    files = list((maildir / "cur").iterdir())
    assert len(files) == 1 and b"Subject: third" in files[0].read_bytes()
    # the new index knows exactly that one message, with UID 1
    uids = re.findall(r"event=delivered rcpt=alice@example.org user=alice mailbox=INBOX uid=(\d+) ",
                      srv.log_text())
    assert uids == ["1", "2", "1"], uids
    imap = Imap(srv.imap_port, user="alice", password="secret")
    untagged = imap.select("INBOX")
    assert any(re.match(rb"\* 1 EXISTS", line) for line in untagged), untagged
    imap.logout()
