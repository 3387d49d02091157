#!/bin/bash
# `make bench`: side-by-side medians over BENCH_RUNS runs (default 5) of
#   - a bare VM boot-to-poweroff: the runtime's own QEMU command line (read
#     off a live container's QEMU), minus the sockets it inherits, with
#     runvm.halt=1 so the agent powers off as soon as it is up;
#   - `runvm run` of /bin/true (create + boot + start + exit + delete);
#   - their ratio (what the runtime adds on top of the boot);
#   - `runc run` of /bin/true on the same bundle, for reference;
#   - `runvm run` of /bin/true served from the warm pool (warm_pool = 1:
#     `pool fill` before, untimed; `pool drain` after, so that the refill's
#     boot does not weigh on the next figures), and its ratio to the bare
#     boot (the target: at most 0.3); the same in a network namespace given
#     by path with a veth's eth0 (what podman's bridge and CNI hand over:
#     the pool VM's NIC moved in and wired);
#   - `runvm run` with runvm's defaults (accel = auto: the cached KVM
#     verdict) against the same with `accel = tcg` forced, as a ratio: the
#     probe must cost nothing once its verdict is cached;
# and the host memory (PSS) of an idle container: monitor + QEMU + virtiofsd;
# then tests/bench/net-bench.sh (network throughput and latency vs runc),
# tests/bench/io-bench.sh (stdio and file operations vs the guest and runc)
# tests/bench/mem-bench.sh (idle marginal memory over 10 containers)
# and tests/bench/pod-bench.sh (a pod's second container vs its own VM).
# Prints a table each and writes build/bench.json (all four, by part);
# BENCH_BOOT_ONLY=1 stops after the first table (boot, run, warm, runc).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
RUNVM=${RUNVM:-$top/build/bin/runvm}
RUNC=${RUNC:-$(command -v runc || true)}
RUNS=${BENCH_RUNS:-5}
OUT=${BENCH_JSON:-$top/build/bench.json}
T=${BENCH_TIMEOUT:-120}

[ -x "$RUNVM" ] || { echo "bench: $RUNVM not built (make all)" >&2; exit 1; }
# runvm's defaults, whatever the caller's environment says.
unset RUNVM_CONFIG
work=$(mktemp -d /tmp/runvm-bench.XXXXXX)
printf 'accel = tcg\n' >"$work/tcg.conf"
printf 'warm_pool = 1\n' >"$work/warm.conf"
root=$work/root
idle_id=bench-idle-$$

