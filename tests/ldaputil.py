"""A private OpenLDAP slapd for the ldap passdb/userdb tests: a slapd.conf
in a temporary directory (mdb backend, suffix dc=example,dc=com, the core,
cosine, nis and inetorgperson schemas, a self-signed certificate for
ldaps:// and StartTLS), listening on free loopback ports and a Unix socket,
loaded with the users below. Never the system's slapd."""
import base64
import hashlib
import os
import pathlib
import signal
import subprocess
import time
import urllib.parse

from conftest import free_ports, wait_port

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=com"
PEOPLE = f"ou=people,{SUFFIX}"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "admin-secret"
# the service account ternd searches as: may read userPassword
SERVICE_DN = f"cn=tern,{SUFFIX}"
SERVICE_PW = "tern-secret"

# name: (password, how userPassword stores it, extra attributes)
USERS = {
    "alice": ("secret", "ssha", {"title": "100"}),
    "bob": ("bobpw", "crypt", {}),
    "carol": ("carolpw", "plain", {}),
    "dave": ("davepw", "ssha", {"employeeType": "disabled",
                                "description": "On leave until May"}),
}
UID_BASE = 10001
GID = 10000


def ssha(password):
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def sha512_crypt(password):
    out = subprocess.run(["openssl", "passwd", "-6", password], check=True,
                         capture_output=True, text=True)
    return "{CRYPT}" + out.stdout.strip()


def user_password(password, kind):
    if kind == "ssha":
        return ssha(password)
    if kind == "crypt":
        return sha512_crypt(password)
    return password


class Slapd:
    def __init__(self, directory, homes):
        self.dir = pathlib.Path(directory)
        self.homes = pathlib.Path(homes)
        self.db_dir = self.dir / "db"
        self.db_dir.mkdir(parents=True, exist_ok=True)
        self.port, self.tls_port = free_ports(2)
        self.socket_path = self.dir / "ldapi"
        self.uri = f"ldap://127.0.0.1:{self.port}/"
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.tls_port}/"
        self.ldapi_uri = "ldapi://" + urllib.parse.quote(str(self.socket_path), safe="")
        self.cert = self.dir / "cert.pem"
        self.log_path = self.dir / "slapd.log"
        self.proc = None
        self.make_cert()
        self.write_config()

    def make_cert(self):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(self.dir / "key.pem"), "-out", str(self.cert)],
                       check=True, capture_output=True)

    def write_config(self):
        d = self.dir
        (d / "slapd.conf").write_text(f"""
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile {d}/cert.pem
TLSCertificateKeyFile {d}/key.pem
database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {self.db_dir}
access to attrs=userPassword
  by dn.exact="{SERVICE_DN}" read
  by anonymous auth
  by * none
access to * by * read
""")

    def start(self):
        self.log = open(self.log_path, "ab")
        # -d keeps slapd in the foreground, so the Popen is the server
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(self.dir / "slapd.conf"),
             "-h", f"{self.uri} {self.ldaps_uri} {self.ldapi_uri}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_port(self.port, timeout=20)
        except TimeoutError:
            self.stop()
            raise TimeoutError("slapd did not start:\n" + self.log_path.read_text()[-3000:])
        return self

    def kill(self):
        """Gone without a goodbye, as after a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.log.close()

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.log.close()

    def ldapadd(self, ldif):
        subprocess.run(["ldapadd", "-x", "-H", self.uri, "-D", ROOT_DN, "-w", ROOT_PW],
                       input=ldif, text=True, check=True, capture_output=True)

    def load_users(self):
        entries = [f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example
""", f"""dn: {PEOPLE}
objectClass: organizationalUnit
ou: people
""", f"""dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tern
userPassword: {SERVICE_PW}
"""]
        for i, (name, (password, kind, extra)) in enumerate(USERS.items()):
            lines = [f"dn: uid={name},{PEOPLE}", "objectClass: inetOrgPerson",
                     "objectClass: posixAccount", f"uid: {name}",
                     f"cn: {name.title()} Example", "sn: Example",
                     f"uidNumber: {UID_BASE + i}", f"gidNumber: {GID}",
                     f"homeDirectory: {self.homes / name}",
                     f"userPassword: {user_password(password, kind)}"]
            lines += [f"{k}: {v}" for k, v in extra.items()]
            entries.append("\n".join(lines) + "\n")
        self.ldapadd("\n".join(entries))
