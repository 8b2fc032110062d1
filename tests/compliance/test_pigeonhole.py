"""Pigeonhole's Sieve test suite through tern-sieve-test (issue 9).

The .svtest files of github.com/dovecot/pigeonhole (tests/ folder, release
0.5.19 for Dovecot 2.3.19) are not part of this repository and nothing here
fetches them. Point PIGEONHOLE_TESTS at a local copy of that folder; the
module is skipped otherwise:

    PIGEONHOLE_TESTS=/path/to/pigeonhole/tests

Every .svtest file is one pytest case run through
build/src/sieve/testsuite/tern-sieve-test. The classification of
docs/sieve-testsuite.md is the data below: files and cases that depend on
Dovecot internals are not run (NOT_RUNNABLE_*); every other case must print
PASS. Cases that fail today are listed one by one in KNOWN_FAILING with the
reason (the file is then an xfail); any other failing case fails the test, so
a regression inside a mostly-passing file is caught. test_summary prints the
counts."""
import os
import pathlib
import subprocess

import pytest

from conftest import BUILD

RUNNER = BUILD / "src" / "sieve" / "testsuite" / "tern-sieve-test"
TESTS_DIR = pathlib.Path(os.environ["PIGEONHOLE_TESTS"]) if os.environ.get("PIGEONHOLE_TESTS") else None

# whole files that need Dovecot internals, by path prefix
NOT_RUNNABLE_FILES = {
    "plugins/extprograms/": "sieve_extprograms plugin (vnd.dovecot.pipe/filter/execute run external programs)",
    "extensions/vnd.dovecot/": "Dovecot vendor extensions (vnd.dovecot.debug, .environment, .report)",
    "extensions/duplicate/execute-vnd.svtest": "vnd.dovecot.duplicate (Dovecot's pre-RFC 7352 variant)",
    "extensions/mailbox/errors.svtest": "the file requires vnd.dovecot.debug",
    "deprecated/": "Pigeonhole's deprecated extensions (draft notify with denotify, imapflags)",
}
# single cases in otherwise runnable files
STRING_OCTET = ("expects Pigeonhole's i;octet default comparator for the string test; RFC 5229 §5 "
                "with RFC 5228 §2.7.3 makes i;ascii-casemap the default, so \"Value\" :is \"value\"")
