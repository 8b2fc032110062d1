#!/usr/bin/env python3
"""LMTP delivery into a big INBOX against delivery into an empty one (issue 9:
the cost must not grow with the mailbox).  Uses the shared suite's client
library (../shared/bench/benchlib) and the same target variables.

User --big-user gets an INBOX of --big messages (filled once with IMAP
MULTIAPPEND from the corpus and reused while it holds between --big and
--big + 20,000 messages); user --empty-user is emptied over IMAP.  Then
--new corpus messages are delivered over one LMTP connection into the empty
INBOX, then the same messages into the big one, --reps times alternating.
Reports messages/s, transaction latency and server CPU per message for both
and the big/empty ratios.

  lmtp-bigmbox.py [target options] [--big 90000] [--new 300]
  lmtp-bigmbox.py --report RESULTS.jsonl   (the lmtp-deliver.sh table)
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = (os.environ.get("BENCH_DIR") or os.environ.get("SHARED_BENCH") or
          os.path.join(HERE, "..", "..", "shared", "bench"))
sys.path.insert(0, SHARED)

from benchlib.common import (Corpus, Monitor, Target, append_fill, base_parser, emit,  # noqa: E402
                             lat_summary, log, mailbox_count, r3, raise_nofile, reset_mailbox,
                             run)


async def ensure_big(t, a, corpus):
    have = await mailbox_count(t, a.big_user)
    if have is not None and a.big <= have <= a.big + 20000:
        log("reusing INBOX of %s with %d messages" % (t.user(a.big_user), have))
        return {"reused": True, "messages": have}
    if have:
        log("emptying INBOX of %s (%d messages)" % (t.user(a.big_user), have))
        await reset_mailbox(t, a.big_user)
    log("filling INBOX of %s with %d messages (MULTIAPPEND)" % (t.user(a.big_user), a.big))
    el, n, nbytes = await append_fill(t, a.big_user, "INBOX", list(range(a.big)), corpus.load,
                                      batch=500)
    have = await mailbox_count(t, a.big_user)
    log("filled in %.1f s (%.0f msg/s), INBOX has %s" % (el, n / el, have))
    if have != a.big:
        raise SystemExit("fill failed: INBOX has %s messages, expected %d" % (have, a.big))
    return {"reused": False, "messages": have, "fill_s": r3(el), "fill_msgs_per_s": r3(n / el)}


async def deliver_into(t, a, corpus, user):
    """--new messages to user over one connection; returns the measures."""
    before = await mailbox_count(t, user)
    mon = Monitor(a)
    c = await t.lmtp()
    lats, fail = [], 0
    s0 = mon.snap()
    try:
        for k in range(a.new):
            data = corpus.load(a.offset + k)
            t0 = time.perf_counter()
            res, _ = await c.deliver(a.mail_from, [t.rcpt(user)], data)
            lats.append(time.perf_counter() - t0)
            fail += sum(1 for code, _ in res if code != 250)
    finally:
        # after QUIT: a server may finish work for the session's messages
        # before its reply (ternd indexes their text then)
        await c.quit()
        s1 = mon.snap()
    d = Monitor.delta(s0, s1)
    after = await mailbox_count(t, user)
    wall = s1["t"] - s0["t"]
    res = {"user": t.user(user), "messages_before": before, "messages_after": after,
           "delivered": a.new, "failed": fail, "msgs_per_s": r3(a.new / wall),
           "txn_latency": lat_summary(lats),
           "verify_ok": fail == 0 and after == before + a.new,
           "server_cpu_ms_per_msg": r3(d["server_cpu_s"] * 1e3 / a.new)
           if d.get("server_cpu_s") is not None else None}
    res.update(d)
    return res


def mean(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return r3(statistics.mean(vals)) if vals else None


async def main_async(a):
    t = Target(a)
    corpus = Corpus(a.corpus)
    fill = await ensure_big(t, a, corpus)
    log("emptying INBOX of %s" % t.user(a.empty_user))
    await reset_mailbox(t, a.empty_user)
    empty, big = [], []
    for rep in range(a.reps):
        log("rep %d: %d messages into the empty INBOX" % (rep + 1, a.new))
        empty.append(await deliver_into(t, a, corpus, a.empty_user))
        log("rep %d: %d messages into the %d-message INBOX" % (rep + 1, a.new, a.big))
        big.append(await deliver_into(t, a, corpus, a.big_user))
    res = {"big": a.big, "new": a.new, "reps": a.reps, "fill": fill,
           "empty": {"runs": empty, "msgs_per_s": mean(empty, "msgs_per_s"),
                     "server_cpu_ms_per_msg": mean(empty, "server_cpu_ms_per_msg")},
           "big_inbox": {"runs": big, "msgs_per_s": mean(big, "msgs_per_s"),
                         "server_cpu_ms_per_msg": mean(big, "server_cpu_ms_per_msg")},
           "verify_ok": all(r["verify_ok"] for r in empty + big)}
    e, b = res["empty"], res["big_inbox"]
    if e["msgs_per_s"] and b["msgs_per_s"]:
        res["big_over_empty_msgs_per_s"] = r3(b["msgs_per_s"] / e["msgs_per_s"])
    if e["server_cpu_ms_per_msg"] and b["server_cpu_ms_per_msg"]:
        res["big_over_empty_cpu"] = r3(b["server_cpu_ms_per_msg"] / e["server_cpu_ms_per_msg"])
    human = ["empty INBOX      %7.1f msg/s  %6.2f ms CPU/msg" % (e["msgs_per_s"],
                                                               e["server_cpu_ms_per_msg"] or -1),
             "%d-msg INBOX  %7.1f msg/s  %6.2f ms CPU/msg" % (a.big, b["msgs_per_s"],
                                                          b["server_cpu_ms_per_msg"] or -1),
             "big/empty: msg/s %s, CPU/msg %s, verify=%s" % (
                 res.get("big_over_empty_msgs_per_s"), res.get("big_over_empty_cpu"),
                 res["verify_ok"])]
    emit(a, "lmtp_bigmbox", res, human)


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def report(path):
    """The side-by-side table of an lmtp-deliver.sh results file: medians
    over the rounds, and the median of the per-round ratios to Dovecot."""
    deliver, bigm, drain = {}, {}, {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["workload"] == "deliver":
                deliver.setdefault(r["target"], []).append(r["runs"][-1])
            elif r["workload"] == "indexer_drain":
                drain.setdefault(r["target"], []).append(r)
            elif r["workload"] == "lmtp_bigmbox":
                bigm[r["target"]] = r
    targets = sorted(set(deliver) | set(bigm), key=lambda x: (not x.startswith("dovecot"), x))
    print("| measure | " + " | ".join(targets) + " |")
    print("|---" * (len(targets) + 1) + "|")

    def row(label, get, src):
        if src:
            print("| %s | %s |" % (label, " | ".join(get(src[t]) if t in src else "-"
                                                    for t in targets)))
    one = next(iter(deliver.values()), [{}])[0]
    row("LMTP msg/s (%s msgs, %s conns; median of %d)" % (
        one.get("messages"), one.get("conns"), max((len(v) for v in deliver.values()), default=0)),
        lambda rs: fmt(median([r["msgs_per_s"] for r in rs])), deliver)
    row("server CPU ms/msg", lambda rs: fmt(median([r["server_cpu_ms_per_msg"] for r in rs]), "%.3f"),
        deliver)
    row("txn p50 / p99 ms", lambda rs: "%s / %s" % (
        fmt(median([r["txn_latency"]["p50_ms"] for r in rs])),
        fmt(median([r["txn_latency"]["p99_ms"] for r in rs]))), deliver)
    row("verified", lambda rs: "ok" if all(r.get("verify_ok") for r in rs) else "FAILED", deliver)
    # deliver and drain records of a target alternate, one pair per round
    totals = {t: [d["server_cpu_ms_per_msg"] + x["indexer_cpu_ms_per_msg_after"]
                  for d, x in zip(deliver[t], drain[t])] for t in drain if t in deliver}
    row("background indexing after the run, CPU ms/msg",
        lambda rs: fmt(median([r["indexer_cpu_ms_per_msg_after"] for r in rs]), "%.3f"), drain)
    row("server CPU ms/msg including it", lambda v: fmt(median(v), "%.3f"), totals)
    row("empty INBOX msg/s, CPU ms/msg", lambda r: "%s, %s" % (
        fmt(r["empty"]["msgs_per_s"]), fmt(r["empty"]["server_cpu_ms_per_msg"], "%.3f")), bigm)
    row("%s-msg INBOX msg/s, CPU ms/msg" % next(iter(bigm.values()), {}).get("big"),
        lambda r: "%s, %s" % (fmt(r["big_inbox"]["msgs_per_s"]),
                              fmt(r["big_inbox"]["server_cpu_ms_per_msg"], "%.3f")), bigm)
    row("big/empty msg/s, CPU", lambda r: "%s, %s" % (
        fmt(r.get("big_over_empty_msgs_per_s"), "%.2f"), fmt(r.get("big_over_empty_cpu"), "%.2f")),
        bigm)
    ref = next((x for x in targets if x.startswith("dovecot")), None)
    if ref is None or ref not in deliver:
        return
    for tg in targets:
        if tg == ref or tg not in deliver:
            continue
        pairs = list(zip(deliver[tg], deliver[ref]))
        speed = [a["msgs_per_s"] / b["msgs_per_s"] for a, b in pairs]
        cpu = [a["server_cpu_ms_per_msg"] / b["server_cpu_ms_per_msg"] for a, b in pairs]
        print("\n%s / %s per round: msg/s %s (median x%.2f), CPU/msg %s (median x%.2f)" % (
            tg, ref, " ".join("%.2f" % x for x in speed), median(speed),
            " ".join("%.2f" % x for x in cpu), median(cpu)))
        if tg in totals:
            tot = [a / b["server_cpu_ms_per_msg"] for a, b in zip(totals[tg], deliver[ref])]
            print("  CPU/msg including background indexing: %s (median x%.2f)" % (
                " ".join("%.2f" % x for x in tot), median(tot)))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        report(sys.argv[2])
        return
    ap = base_parser(__doc__)
    ap.add_argument("--big", type=int, default=90000, help="messages in the big INBOX")
    ap.add_argument("--new", type=int, default=300, help="messages delivered per run")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--big-user", type=int, default=3)
    ap.add_argument("--empty-user", type=int, default=4)
    ap.add_argument("--offset", type=int, default=95000, help="first corpus message delivered")
    ap.add_argument("--mail-from", default="sender@bench.test")
    a = ap.parse_args()
    raise_nofile()
    run(main_async(a))


if __name__ == "__main__":
    main()
