"""The first start of `make run` (`ternd -F --demo`): a self-signed
certificate and a demo user with a random password are created, the
banner lists every listener and the credentials, and those credentials log
in over IMAP (STARTTLS port) and IMAPS; a second start prints the same
password and creates nothing new."""
import imaplib
import re
import signal
import ssl
import subprocess
import time

from conftest import TERND, Ternd, wait_greeting


def start_demo(srv):
    proc = subprocess.Popen([str(TERND), "-F", "--demo", "-c", str(srv.config_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            cwd=srv.dir, start_new_session=True)
    banner = b""
    deadline = time.monotonic() + 30
    while b"add a user:" not in banner and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        banner += line
    wait_greeting(srv.imap_port)
    return proc, banner.decode()


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    proc.stdout.close()


def test_demo_first_start(tmp_path):
    srv = Ternd(tmp_path, users={})
    proc, banner = start_demo(srv)
    try:
        # every enabled listener with its protocol and port
        assert re.search(rf"imap +imap +127\.0\.0\.1:{srv.imap_port} \(STARTTLS\)", banner), banner
        assert re.search(rf"imaps +imap +127\.0\.0\.1:{srv.imaps_port} \(TLS\)", banner), banner
        password = re.search(r"password: +(\S+)", banner).group(1)
        assert re.search(r"demo user: +demo", banner)
        assert f"curl -v 'imap://127.0.0.1:{srv.imap_port}/' --user demo:{password}" in banner
        assert (srv.base / "tls" / "cert.pem").exists()
        assert "demo:" in srv.passwd_path.read_text()
        imap = imaplib.IMAP4("127.0.0.1", srv.imap_port)
        imap.starttls(ssl._create_unverified_context())
        assert imap.login("demo", password)[0] == "OK"
        assert imap.select("INBOX")[0] == "OK"
        imap.logout()
        imaps = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port,
                                  ssl_context=ssl._create_unverified_context())
        assert imaps.login("demo", password)[0] == "OK"
        imaps.logout()
    finally:
        stop(proc)
    # a second start keeps the user and prints the same password
    passwd = srv.passwd_path.read_text()
    proc, banner2 = start_demo(srv)
    try:
        assert re.search(r"password: +(\S+)", banner2).group(1) == password
        assert srv.passwd_path.read_text() == passwd
    finally:
        stop(proc)
