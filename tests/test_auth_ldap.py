"""The ldap passdb/userdb (docs/auth.md) against a real OpenLDAP slapd that
the tests start in a temporary directory (tests/ldaputil.py): IMAP and POP3
logins by search-then-compare ({SSHA}, {CRYPT}$6$ and plaintext
userPassword) and by binding as the user (found by a search or by a DN
template), wrong passwords, unknown users, filter and DN injection, empty
passwords, passdb fields (nologin, reason), userdb fields reaching the
session (the home directory), LMTP delivery through the ldap userdb,
StartTLS, ldaps:// and ldapi://, and a slapd that dies and comes back."""
import os
import poplib
import signal
import smtplib
import subprocess
import time

import pytest

from conftest import BUILD, TERND
from imaputil import RawImap
import ldaputil

pytestmark = pytest.mark.skipif(not os.path.exists(ldaputil.SLAPD),
                                reason="slapd is not installed")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    d = tmp_path_factory.mktemp("slapd")
    srv = ldaputil.Slapd(d, d / "homes").start()
    try:
        srv.load_users()
        yield srv
    finally:
        srv.stop()


def ldap_block(kind, name, slapd, uri=None, **settings):
    """A passdb/userdb block of driver ldap with the test directory's
    defaults; settings override them."""
    values = {
        "ldap_uris": uri or slapd.uri,
        "ldap_bind_dn": ldaputil.SERVICE_DN,
        "ldap_bind_password": ldaputil.SERVICE_PW,
        "ldap_base": ldaputil.PEOPLE,
        "ldap_timeout": "3s",
    }
    values.update(settings)
    body = "".join(f"  {k} = {v}\n" for k, v in values.items())
    return f"{kind} {name} {{\n  driver = ldap\n{body}}}\n"


def userdb(slapd, **settings):
    return ldap_block("userdb", "people", slapd,
                      ldap_user_attrs="homeDirectory=home", **settings)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_login(srv, user, password):
    """The tagged reply to LOGIN."""
    c = RawImap(srv.imap_port)
    try:
        _, tagged = c.command("l", f"LOGIN {quote(user)} {quote(password)}")
        if tagged.startswith(b"l OK"):
            c.command("o", "LOGOUT")
        return tagged
    finally:
        c.close()


def pop3_login(srv, user, password):
    """None on success, else the error text."""
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


def lmtp_rcpt(srv, rcpt):
    """The reply code to RCPT TO:<rcpt>."""
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port, timeout=30) as lmtp:
        lmtp.ehlo("test")
        code, _ = lmtp.docmd("MAIL FROM:<s@example.org>")
        assert code == 250
        code, _ = lmtp.docmd(f"RCPT TO:<{rcpt}>")
        return code


def assert_refused(srv, user, password):
    tagged = imap_login(srv, user, password)
    assert tagged.startswith(b"l NO [AUTHENTICATIONFAILED]"), (user, tagged)


