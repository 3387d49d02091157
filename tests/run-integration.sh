#!/bin/bash
# Run the bats suites (tests/integration/*.bats, tests/compat/*.bats) and
# count ok / not ok / skip from their TAP output.
#
#   tests/run-integration.sh [FILE.bats...]
#
# Environment: RUNVM (runtime under test, default build/bin/runvm),
# INTEGRATION_TIMEOUT (seconds for the whole run, default 3000),
# BATS_FILTER (passed to bats -f).
# Totals go to $RESULTS_DIR/integration.counts ("passed failed skipped"),
# the full TAP to $RESULTS_DIR/integration.tap.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# A directory of its own per run unless the caller gives one: two runs in
# one tree do not overwrite each other's counts.
mkdir -p "$top/build/results"
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "$top/build/results/integration.XXXXXX")}
INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-3000}
mkdir -p "$RESULTS_DIR"
tap=$RESULTS_DIR/integration.tap
counts=$RESULTS_DIR/integration.counts
echo "0 1 0" >"$counts" # until proven otherwise

if [ $# -gt 0 ]; then
	files=("$@")
else
	shopt -s nullglob
	files=(tests/integration/*.bats tests/compat/*.bats)
fi
if [ ${#files[@]} -eq 0 ]; then
	echo "integration: no bats files" >&2
	exit 1
fi
command -v bats >/dev/null || { echo "integration: bats not installed (make deps)" >&2; exit 1; }

export RUNVM=${RUNVM:-$top/build/bin/runvm}
echo "integration: runtime $RUNVM; ${#files[@]} files"

bats_args=(--tap --timing)
[ -n "${BATS_FILTER:-}" ] && bats_args+=(-f "$BATS_FILTER")

# The TAP stream is shown as it comes (test names and results; failure
# diagnostics are the '#' lines) and kept whole in $tap. No stdin: a test
# that reads it gets EOF instead of hanging.
start=$SECONDS
timeout -k 30 "$INTEGRATION_TIMEOUT" bats "${bats_args[@]}" "${files[@]}" </dev/null 2>&1 | tee "$tap"
rc=${PIPESTATUS[0]}
elapsed=$((SECONDS - start))

planned=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$tap" | head -n1)
planned=${planned:-0}
pass=$(grep -cE '^ok [0-9]+' "$tap" | head -n1)
skip=$(grep -cE '^ok [0-9]+ .*# skip' "$tap" | head -n1)
fail=$(grep -cE '^not ok [0-9]+' "$tap" | head -n1)
pass=$((pass - skip))
ran=$((pass + skip + fail))
# Tests planned but never reported (bats killed by the timeout, a crash)
# count as failures, and so does a bats failure that no test explains.
if [ "$ran" -lt "$planned" ]; then
	echo "integration: $((planned - ran)) planned tests did not report (bats exit $rc)"
	fail=$((fail + planned - ran))
fi
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "integration: bats exited $rc"
	fail=1
fi
[ "$rc" -eq 124 ] && echo "integration: timed out after ${INTEGRATION_TIMEOUT}s"

echo "$pass $fail $skip" >"$counts"
echo "integration: TAP in $tap"
echo "integration: $pass passed, $fail failed, $skip skipped in ${elapsed}s"
[ "$fail" -eq 0 ]
