"""SASL mechanisms against a running ternd (issue 8): PLAIN, LOGIN, CRAM-MD5
(RFC 2195), SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) and their
-PLUS forms with tls-exporter channel binding (RFC 9266), OAUTHBEARER
(RFC 7628) and XOAUTH2 with JWTs (HS256 from hmac, RS256 and ES256 signed
by the openssl command) and with an RFC 7662 introspection endpoint, and
EXTERNAL with a TLS client certificate; through IMAP AUTHENTICATE (with
and without SASL-IR, RFC 4959) and POP3 AUTH (RFC 5034). The client side
of every mechanism is written here with hashlib/hmac."""
import base64
import ctypes
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import ROOT, TERNCTL, TERND
from imaputil import RawImap

CRLF = b"\r\n"
ALL_MECHS = ("PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 "
             "SCRAM-SHA-256-PLUS OAUTHBEARER XOAUTH2 EXTERNAL")
JWT_SECRET = b"a shared secret for HS256"


def b64(data):
    return base64.b64encode(data).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ternctl_pw(scheme, password):
    out = subprocess.run([str(TERNCTL), "pw", "-s", scheme, "-p", password],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


# ---- the client side of each mechanism ----

class Plain:
    def __init__(self, user, password, authzid=""):
        self.msg = f"{authzid}\0{user}\0{password}".encode()

    def initial(self):
        return self.msg

    def respond(self, challenge):
        return self.msg


class Login:
    def __init__(self, user, password):
        self.user, self.password = user, password

    def initial(self):
        return None

    def respond(self, challenge):
        return (self.user if challenge.startswith(b"User") else self.password).encode()


class CramMd5:
    def __init__(self, user, password):
        self.user, self.password = user, password
        self.challenge = None

    def initial(self):
        return None  # server-first (RFC 2195 §2)

    def respond(self, challenge):
        self.challenge = challenge
        digest = hmac.new(self.password.encode(), challenge, "md5").hexdigest()
        return f"{self.user} {digest}".encode()


class Scram:
    """RFC 5802 §3 client; cb is the tls-exporter binding for -PLUS."""

    def __init__(self, hashname, user, password, cb=None, authzid=None):
        self.hashname, self.user, self.password = hashname, user, password
        self.cb, self.authzid = cb, authzid
        self.server_first = None
        self.verified = False

    def initial(self):
        self.nonce = b64(os.urandom(18))
        authz = "" if self.authzid is None else "a=" + self.authzid.replace("=", "=3D").replace(",", "=2C")
        self.gs2 = ("p=tls-exporter" if self.cb is not None else "n") + f",{authz},"
        user = self.user.replace("=", "=3D").replace(",", "=2C")
        self.bare = f"n={user},r={self.nonce}"
        return (self.gs2 + self.bare).encode()

    def _hmac(self, key, msg):
        return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, self.hashname).digest()

    def respond(self, challenge):
        if self.server_first is not None:
            # server-final: v=ServerSignature, and we answer it empty
            assert challenge == b"v=" + base64.b64encode(self.server_signature), challenge
            self.verified = True
            return b""
        self.server_first = challenge.decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        assert attrs["r"].startswith(self.nonce)
        salted = hashlib.pbkdf2_hmac(self.hashname, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = self._hmac(salted, "Client Key")
        stored_key = hashlib.new(self.hashname, client_key).digest()
        cbind = b64(self.gs2.encode() + (self.cb or b""))
        without_proof = f"c={cbind},r={attrs['r']}"
        auth_message = f"{self.bare},{self.server_first},{without_proof}"
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = self._hmac(self._hmac(salted, "Server Key"), auth_message)
        return f"{without_proof},p={b64(proof)}".encode()


class OAuthBearer:
    def __init__(self, user, token, port=143):
        self.user, self.token, self.port = user, token, port
        self.error = None

    def initial(self):
        authz = "" if self.user is None else f"a={self.user}"
        return (f"n,{authz},\x01host=127.0.0.1\x01port={self.port}\x01"
                f"auth=Bearer {self.token}\x01\x01").encode()

    def respond(self, challenge):
        if challenge == b"":
            return self.initial()
        # RFC 7628 §3.2.2: the error, answered with a lone ^A
        self.error = json.loads(challenge)
        return b"\x01"


class XOAuth2(OAuthBearer):
    def initial(self):
        return f"user={self.user}\x01auth=Bearer {self.token}\x01\x01".encode()

    def respond(self, challenge):
        if challenge == b"":
            return self.initial()
        self.error = json.loads(challenge)
        return b""


class External:
    def __init__(self, authzid=""):
        self.authzid = authzid.encode()

    def initial(self):
        return self.authzid

    def respond(self, challenge):
        return self.authzid


# ---- the protocols ----

def imap_authenticate(conn, mech, client, sasl_ir=True):
    """Runs AUTHENTICATE; returns the tagged line."""
    first = client.initial()
    if sasl_ir and first is not None:
        conn.send(f"a AUTHENTICATE {mech} {b64(first) or '='}\r\n")
        first = None
    else:
        conn.send(f"a AUTHENTICATE {mech}\r\n")
    while True:
        line = conn.readline()
        if line.startswith(b"a "):
            return line
        assert line.startswith(b"+"), line
        challenge = base64.b64decode(line[2:])
        if first is not None:
            assert challenge == b""
            answer, first = first, None
        else:
            answer = client.respond(challenge)
        conn.send(b64(answer).encode() + CRLF)


class Pop:
    def __init__(self, port, tls=False, context=None):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls:
            sock = (context or client_tls_context()).wrap_socket(sock)
        self.sock, self.buf = sock, b""
        self.greeting = self.readline()

    def readline(self):
        while CRLF not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(CRLF, 1)
        return line

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.readline()

    def close(self):
        self.sock.close()


def pop3_auth(conn, mech, client, initial_response=True):
    """Runs AUTH; returns the final status line."""
    first = client.initial()
    if initial_response and first is not None:
        conn.send(f"AUTH {mech} {b64(first) or '='}\r\n")
        first = None
    else:
        conn.send(f"AUTH {mech}\r\n")
    while True:
        line = conn.readline()
        if not line.startswith(b"+ ") and line != b"+":
            return line
        challenge = base64.b64decode(line[2:])
        if first is not None:
            answer, first = first, None
        else:
            answer = client.respond(challenge)
        conn.send(b64(answer).encode() + CRLF)


def client_tls_context(cert=None, key=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def tls_exporter(sslsock):
    """RFC 9266 tls-exporter of a Python TLS socket. Python 3.11's
    get_channel_binding() knows only tls-unique, so call OpenSSL's
    SSL_export_keying_material on the socket's SSL (CPython keeps it right
    after the object header and the socket weakref)."""
    try:
        libssl = ctypes.CDLL("libssl.so.3")
    except OSError:
        pytest.skip("no libssl.so.3 for the tls-exporter")
    libssl.SSL_version.argtypes = [ctypes.c_void_p]
    libssl.SSL_export_keying_material.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
        ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    ptr = ctypes.c_void_p.from_address(id(sslsock._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value
    if ptr is None or libssl.SSL_version(ptr) != 0x0304 or sslsock.version() != "TLSv1.3":
        pytest.skip("can't reach this Python's SSL object for the tls-exporter")
    out = ctypes.create_string_buffer(32)
    label = b"EXPORTER-Channel-Binding"
    assert libssl.SSL_export_keying_material(ptr, out, 32, label, len(label), None, 0, 0) == 1
    return out.raw


# ---- JWTs ----

def jwt_hs256(claims, secret=JWT_SECRET, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    sig = hmac.new(secret, signing_input.encode(), "sha256").digest()
    return f"{signing_input}.{b64url(sig)}"


def der_ecdsa_to_raw(der, size=32):
    """SEQUENCE { INTEGER r, INTEGER s } to r || s (RFC 7518 §3.4)."""
    assert der[0] == 0x30
    pos = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[pos] == 0x02
        length = der[pos + 1]
        value = der[pos + 2:pos + 2 + length].lstrip(b"\0")
        out += value.rjust(size, b"\0")
        pos += 2 + length
    return out


def jwt_openssl(claims, alg, kid, key_path):
    """RS256 or ES256, signed by `openssl dgst -sign`."""
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key_path)],
                         input=signing_input.encode(), capture_output=True, check=True).stdout
    if alg == "ES256":
        sig = der_ecdsa_to_raw(sig)
    return f"{signing_input}.{b64url(sig)}"


def claims_for(user, exp_in=300, **extra):
    now = int(time.time())
    return {"email": user, "sub": "id-" + user, "iat": now, "exp": now + exp_in, **extra}


# ---- fixtures ----

@pytest.fixture(scope="module")
def stored_hashes():
    return {
        "scram256": ternctl_pw("SCRAM-SHA-256", "s256pw"),
        "scram1": ternctl_pw("SCRAM-SHA-1", "s1pw"),
        "cram": ternctl_pw("CRAM-MD5", "crampw"),
        "crypt": ternctl_pw("SHA512-CRYPT", "cryptpw"),
    }


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("jwtkeys")
    pub = d / "pub"
    pub.mkdir()
    for name, args in (("rsa1", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
                       ("ec1", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                       ("ec-other", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])):
        subprocess.run(["openssl", "genpkey", *args, "-out", str(d / f"{name}.key")],
                       check=True, capture_output=True)
        if name != "ec-other":
            subprocess.run(["openssl", "pkey", "-in", str(d / f"{name}.key"), "-pubout",
                            "-out", str(pub / f"{name}.pem")], check=True, capture_output=True)
    (d / "secret").write_bytes(JWT_SECRET + b"\n")
    return d


def write_users(srv, hashes):
    lines = [
        "alice:{PLAIN}secret::::::",
        "bob:{PLAIN}bobpw::::::",
        f"scram256:{hashes['scram256']}::::::",
        f"scram1:{hashes['scram1']}::::::",
        f"cram:{hashes['cram']}::::::",
        f"crypt:{hashes['crypt']}::::::",
        "carol:{PLAIN}carolpw::::::nologin reason=suspended",
    ]
    srv.passwd_path.write_text("".join(line + "\n" for line in lines))


@pytest.fixture
def srv(ternd_factory, stored_hashes, keys):
    s = ternd_factory(pop3=True, config_extra=f"""
auth.mechanisms = {ALL_MECHS}
auth.oauth2_jwt_keys_dir = {keys / 'pub'}
auth.oauth2_jwt_secret_file = {keys / 'secret'}
""")
    write_users(s, stored_hashes)
    return s.start()


def capabilities(conn):
    untagged, tagged = conn.command("c", "CAPABILITY")
    assert tagged.startswith(b"c OK")
    return untagged[0].decode().split()


def assert_logged_in(conn):
    _, tagged = conn.command("s", "SELECT INBOX")
    assert tagged.startswith(b"s OK"), tagged


# ---- tests ----

def test_capabilities_by_connection(srv):
    c = RawImap(srv.imap_port)
    caps = capabilities(c)
    # loopback counts as secured: plaintext mechanisms are offered
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
                 "OAUTHBEARER", "XOAUTH2"):
        assert f"AUTH={mech}" in caps
    # no TLS: no channel binding; no certificate: no EXTERNAL
    assert "AUTH=SCRAM-SHA-256-PLUS" not in caps and "AUTH=EXTERNAL" not in caps
    assert "SASL-IR" in caps
    c.close()
    t = RawImap(srv.imaps_port, tls=True)
    assert t.sock.version() == "TLSv1.3"
    # the greeting went out before the handshake (TLS 1.2 was possible)
    assert b"SCRAM-SHA-256-PLUS" not in t.greeting
    caps = capabilities(t)
    assert "AUTH=SCRAM-SHA-256-PLUS" in caps and "AUTH=SCRAM-SHA-1-PLUS" in caps
    assert "AUTH=EXTERNAL" not in caps
    t.close()
    # TLS 1.2: tls-exporter is not used (RFC 9266 §3)
    ctx = client_tls_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    raw = socket.create_connection(("127.0.0.1", srv.imaps_port), timeout=10)
    t12 = RawImap.__new__(RawImap)
    t12.sock, t12.buf = ctx.wrap_socket(raw), b""
    t12.greeting = t12.readline()
    caps = capabilities(t12)
    assert "AUTH=SCRAM-SHA-256" in caps and "AUTH=SCRAM-SHA-256-PLUS" not in caps
    t12.close()
    # POP3: CAPA's SASL line and the AUTH listing
    p = Pop(srv.pop3_port)
    p.send("CAPA\r\n")
    lines = []
    while (line := p.readline()) != b".":
        lines.append(line)
    sasl = next(line for line in lines if line.startswith(b"SASL "))
    assert b"SCRAM-SHA-256" in sasl and b"CRAM-MD5" in sasl and b"-PLUS" not in sasl
    assert p.cmd("AUTH").startswith(b"+OK")
    listed = []
    while (line := p.readline()) != b".":
        listed.append(line.decode())
    assert "XOAUTH2" in listed and "SCRAM-SHA-1" in listed and "EXTERNAL" not in listed
    p.close()


MECH_CASES = [
    ("PLAIN", lambda: Plain("alice", "secret")),
    ("LOGIN", lambda: Login("alice", "secret")),
    ("CRAM-MD5", lambda: CramMd5("cram", "crampw")),
    ("CRAM-MD5", lambda: CramMd5("alice", "secret")),
    ("SCRAM-SHA-1", lambda: Scram("sha1", "scram1", "s1pw")),
    ("SCRAM-SHA-1", lambda: Scram("sha1", "alice", "secret")),
    ("SCRAM-SHA-256", lambda: Scram("sha256", "scram256", "s256pw")),
    ("SCRAM-SHA-256", lambda: Scram("sha256", "alice", "secret")),
    ("SCRAM-SHA-256", lambda: Scram("sha256", "scram256", "s256pw", authzid="scram256")),
]


@pytest.mark.parametrize("sasl_ir", [True, False], ids=["sasl-ir", "no-ir"])
def test_imap_authenticate_each_mechanism(srv, sasl_ir):
    for mech, make in MECH_CASES:
        c = RawImap(srv.imap_port)
        client = make()
        tagged = imap_authenticate(c, mech, client, sasl_ir=sasl_ir)
        assert tagged.startswith(b"a OK"), (mech, tagged)
        if isinstance(client, Scram):
            assert client.verified, "the server's signature was checked"
        assert_logged_in(c)
        c.close()
    log = srv.log_text()
    assert "user=cram event=auth result=ok mech=CRAM-MD5" in log
    assert "user=scram256 event=auth result=ok mech=SCRAM-SHA-256" in log


def test_imap_credential_failures(srv):
    cases = [
        ("SCRAM-SHA-256", Scram("sha256", "scram256", "wrong"), "credentials mismatch"),
        ("SCRAM-SHA-256", Scram("sha256", "nobody", "x"), "unknown user"),
        ("SCRAM-SHA-1", Scram("sha1", "scram256", "s256pw"),
         "stored as SCRAM-SHA-256, which SCRAM-SHA-1 can't use"),
        ("SCRAM-SHA-256", Scram("sha256", "crypt", "cryptpw"),
         "stored as SHA512-CRYPT, which SCRAM-SHA-256 can't use"),
        ("CRAM-MD5", CramMd5("crypt", "cryptpw"), "stored as SHA512-CRYPT, which CRAM-MD5 can't use"),
        ("CRAM-MD5", CramMd5("cram", "nope"), "CRAM-MD5 digest mismatch"),
        ("SCRAM-SHA-256", Scram("sha256", "alice", "secret", authzid="bob"),
         "authzid bob not allowed"),
    ]
    for mech, client, reason in cases:
        c = RawImap(srv.imap_port)
        tagged = imap_authenticate(c, mech, client)
        assert tagged.startswith(b"a NO [AUTHENTICATIONFAILED]"), (mech, tagged)
        if isinstance(client, Scram):
            assert not client.verified
        c.close()
        assert f'{reason}"' in srv.log_text(), reason
    # the passdb still says no to a disabled user after a good proof
    c = RawImap(srv.imap_port)
    tagged = imap_authenticate(c, "SCRAM-SHA-256", Scram("sha256", "carol", "carolpw"))
    assert tagged.startswith(b"a NO [AUTHORIZATIONFAILED]"), tagged
    # a client that cancels, and garbage
    c.send("b AUTHENTICATE CRAM-MD5\r\n")
    assert c.readline().startswith(b"+ ")
    c.send("*\r\n")
    assert c.readline().startswith(b"b BAD")
    c.send("d AUTHENTICATE SCRAM-SHA-256 " + b64(b"x,,n=a,r=b") + "\r\n")
    assert c.readline().startswith(b"d BAD")
    c.close()


def test_master_users(ternd_factory, stored_hashes, tmp_path):
    """A master passdb's users log in as others with SCRAM's authorization
    identity and with "user*master" in SCRAM and CRAM-MD5."""
    masters = tmp_path / "masters"
    masters.write_text("admin:{PLAIN}adminpw::::::\n"
                       f"admin2:{ternctl_pw('SCRAM-SHA-256', 'admin2pw')}::::::\n")
    srv = ternd_factory(config_extra=f"""
auth.mechanisms = PLAIN CRAM-MD5 SCRAM-SHA-256
passdb masters {{
  driver = passwd-file
  args = {masters}
  master = yes
}}
passdb users {{
  driver = passwd-file
  args = passwd
}}
""")
    write_users(srv, stored_hashes)
    srv.start()
    for mech, client in (("SCRAM-SHA-256", Scram("sha256", "admin", "adminpw", authzid="scram256")),
                         ("SCRAM-SHA-256", Scram("sha256", "admin2", "admin2pw", authzid="alice")),
                         ("SCRAM-SHA-256", Scram("sha256", "bob*admin2", "admin2pw")),
                         ("CRAM-MD5", CramMd5("alice*admin", "adminpw"))):
        c = RawImap(srv.imap_port)
        assert imap_authenticate(c, mech, client).startswith(b"a OK"), (mech, client.__dict__)
        assert_logged_in(c)
        c.close()
    for mech, client in (("SCRAM-SHA-256", Scram("sha256", "admin", "wrong", authzid="alice")),
                         ("SCRAM-SHA-256", Scram("sha256", "alice", "secret", authzid="bob")),
                         ("SCRAM-SHA-256", Scram("sha256", "admin", "adminpw", authzid="nosuch")),
                         ("CRAM-MD5", CramMd5("nosuch*admin", "adminpw"))):
        c = RawImap(srv.imap_port)
        assert imap_authenticate(c, mech, client).startswith(b"a NO"), (mech, client.__dict__)
        c.close()
    log = srv.log_text()
    assert "user=bob event=auth master_user=admin2\n" in log
    assert "user=alice event=auth master_user=admin\n" in log
    assert 'user=alice event=auth result=fail mech=SCRAM-SHA-256 proto=imap reason="unknown master user"' in log
    assert 'user=nosuch event=auth result=fail mech=CRAM-MD5 proto=imap reason="unknown user in userdb"' in log


def test_passdb_without_credentials(ternd_factory, stored_hashes):
    """A PAM passdb checks passwords but hands none out: its users can't
    use CRAM-MD5 or SCRAM (the log says why), PLAIN still works for the
    passwd-file users beside it."""
    srv = ternd_factory(config_extra="""
auth.mechanisms = PLAIN CRAM-MD5 SCRAM-SHA-256
passdb system {
  driver = pam
  args = tern-test-nonexistent
}
passdb users {
  driver = passwd-file
  args = passwd
}
userdb users {
  driver = passwd-file
  args = passwd
}
""")
    write_users(srv, stored_hashes)
    srv.start()
    c = RawImap(srv.imap_port)
    assert imap_authenticate(c, "CRAM-MD5", CramMd5("sysuser", "pw")).startswith(b"a NO")
    assert imap_authenticate(c, "SCRAM-SHA-256", Scram("sha256", "sysuser", "pw")).startswith(b"a NO")
    assert imap_authenticate(c, "SCRAM-SHA-256", Scram("sha256", "scram256", "s256pw")).startswith(b"a OK")
    c.close()
    log = srv.log_text()
    assert "reason=\"unknown user (passdb system can't hand out the credentials CRAM-MD5 needs)\"" in log
    assert "reason=\"unknown user (passdb system can't hand out the credentials SCRAM-SHA-256 needs)\"" in log


def test_scram_plus_tls_exporter(srv):
    for mech, hashname, user, password in (("SCRAM-SHA-256-PLUS", "sha256", "scram256", "s256pw"),
                                           ("SCRAM-SHA-1-PLUS", "sha1", "alice", "secret")):
        t = RawImap(srv.imaps_port, tls=True)
        client = Scram(hashname, user, password, cb=tls_exporter(t.sock))
        tagged = imap_authenticate(t, mech, client)
        assert tagged.startswith(b"a OK"), tagged
        assert client.verified
        assert_logged_in(t)
        t.close()
    # another connection's binding (a man in the middle) fails
    other = RawImap(srv.imaps_port, tls=True)
    t = RawImap(srv.imaps_port, tls=True)
    client = Scram("sha256", "scram256", "s256pw", cb=tls_exporter(other.sock))
    assert imap_authenticate(t, "SCRAM-SHA-256-PLUS", client).startswith(b"a NO")
    # a client that would have bound but didn't see -PLUS is refused
    # (RFC 5802 §6: "y" where we offered -PLUS is a downgrade)
    t.send("b AUTHENTICATE SCRAM-SHA-256 " + b64(b"y,,n=scram256,r=abcdefgh") + "\r\n")
    assert t.readline().startswith(b"b NO")
    other.close()
    t.close()
    # without TLS there is nothing to bind to
    c = RawImap(srv.imap_port)
    client = Scram("sha256", "scram256", "s256pw", cb=b"\0" * 32)
    tagged = imap_authenticate(c, "SCRAM-SHA-256-PLUS", client)
    assert tagged.startswith(b"a NO") or tagged.startswith(b"a BAD"), tagged
    c.close()


def test_pop3_auth_each_mechanism(srv):
    for mech, make in MECH_CASES:
        for ir in (True, False):
            p = Pop(srv.pop3_port)
            client = make()
            status = pop3_auth(p, mech, client, initial_response=ir)
            assert status.startswith(b"+OK"), (mech, ir, status)
            if isinstance(client, Scram):
                assert client.verified
            assert p.cmd("STAT").startswith(b"+OK")
            # QUIT releases the maildrop lock before the next login
            assert p.cmd("QUIT").startswith(b"+OK")
            p.close()
    p = Pop(srv.pop3_port)
    assert pop3_auth(p, "SCRAM-SHA-256", Scram("sha256", "scram256", "bad")) == \
        b"-ERR [AUTH] Authentication failed."
    assert pop3_auth(p, "CRAM-MD5", CramMd5("crypt", "cryptpw")) == \
        b"-ERR [AUTH] Authentication failed."
    p.close()
    # -PLUS over POP3S
    p = Pop(srv.pop3s_port, tls=True)
    client = Scram("sha256", "scram256", "s256pw", cb=tls_exporter(p.sock))
    assert pop3_auth(p, "SCRAM-SHA-256-PLUS", client).startswith(b"+OK")
    assert client.verified
    assert p.cmd("QUIT").startswith(b"+OK")
    p.close()


def test_oauthbearer_jwt(srv, keys):
    good = {
        "HS256": jwt_hs256(claims_for("alice")),
        "RS256": jwt_openssl(claims_for("alice"), "RS256", "rsa1", keys / "rsa1.key"),
        "ES256": jwt_openssl(claims_for("alice"), "ES256", "ec1", keys / "ec1.key"),
    }
    for alg, token in good.items():
        c = RawImap(srv.imap_port)
        assert imap_authenticate(c, "OAUTHBEARER", OAuthBearer("alice", token)).startswith(b"a OK"), alg
        assert_logged_in(c)
        c.close()
    # without SASL-IR, and without naming the user
    c = RawImap(srv.imap_port)
    assert imap_authenticate(c, "OAUTHBEARER", OAuthBearer(None, good["ES256"]),
                             sasl_ir=False).startswith(b"a OK")
    c.close()

    bad = {
        "expired": jwt_hs256(claims_for("alice", exp_in=-3600)),
        "wrong secret": jwt_hs256(claims_for("alice"), secret=b"guess"),
        "alg none": b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims_for("alice")).encode()) + ".",
        "other key": jwt_openssl(claims_for("alice"), "ES256", "ec1", keys / "ec-other.key"),
        "unknown kid": jwt_openssl(claims_for("alice"), "ES256", "nosuch", keys / "ec1.key"),
        "RS alg, EC key": jwt_openssl(claims_for("alice"), "ES256", "rsa1", keys / "ec1.key"),
        "other user": jwt_hs256(claims_for("bob")),
        "unknown user": jwt_hs256(claims_for("nobody")),
    }
    for what, token in bad.items():
        c = RawImap(srv.imap_port)
        user = "nobody" if what == "unknown user" else "alice"
        client = OAuthBearer(user, token)
        tagged = imap_authenticate(c, "OAUTHBEARER", client)
        assert tagged.startswith(b"a NO [AUTHENTICATIONFAILED]"), (what, tagged)
        # RFC 7628 §3.2.2: the error came as a challenge first
        assert client.error == {"status": "invalid_token", "schemes": "bearer"}, what
        c.close()
    log = srv.log_text()
    assert 'reason="invalid token: token expired"' in log
    assert 'reason="invalid token: bad signature"' in log
    assert 'reason="invalid token: not a signed JWT"' in log  # alg none
    assert 'reason="invalid token: unknown kid nosuch"' in log
    assert 'reason="token is for bob"' in log
    assert 'reason="unknown user in userdb"' in log


