"""Client certificates (tls.verify_client, client_ca_file, crl_file,
cert_username_field): which certificates are accepted, which end the
handshake, and the identity the server takes from them (logged as
event=tls_handshake, the facts SASL EXTERNAL builds on)."""
import re
import ssl
import subprocess
import time

import pytest

from conftest import TERND
from imaputil import RawImap
from tlsutil import Pki, client_context, s_client, tls_connect, wait_log


@pytest.fixture
def pki(tmp_path):
    pki = Pki(tmp_path / "pki")
    pki.client_ca = pki.ca("client-ca")
    pki.rogue_ca = pki.ca("rogue-ca")
    pki.alice = pki.cert("alice", "/CN=alice/emailAddress=alice@example.com", pki.client_ca,
                         emails=["alice.san@example.com"], client=True)
    pki.bob = pki.cert("bob", "/CN=bob", pki.client_ca, client=True)
    pki.mallory = pki.cert("mallory", "/CN=alice", pki.rogue_ca, client=True)
    return pki


def server(ternd_factory, pki, verify, extra="", **kwargs):
    return ternd_factory(config_extra=f"""
tls {{
  verify_client = {verify}
  client_ca_file = {pki.client_ca[0]}
{extra}}}
""", **kwargs).start()


def connect(srv, cert=None, version=None):
    ctx = client_context(cert=cert, minimum=version, maximum=version)
    return tls_connect(srv.imaps_port, ctx)


