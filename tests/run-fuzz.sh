#!/bin/bash
# Run libFuzzer targets for a bounded time each; one line per target.
#
#   tests/run-fuzz.sh SECONDS build/fuzz-libfuzzer/fuzz-*
#
# Each target starts from its corpus tests/fuzz/corpus/<name> (read only:
# what it finds goes to build/fuzz-libfuzzer/<name>.corpus, crashes to
# build/fuzz-libfuzzer/<name>.crash-*). Every target runs even when one
# fails. Totals to $RESULTS_DIR/fuzz.counts ("passed failed skipped").
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# A directory of its own per run unless the caller gives one: two runs in
# one tree do not overwrite each other's counts.
mkdir -p "$top/build/results"
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "$top/build/results/fuzz.XXXXXX")}
mkdir -p "$RESULTS_DIR"
seconds=$1
shift
pass=0 fail=0
: >"$RESULTS_DIR/fuzz.log"
for bin in "$@"; do
	name=$(basename "$bin")
	work=$(dirname "$bin")
	mkdir -p "$work/$name.corpus"
	out=$(mktemp)
	# -max_total_time bounds the fuzzing; timeout bounds a hang on top.
	timeout -k 5 $((seconds + 60)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$work/$name.crash-" "$work/$name.corpus" "$top/tests/fuzz/corpus/$name" \
		>"$out" 2>&1 </dev/null
	rc=$?
	runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$out" | tail -n1)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		printf 'ok    %-32s %s runs in %ss\n' "$name" "$runs" "$seconds"
		pass=$((pass + 1))
	else
		printf 'FAIL  %-32s (exit %s)\n' "$name" "$rc"
		grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written' "$out" | head -n 20 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
	cat "$out" >>"$RESULTS_DIR/fuzz.log"
	rm -f "$out"
done
echo "$pass $fail 0" >"$RESULTS_DIR/fuzz.counts"
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
