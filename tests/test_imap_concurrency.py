"""Several sessions and programs on one mailbox against a running ternd:
untagged EXISTS / EXPUNGE / FETCH FLAGS updates on NOOP and pushed during
IDLE (RFC 9051 §6.1.2, §6.3.13, §7.3.1, §7.4.1, §7.5.2), the rule that no
EXPUNGE is sent during FETCH, STORE and SEARCH by sequence number (§7.5.1),
changes other programs make in the Maildir (deliveries into new/, deleted
files, flags renamed in cur/), and UIDVALIDITY/UIDs across a restart
(§2.3.1.1). IDLE latencies are printed (run with -s to see them)."""
import os
import re
import threading
import time

from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import (Imap, apply_expunges, expunge_lines, fetch_list, maildir,
                      maildir_deliver, maildir_files, message, parse_fetch, select_info)

IDLE_LIMIT = 0.5  # seconds; the goal is well under 100 ms


def two_sessions(ternd, count=0, rev2=True, box="INBOX", b_selects=True):
    """Sessions a and b with count messages in box; a has it selected, b
    too unless b_selects is false (then b's APPENDs are reported to a
    first, and a gets their \\Recent)."""
    a = Imap(ternd.imap_port, rev2=rev2)
    for i in range(1, count + 1):
        a.append_ok(box, message(f"m{i}"))
    b = Imap(ternd.imap_port, rev2=rev2)
    a.select(box)
    if b_selects:
        b.select(box)
    return a, b


