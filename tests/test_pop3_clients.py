"""Real POP3 clients against a running ternd: fetchmail (with and without
keep, over plain POP3, STLS and POP3S), getmail6 (plain and POP3S: it has no
STLS) and curl pop3:// (plain, STLS, pop3s://). Each client is skipped with
a reason when it is not installed (Debian packages fetchmail, getmail6,
curl). Messages are put in with IMAP and checked with IMAP afterwards, so
the tests also show both protocols sharing one INBOX."""
import os
import pathlib
import shutil
import subprocess

import pytest

from mailutil import Imap, close_sessions, fetches, message


def need(program, package):
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed (Debian package {package})")


@pytest.fixture
def srv(ternd_factory):
    s = ternd_factory(pop3=True).start()
    yield s
    close_sessions()


def imap_fill(srv, count=3):
    msgs = [message(f"client test {i}", body=f"Line {i}\r\n.dotted\r\n" * (i + 1))
            for i in range(count)]
    c = Imap(srv.imap_port, rev2=True)
    for m in msgs:
        c.append_ok("INBOX", m)
    c.logout()
    return msgs


def imap_flags(srv):
    """[sorted flags] of the INBOX messages, in order."""
    c = Imap(srv.imap_port, rev2=True)
    if b"* 0 EXISTS" in c.select():
        c.logout()
        return []
    out = [sorted(f for f in v["FLAGS"] if f != "\\Recent")
           for v in fetches(c.ok("FETCH 1:* FLAGS")).values()]
    c.logout()
    return out


@pytest.fixture
def mda(tmp_path):
    """A delivery program writing each message to its own file; returns
    (path of the program, directory of delivered messages)."""
    out = tmp_path / "delivered"
    out.mkdir()
    script = tmp_path / "mda.sh"
    script.write_text(f'#!/bin/sh\ncat > "{out}/$(date +%s%N).$$"\n')
    script.chmod(0o755)
    return script, out


def delivered(out):
    return [p.read_bytes() for p in sorted(out.iterdir())]


def same_messages(got, msgs):
    """Delivery agents may add a From_ line or trace headers in front and
    write LF line ends: compare from each message's first header on."""
    def norm(data):
        data = data.replace(b"\r\n", b"\n")
        return data[data.index(b"From: "):]
    return sorted(norm(g) for g in got) == sorted(norm(m) for m in msgs)


# --- fetchmail --------------------------------------------------------------------------

FETCHMAIL_MODES = {
    # fetchmail upgrades with STLS on its own when offered: sslproto ''
    # keeps the plain run plain
    "plain": ("pop3_port", "sslproto ''"),
    "stls": ("pop3_port", "sslproto TLS1.2+ no sslcertck"),
    "pop3s": ("pop3s_port", "ssl no sslcertck"),
}


