"""TLS certificates by server name (SNI, RFC 6066 §3) and the secure
defaults: which certificate each name gets on IMAPS and after STARTTLS,
RSA beside ECDSA, protocol floor, groups, ciphers, server preference and
session resumption, checked with real TLS clients."""
import socket
import ssl
import subprocess
import time

import pytest

from conftest import TERND
from imaputil import RawImap
from tlsutil import Pki, client_context, s_client, subject_cn, tls_connect, wait_log


@pytest.fixture
def pki(tmp_path):
    pki = Pki(tmp_path / "pki")
    pki.server_ca = pki.ca("server-ca")
    return pki


def sni_config(pki):
    ca = pki.server_ca
    default = pki.server_cert("default.test", ca, ["localhost"])
    com = pki.server_cert("mail.example.com", ca, ["mail.example.com", "imap.example.com"])
    org = pki.server_cert("wild.example.org", ca, ["*.example.org"])
    exact = pki.server_cert("pop.example.org", ca, ["pop.example.org"])
    return f"""
tls {{
  cert_file = {default[0]}
  key_file = {default[1]}
}}
certificate com {{
  server_names = mail.example.com imap.example.com
  cert_file = {com[0]}
  key_file = {com[1]}
}}
certificate org {{
  server_names = *.example.org
  cert_file = {org[0]}
  key_file = {org[1]}
}}
certificate exact {{
  server_names = POP.example.org
  cert_file = {exact[0]}
  key_file = {exact[1]}
}}
"""


def served_cn(port, pki, server_name):
    ctx = client_context(cafile=pki.server_ca[0])
    with tls_connect(port, ctx, server_name) as s:
        assert s.greeting.startswith(b"* OK"), s.greeting
        return subject_cn(s.getpeercert())


SNI_CASES = [
    (None, "default.test"),
    ("mail.example.com", "mail.example.com"),
    ("IMAP.Example.COM", "mail.example.com"),
    ("smtp.example.org", "wild.example.org"),
    ("pop.example.org", "pop.example.org"),       # exact beats the wildcard
    ("a.b.example.org", "default.test"),          # a wildcard covers one label
    ("example.org", "default.test"),
    ("unknown.test", "default.test"),
]


def test_sni_chooses_certificate_on_imaps(ternd_factory, pki):
    srv = ternd_factory(config_extra=sni_config(pki)).start()
    for name, cn in SNI_CASES:
        assert served_cn(srv.imaps_port, pki, name) == cn, name
    wait_log(srv, "event=tls_handshake version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 "
             "sni=imap.example.com")


def test_sni_after_starttls_imap_and_stls_pop3(ternd_factory, pki):
    srv = ternd_factory(config_extra=sni_config(pki), pop3=True).start()
    ctx = client_context(cafile=pki.server_ca[0])
    c = RawImap(srv.imap_port)
    _, tagged = c.command("a", "STARTTLS")
    assert tagged.startswith(b"a OK"), tagged
    c.sock = ctx.wrap_socket(c.sock, server_hostname="imap.example.com")
    assert subject_cn(c.sock.getpeercert()) == "mail.example.com"
    _, tagged = c.command("b", "LOGIN alice secret")
    assert tagged.startswith(b"b OK"), tagged
    c.close()

    with socket.create_connection(("127.0.0.1", srv.pop3_port), timeout=10) as sock:
        f = sock.makefile("rb")
        assert f.readline().startswith(b"+OK")
        sock.sendall(b"STLS\r\n")
        assert f.readline().startswith(b"+OK")
        tls = ctx.wrap_socket(sock, server_hostname="x.example.org")
        assert subject_cn(tls.getpeercert()) == "wild.example.org"
        tls.sendall(b"QUIT\r\n")
        assert tls.recv(100).startswith(b"+OK")


