"""Certificates on SIGHUP: a replaced certificate is served to new
connections while established TLS sessions go on with the old one; a
broken new certificate makes the reload fail (event=reload_failed) and
the old workers keep serving with what they loaded."""
import os
import shutil
import signal
import time

import pytest

from tlsutil import Pki, client_context, subject_cn, tls_connect, wait_log


@pytest.fixture
def pki(tmp_path):
    pki = Pki(tmp_path / "pki")
    pki.server_ca = pki.ca("server-ca")
    return pki


def install(pair, cert_path, key_path):
    """Replaces the served files the way certbot-like tools do: a new file
    renamed over the old one."""
    for src, dst in ((pair[0], cert_path), (pair[1], key_path)):
        tmp = dst.with_suffix(".new")
        shutil.copy(src, tmp)
        tmp.rename(dst)


def served_cn(srv, pki, server_name=None):
    with tls_connect(srv.imaps_port, client_context(cafile=pki.server_ca[0]), server_name) as s:
        assert s.greeting.startswith(b"* OK"), s.greeting
        return subject_cn(s.getpeercert())


def wait_cn(srv, pki, cn, server_name=None, timeout=10):
    """Waits until new connections get cn: during a reload a connection
    may still go to an old worker that hasn't heard of it yet."""
    deadline = time.monotonic() + timeout
    while True:
        got = served_cn(srv, pki, server_name)
        if got == cn:
            return
        assert time.monotonic() < deadline, f"still served {got}, not {cn}"
        time.sleep(0.05)


def reload_count(srv):
    return srv.log_text().count("event=reload ")


def sighup(srv, expect="event=reload "):
    before = srv.log_text().count(expect)
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while srv.log_text().count(expect) == before:
        assert time.monotonic() < deadline, f"no {expect} after SIGHUP"
        time.sleep(0.02)


def tls_paths(srv):
    d = srv.dir / "served"
    d.mkdir(exist_ok=True)
    return d / "cert.pem", d / "key.pem", d / "sni-cert.pem", d / "sni-key.pem"


def start(ternd_factory, pki):
    old = pki.server_cert("old.test", pki.server_ca, ["old.test"])
    sni_old = pki.server_cert("sni-old.test", pki.server_ca, ["mail.example.com"])
    srv = ternd_factory()
    cert, key, sni_cert, sni_key = tls_paths(srv)
    install(old, cert, key)
    install(sni_old, sni_cert, sni_key)
    srv.write_config(f"""
tls {{
  cert_file = {cert}
  key_file = {key}
}}
certificate mail {{
  server_names = mail.example.com
  cert_file = {sni_cert}
  key_file = {sni_key}
}}
""")
    return srv.start()


def test_reload_serves_new_certificate_and_keeps_sessions(ternd_factory, pki):
    srv = start(ternd_factory, pki)
    cert, key, sni_cert, sni_key = tls_paths(srv)
    ctx = client_context(cafile=pki.server_ca[0])
    session = tls_connect(srv.imaps_port, ctx)
    assert subject_cn(session.getpeercert()) == "old.test"
    session.sendall(b"a LOGIN alice secret\r\n")
    assert b"a OK" in session.recv(4096)

    install(pki.server_cert("new.test", pki.server_ca, ["new.test"]), cert, key)
    install(pki.server_cert("sni-new.test", pki.server_ca, ["mail.example.com"]),
            sni_cert, sni_key)
    sighup(srv)
    wait_cn(srv, pki, "new.test")
    wait_cn(srv, pki, "sni-new.test", "mail.example.com")
    for _ in range(4):  # every new worker has it
        assert served_cn(srv, pki) == "new.test"

    # the session from before goes on over its old TLS connection
    session.sendall(b"b NOOP\r\n")
    assert b"b OK" in session.recv(4096)
    assert subject_cn(session.getpeercert()) == "old.test"
    session.sendall(b"c LOGOUT\r\n")
    session.close()


@pytest.mark.parametrize("breakage", ["garbage", "key mismatch", "missing", "bad sni cert"])
def test_broken_certificate_fails_reload(ternd_factory, pki, breakage):
    srv = start(ternd_factory, pki)
    cert, key, sni_cert, sni_key = tls_paths(srv)
    session = tls_connect(srv.imaps_port, client_context())
    if breakage == "garbage":
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        error = "can't load certificate"
    elif breakage == "key mismatch":
        other = pki.server_cert("other.test", pki.server_ca, ["other.test"])
        install((other[0], key), cert, key)  # the new certificate without its key
        error = "key values mismatch"
    elif breakage == "missing":
        cert.unlink()
        error = "can't load certificate"
    else:
        sni_key.write_text("")
        error = "certificate mail: can't load private key"
    sighup(srv, "event=reload_failed")
    log = wait_log(srv, "event=reload_failed")
    failed = [line for line in log.splitlines() if "event=reload_failed" in line][-1]
    assert error in failed, failed

    # the old workers serve on, with the certificates they loaded
    assert reload_count(srv) == 0
    for _ in range(4):
        assert served_cn(srv, pki) == "old.test"
    assert served_cn(srv, pki, "mail.example.com") == "sni-old.test"
    session.sendall(b"a LOGIN alice secret\r\n")
    assert b"a OK" in session.recv(4096)
    session.close()

    # fixing the files makes the next reload work
    install(pki.server_cert("fixed.test", pki.server_ca, ["fixed.test"]), cert, key)
    install(pki.server_cert("sni-fixed.test", pki.server_ca, ["mail.example.com"]),
            sni_cert, sni_key)
    sighup(srv)
    wait_cn(srv, pki, "fixed.test")


def test_reload_adds_a_certificate(ternd_factory, pki):
    srv = start(ternd_factory, pki)
    added = pki.server_cert("added.test", pki.server_ca, ["*.example.org"])
    srv.write_config(srv.config_extra + f"""
certificate org {{
  server_names = *.example.org
  cert_file = {added[0]}
  key_file = {added[1]}
}}
""")
    assert served_cn(srv, pki, "imap.example.org") == "old.test"
    sighup(srv)
    wait_cn(srv, pki, "added.test", "imap.example.org")
    assert served_cn(srv, pki, "mail.example.com") == "sni-old.test"


def test_restarted_worker_uses_the_checked_files(ternd_factory, pki):
    """Workers build their TLS context from the bytes the master read and
    checked (passed with the configuration), not from the files: one that
    is restarted after the files were broken still serves."""
    srv = start(ternd_factory, pki)
    cert, key, sni_cert, sni_key = tls_paths(srv)
    cert.write_text("broken\n")
    sni_key.unlink()
    old = set(srv.worker_pids())
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while len(set(srv.worker_pids()) - old) < 2:
        assert time.monotonic() < deadline, "workers were not restarted"
        time.sleep(0.05)
    for _ in range(4):
        assert served_cn(srv, pki) == "old.test"
    assert served_cn(srv, pki, "mail.example.com") == "sni-old.test"
    assert "tls_init_failed" not in srv.log_text()
