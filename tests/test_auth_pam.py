"""The pam passdb and the passwd userdb (docs/auth.md) with a real system
user and PAM service file that the test creates and removes: IMAP and POP3
logins through pam_unix, wrong passwords answered without PAM's failure
sleep, the remote IP reaching PAM (pam_access), and the home directory and
LMTP delivery through getpwnam(). Needs root."""
import os
import pathlib
import poplib
import secrets
import shutil
import smtplib
import subprocess
import time

import pytest

from imaputil import RawImap

PAM_DIR = pathlib.Path("/etc/pam.d")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None or
    not any(pathlib.Path(d, "pam_unix.so").exists()
            for d in ("/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security",
                      "/lib/security", "/usr/lib/security")),
    reason="needs root, useradd and pam_unix")


@pytest.fixture
def system_user(tmp_path):
    """(name, password, home) of a fresh system user, deleted afterwards."""
    name = "tt" + secrets.token_hex(4)
    password = "Pw-" + secrets.token_hex(6)
    home = tmp_path / "home" / name
    subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True,
                       check=True, capture_output=True)
        yield name, password, home
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def pam_service():
    """Writes /etc/pam.d/tern-test-* services for this test only: returns
    make(lines) -> service name."""
    made = []

    def make(text, suffix=""):
        name = "tern-test-" + secrets.token_hex(4) + suffix
        path = PAM_DIR / name
        path.write_text(text)
        made.append(path)
        return name

    yield make
    for path in made:
        path.unlink(missing_ok=True)


# a failure delay of 3 s that Tern must not sit through
UNIX_SERVICE = """auth optional pam_faildelay.so delay=3000000
auth required pam_unix.so
account required pam_unix.so
"""


def imap_login(srv, user, password):
    c = RawImap(srv.imap_port)
    try:
        _, tagged = c.command("l", f'LOGIN "{user}" "{password}"')
        return tagged
    finally:
        c.close()


def pop3_login(srv, user, password):
    p = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    try:
        p.user(user)
        p.pass_(password)
        p.quit()
        return None
    except poplib.error_proto as e:
        return str(e)
    finally:
        p.close()


def pam_config(service):
    return f"""
passdb system {{
  driver = pam
  args = {service}
}}
userdb system {{
  driver = passwd
}}
"""


def test_pam_login_and_passwd_userdb(ternd_factory, system_user, pam_service):
    name, password, home = system_user
    service = pam_service(UNIX_SERVICE)
    srv = ternd_factory(pop3=True, lmtp=True, config_extra=pam_config(service)).start()
    assert imap_login(srv, name, password).startswith(b"l OK")
    assert pop3_login(srv, name, password) is None
    # the passwd userdb's home is the session's
    assert (home / "Maildir").is_dir()
    start = time.monotonic()
    tagged = imap_login(srv, name, password + "x")
    assert tagged.startswith(b"l NO [AUTHENTICATIONFAILED]"), tagged
    # pam_faildelay asked for 3 s; the worker must not block that long
    assert time.monotonic() - start < 2.0
    assert "-ERR" in pop3_login(srv, name, "wrong")
    assert imap_login(srv, "nosuchuser-" + secrets.token_hex(3), "x").startswith(b"l NO")
    assert imap_login(srv, name, "").startswith(b"l NO")
    # LMTP finds the system user through getpwnam()
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port, timeout=30) as lmtp:
        lmtp.ehlo("test")
        refused = lmtp.sendmail("s@example.org", [f"{name}@example.com"],
                                b"Subject: system\r\n\r\nfor a system user\r\n")
        assert not refused
    files = list((home / "Maildir" / "new").iterdir()) + \
        list((home / "Maildir" / "cur").iterdir())
    assert len(files) == 1


def test_pam_sees_remote_ip(ternd_factory, system_user, pam_service, tmp_path):
    """PAM_RHOST is the client's address: pam_access refuses the user from
    127.0.0.1, and the account step's refusal is a failed login."""
    name, password, _ = system_user
    access = tmp_path / "access.conf"
    access.write_text(f"-:{name}:127.0.0.1\n+:ALL:ALL\n")
    service = pam_service(UNIX_SERVICE.replace(
        "account required pam_unix.so",
        f"account required pam_unix.so\naccount required pam_access.so accessfile={access}"))
    srv = ternd_factory(config_extra=pam_config(service)).start()
    tagged = imap_login(srv, name, password)
    assert tagged.startswith(b"l NO [AUTHENTICATIONFAILED]"), tagged
    access.write_text("+:ALL:ALL\n")
    assert imap_login(srv, name, password).startswith(b"l OK")


def test_pam_missing_service_module_is_temporary(ternd_factory, system_user, pam_service):
    """A PAM stack that can't run (a module that doesn't exist) is an
    internal error: [UNAVAILABLE], not a wrong password."""
    name, password, _ = system_user
    service = pam_service("auth required pam_no_such_module_tern.so\n"
                          "account required pam_unix.so\n")
    srv = ternd_factory(config_extra=pam_config(service)).start()
    tagged = imap_login(srv, name, password)
    assert tagged.startswith(b"l NO [UNAVAILABLE]"), tagged
    assert "pam_authenticate" in srv.log_text()


def test_pam_service_template(ternd_factory, system_user, pam_service):
    """args = tern-test-x-%s picks the file per protocol; a name can't
    steer the service file elsewhere."""
    name, password, _ = system_user
    service = pam_service(UNIX_SERVICE, suffix="-imap")
    srv = ternd_factory(config_extra=pam_config(service[:-len("imap")] + "%s") +
                        pam_config("tern-%u").replace("system", "byname")).start()
    assert imap_login(srv, name, password).startswith(b"l OK")
    # the second passdb's template turns this name into "tern-../x"
    tagged = imap_login(srv, "../x", password)
    assert tagged.startswith(b"l NO [AUTHENTICATIONFAILED]"), tagged
    assert "invalid PAM service name" in srv.log_text()
