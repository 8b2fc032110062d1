#!/usr/bin/env python3
"""The IMAP-core figures of Tern's issue 3, side by side with the same
corpus for any target of ../shared/bench (run by bench/run-core.sh for
Dovecot and ternd): a big INBOX filled with MULTIAPPEND, then
  cold LOGIN+SELECT (server restarted, mail files evicted from the cache),
  warm LOGIN+SELECT (median of 5),
  UID FETCH 1:* (UID FLAGS), STORE 1:* +FLAGS (\\Seen),
  single-connection APPEND (synchronizing literal) into the big INBOX and
  into an empty folder (the cost of a save must not depend on folder size).
Uses the shared suite's client library; UID FETCH is timed twice: with
it (asyncio, parsing each line: mostly the client's own time on 100,000
lines) and with a raw socket that reads the response in bulk until the
tagged reply (the server's time to answer). Results as RESULT json."""
import asyncio
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.environ.get("BENCH_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench")))
from benchlib.common import (Corpus, Monitor, Target, append_fill, base_parser, emit, evict,  # noqa: E402
                             log, r3, reset_mailbox, restart_server, run)
from benchlib.imap import IMAPClient, Literal, quote  # noqa: E402


async def login_select(t, n):
    t0 = time.perf_counter()
    c = await IMAPClient.connect(t.host, t.a.imap_port)
    await c.login(t.user(n), t.password(n), want_caps=False)
    t1 = time.perf_counter()
    r = await c.select("INBOX")
    t2 = time.perf_counter()
    return c, (t2 - t0) * 1e3, (t2 - t1) * 1e3, r.exists


def raw_uid_fetch(t, n, reps=3):
    """Median seconds of UID FETCH 1:* (UID FLAGS) read in bulk (the
    session's second and later runs: one warm-up) and the line count."""
    s = socket.create_connection((t.host, t.a.imap_port), timeout=60)

    def cmd(tag, line):
        s.sendall(f"{tag} {line}\r\n".encode())
        buf, end = bytearray(), b"\r\n" + tag.encode() + b" "
        while not ((b"\r\n" + buf[-4096:]).find(end) >= 0 and buf.endswith(b"\r\n")):
            d = s.recv(1 << 20)
            if not d:
                raise ConnectionError("server closed the connection")
            buf += d
        return buf
    s.recv(4096)
    cmd("a", "LOGIN %s %s" % (quote(t.user(n)), quote(t.password(n))))
    cmd("b", "SELECT INBOX")
    times = []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        out = cmd("f%d" % i, "UID FETCH 1:* (UID FLAGS)")
        times.append(time.perf_counter() - t0)
    cmd("z", "LOGOUT")
    s.close()
    return statistics.median(times[1:]), out.count(b" FETCH (")


async def appends(t, n, box, indices, corpus):
    c = await t.imap(n)
    lat = []
    t0 = time.perf_counter()
    for k in indices:
        s = time.perf_counter()
        await c.cmd(["APPEND ", quote(box), " ", Literal(corpus.load(k))], collect=False,
                    literal_plus=False)
        lat.append(time.perf_counter() - s)
    el = time.perf_counter() - t0
    await c.logout()
    return len(indices) / el, statistics.median(lat) * 1e3


async def main_async(a):
    t = Target(a)
    corpus = Corpus(a.corpus)
    mon = Monitor(a)
    res, human = {}, []
    n, N = a.user, a.count
    c = await t.imap(n)
    _, st = await c.status("INBOX", "MESSAGES")
    await c.logout()
    if st.get("MESSAGES") != N:
        await reset_mailbox(t, n)
        el, ok, _ = await append_fill(t, n, "INBOX", list(range(N)), corpus.load, batch=500)
        res["fill_msgs_per_s"] = r3(ok / el)
        human.append("fill                 %8.1f s (%d msgs)" % (el, ok))
    restart_server(a)
    if a.evict_fmt:
        evict(a.evict_fmt.format(n=n, user=t.user(n)))
    c, total, sel, exists = await login_select(t, n)
    assert exists == N, exists
    res["cold_login_select_ms"], res["cold_select_ms"] = r3(total), r3(sel)
    await c.logout()
    warm = []
    for _ in range(5):
        c, total, sel, _ = await login_select(t, n)
        warm.append(sel)
        if len(warm) < 5:
            await c.logout()
    res["warm_select_ms"] = r3(statistics.median(warm))
    s0 = mon.snap()
    t0 = time.perf_counter()
    r = await c.cmd("UID FETCH 1:* (UID FLAGS)", collect=False)
    res["uid_fetch_flags_s"] = r3(time.perf_counter() - t0)
    res["uid_fetch_flags_server_cpu_s"] = Monitor.delta(s0, mon.snap()).get("server_cpu_s")
    assert r.counts.get("FETCH", 0) == N
    raw_s, raw_n = raw_uid_fetch(t, n)
    assert raw_n == N, raw_n
    res["uid_fetch_flags_raw_s"] = r3(raw_s)
    # a reused mailbox has \Seen everywhere from the last run: clear it
    # (untimed) so STORE really changes every message
    await c.cmd("STORE 1:* -FLAGS.SILENT (\\Seen)", collect=False)
    s0 = mon.snap()
    t0 = time.perf_counter()
    r = await c.cmd("STORE 1:* +FLAGS (\\Seen)", collect=False)
    res["store_seen_s"] = r3(time.perf_counter() - t0)
    res["store_seen_server_cpu_s"] = Monitor.delta(s0, mon.snap()).get("server_cpu_s")
    await c.logout()
    extra = list(range(N, N + a.extra))
    rate_big, p50_big = await appends(t, n, "INBOX", extra, corpus)
    c = await t.imap(n)
    await c.cmd("DELETE tern-bench-empty", check=False)
    await c.cmd("CREATE tern-bench-empty", check=False)
    await c.logout()
    rate_empty, p50_empty = await appends(t, n, "tern-bench-empty", extra, corpus)
    res.update({"append_big_msgs_per_s": r3(rate_big), "append_big_p50_ms": r3(p50_big),
                "append_empty_msgs_per_s": r3(rate_empty), "append_empty_p50_ms": r3(p50_empty)})
    # leave the INBOX at N for the next run
    await reset_mailbox(t, n, "tern-bench-empty", delete=True)
    c = await t.imap(n, select="INBOX")
    await c.cmd("STORE %d:* +FLAGS.SILENT (\\Deleted)" % (N + 1), collect=False)
    await c.cmd("EXPUNGE", collect=False)
    await c.logout()
    for k, v in res.items():
        human.append("%-32s %s" % (k, v))
    emit(a, "core", {"count": N, **res}, human)


def main():
    ap = base_parser(__doc__)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--user", type=int, default=3)
    ap.add_argument("--extra", type=int, default=200)
    a = ap.parse_args()
    log("core workload: %d messages for user %d on %s" % (a.count, a.user, a.label))
    run(main_async(a))


if __name__ == "__main__":
    main()
