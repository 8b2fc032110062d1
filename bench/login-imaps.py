#!/usr/bin/env python3
"""IMAPS login-rate benchmark (Tern issue 8): N closed-loop clients, each
repeating the session connect -> TLS handshake -> greeting -> LOGIN ->
SELECT INBOX -> LOGOUT for a fixed duration, as threads with blocking
sockets spread over several client processes, so the client's own CPU
stays well below the server's. Reports sessions/s,
latency p50/p99 per step, errors, server CPU per session (the server's
process tree from /proc, as ../shared/bench/benchlib does) and the client
processes' own CPU. One RESULT {json} line, also appended to --json-out."""
import argparse
import json
import multiprocessing as mp
import os
import random
import socket
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

_HERE = os.path.dirname(os.path.abspath(__file__))
for _d in (os.environ.get("BENCH_SHARED", ""), os.path.join(_HERE, "..", "..", "shared", "bench"),
           os.path.join(_HERE, "..", "..", "..", "shared", "bench")):
    if _d and os.path.isdir(os.path.join(_d, "benchlib")):
        sys.path.insert(0, _d)
        break
from benchlib.common import (CLK, ServerProcs, lat_summary, loadavg, proc_cpu, r3,  # noqa: E402
                             raise_nofile, sys_cpu)

STEPS = ("connect", "tls", "greeting", "login", "select", "logout", "session")
MAX_LINE = 64 * 1024


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--label", default="target")
    ap.add_argument("--clients", type=int, default=20, help="concurrent sessions in total")
    ap.add_argument("--procs", type=int, default=0, help="client processes (default: min(clients, 4))")
    ap.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds run before measuring")
    ap.add_argument("--user-base", type=int, default=401)
    ap.add_argument("--users", type=int, default=300, help="users bench{base}..bench{base+users-1}")
    ap.add_argument("--user-fmt", default="bench{n}")
    ap.add_argument("--password", default="pass")
    ap.add_argument("--plain", action="store_true", help="no TLS (plain IMAP), for comparison")
    ap.add_argument("--resume", action="store_true",
                    help="resume TLS sessions (each client keeps its last session); default: full handshakes")
    ap.add_argument("--server-pidfile", default="", help="pid file of the server's root process")
    ap.add_argument("--server-match", default="", help="or: regex on the server processes' cmdlines")
    ap.add_argument("--json-out", default="")
    ap.add_argument("--timeout", type=float, default=30.0, help="per-step timeout, s")
    ap.add_argument("--prefill", type=int, default=-1, metavar="M",
                    help="instead of measuring: make every user's INBOX hold exactly M small messages")
    return ap.parse_args()


def client_context():
    # TLS 1.3 only; no certificate check: the cost must be the same for both servers
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    return ctx


class SessionError(Exception):
    pass


def read_tagged(f, tag):
    """Reads lines until the tagged reply; fails unless it is OK."""
    prefix = tag + b" "
    while True:
        line = f.readline(MAX_LINE)
        if not line:
            raise SessionError("EOF before %s reply" % tag.decode())
        if line.startswith(prefix):
            if line[len(prefix):].split(b" ", 1)[0].upper() != b"OK":
                raise SessionError(line.decode(errors="replace").strip()[:120])
            return


def open_session(a, ctx, resume=None):
    """Connects (and handshakes); returns (socket, file, t_connected, t_tls)."""
    t0 = time.perf_counter()
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    t1 = time.perf_counter()
    if ctx is not None:
        s = ctx.wrap_socket(s, session=resume)
    return s, s.makefile("rb"), t1, time.perf_counter(), t0


