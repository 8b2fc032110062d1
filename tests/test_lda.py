"""tern-lda, the local delivery agent, run as an MTA's mailbox_command
would: the message on stdin stored byte for byte under a Return-Path
field, -m, -a (+detail and Sieve's envelope "to"), -f and the message's
own Return-Path, a leading mbox From_ line, sendmail exit codes (0, 64,
67, 75, 77), quota (75 or 77 per quota.full_tempfail), -e with ereject,
and redirects through a sendmail binary (`-i -f SENDER -- RCPT`) and
through SMTP with a temporary failure (75, nothing stored)."""
import subprocess

import pytest

from conftest import BUILD, SANITIZER_MARKERS, Ternd
from mailutil import Imap, close_sessions, mail_home, maildir, message
from smtpsink import SmtpSink

LDA = BUILD / "src" / "delivery" / "tern-lda"
EX_USAGE, EX_NOUSER, EX_TEMPFAIL, EX_NOPERM = 64, 67, 75, 77


@pytest.fixture
def setup(tmp_path):
    """A config and passwd file (as ternd's tests write them); ternd itself
    never runs. Returns a function (extra config, passwd extra fields)."""
    def make(extra="", passwd_extra=None):
        d = tmp_path / f"lda{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        srv = Ternd(d, config_extra=extra, users={"alice": "secret", "bob": "pw"})
        if passwd_extra:
            srv.passwd_path.write_text("".join(
                f"{u}:{{PLAIN}}pw::::::{passwd_extra.get(u, '')}\n" for u in ("alice", "bob")))
        return srv
    return make


def lda(srv, args, data):
    proc = subprocess.run([str(LDA), "-c", str(srv.config_path)] + args, input=data,
                          capture_output=True, timeout=60)
    err = proc.stderr.decode(errors="replace")
    assert not any(m in err for m in SANITIZER_MARKERS), err
    return proc.returncode, err


def stored(srv, user="alice", folder=""):
    d = maildir(srv, user, folder)
    out = []
    for sub in ("new", "cur"):
        if (d / sub).is_dir():
            out += [f.read_bytes() for f in sorted((d / sub).iterdir())]
    return out


def sieve(srv, text, user="alice"):
    home = mail_home(srv, user)
    home.mkdir(parents=True, exist_ok=True)
    (home / ".dovecot.sieve").write_text(text)


def test_delivers_stdin_intact(setup):
    srv = setup()
    msg = message(subject="crlf")
    assert lda(srv, ["-d", "alice", "-f", "bob@example.net"], msg)[0] == 0
    assert stored(srv) == [b"Return-Path: <bob@example.net>\r\n" + msg]
    # a pipe's LF line ends are kept, and the added field uses them too
    lf = msg.replace(b"\r\n", b"\n") + b"\xff\x00 binary-ish tail\n"
    assert lda(srv, ["-d", "bob", "-f", "<>"], lf)[0] == 0
    assert stored(srv, "bob") == [b"Return-Path: <>\n" + lf]