def test_xoauth2_and_pop3_oauthbearer(srv):
    c = RawImap(srv.imap_port)
    assert imap_authenticate(c, "XOAUTH2", XOAuth2("alice", jwt_hs256(claims_for("alice")))) \
        .startswith(b"a OK")
    c.close()
    c = RawImap(srv.imap_port)
    client = XOAuth2("alice", jwt_hs256(claims_for("alice", exp_in=-3600)))
    assert imap_authenticate(c, "XOAUTH2", client).startswith(b"a NO")
    assert client.error["status"] == "401"
    c.close()
    p = Pop(srv.pop3_port)
    assert pop3_auth(p, "OAUTHBEARER", OAuthBearer("alice", jwt_hs256(claims_for("alice")),
                                                   port=srv.pop3_port)).startswith(b"+OK")
    assert p.cmd("QUIT").startswith(b"+OK")
    p.close()
    p = Pop(srv.pop3_port)
    client = XOAuth2("alice", "not-a-jwt-and-no-introspection")
    assert pop3_auth(p, "XOAUTH2", client).startswith(b"-ERR [AUTH]")
    assert client.error is not None
    p.close()


class Introspection(http.server.BaseHTTPRequestHandler):
    """RFC 7662 endpoint: "good-*" tokens are active for alice, "down"
    makes it fail with 500."""
    requests = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        token = form.get("token", [""])[0]
        Introspection.requests.append((self.headers.get("Content-Type"), form,
                                       self.headers.get("Authorization")))
        if token == "down":
            self.send_response(500)
            self.end_headers()
            return
        if token.startswith("good-"):
            body = {"active": True, "email": token[5:], "scope": "mail",
                    "exp": int(time.time()) + 60, "aud": "mail"}
        else:
            body = {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def introspection():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Introspection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Introspection.requests = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_oauth_introspection(ternd_factory, stored_hashes, introspection):
    srv = ternd_factory(pop3=True, config_extra=f"""
auth.mechanisms = PLAIN OAUTHBEARER XOAUTH2
auth.oauth2_introspection_url = http://client:s3cret@127.0.0.1:{introspection}/introspect
auth.oauth2_audience = mail
auth.oauth2_timeout = 3s
""")
    write_users(srv, stored_hashes)
    srv.start()
    c = RawImap(srv.imap_port)
    assert imap_authenticate(c, "OAUTHBEARER", OAuthBearer("alice", "good-alice")).startswith(b"a OK")
    assert_logged_in(c)
    c.close()
    content_type, form, authorization = Introspection.requests[-1]
    assert content_type == "application/x-www-form-urlencoded"
    assert form["token"] == ["good-alice"]
    assert authorization == "Basic " + b64(b"client:s3cret")
    p = Pop(srv.pop3_port)
    assert pop3_auth(p, "XOAUTH2", XOAuth2("bob", "good-bob")).startswith(b"+OK")
    assert p.cmd("QUIT").startswith(b"+OK")
    p.close()
    # inactive token: refused; endpoint failing: a temporary failure
    c = RawImap(srv.imap_port)
    client = OAuthBearer("alice", "revoked")
    assert imap_authenticate(c, "OAUTHBEARER", client).startswith(b"a NO [AUTHENTICATIONFAILED]")
    assert client.error["status"] == "invalid_token"
    tagged = imap_authenticate(c, "OAUTHBEARER", OAuthBearer("alice", "down"))
    assert tagged.startswith(b"a NO [UNAVAILABLE]"), tagged
    c.close()
    log = srv.log_text()
    assert 'reason="invalid token: token not active"' in log
    assert "introspection endpoint answered HTTP 500" in log


def wait_log(proc, text, timeout=10):
    """Reads proc's output until a line contains text; returns the line."""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.monotonic() < deadline:
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            for line in buf.decode(errors="replace").splitlines():
                if text in line:
                    return line
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged:\n{buf.decode(errors='replace')[-3000:]}")


def test_oauth_needs_validation_configured(ternd_factory):
    """A token mechanism without any way to check tokens, or with a key
    directory that isn't there: the workers refuse to start, and say why."""
    for extra, message in (("auth.mechanisms = PLAIN OAUTHBEARER\n",
                            "mechanism OAUTHBEARER needs auth.oauth2_jwt_keys_dir"),
                           ("auth.mechanisms = XOAUTH2\nauth.oauth2_jwt_keys_dir = /nonexistent\n",
                            "oauth2_jwt_keys_dir /nonexistent is not a directory")):
        srv = ternd_factory(config_extra=extra)
        proc = subprocess.Popen([str(TERND), "-F", "-c", str(srv.config_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            line = wait_log(proc, message)
            assert "level=error" in line or "level=fatal" in line, line
        finally:
            os.killpg(proc.pid, 9)
            proc.wait()
            proc.stdout.close()


def test_jwt_issuer_and_audience(ternd_factory, stored_hashes, keys):
    srv = ternd_factory(config_extra=f"""
auth.mechanisms = OAUTHBEARER
auth.oauth2_jwt_secret_file = {keys / 'secret'}
auth.oauth2_issuer = https://idp.example.com
auth.oauth2_audience = imap
auth.oauth2_username_claim = sub
""")
    write_users(srv, stored_hashes)
    srv.start()
    iss = "https://idp.example.com"
    for claims, ok in ((claims_for("x", iss=iss, aud=["web", "imap"], sub="alice"), True),
                       (claims_for("x", iss=iss, aud="imap", sub="alice"), True),
                       (claims_for("x", iss="https://evil.example.com", aud="imap", sub="alice"), False),
                       (claims_for("x", iss=iss, aud="web", sub="alice"), False),
                       (claims_for("x", iss=iss, sub="alice"), False)):
        c = RawImap(srv.imap_port)
        tagged = imap_authenticate(c, "OAUTHBEARER", OAuthBearer(None, jwt_hs256(claims)))
        assert tagged.startswith(b"a OK" if ok else b"a NO"), (claims, tagged)
        c.close()
    log = srv.log_text()
    assert 'reason="invalid token: wrong issuer (iss)"' in log
    assert 'reason="invalid token: wrong audience (aud)"' in log


def client_cert_settings_available():
    return "tls.verify_client" in (ROOT / "docs" / "configuration.md").read_text()


@pytest.fixture(scope="module")
def client_pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(args, cwd=d, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA")
    for name, issuer in (("alice", "ca"), ("mallory", None)):
        if issuer is None:
            run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
                "-subj", f"/CN={name}")
            continue
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/O=Tern/CN={name}")
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2")
    return d


@pytest.mark.skipif(not client_cert_settings_available(),
                    reason="tls.verify_client/tls.client_ca_file come with the TLS work")
def test_external_client_certificate(ternd_factory, stored_hashes, client_pki):
    srv = ternd_factory(pop3=True, config_extra=f"""
auth.mechanisms = PLAIN EXTERNAL
tls.verify_client = optional
tls.client_ca_file = {client_pki / 'ca.pem'}
""")
    write_users(srv, stored_hashes)
    srv.start()
    alice = client_tls_context(str(client_pki / "alice.pem"), str(client_pki / "alice.key"))
    raw = socket.create_connection(("127.0.0.1", srv.imaps_port), timeout=10)
    t = RawImap.__new__(RawImap)
    t.sock, t.buf = alice.wrap_socket(raw), b""
    t.greeting = t.readline()
    assert "AUTH=EXTERNAL" in capabilities(t)
    assert imap_authenticate(t, "EXTERNAL", External("bob")).startswith(b"a NO")
    assert imap_authenticate(t, "EXTERNAL", External()).startswith(b"a OK")
    assert_logged_in(t)
    t.close()
    # POP3S, naming itself
    p = Pop(srv.pop3s_port, tls=True, context=alice)
    assert pop3_auth(p, "EXTERNAL", External("alice")).startswith(b"+OK")
    assert p.cmd("QUIT").startswith(b"+OK")
    p.close()
    # a certificate from elsewhere, and none: no EXTERNAL
    mallory = client_tls_context(str(client_pki / "mallory.pem"), str(client_pki / "mallory.key"))
    for ctx in (mallory, client_tls_context()):
        raw = socket.create_connection(("127.0.0.1", srv.imaps_port), timeout=10)
        t = RawImap.__new__(RawImap)
        t.sock, t.buf = ctx.wrap_socket(raw), b""
        t.greeting = t.readline()
        assert "AUTH=EXTERNAL" not in capabilities(t)
        assert imap_authenticate(t, "EXTERNAL", External()).startswith(b"a NO")
        t.close()
    assert 'reason="no verified client certificate"' in srv.log_text()
