#!/bin/sh
# Runs every test of a sanitizer build: the C unit tests and fuzz corpus
# replays (CTest), then the running-server tests (pytest). Ends with one
# line "N passed, M failed" counting both.
set -u
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

echo "== unit tests and fuzz corpus replay (ctest)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -LE bench \
	--output-junit "$build/ctest-junit.xml"
ctest_rc=$?

echo "== server tests (pytest)"
cd "$root"
TERN_BUILD_DIR="$build" /usr/bin/python3 -m pytest tests -q -p no:cacheprovider \
	--junitxml="$build/pytest-junit.xml"
pytest_rc=$?
# pytest exit 5: no tests collected
[ $pytest_rc -eq 5 ] && pytest_rc=0

/usr/bin/python3 "$root/scripts/test-summary.py" "$build/ctest-junit.xml" "$build/pytest-junit.xml"
summary_rc=$?
[ $ctest_rc -eq 0 ] && [ $pytest_rc -eq 0 ] && [ $summary_rc -eq 0 ]