def test_rsa_and_ecdsa_for_one_name(ternd_factory, pki):
    ca = pki.server_ca
    ec = pki.cert("ec", "/CN=ec.example.net", ca, dns=["example.net"])
    rsa = pki.cert("rsa", "/CN=rsa.example.net", ca, dns=["example.net"], key_type="rsa")
    srv = ternd_factory(config_extra=f"""
certificate net {{
  server_names = example.net
  cert_file = {ec[0]}
  key_file = {ec[1]}
  alt_cert_file = {rsa[0]}
  alt_key_file = {rsa[1]}
}}
""").start()
    tls12 = ssl.TLSVersion.TLSv1_2
    for ciphers, cn in (("ECDHE-RSA-AES128-GCM-SHA256", "rsa.example.net"),
                        ("ECDHE-ECDSA-AES128-GCM-SHA256", "ec.example.net")):
        ctx = client_context(cafile=ca[0], maximum=tls12, ciphers=ciphers)
        with tls_connect(srv.imaps_port, ctx, "example.net") as s:
            assert subject_cn(s.getpeercert()) == cn
            assert s.cipher()[0] == ciphers
    # a client that can verify both gets the server's first choice
    with tls_connect(srv.imaps_port, client_context(cafile=ca[0]), "example.net") as s:
        assert subject_cn(s.getpeercert()) in ("ec.example.net", "rsa.example.net")


def check_config(tmp_path, text):
    conf = tmp_path / "check.conf"
    conf.write_text(f"base_dir = {tmp_path / 'var'}\n" + text)
    return subprocess.run([str(TERND), "--check", "-c", str(conf)], capture_output=True,
                          text=True, timeout=30)


