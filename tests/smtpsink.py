"""A tiny SMTP server that captures what delivery submits (redirects,
vacation replies, rejection messages): one thread, one connection at a
time, messages kept as (mail_from, [rcpts], data bytes) with dot-stuffing
undone. `fail_rcpt` makes RCPT TO answer with the given reply (e.g.
"451 4.3.0 try later") to test temporary submission failures."""
import socket
import threading
import time


class SmtpSink:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.messages = []
        self.fail_rcpt = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def wait(self, count, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn.settimeout(10)
                self._session(conn)
            except (OSError, ValueError):
                pass
            finally:
                conn.close()

    @staticmethod
    def _path(cmd):
        """The address of MAIL FROM:<a> / RCPT TO:<a>, parameters such as
        BODY=8BITMIME (an MTA's client adds them) dropped."""
        arg = cmd[cmd.index(":") + 1:].strip()
        return arg.split(" ", 1)[0].strip("<>")

    def _session(self, conn):
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        send("220 sink ESMTP")
        mail_from, rcpts = None, []
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                send("250-sink")
                send("250 8BITMIME")
            elif verb == "HELO":
                send("250 sink")
            elif verb == "MAIL":
                mail_from = self._path(cmd)
                rcpts = []
                send("250 2.1.0 OK")
            elif verb == "RCPT":
                if self.fail_rcpt:
                    send(self.fail_rcpt)
                    continue
                rcpts.append(self._path(cmd))
                send("250 2.1.5 OK")
            elif verb == "DATA":
                send("354 go ahead")
                data = b""
                while True:
                    dline = f.readline()
                    if not dline or dline == b".\r\n":
                        break
                    if dline.startswith(b".."):
                        dline = dline[1:]
                    data += dline
                with self.lock:
                    self.messages.append((mail_from, rcpts, data))
                send("250 2.0.0 queued")
            elif verb == "QUIT":
                send("221 2.0.0 bye")
                return
            elif verb == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 OK")
            else:
                send("502 5.5.2 unknown")
