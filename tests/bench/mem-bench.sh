#!/bin/bash
# Memory part of `make bench`: the host memory an idle container costs.
# PSS divides shared pages among their users, so the PSS of every process
# of N containers summed is what those N cost together; the marginal cost
# of one more is (PSS(N) - PSS(1)) / (N - 1). N = MEM_BENCH_CONTAINERS
# (default 10) idle `sleep` containers, started one after the other, let
# settle, measured by process (monitor, qemu, virtiofsd). Written to
# build/bench-mem.json.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
RUNVM=${RUNVM:-$top/build/bin/runvm}
N=${MEM_BENCH_CONTAINERS:-10}
OUT=${BENCH_MEM_JSON:-$top/build/bench-mem.json}
T=${BENCH_TIMEOUT:-120}
SETTLE=${MEM_BENCH_SETTLE:-5}

[ -x "$RUNVM" ] || { echo "mem-bench: $RUNVM not built (make all)" >&2; exit 1; }
[ "$N" -ge 2 ] || { echo "mem-bench: MEM_BENCH_CONTAINERS must be at least 2" >&2; exit 1; }
unset RUNVM_CONFIG
work=$(mktemp -d /tmp/runvm-mem-bench.XXXXXX)
started=()
cleanup() {
	for id in "${started[@]}"; do
		timeout 30 "$RUNVM" --root "$work/root" delete --force "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/bundle" sleep 100000 >/dev/null

# The PSS (KiB) of each process under the given monitors, as "comm kib" lines.
pss_of() {
	local roots=" $* "
	ps -e -o pid=,ppid= | awk -v roots="$roots" '
		{ parent[$1] = $2 }
		END { for (p in parent) { q = p; while (q != "" && q != 0 && q != 1) { if (index(roots, " " q " ")) { print p; break } q = parent[q] } } }' |
		while read -r p; do
			kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
			[ -n "$kb" ] && echo "$(cat "/proc/$p/comm" 2>/dev/null || echo '?') $kb"
		done
}
total() { awk '{s += $2} END {print s + 0}'; }
by_comm() { awk '{s[$1] += $2} END {for (c in s) printf "%s:%d ", c, s[c]}'; }

monitors=()
start_one() {
	local id=mem-bench-$1
	timeout "$T" "$RUNVM" --root "$work/root" run -d --bundle "$work/bundle" --pid-file "$work/$id.pid" "$id" \
		</dev/null >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	started+=("$id")
	monitors+=("$(cat "$work/$id.pid")")
}

echo "mem-bench: 1 idle container" >&2
start_one 1
sleep "$SETTLE"
one=$(pss_of "${monitors[@]}")
pss1=$(total <<<"$one")
echo "mem-bench: $N idle containers" >&2
for i in $(seq 2 "$N"); do start_one "$i"; done
sleep "$SETTLE"
all=$(pss_of "${monitors[@]}")
pssn=$(total <<<"$all")
marginal=$(((pssn - pss1) / (N - 1)))

printf '\n%-44s %10s   %s\n' "idle memory (PSS)" "KiB" "by process"
printf '%-44s %10s   %s\n' "one container" "$pss1" "$(by_comm <<<"$one")"
printf '%-44s %10s   %s\n' "$N containers" "$pssn" "$(by_comm <<<"$all")"
printf '%-44s %10s   %s\n' "marginal per container" "$marginal" "target <= 40960 KiB (40 MiB)"
mkdir -p "$(dirname "$OUT")"
jq -n --argjson n "$N" --argjson one "$pss1" --argjson all "$pssn" --argjson marginal "$marginal" \
	--arg by1 "$(by_comm <<<"$one")" --arg byn "$(by_comm <<<"$all")" \
	'{containers: $n, pss_one_kib: $one, pss_all_kib: $all, marginal_kib: $marginal,
	  target_marginal_kib: 40960, by_process_one: $by1, by_process_all: $byn}' >"$OUT"
echo
echo "mem-bench: wrote $OUT"
