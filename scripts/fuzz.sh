#!/bin/sh
# Runs every libFuzzer target of a TERN_FUZZ build for N seconds each,
# starting from its corpus in fuzz/corpus/<target>/. New inputs go to a
# scratch directory; crashes are written to build/fuzz/artifacts/.
set -eu
build=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/artifacts"
status=0
for bin in "$build"/fuzz/fuzz-*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus="$root/fuzz/corpus/${name#fuzz-}"
	work=$(mktemp -d)
	echo "== $name for ${seconds}s"
	if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$name-" "$work" "$corpus"; then
		echo "$name: FOUND A PROBLEM (see $build/artifacts)"
		status=1
	fi
	rm -rf "$work"
done
exit $status