NOT_RUNNABLE_CASES = {
    ("extensions/include/execute.svtest", "Namespace - dict"):
        "scripts stored in a Dovecot dict (sieve = dict:file:...)",
    ("extensions/environment/basic.svtest", "Name"):
        "requires the environment item \"name\" to be \"Pigeonhole Sieve\": RFC 5183 §4.1 makes it "
        "the implementation's own product name (Tern answers \"Tern Sieve\")",
    ("extensions/duplicate/errors.svtest", "Invalid Syntax (vnd)"):
        "requires vnd.dovecot.duplicate (Dovecot's pre-RFC 7352 variant), like execute-vnd.svtest",
    ("extensions/variables/basic.svtest", "Basic assignment"): STRING_OCTET,
    ("extensions/encoded-character.svtest", "HEX equality one"): STRING_OCTET,
    ("extensions/encoded-character.svtest", "HEX equality one middle"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :lower :upperfirst"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :upperfirst :lower"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :upper :lowerfirst"): STRING_OCTET,
    ("extensions/variables/modifiers.svtest", "Modifiers :lowerfirst :upper"): STRING_OCTET,
}
# robustness files pigeonhole runs with -F: every test in them must fail
# (or the file must fail as a whole) without the runner crashing
EXPECT_FAILURE = ("failures/",)
# runnable cases that fail today, one entry per case: {(file, case): reason},
# from the run recorded in docs/sieve-testsuite.md. Any other failing case
# fails its file's pytest case (a regression); shrink the list as the engine
# grows.
KNOWN_FAILING = {
}


def not_runnable_reason(rel):
    for prefix, reason in NOT_RUNNABLE_FILES.items():
        if rel == prefix or (prefix.endswith("/") and rel.startswith(prefix)):
            return reason
    return None


def all_files():
    if TESTS_DIR is None or not TESTS_DIR.is_dir():
        return []
    return sorted(str(p.relative_to(TESTS_DIR)) for p in TESTS_DIR.rglob("*.svtest"))


FILES = all_files()
RESULTS = {}

if TESTS_DIR is None:
    pytestmark = pytest.mark.skip(reason="no Pigeonhole test suite (set PIGEONHOLE_TESTS=/path/to/pigeonhole/tests)")
elif not RUNNER.exists():
    pytestmark = pytest.mark.skip(reason=f"{RUNNER} not built (ninja tern-sieve-test)")

def split_fail(rest):
    """'name: reason' -> (name, reason); names may hold ': ' inside
    parentheses ("Lexer errors (FIXME: count only)")."""
    depth = 0
    for i, ch in enumerate(rest):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0 and rest[i + 1:i + 2] == " ":
            return rest[:i], rest[i + 2:]
    return rest, ""


def run_file(rel):
    """Runs one file; returns (cases {name: (ok, reason)}, summary_ok, output)."""
    args = [str(RUNNER)]
    if rel.startswith(EXPECT_FAILURE):
        args.append("-F")
    proc = subprocess.run(args + [str(TESTS_DIR / rel)], capture_output=True, text=True, errors="replace",
                          timeout=120, cwd=str(TESTS_DIR / os.path.dirname(rel)) if os.path.dirname(rel) else str(TESTS_DIR))
    cases = {}
    lines = proc.stdout.splitlines()
    for line in lines[:-1]:
        if line.startswith("PASS "):
            # a PASS line is all name (names may contain ": ")
            cases[line[5:]] = (True, "")
        elif line.startswith("FAIL "):
            name, why = split_fail(line[5:])
            cases[name] = (False, why)
    # ASan/UBSan reports or a crash are failures whatever the output says
    crashed = proc.returncode not in (0, 1) or "Sanitizer" in proc.stderr or "runtime error:" in proc.stderr
    return cases, proc.returncode == 0 and not crashed, proc.stdout + proc.stderr


@pytest.mark.parametrize("rel", FILES)
def test_svtest(rel):
    reason = not_runnable_reason(rel)
    if reason:
        pytest.skip(f"not runnable: {reason}")
    cases, file_ok, output = run_file(rel)
    RESULTS[rel] = cases
    if rel.startswith(EXPECT_FAILURE):
        assert file_ok, f"expected-failure file did not fail cleanly:\n{output}"
        return
    failed = {name: why for name, (ok, why) in cases.items()
              if not ok and (rel, name) not in NOT_RUNNABLE_CASES}
    known = {name: KNOWN_FAILING.get((rel, name)) for name in failed}
    unknown = {name: why for name, why in failed.items() if known[name] is None}
    assert cases, f"no test case ran:\n{output}"
    assert not unknown, "failing cases:\n" + "\n".join(f"  {n}: {w}" for n, w in unknown.items()) + \
        "\n--- output ---\n" + output
    if failed:
        pytest.xfail("; ".join(sorted({k for k in known.values() if k})))


def test_summary(capsys):
    """Counts over the files run above (run the whole module for totals)."""
    if not RESULTS:
        pytest.skip("no .svtest file ran")
    total = sum(len(c) for c in RESULTS.values())
    excluded = sum(1 for (f, n) in NOT_RUNNABLE_CASES if f in RESULTS and n in RESULTS[f])
    # in the failures/ files a case passes by failing cleanly (-F)
    passed = sum(1 for f, c in RESULTS.items() for n, (ok, _) in c.items()
                 if ok != f.startswith(EXPECT_FAILURE) and (f, n) not in NOT_RUNNABLE_CASES)
    with capsys.disabled():
        print(f"\npigeonhole: {len(RESULTS)} runnable files, {total - excluded} runnable cases, "
              f"{passed} passed, {total - excluded - passed} failed")
