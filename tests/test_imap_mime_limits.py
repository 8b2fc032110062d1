"""The MIME parsing bounds are settings (issue 4): mail.mime_max_depth,
mail.mime_max_parts and mail.mime_max_header_size. Past a bound the
message is still served: BODYSTRUCTURE in its degraded, well-formed
shape, BODY[] byte for byte; the defaults parse the same messages fully."""
import re
import subprocess

import pytest

from conftest import TERND, Ternd
from mailutil import Imap, close_sessions, fetch_list


@pytest.fixture(autouse=True)
def _close_test_sessions():
    yield
    close_sessions()


def nested(depth):
    """A message whose multipart/mixed parts nest depth levels deep."""
    body = "Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for level in range(depth):
        b = f"b{level}"
        body = (f"Content-Type: multipart/mixed; boundary={b}\r\n\r\n"
                f"--{b}\r\n{body}\r\n--{b}--\r\n")
    return ("Subject: nested\r\nMIME-Version: 1.0\r\n" + body).encode()


def many_parts(n):
    parts = "".join(f"--sep\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(n))
    return (f"Subject: parts\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=sep\r\n\r\n{parts}--sep--\r\n").encode()


def big_header(size):
    filler = "".join(f"X-F{i}: {'y' * 60}\r\n" for i in range(size // 68 + 1))
    return f"Subject: big header\r\n{filler}From: last@example.com\r\n\r\nbody\r\n".encode()


def structure(srv, data):
    c = Imap(srv.imap_port)
    c.cmd("CREATE Lim")  # NO [ALREADYEXISTS] from the second call on
    uid = c.append_ok("Lim", data)
    c.select("Lim")
    items = fetch_list(c.ok(f"UID FETCH {uid} (BODYSTRUCTURE ENVELOPE BODY.PEEK[])"))[0][1]
    c.logout()
    return items


def list_depth(value):
    if not isinstance(value, list):
        return 0
    return 1 + max((list_depth(v) for v in value), default=0)


def leaves(value):
    """text/plain leaves in a parsed BODYSTRUCTURE."""
    if not isinstance(value, list):
        return 0
    if value[:2] == [b"text", b"plain"]:
        return 1
    return sum(leaves(v) for v in value)


@pytest.mark.parametrize("config, data, measure, want_full, want_limited", [
    # 8 multiparts deep; with depth 3 the parts below are opaque
    ("mail.mime_max_depth = 3", nested(8), list_depth, 10, 5),
    ("mail.mime_max_parts = 4", many_parts(10), leaves, 10, 3),
])
def test_limits_degrade_structure(tmp_path, config, data, measure, want_full, want_limited):
    full = Ternd(tmp_path / "full").start()
    limited = Ternd(tmp_path / "limited", config_extra=config + "\n").start()
    try:
        a = structure(full, data)
        b = structure(limited, data)
        # the content is served whole either way
        assert a["BODY[]"] == data and b["BODY[]"] == data
        assert measure(a["BODYSTRUCTURE"]) == want_full
        assert measure(b["BODYSTRUCTURE"]) == want_limited
        # both are well-formed lists the client parser accepted
        assert isinstance(a["BODYSTRUCTURE"], list) and isinstance(b["BODYSTRUCTURE"], list)
    finally:
        full.stop()
        limited.stop()


def test_header_size_limit(tmp_path):
    data = big_header(4096)
    full = Ternd(tmp_path / "full").start()
    limited = Ternd(tmp_path / "limited", config_extra="mail.mime_max_header_size = 2k\n").start()
    try:
        a = structure(full, data)
        b = structure(limited, data)
        assert a["BODY[]"] == data and b["BODY[]"] == data
        # the From: after the bound is parsed only without it
        assert re.search(rb"last", repr(a["ENVELOPE"]).encode())
        assert not re.search(rb"last", repr(b["ENVELOPE"]).encode())
    finally:
        full.stop()
        limited.stop()


def test_bad_limit_refused(tmp_path):
    srv = Ternd(tmp_path, config_extra="mail.mime_max_depth = 0\n")
    res = subprocess.run([str(TERND), "--check", str(srv.config_path)],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "mime_max_depth" in (res.stderr + res.stdout)
