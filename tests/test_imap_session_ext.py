"""Session-level IMAP extensions against a running ternd: the configurable
capability list (imap.capability_add / imap.capability_remove),
LOGIN-REFERRALS (RFC 2221), UTF8=ACCEPT (RFC 9755, formerly RFC 6855) and
UNAUTHENTICATE (RFC 8437)."""
import subprocess
import zlib

from conftest import TERND, Ternd
from imaputil import RawImap


def caps_of(line):
    """The capability names in a CAPABILITY response or [CAPABILITY] code."""
    text = line.decode()
    if "[CAPABILITY " in text:
        text = text.split("[CAPABILITY ", 1)[1].split("]", 1)[0]
    else:
        text = text.split("CAPABILITY ", 1)[1]
    return text.split()


def login(c, user="alice", password="secret", tag="l"):
    untagged, tagged = c.command(tag, f"LOGIN {user} {password}")
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    return untagged, tagged


def write_passwd(srv, lines):
    srv.passwd_path.write_text("".join(line + "\n" for line in lines))


# --- capability_add / capability_remove ---

def test_capability_remove_and_add(ternd_factory):
    srv = ternd_factory(config_extra=(
        "imap.capability_remove = THREAD MOVE COMPRESS id condstore\n"
        "imap.capability_add = XTERN-TEST X-PROXY=1\n")).start()
    c = RawImap(srv.imap_port)
    pre = caps_of(c.greeting)
    assert "XTERN-TEST" in pre and "X-PROXY=1" in pre
    assert "ID" not in pre and "MOVE" not in pre
    assert not [x for x in pre if x.startswith("THREAD=")]
    assert "AUTH=PLAIN" in pre and "IMAP4rev1" in pre
    # a removed capability's command is unknown, also before login
    _, tagged = c.command("i", 'ID NIL')
    assert tagged.startswith(b"i BAD"), tagged
    _, tagged = login(c)
    post = caps_of(tagged)
    assert "COMPRESS=DEFLATE" not in post and "CONDSTORE" not in post
    assert "XTERN-TEST" in post and "SORT" in post
    # QRESYNC implies CONDSTORE (RFC 7162 §3.2.3): it goes with it
    assert "QRESYNC" not in post
    c.command("s", "SELECT INBOX")
    for cmd in ("THREAD REFERENCES UTF-8 ALL", "UID THREAD REFS UTF-8 ALL",
                "MOVE 1 Trash", "UID MOVE 1 Trash", "COMPRESS DEFLATE"):
        _, tagged = c.command("x", cmd)
        assert tagged.startswith(b"x BAD"), (cmd, tagged)
    _, tagged = c.command("t", "SORT (ARRIVAL) UTF-8 ALL")
    assert tagged.startswith(b"t OK"), tagged
    # ENABLE of a removed capability enables nothing
    untagged, tagged = c.command("e", "ENABLE CONDSTORE QRESYNC IMAP4rev2")
    assert untagged == [b"* ENABLED IMAP4rev2"] and tagged.startswith(b"e OK")
    c.close()


def test_capability_remove_one_of_a_family(ternd_factory):
    srv = ternd_factory(config_extra="imap.capability_remove = THREAD=REFS\n").start()
    c = RawImap(srv.imap_port)
    _, tagged = login(c)
    caps = caps_of(tagged)
    assert "THREAD=REFS" not in caps and "THREAD=REFERENCES" in caps
    c.command("s", "SELECT INBOX")
    # THREAD still has algorithms left, so the command stays
    _, tagged = c.command("t", "THREAD REFERENCES UTF-8 ALL")
    assert tagged.startswith(b"t OK"), tagged
    c.close()


def test_capability_settings_checked(tmp_path):
    for i, (line, words) in enumerate([
            ("imap.capability_remove = IMAP4rev1", "can't be removed"),
            ("imap.capability_remove = STARTTLS", "can't be removed"),
            ("imap.capability_remove = AUTH=PLAIN", "auth.mechanisms"),
            ("imap.capability_add = X(Y)", "atoms"),
            ('imap.capability_add = "X\\\\Y"', "atoms")]):
        d = tmp_path / f"c{i}"
        d.mkdir()
        srv = Ternd(d, config_extra=line + "\n")
        res = subprocess.run([str(TERND), "--check", str(srv.config_path)],
                             capture_output=True, text=True)
        out = res.stdout + res.stderr
        assert res.returncode != 0 and words in out, (line, out)


# --- LOGIN-REFERRALS ---

