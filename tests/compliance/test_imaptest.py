"""Dovecot's imaptest compliance scripts against a running ternd (issue 6).

imaptest (github.com/dovecot/imaptest, release-2.3 branch) is not part of
this repository and nothing here builds it. When a locally built binary
is found, every scripted test in its tests directory runs as one pytest
case; otherwise the module is skipped:

    IMAPTEST=/path/to/imaptest/src/imaptest          (else `imaptest` on PATH)
    IMAPTEST_TESTS=/path/to/imaptest/src/tests       (else tests/ beside the binary)

A script passes when imaptest reports no failed command group and logged
no protocol error. A script that needs a capability ternd doesn't
advertise (its "capabilities:" header) is skipped with the missing names;
one that ran no command although nothing was missing fails. Scripts
that fail for a known missing piece are listed in KNOWN_FAILING (strict
xfail)."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import Ternd

PASSWORD = "secret"
# scripts that fail for a known missing piece; strict, so a fix shows
KNOWN_FAILING = {}
# header lines a script depends on but lacks, added to a copy of it:
# urlauth2 fetches 1:2 but asks for no messages (imaptest appends none
# without a "messages:" line)
SCRIPT_HEADERS = {"urlauth2": "messages: 2\n"}


def _find_imaptest():
    binary = os.environ.get("IMAPTEST") or shutil.which("imaptest")
    if not binary or not os.access(binary, os.X_OK):
        return None, None
    tests = os.environ.get("IMAPTEST_TESTS") or str(pathlib.Path(binary).resolve().parent / "tests")
    if not os.path.isdir(tests):
        return None, None
    return binary, pathlib.Path(tests)


IMAPTEST, TESTS_DIR = _find_imaptest()
SCRIPTS = sorted(p.name for p in TESTS_DIR.iterdir()
                 if p.is_file() and not p.name.endswith(".mbox")) if TESTS_DIR else []

if IMAPTEST is None:
    pytestmark = pytest.mark.skip(reason="no local imaptest build (set IMAPTEST=...)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Ternd(tmp_path_factory.mktemp("imaptest"),
                users={"imaptest1": PASSWORD, "imaptest2": PASSWORD}).start()
    # scripts with a second user (urlauth2) SELECT the test mailbox in
    # both accounts, but only the first user's is created by imaptest
    _create_mailbox(srv.imap_port, "imaptest2", "imaptest")
    yield srv
    srv.stop()


def _create_mailbox(port, user, mailbox):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(f"a LOGIN {user} {PASSWORD}\r\nb CREATE {mailbox}\r\nc LOGOUT\r\n".encode())
        for line in f:
            if line.startswith(b"c "):
                break


def _server_caps(port):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(f"a LOGIN imaptest1 {PASSWORD}\r\nb CAPABILITY\r\nc LOGOUT\r\n".encode())
        caps = set()
        for line in f:
            if line.upper().startswith(b"* CAPABILITY "):
                caps = set(line[13:].decode().upper().split())
            if line.startswith(b"c "):
                break
    return caps


def _missing_caps(script, caps):
    text = (TESTS_DIR / script).read_text(errors="replace")
    m = re.search(r"^capabilities:(.*)$", text, re.M | re.I)
    need = m.group(1).split() if m else []
    return [c for c in need if c.upper() not in caps]


@pytest.mark.parametrize("script", [
    pytest.param(s, marks=pytest.mark.xfail(reason=KNOWN_FAILING[s], strict=True))
    if s in KNOWN_FAILING else s for s in SCRIPTS or ["none"]])
def test_imaptest_script(server, script, tmp_path):
    # each script gets a fresh mailbox of its own: imaptest uses $mailbox
    # (default "imaptest") and deletes what it created
    path = TESTS_DIR / script
    if script in SCRIPT_HEADERS:
        # imaptest takes the default mbox from the script's directory
        fixed = tmp_path / "tests"
        fixed.mkdir()
        shutil.copy(TESTS_DIR / "default.mbox", fixed / "default.mbox")
        path = fixed / script
        path.write_text(SCRIPT_HEADERS[script] + (TESTS_DIR / script).read_text())
    cmd = [IMAPTEST, "host=127.0.0.1", f"port={server.imap_port}", "user=imaptest1",
           f"pass={PASSWORD}", "user2=imaptest2", f"mbox={TESTS_DIR / 'default.mbox'}",
           f"test={path}"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          errors="replace")
    summary = re.search(r"^(\d+) test groups: (\d+) failed, (\d+) skipped", proc.stdout, re.M)
    assert summary, f"imaptest exit {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    failed = int(summary.group(2))
    assert failed == 0, proc.stderr
    ran = sum(int(n) for n in re.findall(r"^(?:base protocol|extensions): \d+/(\d+)",
                                         proc.stdout, re.M))
    if int(summary.group(3)) > 0 or ran == 0:
        # imaptest 2.3 doesn't count its own skips: a script that ran no
        # command was skipped, for a capability we don't advertise or not
        missing = _missing_caps(script, _server_caps(server.imap_port))
        if missing:
            pytest.skip("ternd does not advertise " + " ".join(missing))
        pytest.fail(f"no command ran although no capability is missing:\n{proc.stderr}")
    errors = [line for line in proc.stderr.splitlines()
              if re.match(r"(Error|Warning|Panic|Fatal):", line)]
    assert not errors, "\n".join(errors)