def one_session(a, ctx, n, lat, box, facts):
    """One full session; appends (step, seconds) to lat."""
    s, f, t1, t2, t0 = open_session(a, ctx, box[0])
    try:
        lat.append(("connect", t1 - t0))
        if ctx is not None:
            lat.append(("tls", t2 - t1))
            if "cipher" not in facts:
                facts.update(cipher=s.cipher()[0], version=s.version())
            facts["resumed"] = facts.get("resumed", 0) + (1 if s.session_reused else 0)
        line = f.readline(MAX_LINE)
        if not line.startswith(b"* OK"):
            raise SessionError("greeting: %r" % line[:80])
        t3 = time.perf_counter()
        lat.append(("greeting", t3 - t2))
        s.sendall(b'a LOGIN "%s" "%s"\r\n' % (a.user_fmt.format(n=n).encode(), a.password.encode()))
        read_tagged(f, b"a")
        t4 = time.perf_counter()
        lat.append(("login", t4 - t3))
        s.sendall(b"b SELECT INBOX\r\n")
        read_tagged(f, b"b")
        t5 = time.perf_counter()
        lat.append(("select", t5 - t4))
        s.sendall(b"c LOGOUT\r\n")
        read_tagged(f, b"c")
        t6 = time.perf_counter()
        lat.append(("logout", t6 - t5))
        lat.append(("session", t6 - t0))
        if a.resume and ctx is not None:
            # TLS 1.3 tickets come after the handshake, with the first reads
            box[0] = s.session
    finally:
        f.close()
        s.close()


def client_loop(a, ctx, seed, t_start, t_end, st, lock):
    rng = random.Random(seed)
    box = [None]
    facts = {}
    mine = {"sessions": 0, "errors": 0, "err_samples": [], "lat": {k: [] for k in STEPS}}
    while time.monotonic() < t_end:
        n = rng.randrange(a.user_base, a.user_base + a.users)
        lat = []
        try:
            one_session(a, ctx, n, lat, box, facts)
            ok = True
        except (OSError, SessionError) as e:
            ok = False
            err = "%s: %s" % (type(e).__name__, str(e)[:160])
        now = time.monotonic()
        if t_start <= now < t_end:
            if ok:
                mine["sessions"] += 1
                for k, v in lat:
                    mine["lat"][k].append(v)
            else:
                mine["errors"] += 1
                if len(mine["err_samples"]) < 5:
                    mine["err_samples"].append(err)
        elif not ok:
            time.sleep(0.05)
    with lock:
        st["sessions"] += mine["sessions"]
        st["errors"] += mine["errors"]
        st["err_samples"].extend(mine["err_samples"])
        for k in STEPS:
            st["lat"][k].extend(mine["lat"][k])
        st["facts"]["resumed"] = st["facts"].get("resumed", 0) + facts.pop("resumed", 0)
        st["facts"].update(facts)


