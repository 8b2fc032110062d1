"""ternctl pw against Dovecot's doveadm pw: every hash ternctl generates is
accepted by `doveadm pw -t`, and every hash doveadm generates is accepted by
`ternctl pw -t`; plus reading passwords from stdin and from a terminal, the
cost option and limits, and the error exits."""
import os
import pty
import select
import shutil
import signal
import subprocess
import time

import pytest

from conftest import TERNCTL

PASSWORD = "p\u00e4ss word"

# every scheme both sides generate (DIGEST-MD5 needs -u)
SCHEMES = ["CRYPT", "BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "MD5-CRYPT",
           "DES-CRYPT", "MD5", "ARGON2I", "ARGON2ID", "PBKDF2", "SSHA",
           "SSHA256", "SSHA512", "SMD5", "SHA", "SHA1", "SHA256", "SHA512",
           "PLAIN", "CLEARTEXT", "CLEAR", "PLAIN-MD5", "LDAP-MD5",
           "SHA256.HEX", "SSHA512.HEX", "PLAIN-MD5.B64", "SHA512.BASE64",
           "PLAIN.B64", "SMD5.HEX"]

DOVEADM = shutil.which("doveadm")
needs_doveadm = pytest.mark.skipif(DOVEADM is None,
                                   reason="doveadm (dovecot-core) not installed")


def ternctl(*args, input=None):
    return subprocess.run([str(TERNCTL), *args], capture_output=True,
                          text=True, input=input, timeout=60)


def doveadm_pw(*args):
    # -O: no config file needed
    return subprocess.run([DOVEADM, "-O", "pw", *args], capture_output=True,
                          text=True, timeout=60)


@needs_doveadm
@pytest.mark.parametrize("scheme", SCHEMES + ["DIGEST-MD5"])
def test_ternctl_hash_verified_by_doveadm(scheme):
    user = ["-u", "alice@example.com"] if scheme == "DIGEST-MD5" else []
    out = ternctl("pw", "-s", scheme, *user, "-p", PASSWORD)
    assert out.returncode == 0, out.stderr
    hash_ = out.stdout.strip()
    assert hash_.upper().startswith("{" + scheme.replace(".BASE64", ".B64") + "}")
    check = doveadm_pw("-t", hash_, "-p", PASSWORD, *user)
    assert check.returncode == 0 and "(verified)" in check.stdout, check.stderr
    # and Dovecot rejects a wrong password for it
    if scheme != "DES-CRYPT":
        check = doveadm_pw("-t", hash_, "-p", PASSWORD + "x", *user)
        assert "(verified)" not in check.stdout


@needs_doveadm
@pytest.mark.parametrize("scheme", SCHEMES + ["DIGEST-MD5"])
def test_doveadm_hash_verified_by_ternctl(scheme):
    user = ["-u", "bob"] if scheme == "DIGEST-MD5" else []
    made = doveadm_pw("-s", scheme, "-p", PASSWORD, *user)
    assert made.returncode == 0, made.stderr
    hash_ = made.stdout.strip()
    out = ternctl("pw", "-t", hash_, "-p", PASSWORD, *user)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == hash_ + " (verified)"
    out = ternctl("pw", "-t", hash_, "-p", "wrong", *user)
    assert out.returncode == 1
    assert "password mismatch" in out.stderr


@needs_doveadm
def test_unsalted_output_identical_to_doveadm():
    for scheme in ("SHA", "SHA256", "SHA512", "PLAIN-MD5", "LDAP-MD5",
                   "SHA256.HEX", "PLAIN.B64", "PLAIN"):
        ours = ternctl("pw", "-s", scheme, "-p", PASSWORD).stdout
        theirs = doveadm_pw("-s", scheme, "-p", PASSWORD).stdout
        assert ours == theirs, scheme


@needs_doveadm
def test_rounds_agree_with_doveadm():
    for scheme, rounds, marker in (("SHA512-CRYPT", "10000", "$6$rounds=10000$"),
                                   ("BLF-CRYPT", "6", "$2y$06$"),
                                   ("PBKDF2", "1000", "$1000$"),
                                   ("ARGON2ID", "4", "t=4,")):
        out = ternctl("pw", "-s", scheme, "-r", rounds, "-V", "-p", PASSWORD)
        assert out.returncode == 0, out.stderr
        assert marker in out.stdout
        check = doveadm_pw("-t", out.stdout.strip(), "-p", PASSWORD)
        assert "(verified)" in check.stdout, (scheme, check.stderr)


def test_list_names_every_scheme():
    out = ternctl("pw", "-l")
    assert out.returncode == 0
    names = out.stdout.split()
    for scheme in SCHEMES + ["DIGEST-MD5", "PLAIN-TRUNC", "YESCRYPT"]:
        if "." not in scheme:
            assert scheme in names


