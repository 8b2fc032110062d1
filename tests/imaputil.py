"""Small raw-socket IMAP helpers for tests that need exact bytes."""
import re
import socket
import ssl
import time


class RawImap:
    def __init__(self, port, tls=False, timeout=10):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock)
        self.sock = sock
        self.buf = b""
        self.greeting = self.readline()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed; buffered: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def command(self, tag, line):
        """Sends 'tag line' and returns (untagged lines, tagged line)."""
        self.send(f"{tag} {line}\r\n")
        return self.read_until_tagged(tag)

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag.encode() + b" "):
                return untagged, line
            untagged.append(line)

    def closed(self, timeout=5):
        """True if the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return False

    def close(self):
        self.sock.close()


def login(srv, user="alice", password="secret"):
    """A raw session logged in as user."""
    c = RawImap(srv.imap_port)
    _, tagged = c.command("l", f"LOGIN {user} {password}")
    assert tagged.startswith(b"l OK"), tagged
    return c


def read_responses(c, tag):
    """(untagged, tagged) up to the tagged reply, literals (also ~{n})
    inline in their response line."""
    out = []
    while True:
        line = c.readline()
        while True:
            m = re.search(rb"~?\{(\d+)\}$", line)
            if not m:
                break
            n = int(m.group(1))
            while len(c.buf) < n:
                c.buf += c.sock.recv(65536)
            data, c.buf = c.buf[:n], c.buf[n:]
            line += b"\r\n" + data + c.readline()
        if line.startswith(tag.encode() + b" "):
            return out, line
        out.append(line)


def send(c, tag, data):
    """Sends tag + data (bytes with their own CRLFs) and reads the reply."""
    c.send(tag.encode() + b" " + data)
    return read_responses(c, tag)
