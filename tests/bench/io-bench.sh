#!/bin/bash
# I/O part of `make bench`: stdio and file operations, timed inside the
# container by one static program (tests/bench/fsops.c) so that a VM's boot
# is not in the figure, under runvm and runc on the same bundle:
#   - stdout: 128 MiB in 64 KiB writes through the runtime's relay to the
#     caller (/dev/null); stdin: 128 MiB from the caller, read in 64 KiB
#     reads; both against the guest's own rate, the same bytes through a
#     pipe inside the container (writing to /dev/null costs nothing, so a
#     pipe is what a relay can be held to); runc's relay for reference;
#   - 4 KiB reads of a 64 MiB file (written by the host, so the guest's
#     cache is cold), file creation and removal (2000 files), each in the
#     rootfs and in a bind mount, against runc;
#   - starting a process whose program is in the page cache (fork, exec,
#     exit, wait of fsops itself, 50 times), against runc.
# Medians over IO_BENCH_RUNS runs (default 3); issue 14's targets printed
# beside each ratio; written to build/bench-io.json.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
RUNVM=${RUNVM:-$top/build/bin/runvm}
RUNC=${RUNC:-$(command -v runc || true)}
RUNS=${IO_BENCH_RUNS:-3}
OUT=${BENCH_IO_JSON:-$top/build/bench-io.json}
T=${BENCH_TIMEOUT:-120}
STDIO_BYTES=$((128 << 20))
READ_MIB=64
FILES=2000

[ -x "$RUNVM" ] || { echo "io-bench: $RUNVM not built (make all)" >&2; exit 1; }
unset RUNVM_CONFIG
work=$(mktemp -d /tmp/runvm-io-bench.XXXXXX)
cleanup() {
	timeout 30 "$RUNVM" --root "$work/root" delete --force io-bench >/dev/null 2>&1 || true
	[ -n "$RUNC" ] && timeout 30 "$RUNC" --root "$work/runc" delete --force io-bench >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

cc -static -O2 -o "$work/fsops" "$top/tests/bench/fsops.c"
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/bundle" true >/dev/null
install -m 0755 "$work/fsops" "$work/bundle/rootfs/bin/fsops"
mkdir -p "$work/data"
head -c $((READ_MIB << 20)) /dev/urandom >"$work/data/big"
cp "$work/data/big" "$work/bundle/rootfs/big"
cp "$work/bundle/config.json" "$work/config.template"

# run RUNTIME STDIN ARGS...: one container; the fsops line on stderr is
# printed as "<count> <seconds>".
run() {
	local rt=$1 in=$2
	shift 2
	jq --tab --arg data "$work/data" --argjson a "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
		'.process.args = $a | .root.readonly = false | .mounts += [{destination: "/data", type: "bind", source: $data, options: ["rbind", "rw"]}]' \
		"$work/config.template" >"$work/bundle/config.json"
	local cmd=("$RUNVM" --root "$work/root")
	[ "$rt" = runc ] && cmd=("$RUNC" --root "$work/runc")
	if ! (cd "$work/bundle" && timeout "$T" "${cmd[@]}" run io-bench <"$in" >/dev/null 2>"$work/err"); then
		echo "io-bench: $rt run $* failed:" >&2
		cat "$work/err" >&2
		exit 1
	fi
	awk '$1 ~ /^(read|create|remove|write|drain|spawn)$/ {print $2, $4}' "$work/err"
}
# rate RUNTIME STDIN ARGS...: MiB/s or files/s of one run.
rate() {
	local out
	out=$(run "$@" | tail -n1)
	awk -v u="$unit" '{ printf "%.1f", (u == "MiB" ? $1 / 1048576 : $1) / ($2 > 0 ? $2 : 1e-9) }' <<<"$out"
}
zeros=$work/zeros
head -c "$STDIO_BYTES" /dev/zero >"$zeros"

declare -A vm rc
for n in $(seq "$RUNS"); do
	echo "io-bench: run $n/$RUNS" >&2
	for rt in runvm runc; do
		[ "$rt" = runc ] && [ -z "$RUNC" ] && continue
		declare -n into=vm
		[ "$rt" = runc ] && declare -n into=rc
		unit=MiB
		into[stdout]+=" $(rate "$rt" /dev/null fsops write "$STDIO_BYTES" 65536)"
		into[stdin]+=" $(rate "$rt" "$zeros" fsops drain 65536)"
		into[pipe_guest]+=" $(rate "$rt" /dev/null sh -c "fsops write $STDIO_BYTES 65536 2>/dev/null | fsops drain 65536")"
		into[read_rootfs]+=" $(rate "$rt" /dev/null fsops read /big 4096)"
		into[read_bind]+=" $(rate "$rt" /dev/null fsops read /data/big 4096)"
		unit=procs
		into[spawn]+=" $(rate "$rt" /dev/null fsops spawn 50)"
		# One container creates, then removes: a line each.
		for where in rootfs bind; do
			dir=/files-$rt
			[ "$where" = bind ] && dir=/data/files-$rt
			out=$(run "$rt" /dev/null sh -c "fsops create $dir $FILES && fsops remove $dir")
			into[create_$where]+=" $(sed -n 1p <<<"$out" | awk '{ printf "%.1f", $1 / ($2 > 0 ? $2 : 1e-9) }')"
			into[remove_$where]+=" $(sed -n 2p <<<"$out" | awk '{ printf "%.1f", $1 / ($2 > 0 ? $2 : 1e-9) }')"
		done
		unset -n into
	done
done

med() { local v=$1; [ -n "$v" ] && median $v || echo null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "null" || b == "null" || b == 0) print "null"; else printf "%.2f", a / b }'; }

