"""tern-sieve-test, the runner of Pigeonhole-style .svtest files, on the
small test files of tests/sieve/ (written for Tern; Pigeonhole's own suite
runs in tests/compliance/test_pigeonhole.py)."""
import pathlib
import subprocess

import pytest

from conftest import BUILD

RUNNER = BUILD / "src" / "sieve" / "testsuite" / "tern-sieve-test"
SIEVE_DIR = pathlib.Path(__file__).parent / "sieve"

pytestmark = pytest.mark.skipif(not RUNNER.exists(), reason=f"{RUNNER} not built")


def run(name, *flags):
    proc = subprocess.run([str(RUNNER), *flags, str(SIEVE_DIR / name)],
                          capture_output=True, text=True, timeout=60)
    assert "Sanitizer" not in proc.stderr and "runtime error:" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout.splitlines()


@pytest.mark.parametrize("name,cases", [
    ("basic.svtest", ["Header of the message set at top level", "Envelope follows the message",
                      "test_set envelope", "Message replaced inside a test"]),
    ("actions.svtest", ["fileinto and keep", "fileinto a missing mailbox fails",
                        "redirect is sent", "Action count"]),
    ("scripts.svtest", ["A good script compiles and runs", "A bad script reports its errors",
                        "A missing script", "Runtime errors are reported"]),
])
def test_passing_file(name, cases):
    rc, lines = run(name)
    assert lines == [f"PASS {c}" for c in cases] + [f"PASS: {len(cases)} of {len(cases)} tests passed"]
    assert rc == 0


def test_failures_reported():
    rc, lines = run("fail.svtest")
    assert lines == [
        "FAIL Fails on purpose: expected failure",
        "PASS Passes after a failure",
        "PASS Stop ends only its test",
        "PASS Runs after stop",
        "FAIL: 3 of 4 tests passed",
    ]
    assert rc == 1


def test_expect_failure_mode():
    # -F: the file passes only if every test in it failed
    rc, lines = run("fail.svtest", "-F")
    assert lines[-1] == "FAIL: 1 of 4 tests failed (all expected to fail)"
    assert rc == 1


def test_compile_error_in_test_file(tmp_path):
    bad = tmp_path / "bad.svtest"
    bad.write_text('require "vnd.dovecot.testsuite";\ntest "x" { test_fail; }\n')
    proc = subprocess.run([str(RUNNER), str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "FAIL (file): failed to compile the test script" in proc.stdout.splitlines()


def test_usage():
    proc = subprocess.run([str(RUNNER)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "usage: tern-sieve-test" in proc.stderr
