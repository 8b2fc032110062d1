"""ManageSieve (RFC 5804) end to end: the pre-login engine in the login
worker (greeting, CAPABILITY, STARTTLS, AUTHENTICATE, NOOP, LOGOUT), the
post-login session (every command, response codes, limits, bad input),
UNAUTHENTICATE back to the login worker, the script files on disk in
Pigeonhole's layout, the real sieve-connect client over STARTTLS, and
`ternctl sieve`."""
import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import TERNCTL, Ternd, free_port

RESP = re.compile(rb"^(OK|NO|BYE)(?: \(([^)]*)\))?(?: (.*))?$")

GOOD = b'require "fileinto";\r\nif header :contains "subject" "x" {\r\n  fileinto "X";\r\n}\r\n'
BROKEN = b'keep;\r\nif true {\r\n  frobnicate;\r\n}\r\n'


class RawSieve:
    """A ManageSieve client speaking exact bytes."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.caps, self.greeting = self.read_capabilities()

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed; buffered: %r" % self.buf)
        self.buf += chunk

    def readline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_bytes(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_item(self):
        """A line; a line ending in {n} gets its literal appended."""
        line = self.readline()
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            line = line[:m.start()] + b'"' + self.read_bytes(int(m.group(1))) + b'"'
            line += self.readline()
        return line

    def read_response(self):
        """(data lines, (status, code, text)) up to OK/NO/BYE."""
        lines = []
        while True:
            line = self.read_item()
            m = RESP.match(line)
            if m and not line.startswith(b'"'):
                text = m.group(3)
                if text and text.startswith(b'"') and text.endswith(b'"'):
                    text = text[1:-1]
                code = m.group(2).decode() if m.group(2) else None
                return lines, (m.group(1).decode(), code, (text or b"").decode())
            lines.append(line)

    def command(self, line):
        self.send(line if isinstance(line, bytes) else line.encode())
        self.send(b"\r\n")
        return self.read_response()

    def read_capabilities(self):
        lines, status = self.read_response()
        caps = {}
        for line in lines:
            m = re.match(rb'^"([^"]+)"(?: "(.*)")?$', line)
            assert m, line
            caps[m.group(1).decode()] = (m.group(2) or b"").decode()
        return caps, status

    def starttls(self, context=None):
        _, status = self.command("STARTTLS")
        assert status[0] == "OK", status
        ctx = context
        if ctx is None:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)
        self.buf = b""
        # RFC 5804 §2.2: the capabilities again, under TLS
        self.caps, status = self.read_capabilities()
        assert status[0] == "OK", status

    def login(self, user, password, initial=True):
        ir = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        if initial:
            return self.command(f'AUTHENTICATE "PLAIN" "{ir}"')[1]
        self.send('AUTHENTICATE "PLAIN"\r\n')
        assert self.readline() == b'""'
        return self.command(f'"{ir}"')[1]

    def putscript(self, name, script):
        return self.command(f'PUTSCRIPT "{name}" {{{len(script)}+}}\r\n'.encode() + script)[1]

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


USERS = {u: "pw-" + u for u in ("alice", "bob", "carol", "dave", "erin", "frank", "gina",
                               "hank", "ivy", "jack", "kate")}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("managesieve")
    port = free_port()
    s = Ternd(d, users=USERS, process_count=1, config_extra=f"""