class IdleWatcher:
    """Puts a session in IDLE and collects what it is sent, with arrival
    times, from a thread, so a latency can be measured while the main
    thread makes the change in another session."""

    def __init__(self, session):
        self.c = session
        self.tag = session.next_tag()
        self.c.send(f"{self.tag} IDLE\r\n")
        self.lines = []
        # pending updates may come before the continuation
        while True:
            line = self.c.read_response()
            if line.startswith(b"+ "):
                break
            assert line.startswith(b"* "), line
            self.lines.append((time.monotonic(), line))
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.stopping = False
        self.thread.start()

    def _run(self):
        self.c.sock.settimeout(0.2)
        while True:
            try:
                resp = self.c.read_response()
            except (TimeoutError, OSError):
                if self.stopping:
                    return
                continue
            with self.cond:
                self.lines.append((time.monotonic(), resp))
                self.cond.notify_all()
            if resp.startswith(self.tag.encode() + b" "):
                return

    def wait_for(self, pattern, timeout=3.0):
        """(arrival time, line) of the first line matching pattern."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines:
                    if re.match(pattern, line):
                        return t, line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {pattern!r} in IDLE; got {self.lines}")
                self.cond.wait(left)

    def done(self):
        """Ends IDLE; returns all lines it got (untagged and tagged)."""
        self.c.send("DONE\r\n")
        self.thread.join(5)
        self.stopping = True
        self.thread.join(1)
        self.c.sock.settimeout(10)
        tagged = [line for _, line in self.lines if line.startswith(self.tag.encode() + b" ")]
        assert tagged and tagged[0].startswith(self.tag.encode() + b" OK"), self.lines
        return [line for _, line in self.lines]


def consistent(uids, untagged):
    """Walks the responses in order: every FETCH's UID must be the one at
    its sequence number at that moment, every EXPUNGE applies at once.
    Returns the UIDs left."""
    uids = list(uids)
    for resp in untagged:
        m = re.match(rb"\* (\d+) EXPUNGE$", resp)
        if m:
            del uids[int(m.group(1)) - 1]
        elif re.match(rb"\* \d+ FETCH ", resp):
            seq, items = parse_fetch(resp)
            if "UID" in items:
                assert uids[seq - 1] == int(items["UID"]), (resp, uids, untagged)
    return uids


def report(name, seconds):
    print(f"\n[latency] {name}: {seconds * 1000:.1f} ms")


# --- updates on NOOP ----------------------------------------------------------------

def test_append_shows_as_exists_on_noop(ternd):
    a, b = two_sessions(ternd, rev2=False, b_selects=False)
    b.append_ok("INBOX", message("new one"))
    untagged = a.ok("NOOP")
    assert b"* 1 EXISTS" in untagged and b"* 1 RECENT" in untagged, untagged


def test_append_shows_as_exists_on_check(ternd):
    """The same as above through CHECK, which does sync (RFC 3501 §6.4.1)."""
    a, b = two_sessions(ternd, rev2=False, b_selects=False)
    b.append_ok("INBOX", message("new one"))
    untagged = a.ok("CHECK")
    assert b"* 1 EXISTS" in untagged and b"* 1 RECENT" in untagged, untagged
    assert a.fetch("1 (UID FLAGS)") == {1: {"UID": "1", "FLAGS": ["\\Recent"]}}


def test_flag_changes_arrive_on_noop(ternd):
    a, b = two_sessions(ternd, 2)
    b.ok("STORE 2 +FLAGS.SILENT (\\Flagged $Later)")
    untagged = a.ok("NOOP")
    got = fetch_list(untagged)
    assert [seq for seq, _ in got] == [2], untagged
    assert sorted(got[0][1]["FLAGS"]) == ["$Later", "\\Flagged"]
    # the new keyword is announced first (RFC 9051 §7.3.5)
    assert any(u.startswith(b"* FLAGS ") and b"$Later" in u for u in untagged)


def test_flag_changes_arrive_on_check(ternd):
    a, b = two_sessions(ternd, 2)
    b.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    got = fetch_list(a.ok("CHECK"))
    assert [seq for seq, _ in got] == [2]
    assert got[0][1]["FLAGS"] == ["\\Flagged"]


def test_expunge_sent_on_noop(ternd):
    a, b = two_sessions(ternd, 3)
    b.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged = a.ok("NOOP")
    assert apply_expunges([1, 2, 3], untagged) == [3], untagged


def test_no_expunge_during_fetch_store_search(ternd):
    """RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH
    (by sequence number); UID FETCH may send it."""
    a, b = two_sessions(ternd, 3)
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    for command in ("FETCH 1:3 (UID FLAGS)", "FETCH 2 BODY.PEEK[HEADER]",
                    "STORE 3 +FLAGS (\\Seen)", "SEARCH ALL"):
        untagged, tagged = a.cmd(command)
        assert not tagged.startswith(b"BAD"), (command, tagged)
        assert expunge_lines(untagged) == [], (command, untagged)
    # message numbers still are those of the view before the expunge
    res = a.fetch("2:3 UID")
    assert res == {2: {"UID": "2"}, 3: {"UID": "3"}}
    untagged = a.ok("UID FETCH 1:* FLAGS")
    assert expunge_lines(untagged) == [b"* 1 EXPUNGE"], untagged
    # after the EXPUNGE the numbers moved down
    assert a.fetch("1:* UID") == {1: {"UID": "2"}, 2: {"UID": "3"}}


def test_expunge_sent_after_uid_fetch(ternd):
    a, b = two_sessions(ternd, 4)
    b.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged = a.ok("UID FETCH 1:* UID")
    assert apply_expunges([1, 2, 3, 4], untagged) == [1, 3], untagged
    # each FETCH uses the numbering in force when it was sent
    assert consistent([1, 2, 3, 4], untagged) == [1, 3]
    assert {1, 3} <= {int(i["UID"]) for _, i in fetch_list(untagged)}


# --- IDLE ---------------------------------------------------------------------------

def test_idle_exists_latency(ternd):
    a, b = two_sessions(ternd, 1)
    w = IdleWatcher(a)
    time.sleep(0.05)
    t_send = time.monotonic()
    b.append_ok("INBOX", message("pushed"))
    t_ok = time.monotonic()
    t_got, line = w.wait_for(rb"\* 2 EXISTS$")
    latency = max(0.0, t_got - t_ok)
    report("IDLE EXISTS after APPEND's OK", latency)
    report("IDLE EXISTS after APPEND was sent", t_got - t_send)
    assert latency < IDLE_LIMIT
    lines = w.done()
    assert b"* 2 EXISTS" in lines
    assert a.fetch("2 UID") == {2: {"UID": "2"}}


def test_idle_expunge_and_flags_latency(ternd):
    a, b = two_sessions(ternd, 3)
    w = IdleWatcher(a)
    time.sleep(0.05)
    b.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    t_ok = time.monotonic()
    t_got, line = w.wait_for(rb"\* 2 FETCH ")
    report("IDLE FETCH FLAGS after STORE's OK", max(0.0, t_got - t_ok))
    assert t_got - t_ok < IDLE_LIMIT
    assert parse_fetch(line)[1]["FLAGS"] == ["\\Flagged"]
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    t_ok = time.monotonic()
    t_got, line = w.wait_for(rb"\* 1 EXPUNGE$")
    latency = max(0.0, t_got - t_ok)
    report("IDLE EXPUNGE after EXPUNGE's OK", latency)
    assert latency < IDLE_LIMIT
    lines = w.done()
    assert apply_expunges([1, 2, 3], lines) == [2, 3]
    assert a.fetch("1:* UID") == {1: {"UID": "2"}, 2: {"UID": "3"}}


def test_idle_sees_changes_made_before_it_started(ternd):
    a, b = two_sessions(ternd, 1)
    b.append_ok("INBOX", message("early"))
    w = IdleWatcher(a)
    w.wait_for(rb"\* 2 EXISTS$", timeout=1.0)
    w.done()


def test_idle_done_and_other_input(ternd):
    a, _ = two_sessions(ternd)
    tag = a.next_tag()
    a.send(f"{tag} IDLE\r\n")
    assert a.readline().startswith(b"+ ")
    a.send("done\r\n")  # case-insensitive
    _, tagged = a.read_until_tagged(tag)
    assert tagged.startswith(tag.encode() + b" OK")
    tag = a.next_tag()
    a.send(f"{tag} IDLE\r\n")
    assert a.readline().startswith(b"+ ")
    a.send("NOOP\r\n")
    _, tagged = a.read_until_tagged(tag)
    assert tagged.startswith(tag.encode() + b" BAD"), tagged
    assert a.cmd("NOOP")[1].startswith(b"OK")
    _, tagged = a.cmd("IDLE now")
    assert tagged.startswith(b"BAD")


# --- other programs in the Maildir ---------------------------------------------------

def test_maildir_delivery_seen_on_noop(ternd):
    a, _ = two_sessions(ternd, 1)
    data = message("delivered by an MDA")
    maildir_deliver(maildir(ternd), data)
    untagged = a.ok("NOOP")
    assert b"* 2 EXISTS" in untagged, untagged
    assert a.fetch("2 BODY.PEEK[]")[2]["BODY[]"] == data


def test_maildir_delivery_seen_by_select(ternd):
    a = Imap(ternd.imap_port, rev2=True)
    a.select()
    a.ok("UNSELECT")
    data = message("delivered by an MDA")
    maildir_deliver(maildir(ternd), data)
    maildir_deliver(maildir(ternd), data, subdir="cur", info=":2,S")
    info = select_info(a.select())
    assert info["EXISTS"] == 2, info
    res = a.fetch("1:2 (FLAGS BODY.PEEK[])")
    assert res[1]["BODY[]"] == data and res[1]["FLAGS"] == []
    assert res[2]["FLAGS"] == ["\\Seen"]


def test_maildir_delivery_with_lf_line_ends(ternd):
    """MDAs write Maildir files with bare LF; IMAP sizes and content are
    the CRLF form (RFC 9051 §2.3.4, §6.4.5)."""
    a = Imap(ternd.imap_port, rev2=True)
    lf = (b"From: mda@example.com\nSubject: LF delivery\nDate: Mon, 02 Jan 2023 10:00:00 +0000"
          b"\n\nbody line 1\nbody line 2\n")
    crlf = lf.replace(b"\n", b"\r\n")
    maildir_deliver(maildir(ternd), lf)
    assert select_info(a.select())["EXISTS"] == 1
    res = a.fetch("1 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert res[1]["RFC822.SIZE"] == str(len(crlf))
    assert res[1]["BODY[]"] == crlf
    assert res[1]["BODY[TEXT]"] == b"body line 1\r\nbody line 2\r\n"
    assert res[1]["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: LF delivery\r\n\r\n"
    assert a.ok("STATUS INBOX (SIZE)") == [f"* STATUS INBOX (SIZE {len(crlf)})".encode()]
    assert a.ok("SEARCH SENTON 02-Jan-2023 BODY \"line 2\"") == [
        f'* ESEARCH (TAG "t{a.tagn}") ALL 1'.encode()]


def test_maildir_delivery_pushed_in_idle(ternd):
    a, _ = two_sessions(ternd, 1)
    w = IdleWatcher(a)
    time.sleep(0.05)
    data = message("delivered during IDLE")
    t0 = time.monotonic()
    maildir_deliver(maildir(ternd), data)
    t_got, _ = w.wait_for(rb"\* 2 EXISTS$")
    report("IDLE EXISTS after a Maildir delivery", t_got - t0)
    assert t_got - t0 < IDLE_LIMIT
    w.done()
    res = a.fetch("2 (UID BODY.PEEK[])")
    assert res[2]["UID"] == "2" and res[2]["BODY[]"] == data


def message_file(ternd, uid_order):
    """Path of the n-th (1-based, by name order = delivery order) message
    file in INBOX's Maildir."""
    d = maildir(ternd)
    files = [d / sub / name for sub, names in maildir_files(d).items() for name in names]
    files.sort(key=lambda p: p.name)
    return files[uid_order - 1]


