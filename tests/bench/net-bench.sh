#!/bin/bash
# Network part of `make bench`: the container's network namespace holds one
# end of a veth pair whose other end is in a peer namespace running an
# iperf3 server. The same bundle, on the same veth, runs under runvm and
# under runc:
#   - TCP throughput, container -> peer (iperf3 -c, NET_BENCH_SECONDS each);
#   - round-trip latency (ping, 20 echoes), container -> peer;
# medians over NET_BENCH_RUNS runs (default 3), printed with the ratios
# runvm / runc, and written to build/bench-net.json.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
RUNVM=${RUNVM:-$top/build/bin/runvm}
RUNC=${RUNC:-$(command -v runc || true)}
RUNS=${NET_BENCH_RUNS:-3}
SECONDS_EACH=${NET_BENCH_SECONDS:-5}
OUT=${BENCH_NET_JSON:-$top/build/bench-net.json}
T=${BENCH_TIMEOUT:-120}
NS=net-bench-c PEER=net-bench-p
CIP=10.231.40.2 PIP=10.231.40.1

command -v iperf3 >/dev/null || { echo "net-bench: iperf3 not installed (make deps)" >&2; exit 1; }
[ -x "$RUNVM" ] || { echo "net-bench: $RUNVM not built (make all)" >&2; exit 1; }
work=$(mktemp -d /tmp/runvm-net-bench.XXXXXX)
server=

cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	timeout 30 "$RUNVM" --root "$work/root" delete --force net-bench >/dev/null 2>&1 || true
	[ -n "$RUNC" ] && timeout 30 "$RUNC" --root "$work/runc" delete --force net-bench >/dev/null 2>&1 || true
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$PEER" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# --- the namespaces ----------------------------------------------------------
for ns in "$NS" "$PEER"; do
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$NS" link add eth0 type veth peer name eth0 netns "$PEER"
ip -n "$NS" addr add "$CIP/24" dev eth0
ip -n "$PEER" addr add "$PIP/24" dev eth0
ip -n "$NS" link set eth0 up
ip -n "$PEER" link set eth0 up

# --- a bundle with iperf3 and its libraries ----------------------------------
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/bundle" sh >/dev/null
rootfs=$work/bundle/rootfs
for f in $(command -v iperf3) $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
	mkdir -p "$rootfs$(dirname "$f")"
	cp -L "$f" "$rootfs$f"
done
jq --tab --arg ns "/run/netns/$NS" '
	(.linux.namespaces[] | select(.type == "network")) |= (.path = $ns) |
	.root.readonly = false | .process.capabilities.bounding += ["CAP_NET_RAW"] |
	.process.capabilities.effective += ["CAP_NET_RAW"] |
	.process.capabilities.permitted += ["CAP_NET_RAW"]' \
	"$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/bundle/config.json"

# run_in RUNTIME ARGS...: the bundle's process = ARGS, run in the foreground.
run_in() {
	local rt=$1 root
	shift
	root=$work/root
	[ "$rt" = "$RUNVM" ] || root=$work/runc
	jq --tab --argjson a "$(printf '%s\n' "$@" | jq -R . | jq -s .)" '.process.args = $a' \
		"$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/bundle/config.json"
	timeout "$T" "$rt" --root "$root" run --bundle "$work/bundle" net-bench </dev/null
}

# Bits per second the peer received, from iperf3's JSON.
throughput() {
	iperf3_out=$(run_in "$1" iperf3 -c "$PIP" -t "$SECONDS_EACH" -J) || {
		echo "net-bench: iperf3 under $1 failed: $iperf3_out" >&2
		exit 1
	}
	jq -r '.end.sum_received.bits_per_second' <<<"$iperf3_out"
}

# Average round-trip in ms (busybox: "round-trip min/avg/max = a/b/c ms").
latency() {
	local out
	out=$(run_in "$1" ping -c 20 -i 0.2 "$PIP") || { echo "net-bench: ping under $1 failed: $out" >&2; exit 1; }
	sed -n 's|.*min/avg/max = [^/]*/\([^/]*\)/.*|\1|p' <<<"$out"
}