def worker_main(a, nclients, seed, t_start, t_end, conn):
    """A client process: nclients threads with blocking sockets (OpenSSL
    and the socket calls run without the GIL; this costs about half the
    client CPU of asyncio's pure-Python TLS layer)."""
    raise_nofile()
    ctx = None if a.plain else client_context()
    st = {"sessions": 0, "errors": 0, "err_samples": [], "facts": {}, "lat": {k: [] for k in STEPS}}
    lock = threading.Lock()
    threads = [threading.Thread(target=client_loop, args=(a, ctx, seed * 1000 + i, t_start, t_end, st, lock))
               for i in range(nclients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn.send(st)
    conn.close()


def role_of(pid):
    """ternd --worker imap-login -> imap-login; dovecot-imaps/auth -> auth."""
    try:
        argv = open("/proc/%d/cmdline" % pid, "rb").read().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    if "--worker" in argv[:-1]:
        return argv[argv.index("--worker") + 1]
    return argv[0].split()[0].rsplit("/", 1)[-1] if argv[0] else "?"


def snap_roles(srv):
    """pid -> (role, own CPU s, reaped children's CPU s) over the server's tree."""
    out = {}
    for pid in srv.pids():
        st = proc_stat_fields(pid)
        tot = proc_cpu(pid)
        if st is None or tot is None:
            continue
        kids = (int(st[13]) + int(st[14])) / CLK
        out[pid] = (role_of(pid), tot - kids, kids)
    return out


def roles_delta(r0, r1):
    """CPU seconds per role; processes that ended in the window are counted
    through their parent's reaped-children time, less what they had used
    before the window."""
    by = {}
    for pid, (role, own, kids) in r1.items():
        own0, kids0 = (r0[pid][1], r0[pid][2]) if pid in r0 else (0.0, 0.0)
        by[role] = by.get(role, 0.0) + own - own0
        if kids - kids0 > 0.0005:
            gone = sum(v[1] for p, v in r0.items() if p not in r1)
            by["(ended)"] = by.get("(ended)", 0.0) + kids - kids0 - gone
    return {k: r3(v) for k, v in sorted(by.items(), key=lambda x: -x[1])}


def proc_stat_fields(pid):
    try:
        s = open("/proc/%d/stat" % pid).read()
    except OSError:
        return None
    return s[s.rfind(")") + 2:].split()


def cpu_of(pids):
    return sum(proc_cpu(p) or 0.0 for p in pids)


def sleep_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


def measure(a):
    nprocs = a.procs or min(a.clients, 4)
    t_start = time.monotonic() + 1.0 + a.warmup
    t_end = t_start + a.duration
    srv = ServerProcs(argparse.Namespace(server_pidfile=a.server_pidfile, server_match=a.server_match))
    workers = []
    for i in range(nprocs):
        share = a.clients // nprocs + (1 if i < a.clients % nprocs else 0)
        rd, wr = mp.Pipe(duplex=False)
        p = mp.Process(target=worker_main, args=(a, share, 1000 + i, t_start, t_end, wr), daemon=True)
        p.start()
        workers.append((p, rd))
    pids = [p.pid for p, _ in workers]
    sleep_until(t_start)
    s0 = {"t": time.perf_counter(), "srv": srv.cpu_seconds() if srv.enabled() else None, "cli": cpu_of(pids),
          "sys": sys_cpu(), "roles": snap_roles(srv) if srv.enabled() else {}}
    sleep_until(t_end)
    s1 = {"t": time.perf_counter(), "srv": srv.cpu_seconds() if srv.enabled() else None, "cli": cpu_of(pids),
          "sys": sys_cpu(), "roles": snap_roles(srv) if srv.enabled() else {}}
    results = [rd.recv() for _, rd in workers]
    for p, _ in workers:
        p.join(30)
    return nprocs, s0, s1, results


def summarise(a, nprocs, s0, s1, results):
    wall = s1["t"] - s0["t"]
    sessions = sum(r["sessions"] for r in results)
    errors = sum(r["errors"] for r in results)
    lat = {k: [] for k in STEPS}
    facts = {}
    resumed = 0
    for r in results:
        for k in STEPS:
            lat[k].extend(r["lat"][k])
        resumed += r["facts"].pop("resumed", 0)
        facts.update(r["facts"])
    ticks = s1["sys"][0] - s0["sys"][0]
    busy = 1 - (s1["sys"][1] - s0["sys"][1]) / ticks if ticks > 0 else None
    client_cpu = s1["cli"] - s0["cli"]
    out = {"workload": "login-imaps", "target": a.label, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "tls": not a.plain, "resume": a.resume, "clients": a.clients, "client_procs": nprocs,
           "users": a.users, "wall_s": r3(wall), "sessions": sessions, "errors": errors,
           "sessions_per_s": r3(sessions / wall), "client_cpu_s": r3(client_cpu),
           "client_cpu_ms_per_session": r3(client_cpu / sessions * 1e3) if sessions else None,
           "sys_busy_pct": r3(busy * 100) if busy is not None else None,
           "err_samples": [e for r in results for e in r["err_samples"]][:5],
           "lat": {k: lat_summary(v) for k, v in lat.items() if v}, "load_at_end": loadavg()}
    out.update({"tls_" + k: v for k, v in facts.items()})
    if not a.plain:
        out["tls_resumed_pct"] = r3(100.0 * resumed / max(1, sessions))
    if s0["srv"] is not None:
        scpu = s1["srv"] - s0["srv"]
        out["server_cpu_s"] = r3(scpu)
        out["server_cpu_ms_per_session"] = r3(scpu / sessions * 1e3) if sessions else None
        if sessions:
            out["server_cpu_ms_per_session_by_process"] = {
                k: r3(v / sessions * 1e3) for k, v in roles_delta(s0["roles"], s1["roles"]).items()}
        if busy is not None:
            out["other_cpu_s"] = r3(max(0.0, busy * os.cpu_count() * wall - scpu - client_cpu))
    return out


PREFILL_MSG = ("From: Bench Sender <sender@bench.test>\r\nTo: bench@bench.test\r\n"
               "Subject: login benchmark message %d\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
               "Message-ID: <login-bench-%d@bench.test>\r\n\r\nA short body for message %d.\r\n")


def prefill_user(a, ctx, n):
    s, f, _, _, _ = open_session(a, ctx)
    try:
        f.readline(MAX_LINE)
        s.sendall(b'a LOGIN "%s" "%s"\r\nb SELECT INBOX\r\n' % (a.user_fmt.format(n=n).encode(),
                                                                  a.password.encode()))
        read_tagged(f, b"a")
        exists = 0
        while True:
            line = f.readline(MAX_LINE)
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"*" and parts[2].upper() == b"EXISTS":
                exists = int(parts[1])
            if not line or line.startswith(b"b "):
                break
        if exists > a.prefill:
            s.sendall(b"c STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nd EXPUNGE\r\n")
            read_tagged(f, b"c")
            read_tagged(f, b"d")
            exists = 0
        for i in range(exists, a.prefill):
            msg = (PREFILL_MSG % (i, i, i)).encode()
            s.sendall(b"e APPEND INBOX {%d}\r\n" % len(msg))
            line = f.readline(MAX_LINE)
            if not line.startswith(b"+"):
                raise SessionError("APPEND: %r" % line[:80])
            s.sendall(msg + b"\r\n")
            read_tagged(f, b"e")
        s.sendall(b"z LOGOUT\r\n")
        read_tagged(f, b"z")
        return exists < a.prefill
    finally:
        f.close()
        s.close()


def prefill(a):
    ctx = None if a.plain else client_context()
    with ThreadPoolExecutor(8) as ex:
        done = list(ex.map(lambda n: prefill_user(a, ctx, n), range(a.user_base, a.user_base + a.users)))
    print("prefill [%s]: %d of %d users filled to %d messages" % (a.label, sum(done), a.users, a.prefill))


def main():
    a = parse_args()
    if a.prefill >= 0:
        prefill(a)
        return
    nprocs, s0, s1, results = measure(a)
    out = summarise(a, nprocs, s0, s1, results)
    print("== login-imaps [%s] %d clients in %d processes, %.0f s" % (a.label, a.clients, nprocs, out["wall_s"]))
    print("   %s sessions/s (%d sessions, %d errors); server CPU %s ms/session; client CPU %s ms/session"
          % (out["sessions_per_s"], out["sessions"], out["errors"], out.get("server_cpu_ms_per_session"),
             out["client_cpu_ms_per_session"]))
    print("   " + "  ".join("%s p50/p99 %s/%s ms" % (k, v.get("p50_ms"), v.get("p99_ms"))
                            for k, v in out["lat"].items()))
    if out.get("server_cpu_ms_per_session_by_process"):
        print("   server CPU ms/session by process: " + ", ".join(
            "%s %s" % kv for kv in out["server_cpu_ms_per_session_by_process"].items()))
    if out["err_samples"]:
        print("   errors: %s" % "; ".join(out["err_samples"]))
    line = json.dumps(out, separators=(",", ":"))
    print("RESULT " + line, flush=True)
    if a.json_out:
        with open(a.json_out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