def test_deleted_file_expunged_on_noop(ternd):
    a, _ = two_sessions(ternd, 3)
    os.unlink(message_file(ternd, 2))
    untagged = a.ok("NOOP")
    assert expunge_lines(untagged) == [b"* 2 EXPUNGE"], untagged
    assert a.fetch("1:* UID") == {1: {"UID": "1"}, 2: {"UID": "3"}}


def test_deleted_file_expunged_in_idle(ternd):
    a, _ = two_sessions(ternd, 3)
    w = IdleWatcher(a)
    time.sleep(0.05)
    t0 = time.monotonic()
    os.unlink(message_file(ternd, 2))
    t_got, _ = w.wait_for(rb"\* 2 EXPUNGE$")
    report("IDLE EXPUNGE after a file was deleted", t_got - t0)
    assert t_got - t0 < IDLE_LIMIT
    w.done()
    assert a.fetch("1:* UID") == {1: {"UID": "1"}, 2: {"UID": "3"}}


def rename_flags(path, letters):
    base = path.name.split(":")[0]
    target = path.parent.parent / "cur" / f"{base}:2,{letters}"
    os.rename(path, target)
    return target


def test_flags_renamed_in_cur_seen_on_noop(ternd):
    a, _ = two_sessions(ternd, 2)
    rename_flags(message_file(ternd, 1), "FS")
    got = fetch_list(a.ok("NOOP"))
    assert [(seq, sorted(i["FLAGS"])) for seq, i in got] == [(1, ["\\Flagged", "\\Seen"])], got