def fetchmail(srv, tmp_path, mda_path, mode, keep):
    port_attr, tls = FETCHMAIL_MODES[mode]
    home = tmp_path / "fetchmail-home"
    home.mkdir(exist_ok=True)
    rc = home / "fetchmailrc"
    rc.write_text(f"set no syslog\n"
                  f"poll 127.0.0.1 with proto POP3 port {getattr(srv, port_attr)} uidl\n"
                  f'  user "alice" there with password "secret" is "root" here\n'
                  f"  options {'keep' if keep else 'nokeep'} {tls}\n"
                  f'  mda "{mda_path}"\n')
    rc.chmod(0o600)
    return subprocess.run(["fetchmail", "-N", "-v", "-f", str(rc), "-i", str(home / "ids"),
                           "--pidfile", str(home / "pid")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": str(home)})


@pytest.mark.parametrize("mode", sorted(FETCHMAIL_MODES))
def test_fetchmail_keep(srv, tmp_path, mda, mode):
    need("fetchmail", "fetchmail")
    mda_path, out = mda
    msgs = imap_fill(srv)
    run = fetchmail(srv, tmp_path, mda_path, mode, keep=True)
    assert run.returncode == 0, run.stdout + run.stderr
    if mode != "plain":
        assert "POP3> STLS" in run.stdout or mode == "pop3s"
        assert "upgrade to TLS failed" not in run.stderr
    assert same_messages(delivered(out), msgs)
    # kept on the server, and (fetchmail fetches with TOP) still unseen
    assert imap_flags(srv) == [[], [], []]
    # the UIDLs tell the second run there is nothing new (exit 1: no mail)
    run = fetchmail(srv, tmp_path, mda_path, mode, keep=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "3 messages (3 seen)" in run.stdout
    assert len(delivered(out)) == 3


@pytest.mark.parametrize("mode", sorted(FETCHMAIL_MODES))
def test_fetchmail_without_keep(srv, tmp_path, mda, mode):
    need("fetchmail", "fetchmail")
    mda_path, out = mda
    msgs = imap_fill(srv)
    run = fetchmail(srv, tmp_path, mda_path, mode, keep=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert same_messages(delivered(out), msgs)
    assert "POP3> DELE 3" in run.stdout
    # deleted at QUIT, as IMAP sees
    assert imap_flags(srv) == []
    run = fetchmail(srv, tmp_path, mda_path, mode, keep=False)
    assert run.returncode == 1, run.stdout + run.stderr


# --- getmail6 ---------------------------------------------------------------------------

def getmail(srv, tmp_path, mda_path, ssl, delete):
    gd = tmp_path / "getmail"
    gd.mkdir(exist_ok=True)
    rc = gd / "getmailrc"
    rc.write_text(f"[retriever]\n"
                  f"type = {'SimplePOP3SSLRetriever' if ssl else 'SimplePOP3Retriever'}\n"
                  f"server = 127.0.0.1\n"
                  f"port = {srv.pop3s_port if ssl else srv.pop3_port}\n"
                  f"username = alice\npassword = secret\n\n"
                  f"[destination]\ntype = MDA_external\npath = {mda_path}\n"
                  f"allow_root_commands = true\n\n"
                  f"[options]\ndelete = {'true' if delete else 'false'}\nread_all = false\n")
    return subprocess.run(["getmail", "--getmaildir", str(gd), "--rcfile", str(rc)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("ssl", [False, True], ids=["plain", "pop3s"])
def test_getmail(srv, tmp_path, mda, ssl):
    need("getmail", "getmail6")
    mda_path, out = mda
    msgs = imap_fill(srv)
    run = getmail(srv, tmp_path, mda_path, ssl, delete=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 messages" in run.stdout and "retrieved, 0 skipped" in run.stdout
    assert same_messages(delivered(out), msgs)
    # getmail remembers UIDLs: nothing new the second time
    run = getmail(srv, tmp_path, mda_path, ssl, delete=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 messages (0 bytes) retrieved, 3 skipped" in run.stdout
    assert len(imap_flags(srv)) == 3
    # new mail, then a run that deletes
    more = imap_fill(srv, 1)
    run = getmail(srv, tmp_path, mda_path, ssl, delete=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 messages" in run.stdout or "1 message " in run.stdout
    assert same_messages(delivered(out), msgs + more)
    assert imap_flags(srv) == []


# --- curl -------------------------------------------------------------------------------

def curl(url, *extra):
    return subprocess.run(["curl", "-sS", "-u", "alice:secret", *extra, url],
                          capture_output=True, timeout=30)


CURL_MODES = {
    "plain": ("pop3", "pop3_port", ()),
    "stls": ("pop3", "pop3_port", ("--ssl-reqd", "-k")),
    "pop3s": ("pop3s", "pop3s_port", ("-k",)),
}


@pytest.mark.parametrize("mode", sorted(CURL_MODES))
def test_curl(srv, mode):
    need("curl", "curl")
    scheme, port_attr, extra = CURL_MODES[mode]
    base = f"{scheme}://127.0.0.1:{getattr(srv, port_attr)}/"
    msgs = imap_fill(srv)
    # no message number: LIST
    run = curl(base, *extra)
    assert run.returncode == 0, run.stderr
    assert run.stdout == b"".join(f"{i + 1} {len(m)}\r\n".encode() for i, m in enumerate(msgs))
    # a number: RETR (curl undoes the dot-stuffing)
    for i, m in enumerate(msgs):
        run = curl(base + str(i + 1), *extra)
        assert run.returncode == 0, run.stderr
        assert run.stdout == m
    # custom commands
    run = curl(base, "-X", "UIDL", *extra)
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 3
    run = curl(base + "2", "-X", "DELE", "-I", *extra)
    assert run.returncode == 0, run.stderr
    assert len(imap_flags(srv)) == 2
    # a message that doesn't exist is an error, the server stays up
    run = curl(base + "9", *extra)
    assert run.returncode != 0 and run.stdout == b""
    assert curl(base, *extra).returncode == 0


def test_curl_wrong_password(srv):
    need("curl", "curl")
    run = subprocess.run(["curl", "-sS", "-u", "alice:wrong",
                          f"pop3://127.0.0.1:{srv.pop3_port}/"], capture_output=True, timeout=30)
    assert run.returncode == 67  # CURLE_LOGIN_DENIED
