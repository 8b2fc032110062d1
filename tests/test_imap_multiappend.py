"""MULTIAPPEND (RFC 3502): several messages in one APPEND, committed
together (all or none), APPENDUID with the UID set (RFC 4315)."""
from imaputil import RawImap


def login(srv):
    c = RawImap(srv.imap_port)
    _, tagged = c.command("l", "LOGIN alice secret")
    assert tagged.startswith(b"l OK")
    return c


def msg(n):
    return f"Subject: multi {n}\r\n\r\nbody {n}\r\n".encode()


def status_messages(c, box="INBOX"):
    untagged, tagged = c.command("s", f"STATUS {box} (MESSAGES)")
    assert tagged.startswith(b"s OK")
    return int(untagged[0].split(b"MESSAGES ")[1].rstrip(b")"))


def test_multiappend_mixed_literals(ternd):
    c = login(ternd)
    assert b"MULTIAPPEND" in c.command("c", "CAPABILITY")[0][0]
    m1, m2, m3 = msg(1), msg(2), msg(3)
    c.send(b"a APPEND INBOX (\\Seen) {%d}\r\n" % len(m1))
    assert c.readline().startswith(b"+")
    c.send(m1 + b' "01-Jan-2020 10:00:00 +0100" {%d+}\r\n' % len(m2) + m2 +
           b" (\\Flagged) {%d}\r\n" % len(m3))
    assert c.readline().startswith(b"+")
    c.send(m3 + b"\r\n")
    _, tagged = c.read_until_tagged("a")
    assert tagged.startswith(b"a OK [APPENDUID ")
    uidset = tagged.split(b"]")[0].split()[-1]
    assert uidset == b"1:3"
    assert status_messages(c) == 3
    c.command("x", "SELECT INBOX")
    untagged, _ = c.command("f", "FETCH 1:3 (FLAGS INTERNALDATE)")
    assert b"\\Seen" in untagged[0] and b"1-Jan-2020 10:00:00 +0100" in untagged[1]
    assert b"\\Flagged" in untagged[2]


def test_multiappend_error_stores_nothing(ternd):
    c = login(ternd)
    m1, m2 = msg(1), msg(2)
    # the second message has an invalid flag: nothing may be stored
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(m1) + m1 +
           b" (\\Bogus) {%d+}\r\n" % len(m2) + m2 + b"\r\n")
    _, tagged = c.read_until_tagged("a")
    assert tagged.startswith(b"a BAD")
    assert status_messages(c) == 0
    # the session is in sync afterwards
    _, tagged = c.command("n", "NOOP")
    assert tagged.startswith(b"n OK")


def test_multiappend_trycreate(ternd):
    c = login(ternd)
    m1 = msg(1)
    c.send(b"a APPEND Nowhere {%d+}\r\n" % len(m1) + m1 + b" {%d+}\r\n" % len(m1) + m1 + b"\r\n")
    _, tagged = c.read_until_tagged("a")
    assert tagged.startswith(b"a NO [TRYCREATE]")
    _, tagged = c.command("n", "NOOP")
    assert tagged.startswith(b"n OK")


def test_multiappend_hundred(ternd):
    c = login(ternd)
    payload = b"a APPEND INBOX"
    for i in range(100):
        m = msg(i)
        payload += b" {%d+}\r\n" % len(m) + m
    c.send(payload + b"\r\n")
    _, tagged = c.read_until_tagged("a")
    assert tagged.startswith(b"a OK [APPENDUID ") and b" 1:100]" in tagged
    assert status_messages(c) == 100