printf '\n%-40s %10s %10s %8s %8s\n' "I/O, inside the container (median of $RUNS)" "runvm" "reference" "ratio" "target"
json='{}'
row() { # key label unit runvm reference target
	local r
	r=$(ratio "$4" "$5")
	printf '%-40s %10s %10s %8s %8s\n' "$2 ($3)" "$4" "$5" "$r" "$6"
	json=$(jq --arg k "$1" --arg unit "$3" --argjson v "$4" --argjson ref "$5" --argjson r "$r" --arg target "$6" \
		'.[$k] = {unit: $unit, runvm: $v, reference: $ref, ratio: $r, target: $target}' <<<"$json")
}
row stdout_vs_guest "stdout relay vs a pipe in the guest" MiB/s "$(med "${vm[stdout]}")" "$(med "${vm[pipe_guest]}")" ">= 0.5"
row stdin_vs_guest "stdin relay vs a pipe in the guest" MiB/s "$(med "${vm[stdin]}")" "$(med "${vm[pipe_guest]}")" ">= 0.5"
row stdout_vs_runc "stdout relay vs runc's" MiB/s "$(med "${vm[stdout]}")" "$(med "${rc[stdout]:-}")" "-"
row stdin_vs_runc "stdin relay vs runc's" MiB/s "$(med "${vm[stdin]}")" "$(med "${rc[stdin]:-}")" "-"
for where in rootfs bind; do
	row "read4k_$where" "4 KiB reads, $where, vs runc" MiB/s "$(med "${vm[read_$where]}")" "$(med "${rc[read_$where]:-}")" ">= 0.33"
	row "create_$where" "file creation, $where, vs runc" files/s "$(med "${vm[create_$where]}")" "$(med "${rc[create_$where]:-}")" ">= 0.33"
	row "remove_$where" "file removal, $where, vs runc" files/s "$(med "${vm[remove_$where]}")" "$(med "${rc[remove_$where]:-}")" ">= 0.33"
done
row spawn "fork+exec of a program run before, vs runc" procs/s "$(med "${vm[spawn]}")" "$(med "${rc[spawn]:-}")" "-"
mkdir -p "$(dirname "$OUT")"
jq --argjson runs "$RUNS" '{runs: $runs, measures: .}' <<<"$json" >"$OUT"
echo
echo "io-bench: wrote $OUT"