cleanup() {
	RUNVM_CONFIG=$work/warm.conf timeout 60 "$RUNVM" --root "$root" pool drain >/dev/null 2>&1 || true
	timeout 30 "$RUNVM" --root "$root" delete --force "$idle_id" >/dev/null 2>&1 || true
	[ -n "$RUNC" ] && timeout 30 "$RUNC" --root "$work/runc" delete --force bench-runc >/dev/null 2>&1 || true
	ip netns del bench-veth-$$ 2>/dev/null || true
	ip netns del bench-peer-$$ 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/bundle" /bin/true >/dev/null
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/idle" sleep 100000 >/dev/null
# A namespace as podman's bridge or CNI makes one: a veth's eth0, by path.
for ns in bench-veth-$$ bench-peer-$$; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n bench-veth-$$ link add eth0 type veth peer name eth0 netns bench-peer-$$
ip -n bench-veth-$$ addr add 10.231.41.2/24 dev eth0
ip -n bench-peer-$$ addr add 10.231.41.1/24 dev eth0
ip -n bench-veth-$$ link set eth0 up
ip -n bench-peer-$$ link set eth0 up
ip -n bench-veth-$$ route add default via 10.231.41.1
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/veth" /bin/true >/dev/null
jq --arg ns "/run/netns/bench-veth-$$" '(.linux.namespaces[] | select(.type == "network")) |= (.path = $ns)' \
	"$work/veth/config.json" >"$work/veth/config.json.new" && mv "$work/veth/config.json.new" "$work/veth/config.json"

# --- idle container: memory, and the QEMU command line --------------------
echo "bench: idle container (run -d sleep) for memory and the QEMU command line" >&2
timeout "$T" "$RUNVM" --root "$root" run -d --bundle "$work/idle" --pid-file "$work/idle.pid" "$idle_id" \
	</dev/null >/dev/null 2>"$work/idle.err" || { cat "$work/idle.err" >&2; exit 1; }
monitor=$(cat "$work/idle.pid")
sleep 2 # let the guest settle after start

# The monitor and all its descendants.
pids=$(ps -e -o pid=,ppid= | awk -v root="$monitor" '
	{ parent[$1] = $2 }
	END { for (p in parent) { q = p; while (q != "" && q != 0 && q != 1) { if (q == root) { print p; break } q = parent[q] } } }')
pss_total=0 pss_rows=()
for p in $pids; do
	kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
	name=$(cat "/proc/$p/comm" 2>/dev/null || echo "?")
	pss_total=$((pss_total + ${kb:-0}))
	pss_rows+=("$name:${kb:-0}")
done
# The VM driver's processes, as state.json records them for delete.
qemu_pid=$(jq -r '(.processes // [])[] | select(.name == "qemu") | .pid' "$root/$idle_id/state.json")
[ -n "$qemu_pid" ] || { echo "bench: state.json of $idle_id records no qemu" >&2; exit 1; }
mapfile -d '' qemu_argv <"/proc/$qemu_pid/cmdline"
timeout 30 "$RUNVM" --root "$root" delete --force "$idle_id" >/dev/null 2>&1

check_json=$("$RUNVM" --root "$root" check --format json)
# Bare boot: the same argv without what is bound to inherited fds or to the
# state dir; the serial console to a file; the agent told to halt.
bare=("${qemu_argv[0]}")
i=1
while [ $i -lt ${#qemu_argv[@]} ]; do
	opt=${qemu_argv[$i]} val=${qemu_argv[$((i + 1))]:-}
	case "$opt" in
	-chardev | -mon | -serial | -qmp | -pidfile | -D) i=$((i + 2)); continue ;;
	-device)
		case "$val" in *chardev=* | vhost-user-fs*) i=$((i + 2)); continue ;; esac ;;
	-append) val="$val runvm.halt=1" ;;
	# runvm hands QEMU its kernel and initrd as fds: the bare boot opens the files.
	-kernel) val=$(jq -r .kernel.path <<<"$check_json") ;;
	-initrd) val=$(jq -r .initrd.path <<<"$check_json") ;;
	-*) ;;
	*) bare+=("$opt"); i=$((i + 1)); continue ;;
	esac
	if [[ $val == -* ]] || [ $((i + 1)) -ge ${#qemu_argv[@]} ]; then
		bare+=("$opt"); i=$((i + 1))
	else
		bare+=("$opt" "$val"); i=$((i + 2))
	fi
done
bare+=(-serial "file:$work/bare-console.log")
echo "$(printf '%q ' "${bare[@]}")" >"$work/bare-cmd"

# --- the timed runs ---------------------------------------------------------
# The KVM verdict is made (and cached) before anything is timed.
"$RUNVM" --root "$root" check >"$work/check.txt"
verdict=$(head -n1 "$work/check.txt")
echo "bench: $verdict" >&2

boot=() run=() runc_t=() run_tcg=() warm=() warm_veth=()
for n in $(seq "$RUNS"); do
	echo "bench: run $n/$RUNS" >&2
	t0=$(now_ms)
	if ! timeout "$T" "${bare[@]}" </dev/null >"$work/bare.out" 2>&1; then
		echo "bench: bare VM boot failed or timed out:" >&2
		cat "$work/bare-cmd" "$work/bare.out" >&2
		tail -5 "$work/bare-console.log" >&2 || true
		exit 1
	fi
	boot+=($(($(now_ms) - t0)))

	t0=$(now_ms)
	(cd "$work/bundle" && timeout "$T" "$RUNVM" --root "$root" run "bench-$n" </dev/null >/dev/null) ||
		{ echo "bench: runvm run failed" >&2; exit 1; }
	run+=($(($(now_ms) - t0)))

	t0=$(now_ms)
	(cd "$work/bundle" && RUNVM_CONFIG=$work/tcg.conf timeout "$T" "$RUNVM" --root "$root" run "bench-tcg-$n" </dev/null >/dev/null) ||
		{ echo "bench: runvm run (accel = tcg) failed" >&2; exit 1; }
	run_tcg+=($(($(now_ms) - t0)))

	RUNVM_CONFIG=$work/warm.conf timeout "$T" "$RUNVM" --root "$root" pool fill >/dev/null ||
		{ echo "bench: runvm pool fill failed" >&2; exit 1; }
	sleep 1 # the filled VM idle, as a pool VM waits
	t0=$(now_ms)
	(cd "$work/bundle" && RUNVM_CONFIG=$work/warm.conf timeout "$T" "$RUNVM" --root "$root" run "bench-warm-$n" </dev/null >/dev/null) ||
		{ echo "bench: runvm run (warm pool) failed" >&2; exit 1; }
	warm+=($(($(now_ms) - t0)))
	RUNVM_CONFIG=$work/warm.conf timeout "$T" "$RUNVM" --root "$root" pool drain >/dev/null

	RUNVM_CONFIG=$work/warm.conf timeout "$T" "$RUNVM" --root "$root" pool fill >/dev/null ||
		{ echo "bench: runvm pool fill failed" >&2; exit 1; }
	sleep 1
	t0=$(now_ms)
	(cd "$work/veth" && RUNVM_CONFIG=$work/warm.conf timeout "$T" "$RUNVM" --root "$root" run "bench-warm-veth-$n" </dev/null >/dev/null) ||
		{ echo "bench: runvm run (warm pool, veth namespace) failed" >&2; exit 1; }
	warm_veth+=($(($(now_ms) - t0)))
	RUNVM_CONFIG=$work/warm.conf timeout "$T" "$RUNVM" --root "$root" pool drain >/dev/null

	if [ -n "$RUNC" ]; then
		t0=$(now_ms)
		(cd "$work/bundle" && timeout "$T" "$RUNC" --root "$work/runc" run bench-runc </dev/null >/dev/null) ||
			{ echo "bench: runc run failed" >&2; exit 1; }
		runc_t+=($(($(now_ms) - t0)))
	fi
done

boot_ms=$(median "${boot[@]}")
run_ms=$(median "${run[@]}")
ratio=$(awk -v a="$run_ms" -v b="$boot_ms" 'BEGIN { printf "%.2f", a / b }')
run_tcg_ms=$(median "${run_tcg[@]}")
warm_ms=$(median "${warm[@]}")
warm_ratio=$(awk -v a="$warm_ms" -v b="$boot_ms" 'BEGIN { printf "%.2f", a / b }')
warm_veth_ms=$(median "${warm_veth[@]}")
warm_veth_ratio=$(awk -v a="$warm_veth_ms" -v b="$boot_ms" 'BEGIN { printf "%.2f", a / b }')
auto_ratio=$(awk -v a="$run_ms" -v b="$run_tcg_ms" 'BEGIN { printf "%.2f", a / b }')
runc_ms=null
[ ${#runc_t[@]} -gt 0 ] && runc_ms=$(median "${runc_t[@]}")
accel=tcg
[[ " ${qemu_argv[*]} " == *" kvm "* ]] && accel=kvm

# The bare boot runs the container's kernel with its command line, so the
# timer parameters (tsc_early_khz, lapic_timer_khz under TCG) are the same.
timer_params=$(grep -o -E '(tsc_early_khz|lapic_timer_khz)=[0-9]+' "$work/bare-cmd" | tr '\n' ' ' || true)
echo "bench: the bare boot runs the container's kernel and command line (timer: ${timer_params:-none passed, the guest calibrates})"

printf '\n%-44s %10s   %s\n' "measure (median of $RUNS)" "value" "all runs"
printf '%-44s %7s ms   %s\n' "bare VM boot to poweroff ($accel)" "$boot_ms" "${boot[*]}"
printf '%-44s %7s ms   %s\n' "runvm run /bin/true" "$run_ms" "${run[*]}"
printf '%-44s %10s\n' "ratio runvm run / bare boot" "$ratio"
printf '%-44s %7s ms   %s\n' "runvm run /bin/true, warm pool" "$warm_ms" "${warm[*]}"
printf '%-44s %10s   (target <= 0.30)\n' "ratio warm run / bare boot" "$warm_ratio"
printf '%-44s %7s ms   %s\n' "same, in a veth namespace by path (CNI's)" "$warm_veth_ms" "${warm_veth[*]}"
printf '%-44s %10s   (target <= 0.30)\n' "ratio warm veth run / bare boot" "$warm_veth_ratio"
printf '%-44s %7s ms   %s\n' "runvm run /bin/true, accel = tcg forced" "$run_tcg_ms" "${run_tcg[*]}"
printf '%-44s %10s   (%s)\n' "ratio defaults (auto) / accel = tcg" "$auto_ratio" "$verdict"
[ "$runc_ms" != null ] && printf '%-44s %7s ms   %s\n' "runc run /bin/true (reference)" "$runc_ms" "${runc_t[*]}"
printf '%-44s %7s KiB  %s\n' "idle container PSS (monitor+qemu+virtiofsd)" "$pss_total" "${pss_rows[*]}"

mkdir -p "$(dirname "$OUT")"
jq -n --argjson runs "$RUNS" --arg accel "$accel" \
	--argjson boot "$boot_ms" --argjson run "$run_ms" --argjson ratio "$ratio" --argjson runc "$runc_ms" \
	--argjson run_tcg "$run_tcg_ms" --argjson auto_ratio "$auto_ratio" --arg verdict "$verdict" \
	--argjson run_tcg_all "$(printf '%s\n' "${run_tcg[@]}" | jq -s .)" \
	--argjson pss "$pss_total" \
	--argjson warm "$warm_ms" --argjson warm_ratio "$warm_ratio" \
	--argjson warm_all "$(printf '%s\n' "${warm[@]}" | jq -s .)" \
	--argjson warm_veth "$warm_veth_ms" --argjson warm_veth_ratio "$warm_veth_ratio" \
	--argjson warm_veth_all "$(printf '%s\n' "${warm_veth[@]}" | jq -s .)" \
	--argjson boot_all "$(printf '%s\n' "${boot[@]}" | jq -s .)" \
	--argjson run_all "$(printf '%s\n' "${run[@]}" | jq -s .)" \
	--argjson runc_all "$(printf '%s\n' "${runc_t[@]}" | jq -s 'map(select(. != null))')" \
	--argjson pss_by "$(printf '%s\n' "${pss_rows[@]}" | jq -R 'split(":") | {name: .[0], pss_kib: (.[1] | tonumber)}' | jq -s .)" \
	--arg qemu "$(cat "$work/bare-cmd")" --arg timer "${timer_params% }" \
	--arg kernel "$(uname -r)" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{
		date: $date, host_kernel: $kernel, accel: $accel, runs: $runs,
		bare_boot_ms: {median: $boot, all: $boot_all},
		runvm_run_true_ms: {median: $run, all: $run_all},
		ratio_run_to_boot: $ratio,
		runvm_run_true_warm_ms: {median: $warm, all: $warm_all},
		ratio_warm_run_to_boot: $warm_ratio,
		runvm_run_true_warm_veth_ms: {median: $warm_veth, all: $warm_veth_all},
		ratio_warm_veth_run_to_boot: $warm_veth_ratio,
		runvm_run_true_tcg_forced_ms: {median: $run_tcg, all: $run_tcg_all},
		ratio_auto_to_tcg_forced: $auto_ratio, kvm_verdict: $verdict,
		runc_run_true_ms: {median: $runc, all: $runc_all},
		idle_pss_kib: {total: $pss, by_process: $pss_by},
		bare_qemu_command: $qemu, bare_timer_params: $timer
	}' >"$OUT"
echo
echo "bench: wrote $OUT"

[ -n "${BENCH_BOOT_ONLY:-}" ] && exit 0

# --- network: TCP throughput and ping latency, runvm vs runc on one veth -----
net_json=$work/net.json io_json=$work/io.json mem_json=$work/mem.json pod_json=$work/pod.json
BENCH_NET_JSON=$net_json "$top/tests/bench/net-bench.sh"
# --- stdio and files, timed inside the container ----------------------------
BENCH_IO_JSON=$io_json "$top/tests/bench/io-bench.sh"
# --- idle memory, marginal per container -------------------------------------
BENCH_MEM_JSON=$mem_json "$top/tests/bench/mem-bench.sh"
# --- a pod's second container against a standalone one ----------------------
BENCH_POD_JSON=$pod_json "$top/tests/bench/pod-bench.sh"
jq -s '.[0] + {network: .[1], io: .[2], memory: .[3], pod: .[4]}' "$OUT" "$net_json" "$io_json" "$mem_json" \
	"$pod_json" >"$work/all.json"
mv "$work/all.json" "$OUT"
echo "bench: wrote $OUT (boot, run, network, io, memory, pod)"