def test_flags_renamed_in_cur_pushed_in_idle(ternd):
    a, _ = two_sessions(ternd, 2)
    w = IdleWatcher(a)
    time.sleep(0.05)
    t0 = time.monotonic()
    rename_flags(message_file(ternd, 1), "FS")
    t_got, line = w.wait_for(rb"\* 1 FETCH ")
    report("IDLE FETCH after flags were renamed in cur/", t_got - t0)
    assert sorted(parse_fetch(line)[1]["FLAGS"]) == ["\\Flagged", "\\Seen"]
    w.done()
    assert a.fetch("1:2 FLAGS") == {1: {"FLAGS": ["\\Flagged", "\\Seen"]}, 2: {"FLAGS": []}}


def test_flags_mirrored_to_file_names(ternd):
    """DESIGN: flags are mirrored into Maildir file names for other tools."""
    a, _ = two_sessions(ternd, 2)
    a.ok("STORE 1 +FLAGS.SILENT (\\Seen \\Answered)")
    a.ok("STORE 2 +FLAGS.SILENT (\\Draft \\Flagged \\Deleted)")
    a.ok("CHECK")

    def infos():
        return sorted(p.name.split(":", 1)[1] for p in (maildir(ternd) / "cur").iterdir())
    deadline = time.monotonic() + 3
    while infos() != ["2,DFT", "2,RS"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert infos() == ["2,DFT", "2,RS"]


def test_flags_mirrored_while_idling_after_logout_of_the_writer(ternd):
    """Mirroring never delays a command: the writer logs out at once after
    a big STORE and the renames are done by a session that later waits in
    IDLE, with the flags right in every name."""
    a, _ = two_sessions(ternd, 300)
    a.ok("STORE 1:* +FLAGS.SILENT (\\Seen \\Flagged)")
    a.logout()
    c = Imap(ternd.imap_port, rev2=True)
    c.select()
    w = IdleWatcher(c)

    def unmirrored():
        return [p.name for p in (maildir(ternd) / "cur").iterdir()
                if not p.name.endswith(":2,FS")]
    deadline = time.monotonic() + 5
    while unmirrored() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert unmirrored() == []
    w.done()
    assert c.fetch("300 FLAGS") == {300: {"FLAGS": ["\\Flagged", "\\Seen"]}}


# --- restart ------------------------------------------------------------------------

def test_uids_stable_across_restart(ternd):
    a = Imap(ternd.imap_port, rev2=True)
    for i in range(4):
        a.append_ok("INBOX", message(f"m{i}"))
    a.ok("CREATE Sub")
    a.append_ok("Sub", message("sub"))
    info = select_info(a.select())
    a.ok("STORE 4 +FLAGS.SILENT (\\Deleted \\Seen)")
    a.ok("STORE 2 +FLAGS.SILENT ($Keep)")
    a.ok("EXPUNGE")
    before = a.fetch("1:* (UID FLAGS)")
    sub_validity = a.ok("STATUS Sub (UIDVALIDITY UIDNEXT)")
    a.logout()
    ternd.stop()
    ternd.start()
    b = Imap(ternd.imap_port, rev2=True)
    info2 = select_info(b.select())
    assert info2["UIDVALIDITY"] == info["UIDVALIDITY"]
    assert info2["UIDNEXT"] == 5
    assert b.fetch("1:* (UID FLAGS)") == before
    assert b.ok("STATUS Sub (UIDVALIDITY UIDNEXT)") == sub_validity
    # the expunged UID 4 is not used again
    assert b.append_ok("INBOX", message("after restart")) == 5


def test_new_user_many_first_logins_at_once(ternd_factory):
    """Sessions of a user who has no mail yet log in at the same moment in
    several worker processes: each one opens (and one creates) the index;
    none may fail (SQLite refuses the switch to WAL while another process
    holds the lock, without waiting: the open retries)."""
    srv = ternd_factory(users={f"new{i}": "pw" for i in range(3)}, process_count=4).start()
    for user in ("new0", "new1", "new2"):
        start = threading.Barrier(24)
        results = []

        def one():
            start.wait()
            try:
                c = Imap(srv.imap_port, user=user, password="pw", timeout=30)
                c.select()
                results.append("ok")
                c.logout()
            except Exception as e:  # noqa: BLE001 (reported below)
                results.append(repr(e))

        threads = [threading.Thread(target=one) for _ in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["ok"] * 24, results
    assert "mail_user_init_failed" not in srv.log_text()
