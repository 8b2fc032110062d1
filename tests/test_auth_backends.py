"""passdb and userdb blocks (docs/configuration.md, issue 8): chains of
backends tried in order, the static driver, master users (user*master and
the SASL authorization identity), auth.default_domain, and passdb userdb_
fields as the userdb, all through real IMAP and LMTP sessions."""
import base64
import imaplib
import smtplib
import subprocess

from conftest import TERND
from imaputil import RawImap


def write_passwd(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def imap_login(srv, user, password):
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    m.login(user, password)
    return m


def login_fails(srv, user, password):
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    try:
        m.login(user, password)
    except imaplib.IMAP4.error as e:
        return str(e)
    finally:
        try:
            m.logout()
        except Exception:
            pass
    return None


def test_passdb_chain_tries_each_backend(ternd_factory, tmp_path):
    second = tmp_path / "second.passwd"
    write_passwd(second, ["bob:{PLAIN}bobpw::::::", "alice:{PLAIN}otherpw::::::"])
    srv = ternd_factory(config_extra=f"""
passdb first {{
  driver = passwd-file
  args = passwd
}}
passdb second {{
  driver = passwd-file
  args = {second}
}}
userdb users {{
  driver = static
  args = home=%h/../homes/%u
}}
""".replace("%h/../homes", str(tmp_path / "homes"))).start()
    # alice is in the first file, bob only in the second
    imap_login(srv, "alice", "secret").logout()
    imap_login(srv, "bob", "bobpw").logout()
    # a password that only the second file has also works (Dovecot's
    # default: a mismatch passes to the next passdb)
    imap_login(srv, "alice", "otherpw").logout()
    assert login_fails(srv, "bob", "wrong") is not None
    assert login_fails(srv, "nobody", "x") is not None
    # the static userdb put the homes where its template says
    assert (tmp_path / "homes" / "bob").is_dir()
    assert (tmp_path / "homes" / "alice").is_dir()


def test_static_userdb_home_template(ternd_factory, tmp_path):
    srv = ternd_factory(users={"carol@example.org": "pw"}, config_extra=f"""
userdb vmail {{
  driver = static
  args = home={tmp_path}/vmail/%d/%n
}}
""").start()
    m = imap_login(srv, "carol@example.org", "pw")
    m.create("Reports")
    m.logout()
    assert (tmp_path / "vmail" / "example.org" / "carol").is_dir()


def test_static_passdb_password(ternd_factory, tmp_path):
    srv = ternd_factory(config_extra=f"""
passdb everyone {{
  driver = static
  args = password={{PLAIN}}shared
}}
userdb vmail {{
  driver = static
  args = home={tmp_path}/h/%u
}}
""").start()
    imap_login(srv, "anyone", "shared").logout()
    assert "AUTHENTICATIONFAILED" in login_fails(srv, "anyone", "secret")


def test_master_user_separator_and_authzid(ternd_factory, tmp_path):
    masters = tmp_path / "masters"
    write_passwd(masters, ["admin:{PLAIN}adminpw::::::"])
    srv = ternd_factory(users={"alice": "secret", "bob": "bobpw"}, config_extra=f"""
passdb masters {{
  driver = passwd-file
  args = {masters}
  master = yes
}}
passdb users {{
  driver = passwd-file
  args = passwd
}}
""").start()
    m = imap_login(srv, "alice", "secret")
    m.create("OnlyAlice")
    m.logout()
    # "alice*admin" with admin's password is a session of alice
    m = imap_login(srv, "alice*admin", "adminpw")
    typ, data = m.list()
    assert any(b"OnlyAlice" in line for line in data)
    m.logout()
    # SASL PLAIN with authzid=alice, authcid=admin
    c = RawImap(srv.imap_port)
    ir = base64.b64encode(b"alice\0admin\0adminpw").decode()
    _, tagged = c.command("a1", f"AUTHENTICATE PLAIN {ir}")
    assert tagged.startswith(b"a1 OK"), tagged
    untagged, tagged = c.command("a2", 'LIST "" OnlyAlice')
    assert any(b"OnlyAlice" in u for u in untagged)
    c.close()
    # a master user can't log in as a user that doesn't exist, or with a
    # wrong password, and ordinary users can't act as masters
    assert login_fails(srv, "nosuch*admin", "adminpw") is not None
    assert login_fails(srv, "alice*admin", "secret") is not None
    c = RawImap(srv.imap_port)
    ir = base64.b64encode(b"alice\0bob\0bobpw").decode()
    _, tagged = c.command("a1", f"AUTHENTICATE PLAIN {ir}")
    assert tagged.startswith(b"a1 NO"), tagged
    c.close()
    # the master is named in the log
    assert "master_user=admin" in srv.log_text()


def test_authzid_refused_without_master_passdb(ternd):
    c = RawImap(ternd.imap_port)
    ir = base64.b64encode(b"bob\0alice\0secret").decode()
    _, tagged = c.command("a1", f"AUTHENTICATE PLAIN {ir}")
    assert tagged.startswith(b"a1 NO"), tagged
    # naming oneself as authzid is the same as none
    ir = base64.b64encode(b"alice\0alice\0secret").decode()
    _, tagged = c.command("a2", f"AUTHENTICATE PLAIN {ir}")
    assert tagged.startswith(b"a2 OK"), tagged
    c.close()


def test_default_domain(ternd_factory):
    srv = ternd_factory(users={"dave@example.net": "pw"}, config_extra="""
auth {
  default_domain = example.net
}
""").start()
    imap_login(srv, "dave", "pw").logout()
    imap_login(srv, "dave@example.net", "pw").logout()
    assert "user=dave@example.net" in srv.log_text()


def test_passdb_userdb_fields_without_userdb(ternd_factory, tmp_path):
    """With passdb blocks and no userdb block, the passdb's userdb_ fields
    are the userdb (Dovecot's prefetch)."""
    users = tmp_path / "users"
    write_passwd(users, [f"erin:{{PLAIN}}pw::::::userdb_home={tmp_path}/erin-home"])
    srv = ternd_factory(lmtp=True, config_extra=f"""
passdb users {{
  driver = passwd-file
  args = {users}
}}
""").start()
    imap_login(srv, "erin", "pw").logout()
    assert (tmp_path / "erin-home").is_dir()
    # LMTP finds her through the same chain
    with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as s:
        s.sendmail("a@example.com", ["erin@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
    m = imap_login(srv, "erin", "pw")
    m.select("INBOX")
    typ, data = m.search(None, "ALL")
    assert data[0] == b"1"
    m.logout()


def test_bad_passdb_config_is_refused(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text(f"base_dir = {tmp_path}\npassdb x {{\n  driver = nosuch\n}}\n")
    r = subprocess.run([str(TERND), "--check", str(conf)], capture_output=True, text=True)
    assert r.returncode != 0
    assert "driver" in (r.stderr + r.stdout)
