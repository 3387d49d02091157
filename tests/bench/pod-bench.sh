#!/bin/bash
# Part of `make bench` (tests/bench/bench.sh): the second container of a
# pod against a standalone container, side by side, medians over
# BENCH_RUNS runs (default 5) of `runvm run /bin/true`:
#   - standalone: its own VM (create + boot + start + exit + delete);
#   - a pod member: joins an idle sandbox's network, ipc and uts by path,
#     as podman's members do, and runs in the sandbox's VM (no boot);
#   - their ratio (docs/ARCHITECTURE.md, "Pods": a small fraction).
# Writes BENCH_POD_JSON (default build/bench-pod.json).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
RUNVM=${RUNVM:-$top/build/bin/runvm}
RUNS=${BENCH_RUNS:-5}
OUT=${BENCH_POD_JSON:-$top/build/bench-pod.json}
T=${BENCH_TIMEOUT:-120}

[ -x "$RUNVM" ] || { echo "pod-bench: $RUNVM not built (make all)" >&2; exit 1; }
unset RUNVM_CONFIG
work=$(mktemp -d /tmp/runvm-pod-bench.XXXXXX)
root=$work/root
sandbox=bench-sandbox-$$

cleanup() {
	timeout 30 "$RUNVM" --root "$root" delete --force "$sandbox" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/alone" /bin/true >/dev/null
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/sandbox" sleep 100000 >/dev/null
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/member" /bin/true >/dev/null

echo "pod-bench: the sandbox" >&2
timeout "$T" "$RUNVM" --root "$root" run -d --bundle "$work/sandbox" --pid-file "$work/sandbox.pid" "$sandbox" \
	</dev/null >/dev/null 2>"$work/sandbox.err" || { cat "$work/sandbox.err" >&2; exit 1; }
pid=$(cat "$work/sandbox.pid")
jq --arg p "$pid" '(.linux.namespaces[] | select(.type == "network")) |= (.path = "/proc/" + $p + "/ns/net") |
	(.linux.namespaces[] | select(.type == "ipc")) |= (.path = "/proc/" + $p + "/ns/ipc") |
	(.linux.namespaces[] | select(.type == "uts")) |= (.path = "/proc/" + $p + "/ns/uts") | del(.hostname)' \
	"$work/member/config.json" >"$work/member.json"
mv "$work/member.json" "$work/member/config.json"

alone=() member=()
for n in $(seq "$RUNS"); do
	echo "pod-bench: run $n/$RUNS" >&2
	t0=$(now_ms)
	(cd "$work/alone" && timeout "$T" "$RUNVM" --root "$root" run "bench-alone-$n" </dev/null >/dev/null) ||
		{ echo "pod-bench: runvm run (standalone) failed" >&2; exit 1; }
	alone+=($(($(now_ms) - t0)))
	t0=$(now_ms)
	(cd "$work/member" && timeout "$T" "$RUNVM" --root "$root" run "bench-member-$n" </dev/null >/dev/null) ||
		{ echo "pod-bench: runvm run (pod member) failed" >&2; exit 1; }
	member+=($(($(now_ms) - t0)))
done

alone_ms=$(median "${alone[@]}")
member_ms=$(median "${member[@]}")
ratio=$(awk -v a="$member_ms" -v b="$alone_ms" 'BEGIN { printf "%.3f", a / b }')
printf '\n%-44s %10s   %s\n' "pods (median of $RUNS)" "value" "all runs"
printf '%-44s %7s ms   %s\n' "runvm run /bin/true, its own VM" "$alone_ms" "${alone[*]}"
printf '%-44s %7s ms   %s\n' "runvm run /bin/true, a pod's second container" "$member_ms" "${member[*]}"
printf '%-44s %10s\n' "ratio pod member / own VM" "$ratio"
mkdir -p "$(dirname "$OUT")"
jq -n --argjson alone "$alone_ms" --argjson member "$member_ms" --argjson ratio "$ratio" \
	--argjson alone_all "$(printf '%s\n' "${alone[@]}" | jq -s .)" \
	--argjson member_all "$(printf '%s\n' "${member[@]}" | jq -s .)" '{
		standalone_run_true_ms: {median: $alone, all: $alone_all},
		pod_member_run_true_ms: {median: $member, all: $member_all},
		ratio_member_to_standalone: $ratio
	}' >"$OUT"