def test_password_from_stdin():
    out = ternctl("pw", "-s", "SSHA256", input=PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    hash_ = out.stdout.strip()
    assert hash_.startswith("{SSHA256}")
    out = ternctl("pw", "-t", hash_, input=PASSWORD + "\n")
    assert out.returncode == 0 and out.stdout.strip() == hash_ + " (verified)"
    out = ternctl("pw", "-t", hash_, input="nope\n")
    assert out.returncode == 1 and "password mismatch" in out.stderr
    out = ternctl("pw", "-s", "SSHA256", input="")
    assert out.returncode == 1 and "no password" in out.stderr
    out = ternctl("pw", "-s", "SSHA256", input="x" * 5000 + "\n")
    assert out.returncode == 1 and "longer than" in out.stderr


def run_on_tty(args, answers):
    """Runs ternctl with a pseudo-terminal as stdin, typing each answer after
    its prompt. Returns (status, stdout+stderr text)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(TERNCTL), [str(TERNCTL), *args])
    output = b""
    pending = list(answers)
    # where the unanswered part of the output starts: the next answer waits
    # for a prompt printed after the previous answer (the newline ternctl
    # prints after a hidden answer must not count as the next prompt, or the
    # answer is typed while the echo is back on, and thrown away)
    answered_at = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            fresh = output[answered_at:].strip()
            if pending and fresh.endswith(b":"):
                os.write(fd, pending.pop(0).encode() + b"\n")
                output += b"\n"
                answered_at = len(output)
    # a ternctl still waiting for input after the deadline must not hang
    # the suite
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        time.sleep(0.5)
        done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_password_from_terminal_twice():
    status, text = run_on_tty(["pw", "-s", "SHA512-CRYPT"], [PASSWORD, PASSWORD])
    assert status == 0, text
    assert "New password:" in text and "Retype new password:" in text
    # no echo: the typed password never shows up in the terminal output
    assert PASSWORD not in text
    hash_ = [line for line in text.splitlines() if line.startswith("{SHA512-CRYPT}")]
    assert len(hash_) == 1
    out = ternctl("pw", "-t", hash_[0].strip(), "-p", PASSWORD)
    assert out.returncode == 0
    status, text = run_on_tty(["pw", "-s", "SHA512-CRYPT"], [PASSWORD, PASSWORD + "!"])
    assert status == 1
    assert "passwords don't match" in text
    assert "{SHA512-CRYPT}" not in text
    status, text = run_on_tty(["pw", "-t", hash_[0].strip()], [PASSWORD])
    assert status == 0 and "(verified)" in text and PASSWORD not in text


def test_cost_limits_refused_quickly():
    over = ["{BLF-CRYPT}$2y$20$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a",
            "{SHA512-CRYPT}$6$rounds=999999999$saltsalt$x",
            "{PBKDF2}$1$salt$99999999$45937b8f8cb51eb6efe003dabea51300f2777475",
            "{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$rezl08BzzbHflLCGB+Pt/A$uDXhyC2HsAUUr+AZ7wvp35qQUZBZe+XurbpRe7pyNDo"]
    for hash_ in over:
        start = time.monotonic()
        out = ternctl("pw", "-t", hash_, "-p", PASSWORD)
        assert time.monotonic() - start < 5
        assert out.returncode == 1
        assert "over the limit" in out.stderr, out.stderr
    out = ternctl("pw", "-s", "BLF-CRYPT", "-r", "17", "-p", PASSWORD)
    assert out.returncode == 1 and "bcrypt cost 17" in out.stderr


def test_errors():
    out = ternctl("pw", "-s", "NOSUCH", "-p", "x")
    assert out.returncode == 64 and "unknown password scheme" in out.stderr
    out = ternctl("pw", "-s", "PLAIN-TRUNC", "-p", "x")
    assert out.returncode == 64 and "can only verify" in out.stderr
    out = ternctl("pw", "-s", "DIGEST-MD5", "-p", "x")
    assert out.returncode == 1 and "user" in out.stderr
    out = ternctl("pw", "-s", "SHA", "-r", "abc", "-p", "x")
    assert out.returncode == 64 and "invalid rounds" in out.stderr
    out = ternctl("pw", "-t", "{NOSUCH}abc", "-p", "x")
    assert out.returncode == 1 and "unknown password scheme 'NOSUCH'" in out.stderr
    out = ternctl("pw", "-t", "{SHA}!!!", "-p", "x")
    assert out.returncode == 1 and "malformed SHA hash" in out.stderr
    out = ternctl("pw", "-p", "")
    assert out.returncode == 64 and "empty password" in out.stderr
    out = ternctl("pw", "extra")
    assert out.returncode == 64
