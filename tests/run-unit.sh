#!/bin/bash
# Run cmocka unit test binaries and fuzz corpus replays; one line per binary.
#
#   tests/run-unit.sh build/tests/test-* build/fuzz/fuzz-*
#
# A unit binary counts its cmocka test cases; a fuzz replay binary (name
# fuzz-*) counts as one test, given its corpus tests/fuzz/corpus/<name>;
# a check script (*.sh, e.g. tests/lint/layout.sh) counts as one test.
# Totals go to $RESULTS_DIR/unit.counts ("passed failed skipped") for
# tests/check.sh; full output to $RESULTS_DIR/unit.log.
# Exit status: 0 when nothing failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# A directory of its own per run unless the caller gives one: two runs in
# one tree do not overwrite each other's counts.
mkdir -p "$top/build/results"
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "$top/build/results/unit.XXXXXX")}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
mkdir -p "$RESULTS_DIR"
log=$RESULTS_DIR/unit.log
: > "$log"

total_pass=0 total_fail=0 total_skip=0

# Sum the numbers cmocka prints in its group summaries.
sum_of() { # PATTERN FILE
	sed -nE "s/^\[ *$1 *\] ([0-9]+) test\(s\).*/\1/p" "$2" | awk '{s += $1} END {print s + 0}'
}

for bin in "$@"; do
	name=$(basename "$bin")
	out=$(mktemp)
	if [ ! -x "$bin" ]; then
		echo "missing binary" > "$out"
		rc=127
	elif [[ $name == *.sh ]]; then
		timeout -k 10 "$UNIT_TIMEOUT" "$bin" > "$out" 2>&1 </dev/null
		rc=$?
	elif [[ $name == fuzz-* ]]; then
		corpus=$top/tests/fuzz/corpus/$name
		args=()
		[ -d "$corpus" ] && args=("$corpus")
		timeout -k 10 "$UNIT_TIMEOUT" "$bin" "${args[@]}" > "$out" 2>&1 </dev/null
		rc=$?
	else
		CMOCKA_MESSAGE_OUTPUT=stdout timeout -k 10 "$UNIT_TIMEOUT" "$bin" > "$out" 2>&1 </dev/null
		rc=$?
	fi

	if [[ $name == fuzz-* || $name == *.sh ]]; then
		if [ "$rc" -eq 0 ]; then p=1 f=0; else p=0 f=1; fi
		s=0
		what="corpus replay"
		[[ $name == *.sh ]] && what="check"
	else
		p=$(sum_of PASSED "$out")
		f=$(sum_of FAILED "$out")
		s=$(sum_of SKIPPED "$out")
		# A crash, a timeout or a binary that printed no summary still fails.
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; fi
		what="$p passed, $f failed, $s skipped"
	fi
	if [ "$f" -eq 0 ]; then status=ok; else status=FAIL; fi
	case $rc in
	0) ;;
	124 | 137) what="$what (timed out after ${UNIT_TIMEOUT}s)" ;;
	*) what="$what (exit $rc)" ;;
	esac
	printf '%-5s %-32s %s\n' "$status" "$name" "$what"
	{ echo "=== $name (exit $rc)"; cat "$out"; } >> "$log"
	if [ "$f" -ne 0 ]; then
		sed 's/^/    /' "$out" | tail -n 40
	fi
	rm -f "$out"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
done

echo "$total_pass $total_fail $total_skip" > "$RESULTS_DIR/unit.counts"
echo "unit: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
