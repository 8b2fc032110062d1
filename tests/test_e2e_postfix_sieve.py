"""End to end (issue 9): mail from outside reaches a user through a real
Postfix (a private instance of Debian's package) that delivers over LMTP to
ternd; the user's Sieve script, uploaded and activated with the real
sieve-connect client over ManageSieve, files the message into a folder,
sets flags and sends a vacation reply, which goes back out through the same
Postfix and is captured where Postfix relays it; an IMAP client (imaplib)
then finds everything where it should be."""
import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import time

import pytest

from conftest import free_port
from postfixutil import MASTER_DELIVERY, POSTFIX, PrivatePostfix, world_dir
from smtpsink import SmtpSink

DOMAIN = "example.org"
USERS = {"alice": "alice-secret"}

SCRIPT = b"""require ["fileinto", "imap4flags", "vacation", "mailbox"];
if header :contains "subject" "Project X" {
  setflag "\\\\Flagged";
  addflag "$Work";
  fileinto :create "Projects";
}
vacation :days 1 :subject "Away until Monday"
  :addresses ["alice@example.org"]
  "I am away until Monday and will answer then.";
"""

pytestmark = [
    pytest.mark.skipif(POSTFIX is None, reason="postfix is not installed"),
    pytest.mark.skipif(shutil.which("sieve-connect") is None,
                       reason="sieve-connect is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="a private Postfix master runs as root"),
]


def sieve_connect(port, *args):
    r, w = os.pipe()
    os.write(w, (USERS["alice"] + "\n").encode())
    os.close(w)
    try:
        return subprocess.run(["sieve-connect", "-s", "127.0.0.1", "-p", str(port),
                               "-u", "alice", "--passwordfd", str(r), "--notlsverify", *args],
                              pass_fds=(r,), capture_output=True, text=True, timeout=60)
    finally:
        os.close(r)


def wait(pred, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def mailbox_count(imap, name):
    typ, data = imap.status(name, "(MESSAGES)")
    if typ != "OK":
        return 0
    return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))


def test_postfix_lmtp_sieve_managesieve_imap(ternd_factory, tmp_path):
    sink = SmtpSink()
    sieve_port = free_port()
    # Postfix first (ternd submits its auto-replies to Postfix's port); its
    # main.cf gets the LMTP port once ternd has one
    postfix = PrivatePostfix(world_dir("tern-e2e-"), master=MASTER_DELIVERY)
    srv = ternd_factory(lmtp=True, users=USERS, process_count=1, config_extra=f"""
listener.managesieve.enabled = yes
listener.managesieve.port = {sieve_port}
submission {{
  host = 127.0.0.1:{postfix.port}
}}
""").start()
    try:
        # example.org is ours (LMTP into ternd); anything else is relayed to
        # the capture server standing in for the Internet
        main_cf = postfix.conf / "main.cf"
        main_cf.write_text(main_cf.read_text() + f"""
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{srv.lmtp_port}
smtpd_reject_unlisted_recipient = no
relayhost = [127.0.0.1]:{sink.port}
smtp_tls_security_level = none
""")
        postfix.start()

        # 1. the user uploads and activates the script with sieve-connect
        script = tmp_path / "rules.sieve"
        script.write_bytes(SCRIPT)
        r = sieve_connect(sieve_port, "--upload", "--localsieve", str(script),
                          "--remotesieve", "rules")
        assert r.returncode == 0, r.stdout + r.stderr
        r = sieve_connect(sieve_port, "--activate", "--remotesieve", "rules")
        assert r.returncode == 0, r.stdout + r.stderr
        r = sieve_connect(sieve_port, "--list")
        assert '"rules" ACTIVE' in r.stdout, r.stdout + r.stderr

        # 2. mail arrives from outside over SMTP
        msg = (b"From: Bob Remote <bob@remote.example>\r\n"
               b"To: Alice <alice@example.org>\r\n"
               b"Subject: Project X status\r\n"
               b"Message-ID: <e2e-1@remote.example>\r\n"
               b"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
               b"\r\n"
               b"The numbers are in.\r\n")
        smtp = smtplib.SMTP("127.0.0.1", postfix.port, timeout=30)
        smtp.ehlo("remote.example")
        assert smtp.sendmail("bob@remote.example", ["alice@example.org"], msg) == {}
        smtp.quit()

        # 3. the vacation reply goes out through Postfix to the capture
        got = wait(lambda: sink.wait(1, timeout=0.1), "the vacation reply", timeout=60)
        assert len(got) == 1, got
        mail_from, rcpts, reply = got[0]
        assert mail_from == "" and rcpts == ["bob@remote.example"]
        head = reply.split(b"\r\n\r\n", 1)[0]
        assert re.search(rb"\r\nSubject: Away until Monday\r\n", b"\r\n" + head), head
        assert b"In-Reply-To: <e2e-1@remote.example>" in head
        assert re.search(rb"\r\nAuto-Submitted: auto-replied", b"\r\n" + head), head
        assert b"alice@example.org" in re.search(rb"(?m)^From: .*$", head).group(0)
        assert b"I am away until Monday" in reply
        # Postfix logged both legs: LMTP into ternd, SMTP to the relay
        pflog = postfix.log_text()
        assert re.search(r"to=<alice@example\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*"
                         r"status=sent" % srv.lmtp_port, pflog), pflog[-2000:]
        assert re.search(r"to=<bob@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*"
                         r"status=sent" % sink.port, pflog), pflog[-2000:]

        # 4. an IMAP client finds the message filed and flagged, nothing in INBOX
        imap = imaplib.IMAP4("127.0.0.1", srv.imap_port)
        imap.login("alice", USERS["alice"])
        assert mailbox_count(imap, "INBOX") == 0
        assert mailbox_count(imap, "Projects") == 1
        typ, _ = imap.select("Projects")
        assert typ == "OK"
        typ, data = imap.fetch("1", "(FLAGS BODY.PEEK[])")
        assert typ == "OK"
        flags = data[0][0]
        assert b"\\Flagged" in flags and b"$Work" in flags and b"\\Seen" not in flags
        stored = data[0][1]
        # the trace Postfix and ternd added, then the message as sent
        assert stored.startswith(b"Return-Path: <bob@remote.example>\r\n")
        assert b"Delivered-To: alice@example.org\r\n" in stored
        assert stored.endswith(msg)
        imap.logout()

        # 5. a second message from the same sender: filed, but no second
        # vacation reply within :days
        smtp = smtplib.SMTP("127.0.0.1", postfix.port, timeout=30)
        assert smtp.sendmail("bob@remote.example", ["alice@example.org"],
                             msg.replace(b"e2e-1@", b"e2e-2@")) == {}
        smtp.quit()
        imap = imaplib.IMAP4("127.0.0.1", srv.imap_port)
        imap.login("alice", USERS["alice"])
        wait(lambda: mailbox_count(imap, "Projects") == 2, "the second delivery")
        imap.logout()
        assert len(sink.wait(2, timeout=2.0)) == 1
    finally:
        postfix.stop()
        sink.close()
        shutil.rmtree(postfix.dir, ignore_errors=True)
