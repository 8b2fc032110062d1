"""Test PKI and TLS client helpers for the TLS tests: CAs, server and client
certificates and CRLs made with the openssl command line in the test's
temporary directory, and clients built on Python's ssl module and
`openssl s_client`."""
import pathlib
import socket
import ssl
import subprocess
import time


def openssl(*args, cwd=None, check=True):
    return subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, check=check)


def _key_args(key_type):
    if key_type == "rsa":
        return ["-newkey", "rsa:2048"]
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


class Pki:
    """Certificates under one directory. Every method returns paths."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, name):
        return self.dir / name

    def ca(self, name):
        """A self-signed CA: (cert, key)."""
        crt, key = self.path(f"{name}.crt"), self.path(f"{name}.key")
        openssl("req", "-x509", *_key_args("ec"), "-nodes", "-keyout", key, "-out", crt,
                "-days", "30", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        # `openssl ca` state, for revocations and CRLs
        (self.dir / f"{name}.index").write_text("")
        (self.dir / f"{name}.crlnumber").write_text("01\n")
        (self.dir / f"{name}.cnf").write_text(
            "[ ca ]\ndefault_ca = ca_section\n[ ca_section ]\n"
            f"database = {self.dir / (name + '.index')}\n"
            f"crlnumber = {self.dir / (name + '.crlnumber')}\n"
            "default_md = sha256\ndefault_crl_days = 30\n")
        return crt, key

    def cert(self, name, subject, ca, dns=(), emails=(), key_type="ec", client=False):
        """A certificate signed by ca ((cert, key) of self.ca()); subject is
        an openssl -subj string such as "/CN=alice/emailAddress=a@b"."""
        crt, key, csr = (self.path(f"{name}.crt"), self.path(f"{name}.key"),
                         self.path(f"{name}.csr"))
        ext = self.path(f"{name}.ext")
        san = [f"DNS:{d}" for d in dns] + [f"email:{e}" for e in emails]
        lines = ["basicConstraints=critical,CA:FALSE",
                 f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}"]
        if san:
            lines.append("subjectAltName=" + ",".join(san))
        ext.write_text("\n".join(lines) + "\n")
        openssl("req", "-new", *_key_args(key_type), "-nodes", "-keyout", key, "-out", csr,
                "-subj", subject)
        openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", crt)
        return crt, key

    def server_cert(self, name, ca, dns, key_type="ec"):
        return self.cert(name, f"/CN={name}", ca, dns=dns, key_type=key_type)

    def revoke(self, ca_name, crt):
        ca = (self.path(f"{ca_name}.crt"), self.path(f"{ca_name}.key"))
        openssl("ca", "-config", self.path(f"{ca_name}.cnf"), "-cert", ca[0],
                "-keyfile", ca[1], "-revoke", crt)

    def crl(self, ca_name):
        out = self.path(f"{ca_name}.crl")
        openssl("ca", "-config", self.path(f"{ca_name}.cnf"),
                "-cert", self.path(f"{ca_name}.crt"), "-keyfile", self.path(f"{ca_name}.key"),
                "-gencrl", "-out", out)
        return out


def client_context(cafile=None, cert=None, minimum=None, maximum=None, ciphers=None):
    """A client context; with cafile the server certificate is verified
    (without the host name check) so that getpeercert() decodes it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if cafile is not None:
        ctx.load_verify_locations(cafile)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert[0], cert[1])
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


def tls_connect(port, ctx, server_name=None, session=None, timeout=10):
    """An implicit-TLS connection; the greeting line is read (a server that
    rejects the client after its handshake shows it here)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=server_name, session=session)
    except BaseException:
        sock.close()
        raise
    tls.greeting = read_line(tls)
    return tls


def read_line(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data[:-2]


def subject_cn(cert):
    """The commonName of a getpeercert() dict."""
    for rdn in cert["subject"]:
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def s_client(port, *args, data=b"", timeout=20):
    """Runs `openssl s_client` against port; returns (returncode, output)."""
    proc = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                           "-ign_eof", *map(str, args)],
                          input=data + b"a LOGOUT\r\n", capture_output=True, timeout=timeout)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def wait_log(srv, text, timeout=5):
    """The server's log once it contains text (workers log after they
    wrote to the client, so a client can be faster than the log); fails
    after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        log = srv.log_text()
        if text in log:
            return log
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in the log:\n{log[-3000:]}")
        time.sleep(0.02)
