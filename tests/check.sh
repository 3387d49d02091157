#!/bin/bash
# `make check` after the build: unit tests and fuzz corpus replays, then the
# integration suites. Ends with exactly one line "N passed, N failed, N skipped"
# summing unit test cases, fuzz replays (one each) and bats tests; exits
# non-zero when anything failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export RESULTS_DIR=${RESULTS_DIR:-$top/build/results}
mkdir -p "$RESULTS_DIR"
rm -f "$RESULTS_DIR"/unit.counts "$RESULTS_DIR"/integration.counts

# Each phase's totals; a phase that wrote none (a build failure) counts as
# one failure.
read_counts() { # FILE -> "passed failed skipped"
	if [ -s "$1" ]; then cat "$1"; else echo "0 1 0"; fi
}

echo "=== unit tests"
${MAKE:-make} --no-print-directory unit
unit_rc=$?
read -r up uf us < <(read_counts "$RESULTS_DIR/unit.counts")
[ "$unit_rc" -ne 0 ] && [ "$uf" -eq 0 ] && uf=1

echo "=== integration tests"
tests/run-integration.sh
read -r ip if_ is < <(read_counts "$RESULTS_DIR/integration.counts")

echo "unit: $up passed, $uf failed, $us skipped; integration: $ip passed, $if_ failed, $is skipped"
passed=$((up + ip))
failed=$((uf + if_))
skipped=$((us + is))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
