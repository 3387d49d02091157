#!/bin/bash
# `make check` after the build: unit tests and fuzz corpus replays, then the
# integration suites. Ends with exactly one line "N passed, N failed, N skipped"
# summing unit test cases, fuzz replays (one each), timed fuzz runs (one
# each, when clang is installed) and bats tests; exits
# non-zero when anything failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# A directory of its own per run unless the caller gives one: two runs in
# one tree do not overwrite each other's counts.
mkdir -p "$top/build/results"
export RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "$top/build/results/check.XXXXXX")}
mkdir -p "$RESULTS_DIR"
rm -f "$RESULTS_DIR"/unit.counts "$RESULTS_DIR"/integration.counts "$RESULTS_DIR"/fuzz.counts

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

# Besides the corpus replays: each libFuzzer target fuzzes a few seconds
# (CHECK_FUZZ_SECONDS), when clang is there (tests/deps.sh installs it).
fp=0 ff=0 fs=0
if command -v clang >/dev/null 2>&1; then
	echo "=== fuzz (${CHECK_FUZZ_SECONDS:-5}s per target)"
	${MAKE:-make} --no-print-directory fuzz FUZZ_SECONDS="${CHECK_FUZZ_SECONDS:-5}"
	fuzz_rc=$?
	read -r fp ff fs < <(read_counts "$RESULTS_DIR/fuzz.counts")
	[ "$fuzz_rc" -ne 0 ] && [ "$ff" -eq 0 ] && ff=1
else
	echo "=== fuzz: skipped (no clang)"
	fs=1
fi

echo "=== integration tests"
tests/run-integration.sh
read -r ip if_ is < <(read_counts "$RESULTS_DIR/integration.counts")

echo "unit: $up passed, $uf failed, $us skipped; fuzz: $fp passed, $ff failed, $fs skipped;" \
	"integration: $ip passed, $if_ failed, $is skipped"
passed=$((up + fp + ip))
failed=$((uf + ff + if_))
skipped=$((us + fs + is))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