def test_large_message_spooled_to_a_file(setup, tmp_path):
    """Past lmtp.spool_memory_limit stdin goes to an unlinked temporary file
    (TMPDIR); the stored copy is still the exact bytes, a From_ line is
    still dropped, and no temporary file is left behind."""
    srv = setup(extra="lmtp {\n  spool_memory_limit = 16k\n}\n")
    body = b"".join(b"line %06d of a long message\r\n" % i for i in range(20000))
    msg = message(subject="large") + body
    tmp = tmp_path / "spool"
    tmp.mkdir()
    proc = subprocess.run([str(LDA), "-c", str(srv.config_path), "-d", "alice"],
                          input=b"From bob@example.net Mon Jan  1 00:00:00 2024\r\n" + msg,
                          capture_output=True, timeout=60, env={"TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stderr
    [got] = stored(srv)
    assert got.endswith(msg) and len(msg) > 500_000
    assert list(tmp.iterdir()) == []


def test_from_line_and_own_return_path(setup):
    srv = setup()
    msg = b"Return-Path: <list-bounces@example.net>\n" + \
        message(subject="mbox").replace(b"\r\n", b"\n")
    code, _ = lda(srv, ["-d", "alice"], b"From someone@example.net Mon Jan  1 00:00:00 2024\n" + msg)
    assert code == 0
    # the From_ line is dropped; the message's own Return-Path stays and is the sender
    assert stored(srv) == [msg]


def test_mailbox_and_detail(setup):
    srv = setup()
    srv.start()
    try:
        imap = Imap(srv.imap_port)
        imap.ok("CREATE Lists")
        imap.logout()
        close_sessions()
    finally:
        srv.stop()
    sieve(srv, 'require ["fileinto", "envelope"];\n'
          'if envelope :is "to" "alias@example.org" { fileinto "Lists"; }\n')
    m1, m2, m3, m4 = (message(subject=s) for s in ("m-missing", "m-lists", "alias", "detail"))
    # a -m mailbox that doesn't exist: INBOX (delivery never creates it)
    assert lda(srv, ["-d", "alice", "-m", "Nope", "-f", "x@example.net"], m1)[0] == 0
    assert lda(srv, ["-d", "alice", "-m", "Lists", "-f", "x@example.net"], m2)[0] == 0
    # -a is the envelope recipient Sieve sees
    assert lda(srv, ["-d", "alice", "-a", "alias@example.org", "-f", "x@example.net"], m3)[0] == 0
    ret = [b.split(b"\r\n", 1)[1] for b in stored(srv)]
    assert ret == [m1]
    assert [b.split(b"\r\n", 1)[1] for b in stored(srv, folder="Lists")] == [m2, m3]
    # -a's +detail selects the mailbox like LMTP's (no script this time)
    (mail_home(srv) / ".dovecot.sieve").unlink()
    assert lda(srv, ["-d", "alice", "-a", "alice+Lists@example.org", "-f", "x@example.net"],
               m4)[0] == 0
    assert len(stored(srv, folder="Lists")) == 3


def test_exit_codes(setup):
    srv = setup()
    msg = message()
    code, err = lda(srv, ["-d", "nobody", "-f", "x@example.net"], msg)
    assert code == EX_NOUSER and "unknown user: nobody" in err
    assert lda(srv, ["-d", "alice", "extra-arg"], msg)[0] == EX_USAGE
    assert lda(srv, ["-x"], msg)[0] == EX_USAGE
    bad = subprocess.run([str(LDA), "-c", "/nonexistent/tern.conf", "-d", "alice"],
                         input=msg, capture_output=True, timeout=60)
    assert bad.returncode == EX_TEMPFAIL


@pytest.mark.parametrize("tempfail,expected", [("yes", EX_TEMPFAIL), ("no", EX_NOPERM)])
def test_over_quota(setup, tempfail, expected):
    srv = setup(extra=f"quota {{\n  full_tempfail = {tempfail}\n}}\n",
                passwd_extra={"alice": "userdb_quota_rule=*:storage=2k"})
    assert lda(srv, ["-d", "alice", "-f", "x@example.net"], message(subject="fits"))[0] == 0
    big = message(subject="big", body="y" * 3000 + "\r\n")
    code, err = lda(srv, ["-d", "alice", "-f", "x@example.net"], big)
    assert code == expected and "Quota exceeded" in err
    assert len(stored(srv)) == 1


def test_ereject_with_e(setup):
    srv = setup()
    sieve(srv, 'require "ereject";\nereject "No mail for you.";\n')
    code, err = lda(srv, ["-d", "alice", "-e", "-f", "x@example.net"], message())
    assert code == EX_NOPERM and "No mail for you." in err
    assert stored(srv) == []


def test_redirect_through_sendmail(setup, tmp_path):
    out = tmp_path / "sendmail.out"
    fake = tmp_path / "sendmail"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {out}.args\ncat > {out}\n')
    fake.chmod(0o755)
    srv = setup(extra=f"submission {{\n  sendmail_path = {fake}\n}}\n")
    sieve(srv, 'redirect "carol@elsewhere.example";\n')
    msg = message(subject="via sendmail")
    assert lda(srv, ["-d", "alice", "-f", "bob@example.net"], msg)[0] == 0
    assert (tmp_path / "sendmail.out.args").read_text().split("\n")[:5] == \
        ["-i", "-f", "bob@example.net", "--", "carol@elsewhere.example"]
    # sendmail gets local (LF) line ends
    assert out.read_bytes().endswith(msg.replace(b"\r\n", b"\n"))
    assert stored(srv) == []


def test_redirect_smtp_tempfail(setup):
    sink = SmtpSink()
    try:
        srv = setup(extra=f"submission {{\n  host = {sink.host}\n}}\n")
        sieve(srv, 'redirect "carol@elsewhere.example";\n')
        sink.fail_rcpt = "421 4.3.0 busy"
        code, err = lda(srv, ["-d", "alice", "-f", "bob@example.net"], message())
        assert code == EX_TEMPFAIL and "temporary failure" in err
        assert stored(srv) == []
        sink.fail_rcpt = None
        assert lda(srv, ["-d", "alice", "-f", "bob@example.net"], message())[0] == 0
        [(sender, rcpts, _)] = sink.wait(1)
        assert sender == "bob@example.net" and rcpts == ["carol@elsewhere.example"]
    finally:
        sink.close()