def test_login_referrals(ternd_factory):
    srv = ternd_factory()
    write_passwd(srv, [
        "alice:{PLAIN}secret::::::",
        "moved:{PLAIN}pw::::::nologin referral=imap://moved@new.example.org/",
        "gone:{PLAIN}pw::::::nologin",
        "moving:{PLAIN}pw::::::referral=imap://moving;AUTH=*@next.example.org:143/",
        "broken:{PLAIN}pw::::::nologin referral=imap://x]y/",
    ])
    srv.start()
    c = RawImap(srv.imap_port)
    assert "LOGIN-REFERRALS" in caps_of(c.greeting)
    # refused, and told where to go (only after the right password)
    _, tagged = c.command("a", "LOGIN moved wrong")
    assert tagged.startswith(b"a NO [AUTHENTICATIONFAILED]"), tagged
    _, tagged = c.command("b", "LOGIN moved pw")
    assert tagged == b"b NO [REFERRAL imap://moved@new.example.org/] Try this server instead."
    _, tagged = c.command("c", "LOGIN gone pw")
    assert tagged.startswith(b"c NO [AUTHORIZATIONFAILED]"), tagged
    # a referral that can't be sent in a response code is not sent
    _, tagged = c.command("d", "LOGIN broken pw")
    assert tagged.startswith(b"d NO [AUTHORIZATIONFAILED]"), tagged
    c.close()
    # logged in, but asked to use the other server from now on
    c = RawImap(srv.imap_port)
    untagged, tagged = c.command("e", "LOGIN moving pw")
    assert tagged == b"e OK [REFERRAL imap://moving;AUTH=*@next.example.org:143/] Logged in"
    assert len(untagged) == 1 and "IMAP4rev1" in caps_of(untagged[0])
    _, tagged = c.command("f", "SELECT INBOX")
    assert tagged.startswith(b"f OK"), tagged
    c.close()


# --- UTF8=ACCEPT ---

def test_utf8_accept_names_and_charset(ternd):
    c = RawImap(ternd.imap_port)
    assert "UTF8=ACCEPT" in caps_of(c.greeting)
    login(c)
    # before ENABLE: modified UTF-7 (RFC 3501 §5.1.3)
    _, tagged = c.command("a", "CREATE Entw&APw-rfe")
    assert tagged.startswith(b"a OK"), tagged
    untagged, _ = c.command("b", 'LIST "" "Entw*"')
    assert untagged == [b'* LIST (\\HasNoChildren) "/" Entw&APw-rfe']
    untagged, tagged = c.command("c", "ENABLE UTF8=ACCEPT")
    assert untagged == [b"* ENABLED UTF8=ACCEPT"] and tagged.startswith(b"c OK")
    untagged, _ = c.command("d", 'LIST "" "Entw*"')
    assert untagged == ['* LIST (\\HasNoChildren) "/" "Entwürfe"'.encode()]
    c.send('e SELECT "Entwürfe"\r\n'.encode())
    _, tagged = c.read_until_tagged("e")
    assert tagged.startswith(b"e OK"), tagged
    c.send('f APPEND "Entwürfe" {19}\r\n'.encode())
    assert c.readline().startswith(b"+")
    c.send(b"Subject: x\r\n\r\nbody\r\n\r\n")
    _, tagged = c.read_until_tagged("f")
    assert tagged.startswith(b"f OK"), tagged
    # RFC 9755 §3: no CHARSET in SEARCH, only UTF-8 in SORT/THREAD
    _, tagged = c.command("g", "SEARCH CHARSET UTF-8 ALL")
    assert tagged.startswith(b"g BAD"), tagged
    _, tagged = c.command("h", "SEARCH SUBJECT x")
    assert tagged.startswith(b"h OK"), tagged
    _, tagged = c.command("i", "SORT (SUBJECT) ISO-8859-1 ALL")
    assert tagged.startswith(b"i BAD"), tagged
    untagged, tagged = c.command("j", "SORT (SUBJECT) UTF-8 ALL")
    assert untagged == [b"* SORT 1"] and tagged.startswith(b"j OK")
    # a second ENABLE enables nothing new
    untagged, _ = c.command("k", "ENABLE UTF8=ACCEPT")
    assert untagged == [b"* ENABLED"]
    c.close()


# --- UNAUTHENTICATE ---