listener.managesieve.enabled = yes
listener.managesieve.port = {port}
service managesieve {{
  process_count = 1
  max_userip_connections = 0
}}
sieve {{
  quota_max_scripts = 3
  quota_max_storage = 5k
  max_script_size = 2k
}}
managesieve.max_line_length = 1k
""")
    s.sieve_port = port
    s.start()
    yield s
    s.stop()


def home(srv, user):
    return srv.base / "mail" / user


def session(srv, user):
    c = RawSieve(srv.sieve_port)
    assert c.login(user, USERS[user]) == ("OK", None, "Logged in.")
    return c


def wait_log(srv, text, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.log_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log")


def test_greeting_and_prelogin(srv):
    c = RawSieve(srv.sieve_port)
    assert c.greeting == ("OK", None, "Tern ManageSieve ready.")
    assert c.caps["IMPLEMENTATION"] == "Tern"
    assert c.caps["VERSION"] == "1.0"
    assert "STARTTLS" in c.caps and "UNAUTHENTICATE" in c.caps
    assert c.caps["MAXREDIRECTS"] == "4"
    # loopback counts as secure: PLAIN is offered
    assert "PLAIN" in c.caps["SASL"].split()
    assert {"fileinto", "envelope"} <= set(c.caps["SIEVE"].split())
    lines, status = c.command("CAPABILITY")
    assert status[0] == "OK" and b'"VERSION" "1.0"' in lines
    assert c.command('NOOP "hello"')[1] == ("OK", 'TAG "hello"', "Done")
    assert c.command("noop")[1][0] == "OK"
    # commands of the authenticated state, unknown and malformed ones
    assert c.command("LISTSCRIPTS")[1] == ("NO", None,
                                           "LISTSCRIPTS is valid only after authentication.")
    assert c.putscript("x", b"keep;")[0] == "NO"
    assert c.command("FROB")[1] == ("NO", None, "Unknown command.")
    assert c.command('"STRING" first')[1][0] == "NO"
    assert c.command("CAPABILITY extra")[1][0] == "NO"
    assert c.command("UNAUTHENTICATE")[1][0] == "NO"
    assert c.command('AUTHENTICATE "NOSUCH"')[1][0] == "NO"
    assert c.command("LOGOUT")[1] == ("OK", None, "Logout completed.")
    assert c.closed()


def test_authenticate_variants(srv):
    c = RawSieve(srv.sieve_port)
    # wrong password, then an abort, then a literal response
    ir = base64.b64encode(b"\0alice\0wrong").decode()
    assert c.command(f'AUTHENTICATE "PLAIN" "{ir}"')[1] == ("NO", None, "Authentication failed.")
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.readline() == b'""'
    assert c.command('"*"')[1] == ("NO", None, "Authentication aborted by client.")
    c.send('Authenticate "plain"\r\n')
    assert c.readline() == b'""'
    good = base64.b64encode(b"\0alice\0pw-alice")
    assert c.command(b"{%d+}\r\n" % len(good) + good)[1] == ("OK", None, "Logged in.")
    lines, status = c.command("CAPABILITY")
    assert status[0] == "OK"
    # after login: no SASL and no STARTTLS, but OWNER (RFC 5804 §1.7)
    assert b'"OWNER" "alice"' in lines
    assert not any(line.startswith(b'"SASL"') or line == b'"STARTTLS"' for line in lines)
    assert c.command("STARTTLS")[1][0] == "NO"
    assert c.command('AUTHENTICATE "PLAIN"')[1] == ("NO", None, "Already authenticated.")
    c.close()
    # PLAIN without an initial response, LOGIN with two challenges
    c = RawSieve(srv.sieve_port)
    assert c.login("bob", USERS["bob"], initial=False)[0] == "OK"
    c.close()
    c = RawSieve(srv.sieve_port)
    c.send('AUTHENTICATE "LOGIN"\r\n')
    assert base64.b64decode(c.readline().strip(b'"')) == b"User Name"
    c.send('"%s"\r\n' % base64.b64encode(b"carol").decode())
    assert base64.b64decode(c.readline().strip(b'"')).startswith(b"Pass")
    assert c.command('"%s"' % base64.b64encode(b"pw-carol").decode())[1][0] == "OK"
    c.close()


def test_scripts_and_active_symlink(srv):
    c = session(srv, "dave")
    assert c.command("LISTSCRIPTS") == ([], ("OK", None, "Listscripts completed."))
    assert c.putscript("main", GOOD) == ("OK", None, "PUTSCRIPT completed.")
    assert c.putscript("other", b"discard;\r\n")[0] == "OK"
    # the file is there, byte for byte, in Pigeonhole's layout
    sdir = home(srv, "dave") / "sieve"
    assert (sdir / "main.sieve").read_bytes() == GOOD
    assert oct((sdir).stat().st_mode & 0o777) == "0o700"
    lines, status = c.command('GETSCRIPT "main"')
    assert status[0] == "OK" and lines == [b'"' + GOOD + b'"']
    assert c.command('SETACTIVE "main"')[1] == ("OK", None, "Setactive completed.")
    active = home(srv, "dave") / ".dovecot.sieve"
    assert os.readlink(active) == "sieve/main.sieve"
    assert c.command("LISTSCRIPTS")[0] == [b'"main" ACTIVE', b'"other"']
    # the active script can't be deleted; renamed, it stays active
    assert c.command('DELETESCRIPT "main"')[1][:2] == ("NO", "ACTIVE")
    assert c.command('RENAMESCRIPT "main" "other"')[1][:2] == ("NO", "ALREADYEXISTS")
    assert c.command('RENAMESCRIPT "main" "renamed"')[1][0] == "OK"
    assert os.readlink(active) == "sieve/renamed.sieve"
    assert not (sdir / "main.sieve").exists()
    assert c.command("LISTSCRIPTS")[0] == [b'"other"', b'"renamed" ACTIVE']
    # nonexistent scripts
    for cmd in ('GETSCRIPT "nope"', 'SETACTIVE "nope"', 'DELETESCRIPT "nope"',
                'RENAMESCRIPT "nope" "x"'):
        assert c.command(cmd)[1][:2] == ("NO", "NONEXISTENT"), cmd
    # SETACTIVE "" deactivates
    assert c.command('SETACTIVE ""')[1][0] == "OK"
    assert not os.path.lexists(active)
    assert c.command('DELETESCRIPT "renamed"')[1][0] == "OK"
    assert c.command("LISTSCRIPTS")[0] == [b'"other"']
    # a bad name, NOOP, LOGOUT
    assert c.putscript("a/b", b"keep;")[0] == "NO"
    assert c.putscript(".hidden", b"keep;")[0] == "NO"
    assert c.command('NOOP "t"')[1] == ("OK", 'TAG "t"', "Done")
    assert c.command("LOGOUT")[1][0] == "OK"
    assert c.closed()


def test_compile_errors(srv):
    c = session(srv, "erin")
    status = c.putscript("broken", BROKEN)
    assert status[0] == "NO" and status[2].startswith("line 3: "), status
    assert "frobnicate" in status[2]
    assert c.command("LISTSCRIPTS")[0] == []
    assert not (home(srv, "erin") / "sieve" / "broken.sieve").exists()
    status = c.command(b"CHECKSCRIPT {%d+}\r\n" % len(BROKEN) + BROKEN)[1]
    assert status[0] == "NO" and status[2].startswith("line 3: ")
    assert c.command(b"CHECKSCRIPT {%d+}\r\n" % len(GOOD) + GOOD)[1] == (
        "OK", None, "Script is valid.")
    assert c.command('CHECKSCRIPT "require \\"nosuchext\\";"')[1][2].startswith("line 1: ")
    # a broken script put on disk by other means can't be activated
    sdir = home(srv, "erin") / "sieve"
    sdir.mkdir(parents=True, exist_ok=True)
    (sdir / "manual.sieve").write_bytes(BROKEN)
    status = c.command('SETACTIVE "manual"')[1]
    assert status[0] == "NO" and status[2].startswith("line 3: ")
    assert not os.path.lexists(home(srv, "erin") / ".dovecot.sieve")
    c.close()


def test_includes_and_warnings(srv):
    """PUTSCRIPT/CHECKSCRIPT resolve constant includes (RFC 6609) over the
    user's storage: a missing script is a warning (RFC 5804 §1.3 WARNINGS,
    the script is stored), a broken or circular one an error."""
    c = session(srv, "kate")
    main = b'require "include";\r\ninclude "lib";\r\nkeep;\r\n'
    status = c.putscript("main", main)
    assert status[:2] == ("OK", "WARNINGS"), status
    assert status[2] == "line 2: warning: included script 'lib' does not exist", status
    assert (home(srv, "kate") / "sieve" / "main.sieve").read_bytes() == main
    status = c.command(b"CHECKSCRIPT {%d+}\r\n" % len(main) + main)[1]
    assert status[:2] == ("OK", "WARNINGS") and "'lib'" in status[2], status
    # a broken included script makes the includer fail too
    status = c.putscript("lib", BROKEN)
    assert status[0] == "NO" and status[2].startswith("line 3: "), status
    sdir = home(srv, "kate") / "sieve"
    (sdir / "lib.sieve").write_bytes(BROKEN)
    status = c.command(b"CHECKSCRIPT {%d+}\r\n" % len(main) + main)[1]
    assert status[0] == "NO" and "lib" in status[2], status
    # once it is good, no warning is left
    assert c.putscript("lib", b"discard;\r\n") == ("OK", None, "PUTSCRIPT completed.")
    assert c.putscript("main", main) == ("OK", None, "PUTSCRIPT completed.")
    assert c.command(b"CHECKSCRIPT {%d+}\r\n" % len(main) + main)[1] == (
        "OK", None, "Script is valid.")
    # including each other is an error
    loop = b'require "include";\r\ninclude "main";\r\n'
    status = c.putscript("lib", loop)
    assert status[0] == "NO" and "circular" in status[2], status
    assert (sdir / "lib.sieve").read_bytes() == b"discard;\r\n"
    c.close()


def test_quota_codes(srv):
    c = session(srv, "frank")
    assert c.command('HAVESPACE "a" 100')[1] == ("OK", None, "Putscript would succeed.")
    assert c.command('HAVESPACE "a" 3000')[1][:2] == ("NO", "QUOTA/MAXSIZE")
    assert c.command('HAVESPACE "a" x')[1][0] == "NO"
    big = b"#" + b"x" * 1990 + b"\r\nkeep;\r\n"
    for name in ("s1", "s2"):
        assert c.putscript(name, big)[0] == "OK"
    # 2 x 2000 + 2000 > 5k: the storage quota
    assert c.putscript("s3", big)[:2] == ("NO", "QUOTA")
    assert c.putscript("s3", b"keep;")[0] == "OK"
    # a fourth script: MAXSCRIPTS; replacing one is fine
    assert c.putscript("s4", b"keep;")[:2] == ("NO", "QUOTA/MAXSCRIPTS")
    assert c.command('HAVESPACE "s4" 1')[1][:2] == ("NO", "QUOTA/MAXSCRIPTS")
    assert c.putscript("s3", b"stop;")[0] == "OK"
    # a literal over max_script_size is read and dropped whole
    huge = b"#" * 5000 + b"\r\n"
    assert c.putscript("s4", huge)[:2] == ("NO", "QUOTA/MAXSIZE")
    assert c.command("NOOP")[1][0] == "OK"
    assert c.command("LISTSCRIPTS")[0] == [b'"s1"', b'"s2"', b'"s3"']
    c.close()


def test_bad_input(srv):
    c = session(srv, "gina")
    # a line over managesieve.max_line_length is skipped with a NO
    assert c.command("NOOP " + "a" * 2000)[1] == ("NO", None, "Line too long.")
    # an oversized literal outside PUTSCRIPT, bad literal syntax, bad args
    assert c.command(b"GETSCRIPT {9999+}\r\n" + b"x" * 9999)[1] == (
        "NO", None, "Literal too large.")
    assert c.command("GETSCRIPT {x}")[1][0] == "NO"
    assert c.command("GETSCRIPT")[1][0] == "NO"
    assert c.command("GETSCRIPT atom")[1][0] == "NO"
    assert c.command('PUTSCRIPT "a"')[1] == ("NO", None,
                                             "Invalid arguments: PUTSCRIPT name script.")
    assert c.command('RENAMESCRIPT "a" "b" "c"')[1][0] == "NO"
    assert c.command('"a\\q"')[1][0] == "NO"
    assert c.command("NOOP")[1][0] == "OK"
    # ten bad commands in a row end the session
    c.send(b"BOGUS\r\n" * 10)
    for _ in range(10):
        assert c.read_response()[1][0] == "NO"
    assert c.read_response()[1] == ("BYE", None, "Too many invalid commands.")
    assert c.closed()


def test_unauthenticate(srv):
    c = session(srv, "hank")
    assert c.putscript("mine", b"keep;")[0] == "OK"
    # pipelined behind UNAUTHENTICATE: runs in the login worker
    c.send('UNAUTHENTICATE\r\nLISTSCRIPTS\r\n')
    assert c.read_response()[1] == ("OK", None, "Unauthenticate completed.")
    assert c.read_response()[1][0] == "NO"
    assert c.login("ivy", USERS["ivy"]) == ("OK", None, "Logged in.")
    assert c.command("LISTSCRIPTS")[0] == []
    c.close()
    wait_log(srv, "user=hank event=unauthenticate")


def test_starttls_unauthenticate(srv):
    c = RawSieve(srv.sieve_port)
    c.starttls()
    assert "STARTTLS" not in c.caps
    assert c.command("STARTTLS")[1][0] == "NO"
    assert c.login("jack", USERS["jack"])[0] == "OK"
    assert c.putscript("t", b"keep;")[0] == "OK"
    assert c.command("UNAUTHENTICATE")[1][0] == "OK"
    # still TLS: the login worker relays it again
    r = c.command("CAPABILITY")
    assert r[1][0] == "OK", r
    assert c.login("jack", USERS["jack"])[0] == "OK"
    assert c.command("LISTSCRIPTS")[0] == [b'"t"']
    c.close()


def test_regular_file_rescued(srv):
    h = home(srv, "alice")
    h.mkdir(parents=True, exist_ok=True)
    (h / ".dovecot.sieve").write_bytes(b"keep;\n")
    c = session(srv, "alice")
    # a regular file is no managed script
    assert c.command("LISTSCRIPTS")[0] == []
    assert c.putscript("new", b"discard;")[0] == "OK"
    assert c.command('SETACTIVE "new"')[1][0] == "OK"
    assert os.readlink(h / ".dovecot.sieve") == "sieve/new.sieve"
    assert c.command("LISTSCRIPTS")[0] == [b'"dovecot.orig"', b'"new" ACTIVE']
    lines, _ = c.command('GETSCRIPT "dovecot.orig"')
    assert lines == [b'"keep;\n"']
    c.close()


def sieve_connect(srv, user, *args):
    r, w = os.pipe()
    os.write(w, (USERS[user] + "\n").encode())
    os.close(w)
    try:
        return subprocess.run(["sieve-connect", "-s", "127.0.0.1", "-p", str(srv.sieve_port),
                               "-u", user, "--passwordfd", str(r), "--notlsverify", *args],
                              pass_fds=(r,), capture_output=True, text=True, timeout=60)
    finally:
        os.close(r)


@pytest.mark.skipif(shutil.which("sieve-connect") is None, reason="sieve-connect is not installed")
def test_sieve_connect(srv, tmp_path):
    script = tmp_path / "filter.sieve"
    script.write_bytes(GOOD)
    r = sieve_connect(srv, "bob", "--upload", "--localsieve", str(script), "--remotesieve",
                      "filter")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(srv, "bob", "--activate", "--remotesieve", "filter")
    assert r.returncode == 0, r.stderr
    assert os.readlink(home(srv, "bob") / ".dovecot.sieve") == "sieve/filter.sieve"
    r = sieve_connect(srv, "bob", "--list")
    assert r.returncode == 0 and '"filter" ACTIVE' in r.stdout, (r.stdout, r.stderr)
    out = tmp_path / "down.sieve"
    r = sieve_connect(srv, "bob", "--download", "--remotesieve", "filter", "--localsieve",
                      str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().rstrip() == GOOD.rstrip()
    bad = tmp_path / "bad.sieve"
    bad.write_bytes(BROKEN)
    r = sieve_connect(srv, "bob", "--upload", "--localsieve", str(bad), "--remotesieve", "bad")
    assert r.returncode != 0 and "line 3:" in r.stdout + r.stderr
    r = sieve_connect(srv, "bob", "--deactivate")
    assert r.returncode == 0 and not os.path.lexists(home(srv, "bob") / ".dovecot.sieve")
    r = sieve_connect(srv, "bob", "--delete", "--remotesieve", "filter")
    assert r.returncode == 0, r.stderr
    assert not (home(srv, "bob") / "sieve" / "filter.sieve").exists()
    # the session went through STARTTLS
    wait_log(srv, 'user=bob event=login protocol=managesieve mech=PLAIN tls="TLS')


def ternctl(srv, *args):
    return subprocess.run([str(TERNCTL), "-c", str(srv.config_path), "sieve", *args],
                          capture_output=True, text=True, cwd=srv.dir)


def test_ternctl_sieve(srv, tmp_path):
    good, bad = tmp_path / "good.sieve", tmp_path / "bad.sieve"
    good.write_bytes(GOOD)
    bad.write_bytes(BROKEN)
    r = ternctl(srv, "check", str(good))
    assert r.returncode == 0 and r.stdout == f"{good}: OK\n"
    r = ternctl(srv, "check", str(bad))
    assert r.returncode == 1 and f"{bad}: line 3: " in r.stderr
    assert ternctl(srv, "put", "carol", "viactl", str(bad)).returncode == 1
    r = ternctl(srv, "put", "carol", "viactl", str(good))
    assert r.returncode == 0, r.stderr
    r = ternctl(srv, "activate", "carol", "viactl")
    assert r.returncode == 0, r.stderr
    assert os.readlink(home(srv, "carol") / ".dovecot.sieve") == "sieve/viactl.sieve"
    r = ternctl(srv, "list", "carol")
    assert r.returncode == 0 and r.stdout == f"viactl\tACTIVE\t{len(GOOD)}\n"
    assert ternctl(srv, "activate", "carol", "nope").returncode == 1
    assert ternctl(srv, "list", "nobody-here").returncode == 67
    assert ternctl(srv, "put", "carol").returncode == 64
    # ManageSieve sees the same storage
    c = session(srv, "carol")
    assert c.command("LISTSCRIPTS")[0] == [b'"viactl" ACTIVE']
    c.close()
