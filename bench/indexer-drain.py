#!/usr/bin/env python3
"""After an LMTP run against ternd: waits until the indexer process has
indexed what the run delivered (its CPU time stops growing) and records the
CPU it spent after the run, so the benchmark reports the whole cost of a
delivered message, not only what was spent before the replies.

  indexer-drain.py --messages N     (BENCH_SERVER_PIDFILE names ternd)
Appends {"workload": "indexer_drain", ...} to BENCH_JSON_OUT.
"""
import argparse
import json
import os
import time


def children(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    return kids.get(root, [])


def indexer_pid(pidfile):
    root = int(open(pidfile).read().split()[0])
    for pid in children(root):
        try:
            if open("/proc/%d/cmdline" % pid).read().split("\0")[:3] == \
                    ["ternd", "--worker", "indexer"]:
                return pid
        except OSError:
            pass
    return None


def cpu_s(pid):
    # ns-precise run time, as the shared suite's Monitor reads it
    return int(open("/proc/%d/schedstat" % pid).read().split()[0]) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--quiet", type=float, default=3.0, help="seconds without CPU growth")
    ap.add_argument("--timeout", type=float, default=900.0)
    a = ap.parse_args()
    pid = indexer_pid(os.environ["BENCH_SERVER_PIDFILE"])
    if pid is None:
        print("no indexer process")
        return
    t0 = time.monotonic()
    start = last = cpu_s(pid)
    last_change = t0
    while time.monotonic() - last_change < a.quiet and time.monotonic() - t0 < a.timeout:
        time.sleep(0.2)
        now = cpu_s(pid)
        if now > last + 0.001:
            last, last_change = now, time.monotonic()
    res = {"workload": "indexer_drain", "target": os.environ.get("BENCH_LABEL", "ternd"),
           "messages": a.messages, "indexer_cpu_s_after": round(last - start, 3),
           "indexer_cpu_s_total": round(last, 3),
           "drain_s": round(last_change - t0, 3),
           "indexer_cpu_ms_per_msg_after": round((last - start) * 1e3 / a.messages, 3)}
    print("indexer after the run: %.3f ms/msg of CPU, done %.1f s after the run"
          % (res["indexer_cpu_ms_per_msg_after"], res["drain_s"]))
    out = os.environ.get("BENCH_JSON_OUT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