def test_bad_certificate_configs_fail_check(tmp_path, pki):
    ca = pki.server_ca
    a = pki.server_cert("a.test", ca, ["a.test"])
    b = pki.server_cert("b.test", ca, ["b.test"])
    cases = [
        (f"certificate a {{\n server_names = a.test\n cert_file = {a[0]}\n key_file = {a[1]}\n}}\n"
         f"certificate b {{\n server_names = A.TEST\n cert_file = {b[0]}\n key_file = {b[1]}\n}}\n",
         "server name 'A.TEST' is in both certificate a and certificate b"),
        (f"certificate a {{\n server_names = a.test\n cert_file = {a[0]}\n key_file = {b[1]}\n}}\n",
         "certificate a: can't load private key"),
        (f"certificate a {{\n cert_file = {a[0]}\n key_file = {a[1]}\n}}\n",
         "certificate a: server_names is empty"),
        (f"certificate a {{\n server_names = *.test\n cert_file = {a[0]}\n key_file = {a[1]}\n}}\n",
         "invalid server name '*.test'"),
        ("certificate a {\n server_names = a.test\n}\n", "certificate a: cert_file is not set"),
        ("tls.groups = X25519:NoSuchGroup\n", "invalid tls.groups 'X25519:NoSuchGroup'"),
        ("tls.ciphers = NOTHING-AT-ALL\n", "invalid tls.ciphers"),
    ]
    for text, error in cases:
        proc = check_config(tmp_path, text)
        assert proc.returncode == 78, (text, proc.stdout, proc.stderr)
        assert error in proc.stderr, (error, proc.stderr)
    good = check_config(tmp_path, cases[0][0].split("certificate b")[0])
    assert good.returncode == 0, good.stderr


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls11_and_older_refused(ternd):
    ctx = client_context(minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1_1,
                         ciphers="DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as e:
        tls_connect(ternd.imaps_port, ctx)
    assert "PROTOCOL_VERSION" in str(e.value).upper() or "VERSION" in str(e.value).upper()
    rc, out = s_client(ternd.imaps_port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert rc != 0 and "alert protocol version" in out, out
    rc, out = s_client(ternd.imaps_port, "-tls1_2")
    assert rc == 0 and "Protocol  : TLSv1.2" in out, out


def test_min_protocol_tls13(ternd_factory):
    srv = ternd_factory(config_extra="tls.min_protocol = TLSv1.3\n").start()
    ctx = client_context(maximum=ssl.TLSVersion.TLSv1_2)
    with pytest.raises(ssl.SSLError):
        tls_connect(srv.imaps_port, ctx)
    with tls_connect(srv.imaps_port, client_context()) as s:
        assert s.version() == "TLSv1.3"


def test_groups(ternd_factory):
    srv = ternd_factory(config_extra="tls.groups = P-384\n").start()
    # TLS 1.2 clients must also list the curve of the (P-256) ECDSA
    # certificate (RFC 8422 §5.1), TLS 1.3 ones need not
    for version, extra in (("-tls1_3", ""), ("-tls1_2", ":P-256")):
        rc, out = s_client(srv.imaps_port, version, "-groups", "X25519" + extra)
        assert rc != 0 and "* OK" not in out, out
        rc, out = s_client(srv.imaps_port, version, "-groups", "X25519:P-384" + extra)
        assert rc == 0 and "* OK" in out, out
        assert "Server Temp Key: ECDH, secp384r1" in out, out


def test_default_groups_prefer_x25519(ternd):
    rc, out = s_client(ternd.imaps_port, "-tls1_3")
    assert rc == 0 and "Server Temp Key: X25519" in out, out


def test_ciphers_and_server_preference(ternd_factory):
    srv = ternd_factory(config_extra="""
tls {
  ciphers = ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305
  cipher_suites = TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384
}
""").start()
    tls12 = ssl.TLSVersion.TLSv1_2
    # a cipher the server does not list
    with pytest.raises(ssl.SSLError):
        tls_connect(srv.imaps_port, client_context(maximum=tls12,
                                                   ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"))
    # the client prefers CHACHA20, the server's order wins
    ctx = client_context(maximum=tls12,
                         ciphers="ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384")
    with tls_connect(srv.imaps_port, ctx) as s:
        assert s.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
    # TLS 1.3 suites
    rc, out = s_client(srv.imaps_port, "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256")
    assert rc != 0 and "* OK" not in out, out
    rc, out = s_client(srv.imaps_port, "-tls1_3", "-ciphersuites",
                       "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
    assert rc == 0 and "Cipher is TLS_CHACHA20_POLY1305_SHA256" in out, out


def resumed(port, ctx, server_name=None):
    """Connects twice; whether the second handshake resumed the first's
    session."""
    with tls_connect(port, ctx, server_name) as s:
        # TLS 1.3 tickets come after the handshake; the greeting was read
        s.sendall(b"a NOOP\r\n")
        s.recv(1000)
        session = s.session
        assert not s.session_reused
    with tls_connect(port, ctx, server_name, session=session) as s:
        return s.session_reused


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_session_resumption_in_one_process(ternd_factory, pki, version):
    # one worker: the session cache is per process
    srv = ternd_factory(process_count=1, config_extra=sni_config(pki)).start()
    ctx = client_context(cafile=pki.server_ca[0], minimum=version, maximum=version)
    assert resumed(srv.imaps_port, ctx)
    assert resumed(srv.imaps_port, ctx, "mail.example.com")
    wait_log(srv, "resumed=yes")


def test_session_resumption_off(ternd_factory):
    srv = ternd_factory(process_count=1, config_extra="tls.session_timeout = 0\n").start()
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_context(minimum=version, maximum=version)
        assert not resumed(srv.imaps_port, ctx)


def test_no_compression_no_renegotiation(ternd):
    rc, out = s_client(ternd.imaps_port, "-tls1_2")
    assert rc == 0 and "Compression: NONE" in out, out
    # "R" asks s_client to renegotiate, once the session is up; the server
    # refuses with a no_renegotiation alert
    proc = subprocess.Popen(["openssl", "s_client", "-connect",
                             f"127.0.0.1:{ternd.imaps_port}", "-tls1_2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = b""
    while b"* OK" not in out:
        line = proc.stdout.readline()
        assert line, out
        out += line
    proc.stdin.write(b"R\n")
    proc.stdin.flush()
    time.sleep(1)
    rest, _ = proc.communicate(timeout=20)
    out = (out + rest).decode(errors="replace")
    assert "RENEGOTIATING" in out and "no renegotiation" in out, out