def test_ldap_unit_tests_against_slapd(slapd):
    """test-auth-ldap.c's live part: lookups, both passdb modes, attribute
    maps and value templates, the user list, several matches."""
    env = dict(os.environ, TERN_TEST_LDAP_URI=slapd.uri,
               TERN_TEST_LDAP_BIND_DN=ldaputil.SERVICE_DN,
               TERN_TEST_LDAP_BIND_PW=ldaputil.SERVICE_PW,
               TERN_TEST_LDAP_HOMES=str(slapd.homes))
    out = subprocess.run([str(BUILD / "src" / "auth" / "test-auth-ldap")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "6 passed, 0 failed" in out.stdout, out.stdout


def test_search_then_compare(ternd_factory, slapd):
    srv = ternd_factory(pop3=True, config_extra=ldap_block(
        "passdb", "people", slapd,
        # carol's userPassword is plaintext, without a {SCHEME}
        default_password_scheme="PLAIN",
        ldap_pass_attrs="uid=user,userPassword=password,employeeType=nologin,"
                        "description=reason=Note: %$") + userdb(slapd)).start()
    for user, (password, _, _) in ldaputil.USERS.items():
        if user == "dave":
            continue
        assert imap_login(srv, user, password).startswith(b"l OK"), user
        assert pop3_login(srv, user, password) is None, user
    # the directory's spelling of the name is the session's
    assert imap_login(srv, "ALICE", "secret").startswith(b"l OK")
    assert "user=alice" in srv.log_text()
    assert_refused(srv, "alice", "wrong")
    assert_refused(srv, "bob", "secret")
    assert_refused(srv, "nosuch", "secret")
    assert "-ERR" in pop3_login(srv, "alice", "wrong")
    # filter injection: no name matches anyone
    for evil in ("*", "alice)(uid=*", "*)(|(uid=*", "alice)(|(objectClass=*)",
                 "\\2a", "al*"):
        assert_refused(srv, evil, "secret")
    # passdb fields from attributes: dave is disabled, with the reason from
    # a value template
    tagged = imap_login(srv, "dave", "davepw")
    assert tagged.startswith(b"l NO [AUTHORIZATIONFAILED]"), tagged
    assert "Note: On leave until May" in pop3_login(srv, "dave", "davepw")
    # the userdb's homeDirectory is where the session's mail went
    assert (slapd.homes / "alice").is_dir()
    assert (slapd.homes / "bob").is_dir()
    assert "secret" not in srv.log_text().replace("ldap_bind_password", "")


def test_auth_bind_with_search(ternd_factory, slapd):
    # an anonymous search finds the DN (anonymous can't read userPassword),
    # the bind checks the password
    srv = ternd_factory(pop3=True, config_extra=ldap_block(
        "passdb", "people", slapd, ldap_auth_bind="yes", ldap_bind_dn='""',
        ldap_bind_password='""') + userdb(slapd)).start()
    for user in ("alice", "bob", "carol"):
        password = ldaputil.USERS[user][0]
        assert imap_login(srv, user, password).startswith(b"l OK"), user
        assert pop3_login(srv, user, password) is None, user
    assert_refused(srv, "alice", "bobpw")
    assert_refused(srv, "nosuch", "x")
    assert_refused(srv, "*", "secret")
    assert_refused(srv, "alice)(uid=*", "secret")
    # an empty password would be an unauthenticated bind, which succeeds
    assert_refused(srv, "alice", "")
    assert "-ERR" in pop3_login(srv, "bob", "wrong")
    assert (slapd.homes / "carol").is_dir()


def test_auth_bind_dn_format(ternd_factory, slapd):
    srv = ternd_factory(config_extra=ldap_block(
        "passdb", "people", slapd, ldap_auth_bind="yes",
        ldap_auth_bind_dn_format=f"uid=%n,{ldaputil.PEOPLE}") + userdb(slapd)).start()
    assert imap_login(srv, "alice", "secret").startswith(b"l OK")
    assert imap_login(srv, "bob", "bobpw").startswith(b"l OK")
    assert_refused(srv, "alice", "wrong")
    assert_refused(srv, "alice", "")
    assert_refused(srv, "nosuch", "secret")
    # DN injection: the name stays one RDN value
    assert_refused(srv, f"alice,{ldaputil.PEOPLE}", "secret")
    assert_refused(srv, "alice+cn=x", "secret")


def test_lmtp_delivery_through_ldap_userdb(ternd_factory, slapd):
    srv = ternd_factory(lmtp=True, config_extra=ldap_block(
        "passdb", "people", slapd) + userdb(slapd)).start()
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port, timeout=30) as lmtp:
        lmtp.ehlo("test")
        refused = lmtp.sendmail("sender@example.org",
                                ["carol@example.com", "nosuch@example.com"],
                                b"Subject: via ldap\r\n\r\nhello carol\r\n")
        assert list(refused) == ["nosuch@example.com"]
        assert refused["nosuch@example.com"][0] == 550
    # delivered where carol's homeDirectory says
    maildir = slapd.homes / "carol" / "Maildir"
    files = list((maildir / "new").iterdir()) + list((maildir / "cur").iterdir())
    assert len(files) == 1
    assert b"hello carol" in files[0].read_bytes()
    assert "event=delivered rcpt=carol@example.com user=carol" in srv.log_text()
    c = RawImap(srv.imap_port)
    _, tagged = c.command("l", "LOGIN carol carolpw")
    # carol's plaintext password needs default_password_scheme = PLAIN
    assert tagged.startswith(b"l NO"), tagged
    _, tagged = c.command("l", "LOGIN bob bobpw")
    assert tagged.startswith(b"l OK"), tagged
    c.close()


def test_starttls_ldaps_ldapi(ternd_factory, slapd, monkeypatch):
    # without the CA the server's certificate is refused: temporary failure
    untrusted = ternd_factory(config_extra=ldap_block(
        "passdb", "people", slapd, ldap_starttls="yes") + userdb(slapd)).start()
    monkeypatch.setenv("LDAPTLS_CACERT", str(slapd.cert))
    for uri, starttls in ((slapd.uri, "yes"), (slapd.ldaps_uri, "no"),
                          (slapd.ldapi_uri, "no")):
        srv = ternd_factory(config_extra=ldap_block(
            "passdb", "people", slapd, uri=uri, ldap_starttls=starttls) +
            userdb(slapd, ldap_uris=uri)).start()
        assert imap_login(srv, "alice", "secret").startswith(b"l OK"), uri
        assert_refused(srv, "alice", "wrong")
        srv.stop()
    monkeypatch.delenv("LDAPTLS_CACERT")
    tagged = imap_login(untrusted, "alice", "secret")
    assert tagged.startswith(b"l NO [UNAVAILABLE]"), tagged
    assert "StartTLS failed" in untrusted.log_text()


def test_server_down_and_back(ternd_factory, slapd):
    srv = ternd_factory(process_count=1, pop3=True, lmtp=True, config_extra=ldap_block(
        "passdb", "people", slapd) + userdb(slapd)).start()
    assert imap_login(srv, "alice", "secret").startswith(b"l OK")
    slapd.kill()
    try:
        # a dead server is a temporary failure, never "wrong password"
        tagged = imap_login(srv, "alice", "secret")
        assert tagged.startswith(b"l NO [UNAVAILABLE]"), tagged
        assert "[SYS/TEMP]" in pop3_login(srv, "alice", "secret")
        assert lmtp_rcpt(srv, "alice@example.com") == 451
        assert "event=ldap_failed" in srv.log_text()
    finally:
        slapd.start()
    # back: logins work again once the back-off has passed (each worker
    # has its own connection and back-off)
    deadline = time.monotonic() + 45
    while True:
        tagged = imap_login(srv, "alice", "secret")
        error = pop3_login(srv, "bob", "bobpw")
        code = lmtp_rcpt(srv, "alice@example.com")
        if tagged.startswith(b"l OK") and error is None and code == 250:
            break
        assert tagged.startswith((b"l OK", b"l NO [UNAVAILABLE]")), tagged
        assert error is None or "[SYS/TEMP]" in error, error
        assert code in (250, 451), code
        assert time.monotonic() < deadline, "no recovery after slapd came back"
        time.sleep(0.3)
    assert "event=ldap_reconnected" in srv.log_text()


def test_hung_server_times_out(ternd_factory, slapd):
    """A server that accepts but never answers costs one ldap_timeout, then
    logins fail at once until the back-off passes."""
    srv = ternd_factory(process_count=1, config_extra=ldap_block(
        "passdb", "people", slapd, ldap_timeout="1s") + userdb(slapd)).start()
    assert imap_login(srv, "alice", "secret").startswith(b"l OK")
    slapd.proc.send_signal(signal.SIGSTOP)
    try:
        start = time.monotonic()
        tagged = imap_login(srv, "alice", "secret")
        took = time.monotonic() - start
        assert tagged.startswith(b"l NO [UNAVAILABLE]"), tagged
        assert 0.9 < took < 3.0, took
        # within the back-off no connect is tried (the window doubles
        # with every failure, so a slow machine gets there too)
        for _ in range(5):
            tagged = imap_login(srv, "alice", "secret")
            assert tagged.startswith(b"l NO [UNAVAILABLE]"), tagged
            if "retrying in" in srv.log_text():
                break
        assert "retrying in" in srv.log_text()
    finally:
        slapd.proc.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 45
    while not imap_login(srv, "alice", "secret").startswith(b"l OK"):
        assert time.monotonic() < deadline, "no recovery after slapd resumed"
        time.sleep(0.3)


def test_bad_settings_are_reported(ternd_factory, slapd):
    """A broken attribute map stops the workers from starting, with the
    setting named in the log."""
    srv = ternd_factory(config_extra=ldap_block(
        "passdb", "people", slapd, ldap_pass_attrs="userPassword"))
    with open(srv.log_path, "ab") as log:
        proc = subprocess.Popen([str(TERND), "-F", "-c", str(srv.config_path)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=srv.dir,
                                start_new_session=True)
    try:
        want = "ldap_pass_attrs: invalid attribute map 'userPassword'"
        deadline = time.monotonic() + 15
        while want not in srv.log_text():
            assert time.monotonic() < deadline, srv.log_text()[-3000:]
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
