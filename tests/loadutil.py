"""Socket helpers for abuse and load tests: streaming endless input while
watching for the server's answer, reading until the server hangs up
(tolerating a reset after its last words), holding many idle connections,
and filling a connection that never reads."""
import os
import resource
import select
import selectors
import socket
import ssl
import time


def raise_nofile(want):
    """Raises this process's soft RLIMIT_NOFILE to at least want (up to the
    hard limit); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def asan_small_quarantine(monkeypatch):
    """ASan keeps freed memory in a 256 MB quarantine, which makes RSS grow
    with every freed allocation; RSS tests of a sanitizer build need it
    small. Affects servers started afterwards."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (opts + ":" if opts else "") + "quarantine_size_mb=1")


def drain(sock, timeout=5.0):
    """Reads until the peer closes, resets or timeout passes. Returns
    (data, closed). Data that arrived before a reset is kept: the server
    closing with our unread input still pending makes the kernel send RST
    after its last words."""
    data = b""
    deadline = time.monotonic() + timeout
    saved = sock.gettimeout()
    sock.setblocking(False)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return data, False
            r, _, _ = select.select([sock], [], [], left)
            if not r:
                continue
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return data, True
            if not chunk:
                return data, True
            data += chunk
    finally:
        try:
            sock.settimeout(saved)
        except OSError:
            pass


class StreamResult:
    def __init__(self):
        self.replies = b""        # everything the server sent while we streamed
        self.first_reply_at = None  # bytes we had sent when the first reply came
        self.first_reply_secs = None
        self.sent = 0
        self.closed = False       # the server closed or reset the connection
        self.secs = 0.0


def stream(sock, head, total, fill=b"x", chunk_size=1 << 20, on_progress=None,
           progress_every=4 << 20):
    """Sends head, then total bytes made of fill (no LF unless fill has
    one), without blocking on the server: whatever it answers meanwhile is
    collected. Stops early when the server closes the connection. Calls
    on_progress(sent) about every progress_every bytes."""
    res = StreamResult()
    chunk = (fill * (chunk_size // len(fill) + 1))[:chunk_size]
    pending = memoryview(head)
    queued = 0
    next_progress = progress_every
    t0 = time.monotonic()
    saved = sock.gettimeout()
    sock.setblocking(False)
    try:
        while queued < total or len(pending) > 0:
            if len(pending) == 0:
                n = min(chunk_size, total - queued)
                pending = memoryview(chunk)[:n]
                queued += n
            r, w, _ = select.select([sock], [sock], [], 10)
            if not r and not w:
                raise TimeoutError("server neither reads nor writes")
            if r:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    data = None
                except (ConnectionResetError, BrokenPipeError):
                    res.closed = True
                    break
                if data == b"":
                    res.closed = True
                    break
                if data:
                    if res.first_reply_at is None:
                        res.first_reply_at = res.sent
                        res.first_reply_secs = time.monotonic() - t0
                    res.replies += data
            if w:
                try:
                    n = sock.send(pending)
                except BlockingIOError:
                    n = 0
                except (ConnectionResetError, BrokenPipeError):
                    res.closed = True
                    break
                pending = pending[n:]
                res.sent += n
                if on_progress is not None and res.sent >= next_progress:
                    on_progress(res.sent)
                    next_progress += progress_every
    finally:
        res.secs = time.monotonic() - t0
        sock.settimeout(saved)
    if res.closed:
        more, _ = drain(sock, timeout=2)
        res.replies += more
    return res


def fill_until_blocked(sock, data, max_bytes, stall_secs=1.0, on_progress=None):
    """Sends data repeatedly without ever reading, until the socket accepted
    nothing for stall_secs or max_bytes went out. Returns (bytes sent,
    monotonic time of the last progress). on_progress() is called now and
    then while sending."""
    sent = 0
    last_progress = time.monotonic()
    saved = sock.gettimeout()
    sock.setblocking(False)
    view = memoryview(data)
    pos = 0
    try:
        while sent < max_bytes and time.monotonic() - last_progress < stall_secs:
            _, w, _ = select.select([], [sock], [], 0.05)
            if w:
                try:
                    n = sock.send(view[pos:])
                except BlockingIOError:
                    n = 0
                if n > 0:
                    sent += n
                    pos = (pos + n) % len(data)
                    last_progress = time.monotonic()
            if on_progress is not None:
                on_progress()
    finally:
        sock.settimeout(saved)
    return sent, last_progress


def converse(sock, payload, until, timeout=30.0):
    """Sends payload while reading replies, in one thread (an SSL socket
    can't be read and written from two threads at once), until the bytes
    until have been received. Returns everything received; raises
    TimeoutError when nothing moves for timeout seconds."""
    data = bytearray()
    view = memoryview(payload)
    saved = sock.gettimeout()
    sock.setblocking(False)
    last_move = time.monotonic()
    try:
        while True:
            if time.monotonic() - last_move > timeout:
                raise TimeoutError(f"stuck after {len(payload) - len(view)} bytes sent, "
                                   f"{len(data)} received")
            moved = False
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            r, w, _ = select.select([sock], [sock] if len(view) else [], [],
                                    0 if pending else 0.2)
            if r or pending:
                try:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError(f"closed after {len(data)} bytes received")
                    data += chunk
                    moved = True
                    if until in data[-(len(chunk) + len(until)):]:
                        return bytes(data)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
            if w and len(view):
                try:
                    n = sock.send(view[:65536])
                    view = view[n:]
                    moved = moved or n > 0
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
            if moved:
                last_move = time.monotonic()
    finally:
        sock.settimeout(saved)


def hung_up(sock):
    """True if the peer closed or reset the connection, judged without
    reading (our receive buffer may still hold unread data)."""
    p = select.poll()
    p.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    return bool(p.poll(0))


class IdleSwarm:
    """Many connections that read but never send."""

    def __init__(self, port, count):
        self.sel = selectors.DefaultSelector()
        self.conns = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.setblocking(False)
            conn = {"sock": sock, "t0": time.monotonic(), "data": b"", "closed_after": None}
            self.conns.append(conn)
            self.sel.register(sock, selectors.EVENT_READ, conn)

    def pump(self, done, timeout):
        """Reads whatever arrives until done(self) is true or timeout
        passes; returns done(self)."""
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, _ in self.sel.select(min(left, 0.2)):
                conn = key.data
                try:
                    chunk = conn["sock"].recv(65536)
                except BlockingIOError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    chunk = b""
                if chunk:
                    conn["data"] += chunk
                else:
                    conn["closed_after"] = time.monotonic() - conn["t0"]
                    self.sel.unregister(conn["sock"])
                    conn["sock"].close()
        return done(self)

    def greeted(self):
        return sum(1 for c in self.conns if b"\r\n" in c["data"])

    def closed(self):
        return sum(1 for c in self.conns if c["closed_after"] is not None)

    def close(self):
        for c in self.conns:
            if c["closed_after"] is None:
                self.sel.unregister(c["sock"])
                c["sock"].close()
        self.sel.close()