ip netns exec "$PEER" iperf3 -s -B "$PIP" </dev/null >"$work/iperf3-server.log" 2>&1 &
server=$!
sleep 0.5

vm_bps=() vm_rtt=() runc_bps=() runc_rtt=()
for n in $(seq "$RUNS"); do
	echo "net-bench: run $n/$RUNS" >&2
	vm_bps+=("$(throughput "$RUNVM")")
	vm_rtt+=("$(latency "$RUNVM")")
	if [ -n "$RUNC" ]; then
		runc_bps+=("$(throughput "$RUNC")")
		runc_rtt+=("$(latency "$RUNC")")
	fi
done

accel=$(timeout 30 "$RUNVM" check 2>/dev/null | sed -n 's/^accelerator: \([a-z]*\).*/\1/p')
vm_mbps=$(awk -v b="$(median "${vm_bps[@]}")" 'BEGIN { printf "%.0f", b / 1e6 }')
vm_ms=$(median "${vm_rtt[@]}")
runc_mbps=null runc_ms=null tput_ratio=null rtt_ratio=null
if [ ${#runc_bps[@]} -gt 0 ]; then
	runc_mbps=$(awk -v b="$(median "${runc_bps[@]}")" 'BEGIN { printf "%.0f", b / 1e6 }')
	runc_ms=$(median "${runc_rtt[@]}")
	tput_ratio=$(awk -v a="$vm_mbps" -v b="$runc_mbps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	rtt_ratio=$(awk -v a="$vm_ms" -v b="$runc_ms" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
fi

printf '\n%-44s %10s %10s %8s\n' "network, same veth (median of $RUNS)" "runvm" "runc" "ratio"
printf '%-44s %10s %10s %8s\n' "TCP throughput to the peer (Mbit/s)" "$vm_mbps" "$runc_mbps" "$tput_ratio"
printf '%-44s %10s %10s %8s\n' "ping round trip to the peer (ms)" "$vm_ms" "$runc_ms" "$rtt_ratio"
echo "(runvm: ${accel:-?}; virtio-net on a TAP with tc mirred redirects, $( [ -e /dev/vhost-net ] && echo vhost-net || echo "no vhost-net: QEMU copies each packet"))"

mkdir -p "$(dirname "$OUT")"
jq -n --arg accel "${accel:-}" --argjson runs "$RUNS" --argjson secs "$SECONDS_EACH" \
	--argjson vm_mbps "$vm_mbps" --argjson runc_mbps "$runc_mbps" --argjson tput_ratio "$tput_ratio" \
	--argjson vm_ms "$vm_ms" --argjson runc_ms "$runc_ms" --argjson rtt_ratio "$rtt_ratio" \
	--argjson vm_bps "$(printf '%s\n' "${vm_bps[@]}" | jq -s .)" \
	--argjson runc_bps "$(printf '%s\n' "${runc_bps[@]}" | jq -s 'map(select(. != null))')" \
	--argjson vm_rtt "$(printf '%s\n' "${vm_rtt[@]}" | jq -s .)" \
	--argjson runc_rtt "$(printf '%s\n' "${runc_rtt[@]}" | jq -s 'map(select(. != null))')" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{
		date: $date, accel: $accel, runs: $runs, iperf3_seconds: $secs,
		tcp_mbit_s: {runvm: $vm_mbps, runc: $runc_mbps, ratio: $tput_ratio, runvm_all_bps: $vm_bps, runc_all_bps: $runc_bps},
		ping_rtt_ms: {runvm: $vm_ms, runc: $runc_ms, ratio: $rtt_ratio, runvm_all: $vm_rtt, runc_all: $runc_rtt}
	}' >"$OUT"
echo "net-bench: wrote $OUT"