def handshake_lines(srv, count=None, timeout=5):
    """The event=tls_handshake lines, after waiting for there to be count
    of them: the server logs after it wrote the greeting, so the client
    may be faster than the log."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in srv.log_text().splitlines() if "event=tls_handshake" in line]
        if count is None or len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def last_handshake(srv, count):
    lines = handshake_lines(srv, count)
    assert len(lines) == count, lines
    return lines[-1]


def refused(srv, cert, version=None):
    """The server ends the handshake: at once (TLS 1.2) or as the client
    reads the greeting (TLS 1.3, where the client finishes first)."""
    try:
        with connect(srv, cert, version):
            return False
    except (ssl.SSLError, ConnectionError, OSError):
        return True


VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


@pytest.mark.parametrize("version", VERSIONS)
def test_required(ternd_factory, pki, version):
    srv = server(ternd_factory, pki, "required")
    with connect(srv, pki.alice, version) as s:
        assert s.greeting.startswith(b"* OK")
    line = last_handshake(srv, 1)
    assert "client_cert=verified cert_cn=alice cert_user=alice" in line, line
    assert refused(srv, None, version)
    wait_log(srv, "TLS handshake failed: error:0A0000C7:SSL routines::peer did not return a "
             "certificate")
    assert refused(srv, pki.mallory, version)
    wait_log(srv, "certificate verify failed (client certificate: unable to ")


def test_optional(ternd_factory, pki):
    srv = server(ternd_factory, pki, "optional")
    cases = ((None, None),
             (pki.alice, "client_cert=verified cert_cn=alice cert_user=alice"),
             # signed by a CA the server does not know
             (pki.mallory, "client_cert=invalid cert_error=\"unable to "))
    for count, (cert, expect) in enumerate(cases, 1):
        with connect(srv, cert) as s:
            assert s.greeting.startswith(b"* OK"), cert
        line = last_handshake(srv, count)
        if expect is None:
            assert "client_cert" not in line and "level=debug" in line, line
        else:
            assert expect in line and "level=info" in line, line


def test_certificate_request_names_the_ca(ternd_factory, pki):
    srv = server(ternd_factory, pki, "optional")
    rc, out = s_client(srv.imaps_port, "-tls1_3")
    assert rc == 0, out
    assert re.search(r"Acceptable client certificate CA names\s*\n\s*CN ?= ?client-ca", out), out
    assert "rogue-ca" not in out


def test_crl(ternd_factory, pki):
    pki.revoke("client-ca", pki.bob[0])
    crl = pki.crl("client-ca")
    srv = server(ternd_factory, pki, "required", extra=f"  crl_file = {crl}\n")
    with connect(srv, pki.alice) as s:
        assert s.greeting.startswith(b"* OK")
    assert refused(srv, pki.bob)
    wait_log(srv, "certificate verify failed (client certificate: certificate revoked)")
    srv.stop()

    srv = server(ternd_factory, pki, "optional", extra=f"  crl_file = {crl}\n")
    with connect(srv, pki.bob) as s:
        assert s.greeting.startswith(b"* OK")
    assert 'client_cert=invalid cert_error="certificate revoked"' in last_handshake(srv, 1)


@pytest.mark.parametrize("field,user", [("commonName", "alice"),
                                        ("emailAddress", "alice@example.com"),
                                        ("subjectAltName-email", "alice.san@example.com")])
def test_cert_username_field(ternd_factory, pki, field, user):
    srv = server(ternd_factory, pki, "optional", extra=f"  cert_username_field = {field}\n")
    with connect(srv, pki.alice) as s:
        assert s.greeting.startswith(b"* OK")
    line = last_handshake(srv, 1)
    assert f"cert_cn=alice cert_user={user}" in line, line
    # bob has no email address: verified, but no user name
    with connect(srv, pki.bob) as s:
        assert s.greeting.startswith(b"* OK")
    line = last_handshake(srv, 2)
    expect = "cert_user=bob" if field == "commonName" else 'cert_user=""'
    assert "client_cert=verified cert_cn=bob" in line and expect in line, line


def test_client_cert_after_starttls(ternd_factory, pki):
    srv = server(ternd_factory, pki, "required")
    c = RawImap(srv.imap_port)
    _, tagged = c.command("a", "STARTTLS")
    assert tagged.startswith(b"a OK"), tagged
    c.sock = client_context(cert=pki.alice).wrap_socket(c.sock)
    _, tagged = c.command("b", "LOGIN alice secret")
    assert tagged.startswith(b"b OK"), tagged
    assert "client_cert=verified cert_cn=alice" in last_handshake(srv, 1)


@pytest.mark.parametrize("version", VERSIONS)
def test_resumed_session_keeps_the_identity(ternd_factory, pki, version):
    srv = server(ternd_factory, pki, "optional", process_count=1)
    ctx = client_context(cert=pki.alice, minimum=version, maximum=version)
    with tls_connect(srv.imaps_port, ctx) as s:
        s.sendall(b"a NOOP\r\n")
        s.recv(1000)
        session = s.session
    with tls_connect(srv.imaps_port, ctx, session=session) as s:
        assert s.session_reused
    line = last_handshake(srv, 2)
    assert "resumed=yes client_cert=verified cert_cn=alice cert_user=alice" in line, line


def test_verify_client_needs_a_ca_file(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text(f"base_dir = {tmp_path / 'var'}\ntls.verify_client = optional\n")
    proc = subprocess.run([str(TERND), "--check", "-c", str(conf)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 78
    assert "tls.verify_client needs tls.client_ca_file" in proc.stderr
    conf.write_text(f"base_dir = {tmp_path / 'var'}\ntls.verify_client = optional\n"
                    f"tls.client_ca_file = {tmp_path / 'missing.pem'}\n")
    proc = subprocess.run([str(TERND), "--check", "-c", str(conf)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 78 and "can't load client CA file" in proc.stderr, proc.stderr


def test_client_cert_with_sni_certificate(ternd_factory, pki):
    """A client whose server name switches the certificate is verified
    against the same CAs and CRLs."""
    pki.revoke("client-ca", pki.bob[0])
    crl = pki.crl("client-ca")
    server_ca = pki.ca("server-ca")
    sni = pki.server_cert("mail.example.com", server_ca, ["mail.example.com"])
    srv = server(ternd_factory, pki, "required", extra=f"  crl_file = {crl}\n")
    srv.stop()
    srv.write_config(srv.config_extra + f"""
certificate mail {{
  server_names = mail.example.com
  cert_file = {sni[0]}
  key_file = {sni[1]}
}}
""")
    srv.start()
    ctx = client_context(cafile=server_ca[0], cert=pki.alice)
    with tls_connect(srv.imaps_port, ctx, "mail.example.com") as s:
        assert s.greeting.startswith(b"* OK")
        assert s.getpeercert()["subject"] == ((("commonName", "mail.example.com"),),)
    assert "sni=mail.example.com client_cert=verified cert_cn=alice" in last_handshake(srv, 1)
    for cert in (None, pki.bob, pki.mallory):
        ctx = client_context(cafile=server_ca[0], cert=cert)
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            tls_connect(srv.imaps_port, ctx, "mail.example.com").close()
    wait_log(srv, "(client certificate: certificate revoked)")
