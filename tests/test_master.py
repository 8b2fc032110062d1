"""The ternd master: worker supervision, reload on SIGHUP without dropping
sessions, draining on SIGTERM, and the --check / -n command line."""
import os
import signal
import subprocess
import time

import pytest

from conftest import TERND, free_port, wait_port
from imaputil import RawImap


def wait_for(pred, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return False


def login(port):
    c = RawImap(port)
    _, tagged = c.command("l1", "LOGIN alice secret")
    assert tagged.startswith(b"l1 OK"), tagged
    return c


def test_crashed_worker_is_replaced(ternd):
    pids = ternd.worker_pids("imap-login")
    assert len(pids) == 2
    os.kill(pids[0], signal.SIGKILL)
    assert wait_for(lambda: len(ternd.worker_pids("imap-login")) == 2 and
                    pids[0] not in ternd.worker_pids("imap-login"))
    for _ in range(4):  # every worker serves
        login(ternd.imap_port).command("x", "LOGOUT")
    assert "event=worker_died" in ternd.log_text()


def test_session_survives_other_worker_crash(ternd):
    c = login(ternd.imap_port)
    victim = ternd.worker_pids("imap-login")[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.3)
    try:
        _, tagged = c.command("a1", "NOOP")
        assert tagged.startswith(b"a1 OK")
    except ConnectionError:
        # ours was the killed one: the client got a clean disconnect
        pass
    login(ternd.imap_port).command("x", "LOGOUT")


def test_reload_keeps_sessions_and_applies_config(ternd):
    c = login(ternd.imap_port)
    old_pids = set(ternd.worker_pids())
    new_port = free_port()
    ternd.write_config(f"listener extra {{\n  protocol = imap\n  port = {new_port}\n  tls = none\n}}\n")
    ternd.signal(signal.SIGHUP)
    wait_port(new_port)
    # the established session goes on in its old worker
    _, tagged = c.command("a1", "NOOP")
    assert tagged.startswith(b"a1 OK")
    login(new_port).command("x", "LOGOUT")
    login(ternd.imap_port).command("x", "LOGOUT")
    assert "event=reload" in ternd.log_text()
    # old workers without sessions go away; ours stays until we log out
    c.command("a2", "LOGOUT")
    assert wait_for(lambda: not (old_pids & set(ternd.worker_pids())), timeout=10)


def test_reload_with_broken_config_keeps_running(ternd):
    ternd.write_config("this is { not valid\n")
    ternd.signal(signal.SIGHUP)
    assert wait_for(lambda: "event=reload_failed" in ternd.log_text())
    login(ternd.imap_port).command("x", "LOGOUT")


def test_sigterm_says_bye_and_exits(ternd):
    idle = RawImap(ternd.imap_port)
    session = login(ternd.imap_port)
    ternd.signal(signal.SIGTERM)
    assert idle.readline().startswith(b"* BYE")
    assert session.readline().startswith(b"* BYE")
    assert ternd.proc.wait(timeout=15) == 0


def test_check_and_dump(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text(f"base_dir = {tmp_path}/var\nimap {{\n  max_line_length = 1M\n}}\n")
    out = subprocess.run([str(TERND), "--check", str(good)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([str(TERND), "-n", "-c", str(good)], capture_output=True, text=True)
    assert out.returncode == 0
    assert "max_line_length = 1M" in out.stdout
    assert "login_timeout" not in out.stdout
    bad = tmp_path / "bad.conf"
    bad.write_text("imap {\n  max_line_length = lots\n}\n")
    out = subprocess.run([str(TERND), "--check", str(bad)], capture_output=True, text=True)
    assert out.returncode != 0
    assert f"{bad}:2:" in out.stderr
    out = subprocess.run([str(TERND), "--check", str(tmp_path / "missing.conf")],
                         capture_output=True, text=True)
    assert out.returncode != 0


def test_port_in_use_fails_startup(ternd_factory):
    first = ternd_factory().start()
    second = ternd_factory()
    second.imap_port = first.imap_port
    second.write_config()
    proc = subprocess.run([str(TERND), "-F", "-c", str(second.config_path)],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "startup_failed" in proc.stderr and "Address already in use" in proc.stderr


def test_two_listeners_on_one_address_fail(ternd_factory):
    """A configuration that puts two listeners on one port is an error (at
    startup, and a reload to it is refused): sharing the socket would make
    one listener's clients talk to the other's protocol or TLS mode."""
    srv = ternd_factory()
    srv.imaps_port = srv.imap_port
    srv.write_config()
    proc = subprocess.run([str(TERND), "-F", "-c", str(srv.config_path)],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "listeners imap and imaps use the same address" in proc.stderr, proc.stderr

    ok = ternd_factory().start()
    ok.write_config(f"listener extra {{\n  protocol = imap\n  port = {ok.imap_port}\n"
                    "  tls = none\n}\n")
    ok.signal(signal.SIGHUP)
    assert wait_for(lambda: "event=reload_failed" in ok.log_text())
    login(ok.imap_port).command("x", "LOGOUT")