def test_unauthenticate_returns_to_prelogin(ternd_factory):
    srv = ternd_factory(users={"alice": "secret", "bob": "pw"}).start()
    c = RawImap(srv.imap_port)
    assert "UNAUTHENTICATE" in caps_of(c.greeting)
    _, tagged = c.command("u0", "UNAUTHENTICATE")
    assert tagged.startswith(b"u0 BAD"), tagged
    login(c)
    c.command("en", "ENABLE CONDSTORE UTF8=ACCEPT")
    untagged, tagged = c.command("s", "SELECT INBOX")
    assert tagged.startswith(b"s OK"), tagged
    c.send(b"m APPEND INBOX (\\Deleted) {17}\r\n")
    assert c.readline().startswith(b"+")
    c.send(b"Subject: a\r\n\r\nhi\r\n\r\n")
    c.read_until_tagged("m")
    _, tagged = c.command("u1", "UNAUTHENTICATE extra")
    assert tagged.startswith(b"u1 BAD"), tagged
    untagged, tagged = c.command("u2", "UNAUTHENTICATE")
    assert tagged == b"u2 OK Unauthenticate completed.", tagged
    # not authenticated any more
    _, tagged = c.command("x", "SELECT INBOX")
    assert tagged.startswith(b"x BAD"), tagged
    untagged, tagged = c.command("cap", "CAPABILITY")
    caps = caps_of(untagged[0])
    assert "AUTH=PLAIN" in caps and "COMPRESS=DEFLATE" not in caps
    # another user on the same connection; nothing of alice's session
    # (enabled extensions, the \Deleted message not expunged) carries over
    login(c, "bob", "pw", tag="l2")
    untagged, tagged = c.command("s2", "SELECT INBOX")
    assert b"* 0 EXISTS" in untagged and not any(b"HIGHESTMODSEQ" in u for u in untagged)
    c.command("u3", "UNAUTHENTICATE")
    login(c, tag="l3")
    untagged, _ = c.command("s3", "SELECT INBOX")
    assert b"* 1 EXISTS" in untagged
    assert not any(b"HIGHESTMODSEQ" in u for u in untagged), untagged
    c.close()
    log = srv.log_text()
    assert "event=unauthenticate" in log


def test_unauthenticate_pipelined_and_repeated(ternd):
    c = RawImap(ternd.imap_port)
    # commands pipelined behind UNAUTHENTICATE reach the pre-login engine
    c.send(b"a LOGIN alice secret\r\nb UNAUTHENTICATE\r\nc NOOP\r\n"
           b"d LOGIN alice wrong\r\ne LOGIN alice secret\r\nf LOGOUT\r\n")
    for tag, want in (("a", b"a OK"), ("b", b"b OK"), ("c", b"c OK"),
                      ("d", b"d NO [AUTHENTICATIONFAILED]"), ("e", b"e OK")):
        _, tagged = c.read_until_tagged(tag)
        assert tagged.startswith(want), (tag, tagged)
    _, tagged = c.read_until_tagged("f")
    assert tagged.startswith(b"f OK")
    assert c.closed()
    # many cycles on one connection don't grow the process
    c = RawImap(ternd.imap_port)
    c.send(b"".join(b"l%d LOGIN alice secret\r\nu%d UNAUTHENTICATE\r\n" % (i, i)
                    for i in range(300)))
    _, tagged = c.read_until_tagged("u299")
    assert tagged.startswith(b"u299 OK"), tagged
    c.close()


def test_unauthenticate_keeps_tls(ternd):
    c = RawImap(ternd.imaps_port, tls=True)
    login(c)
    c.send(b"u UNAUTHENTICATE\r\nc CAPABILITY\r\n")
    _, tagged = c.read_until_tagged("u")
    assert tagged.startswith(b"u OK"), tagged
    untagged, tagged = c.read_until_tagged("c")
    caps = untagged[0].split(b"* CAPABILITY ", 1)[1].decode().split()
    # TLS is still on: no STARTTLS offered, plaintext login allowed
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    _, tagged = c.command("l", "LOGIN alice secret")
    assert tagged.startswith(b"l OK"), tagged
    _, tagged = c.command("s", "SELECT INBOX")
    assert tagged.startswith(b"s OK"), tagged
    c.close()


def test_unauthenticate_refused_after_compress(ternd):
    """The DEFLATE state lives in the mail process and can't move back to a
    login process: NO [CANNOT], and the session goes on compressed."""
    c = RawImap(ternd.imaps_port, tls=True)
    login(c)
    _, tagged = c.command("z", "COMPRESS DEFLATE")
    assert tagged.startswith(b"z OK"), tagged
    comp = zlib.compressobj(wbits=-15)
    decomp = zlib.decompressobj(wbits=-15)

    def send(data):
        c.sock.sendall(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))

    def read_tagged(tag):
        buf = b""
        while True:
            lines = buf.split(b"\r\n")
            for line in lines[:-1]:
                if line.startswith(tag + b" "):
                    return buf, line
            buf += decomp.decompress(c.sock.recv(65536))

    send(b"u UNAUTHENTICATE\r\n")
    _, tagged = read_tagged(b"u")
    assert tagged.startswith(b"u NO [CANNOT]"), tagged
    send(b"s SELECT INBOX\r\n")
    _, tagged = read_tagged(b"s")
    assert tagged.startswith(b"s OK"), tagged
    c.close()
