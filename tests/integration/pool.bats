#!/usr/bin/env bats
# The warm pool (libcontainer-vm/pool.c, pool-monitor.c; docs/ARCHITECTURE.md
# "Warm pool"): pre-booted idle VMs under ROOT/.pool, claimed by create for
# a container of the pool's shape, which then runs in it as a pod member
# does. A served VM is never reused; create refills in the background;
# anything amiss boots cold. Every test drains what it filled.

load helpers
load netns-helpers

ORIG_RUNVM_CONFIG=${RUNVM_CONFIG:-}

setup() {
	runvm_setup
	export RUNVM_CONFIG=$BATS_TEST_TMPDIR/runvm.conf
	{ cat "${ORIG_RUNVM_CONFIG:-/dev/null}" 2>/dev/null; echo "warm_pool = 1"; } >"$RUNVM_CONFIG"
	netns_init
}

teardown() {
	local rc=0
	__runvm pool drain >/dev/null 2>&1 || true
	runvm_teardown || rc=$?
	netns_cleanup || rc=1
	return $rc
}

# with_net_raw: ping needs a raw socket.
with_net_raw() {
	update_config '.process.capabilities.bounding += ["CAP_NET_RAW"] |
		.process.capabilities.effective += ["CAP_NET_RAW"] |
		.process.capabilities.permitted += ["CAP_NET_RAW"]'
}

# slots: the pool's slot names, one a line.
slots() {
	ls "$ROOT/.pool" 2>/dev/null || true
}

# ready_slot: the one ready slot's name (fails unless exactly one).
ready_slot() {
	local s n=0 found=
	for s in $(slots); do
		[ -e "$ROOT/.pool/$s/claimed" ] && continue
		[ "$(jq -r .status "$ROOT/.pool/$s/state.json")" = created ] || continue
		found=$s
		n=$((n + 1))
	done
	[ "$n" -eq 1 ] || { echo "expected one ready pool VM, found $n: $(slots)"; return 1; }
	echo "$found"
}

slot_qemu() { # SLOT -> QEMU's pid
	jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/.pool/$1/state.json"
}

sandbox_of() { # ID -> the sandbox its state records ("null": its own VM)
	jq -r '.sandbox // "null"' "$ROOT/$1/state.json"
}

fill() {
	runvm pool fill "$@"
	[ "$status" -eq 0 ]
}

# wait_refilled: a ready VM again (create refills without waiting).
wait_refilled() {
	local deadline=$((SECONDS + WAIT_TIMEOUT))
	while [ "$SECONDS" -le "$deadline" ]; do
		__runvm pool status | grep -q ' 1 ready, 0 booting' && return 0
		sleep 0.2
	done
	__runvm pool status
	return 1
}

@test "pool: off by default: nothing boots ahead, nothing stays after run, fill refuses" {
	: >"$RUNVM_CONFIG"
	set_args sh -c 'echo cold'
	runvm run --bundle "$BUNDLE" off
	[ "$status" -eq 0 ]
	[ "$output" = cold ]
	[ ! -e "$ROOT/.pool" ]
	[ -z "$(leaked_processes)" ]
	runvm pool fill
	[ "$status" -ne 0 ]
	[[ "$output" == *"the warm pool is off (warm_pool = 0"* ]]
	[ "${#lines[@]}" -eq 1 ]
	runvm pool status
	[ "$output" = "depth 0, 0 ready, 0 booting, 0 serving" ]
}

@test "pool: a claimed VM serves the container: output, exit code, exec, kill, delete; host cgroup" {
	fill
	[[ "$output" == *": 1 started, 1 ready" ]]
	slot=$(ready_slot)
	qemu=$(slot_qemu "$slot")
	pid_alive "$qemu"

	set_args sh -c 'echo out; echo err >&2; exit 7'
	runvm_separate run --bundle "$BUNDLE" fg
	[ "$status" -eq 7 ]
	[ "$output" = out ]
	[ "$stderr" = err ]
	# Served once: that VM is gone with its container.
	wait_for_exit "$qemu" 10
	[ ! -e "$ROOT/.pool/$slot" ]

	wait_refilled
	slot=$(ready_slot)
	qemu=$(slot_qemu "$slot")
	set_args sleep 300
	update_config '.linux.cgroupsPath = "/pool-bats-'"$BATS_TEST_NUMBER"'"'
	touch "$BUNDLE/rootfs/pool-marker"
	run_detached bg
	[ "$(sandbox_of bg)" = ".pool/$slot" ]
	# The pool VM's QEMU is the container's VM, in the container's cgroup.
	grep -q "pool-bats-$BATS_TEST_NUMBER" "/proc/$qemu/cgroup"
	pid=$(cat "$BATS_TEST_TMPDIR/bg.pid")
	grep -q "pool-bats-$BATS_TEST_NUMBER" "/proc/$pid/cgroup"
	# Host tools on the container's pid see the container's files, as
	# for a cold container (docs/SECURITY.md): its rootfs, not the host's.
	[ -e "/proc/$pid/root/pool-marker" ]
	[ ! -e "/proc/$pid/root$BATS_TEST_TMPDIR" ]
	runvm exec bg sh -c 'echo exec; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = exec ]
	# The pool VM's warm-up (vm/agent/warm.c: a cgroup made and removed,
	# a rehearsal container run to its end) left nothing in the guest: the
	# guest's cgroups (no cgroup namespace in the default spec) are the
	# container's alone (under the containers' parent, docs/GUEST.md).
	runvm exec bg sh -c 'for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/containers/*/; do basename "$d"; done'
	[ "$status" -eq 0 ]
	[ "$output" = $'containers\nbg' ]
	[ "$(container_status bg)" = running ]
	runvm kill bg KILL
	[ "$status" -eq 0 ]
	wait_for_status bg stopped
	wait_for_exit "$qemu" 10
	runvm delete bg
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/bg" ]
	[ ! -e "$ROOT/.pool/$slot" ]
}

@test "pool: the device program a pool VM loaded ahead enforces the default rules; other rules get their own" {
	# A pool VM loads the default spec's device program before it is
	# claimed (vm/agent/warm.c); a container with other rules must not
	# get it.
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"]
		| .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	set_args sh -c 'mknod /dev/k c 1 11 && echo x >/dev/k && echo write-ok; echo x >/dev/null && echo null-ok'
	fill
	slot=$(ready_slot)
	qemu=$(slot_qemu "$slot")
	# stdout and stderr apart: the relay keeps each stream's order, not
	# the order of writes across them.
	runvm_separate run --bundle "$BUNDLE" dflt
	refute_line write-ok
	[[ "$stderr" == *"/dev/k: Operation not permitted"* ]]
	assert_line null-ok
	# That pool VM served it.
	wait_for_exit "$qemu" 10
	[ ! -e "$ROOT/.pool/$slot" ]
	update_config '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
	fill
	slot=$(ready_slot)
	qemu=$(slot_qemu "$slot")
	runvm run --bundle "$BUNDLE" own
	assert_success
	assert_line write-ok
	assert_line null-ok
	wait_for_exit "$qemu" 10
	[ ! -e "$ROOT/.pool/$slot" ]
}

@test "pool: refilled in the background; the next create is served warm by a new VM, never a served one" {
	fill
	boots=()
	for i in 1 2 3; do
		wait_refilled
		slot=$(ready_slot)
		qemu=$(slot_qemu "$slot")
		qemu_start=$(awk '{print $22}' "/proc/$qemu/stat")
		set_args sh -c 'cat /proc/sys/kernel/random/boot_id; sleep 300'
		run_detached "w$i"
		# The VM booted before this create: its QEMU is the pool's.
		[ "$(sandbox_of "w$i")" = ".pool/$slot" ]
		[ "$(jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/.pool/$slot/state.json")" = "$qemu" ]
		[ "$(awk '{print $22}' "/proc/$qemu/stat")" = "$qemu_start" ]
		for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/w$i.out" ] && break; sleep 0.1; done
		boot=$(head -1 "$BATS_TEST_TMPDIR/w$i.out")
		[ -n "$boot" ]
		for b in "${boots[@]}"; do
			[ "$b" != "$boot" ] || fail "w$i shares a VM: boot id $boot seen before"
		done
		boots+=("$boot")
	done
	for i in 1 2 3; do
		runvm delete --force "w$i"
		[ "$status" -eq 0 ]
	done
}

@test "pool: concurrent creates never share a VM" {
	fill --depth 2
	set_args sh -c 'cat /proc/sys/kernel/random/boot_id; sleep 300'
	for i in 1 2 3; do
		__runvm create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/c$i.pid" "c$i" \
			>"$BATS_TEST_TMPDIR/c$i.out" 2>&1 &
		eval "job$i=$!"
	done
	for i in 1 2 3; do
		eval "wait_bg \$job$i"
		[ "$status" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/c$i.out"; false; }
		track_pid "$(cat "$BATS_TEST_TMPDIR/c$i.pid")"
	done
	warm=$(for i in 1 2 3; do sandbox_of "c$i"; done | grep -v '^null$' | sort)
	# Two VMs were ready: two creates got one each, the third booted cold.
	[ "$(echo "$warm" | wc -l)" -eq 2 ]
	[ "$(echo "$warm" | sort -u | wc -l)" -eq 2 ]
	for i in 1 2 3; do
		runvm start "c$i"
		[ "$status" -eq 0 ]
	done
	for i in 1 2 3; do
		runvm exec "c$i" cat /proc/sys/kernel/random/boot_id
		echo "$output" >>"$BATS_TEST_TMPDIR/boots"
	done
	[ "$(sort -u "$BATS_TEST_TMPDIR/boots" | wc -l)" -eq 3 ]
	for i in 1 2 3; do
		runvm delete --force "c$i"
	done
}

@test "pool: a pool VM killed from outside is skipped: the create boots cold, right result" {
	fill
	slot=$(ready_slot)
	monitor=$(jq -r .monitor_pid "$ROOT/.pool/$slot/state.json")
	qemu=$(slot_qemu "$slot")
	kill -KILL "$monitor"
	wait_for_exit "$monitor" 10
	wait_for_exit "$qemu" 10
	update_config '.process.args = ["sh", "-c", "echo survived; sleep 300"]'
	run_detached k
	[ "$(sandbox_of k)" = null ]
	for _ in $(seq 100); do grep -q survived "$BATS_TEST_TMPDIR/k.out" && break; sleep 0.1; done
	grep -q survived "$BATS_TEST_TMPDIR/k.out"
	# The dead slot is gone (its claimer removed it).
	[ ! -e "$ROOT/.pool/$slot" ]
	runvm delete --force k
	[ "$status" -eq 0 ]
}

@test "pool: a shape mismatch (a memory limit) boots cold and leaves the pool alone" {
	fill
	slot=$(ready_slot)
	set_args sleep 300
	update_config '.linux.resources.memory.limit = 268435456'
	run_detached big
	[ "$(sandbox_of big)" = null ]
	[ "$(ready_slot)" = "$slot" ]
	runvm delete --force big
	[ "$status" -eq 0 ]
}

@test "pool: a namespace the engine made (a veth, by path) is served warm: its MAC, MTU, address and routes in the guest; ping both ways; nothing left" {
	make_netns pool-n1
	add_veth pool-n1 pool-h1 eth0 10.233.1.1/24 10.233.1.2/24 1400
	# Off the link: reached through the default route only.
	ip addr add 10.233.9.1/32 dev pool-h1
	ip -n pool-n1 route add default via 10.233.1.1
	mac=$(ip netns exec pool-n1 cat /sys/class/net/eth0/address)
	fill
	slot=$(ready_slot)
	qemu=$(slot_qemu "$slot")
	use_netns pool-n1
	with_net_raw
	set_args sh -c 'cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; echo $(ls /sys/class/net)
		cat /sys/class/net/eth0/operstate
		ping -c1 -W5 10.233.1.1 >/dev/null && echo PING-LINK
		ping -c1 -W5 10.233.9.1 >/dev/null && echo PING-ROUTE
		{ ip addr; ip route; ip -6 route; ip neigh; } | grep -q "169\.254\|fe80::2/" && echo LEFTOVER || echo CLEAN
		echo READY; exec sleep 300'
	run_detached n1
	[ "$(sandbox_of n1)" = ".pool/$slot" ]
	wait_for_grep READY "$BATS_TEST_TMPDIR/n1.out"
	run cat "$BATS_TEST_TMPDIR/n1.out"
	[ "${lines[0]}" = "$mac" ]
	[ "${lines[1]}" = 1400 ]
	[ "${lines[2]}" = "eth0 lo" ]
	[ "${lines[3]}" = up ]
	[ "${lines[4]}" = PING-LINK ]
	[ "${lines[5]}" = PING-ROUTE ]
	# Nothing of the pool VM's rehearsal of a claim (network-pool.c).
	[ "${lines[6]}" = CLEAN ]
	ping -c1 -W5 10.233.1.2
	# Its stats count the NIC's traffic (the pings), in the guest.
	runvm_separate events --stats n1
	assert_success
	run -0 jq -e '[.data.network_interfaces[] | select(.name == "eth0" and .rx_packets > 0 and .tx_packets > 0)]
		| length == 1' <<<"$output"
	# The container's pid is in the engine's namespace, as a cold one's
	# is, and the pool VM's TAP was moved there from the pool's.
	pid=$(cat "$BATS_TEST_TMPDIR/n1.pid")
	[ "$(stat -Lc %i "/proc/$pid/ns/net")" = "$(stat -Lc %i /run/netns/pool-n1)" ]
	ip -n pool-n1 -o link show | grep -q '_runvm'
	[ "$(jq -r '.network.nics[0].name' "$ROOT/n1/state.json")" = eth0 ]
	runvm kill n1 KILL
	[ "$status" -eq 0 ]
	wait_for_status n1 stopped
	wait_for_exit "$qemu" 10
	runvm delete n1
	[ "$status" -eq 0 ]
	run ip -n pool-n1 -o link show
	[[ "$output" != *_runvm* ]]
	run tc -n pool-n1 qdisc show
	[[ "$output" != *ingress* ]]
	[ ! -e "$ROOT/.pool/$slot" ]
}

@test "pool: an interface added to a served container's namespace is reported in its log and by events, not half-applied" {
	make_netns pool-n4
	add_veth pool-n4 pool-h4 eth0 10.233.4.1/24 10.233.4.2/24
	fill
	slot=$(ready_slot)
	use_netns pool-n4
	set_args sleep 600
	run_detached n4
	[ "$(sandbox_of n4)" = ".pool/$slot" ]
	wait_for_status n4 running
	added_interface_reported n4 pool-n4 pool-h5
}

@test "pool: a pool VM's NIC stays out of sight without an interface (a new namespace, a path with lo only); two interfaces boot cold" {
	fill
	slot=$(ready_slot)
	set_args sh -c 'echo $(ls /sys/class/net)'
	runvm run --bundle "$BUNDLE" fresh
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
	[ ! -e "$ROOT/.pool/$slot" ]

	make_netns pool-n0
	use_netns pool-n0
	wait_refilled
	slot=$(ready_slot)
	runvm run --bundle "$BUNDLE" lo-only
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
	[ ! -e "$ROOT/.pool/$slot" ]

	make_netns pool-n2
	add_veth pool-n2 pool-h2a eth0 10.233.2.1/24 10.233.2.2/24
	add_veth pool-n2 pool-h2b eth1 10.233.3.1/24 10.233.3.2/24
	use_netns pool-n2
	wait_refilled
	slot=$(ready_slot)
	set_args sleep 300
	run_detached two
	[ "$(sandbox_of two)" = null ]
	[ "$(ready_slot)" = "$slot" ]
	runvm delete --force two
	[ "$status" -eq 0 ]
}

@test "pool: a container without an interface is made in the VM's spare namespace, lo up: its execs join it, its stats list no NIC" {
	fill
	slot=$(ready_slot)
	set_args sh -c 'echo $(ls /sys/class/net); cat /sys/class/net/lo/operstate; ping -c1 -W5 127.0.0.1 >/dev/null && echo PING-LO
		echo READY; exec sleep 300'
	with_net_raw
	run_detached s0
	[ "$(sandbox_of s0)" = ".pool/$slot" ]
	wait_for_grep READY "$BATS_TEST_TMPDIR/s0.out"
	run cat "$BATS_TEST_TMPDIR/s0.out"
	[ "${lines[0]}" = lo ]
	[ "${lines[1]}" = unknown ]
	[ "${lines[2]}" = PING-LO ]
	# /proc/net/dev is the reader's namespace: the exec's is the container's.
	runvm exec s0 sh -c 'grep : /proc/net/dev | cut -d: -f1 | tr -d " "'
	assert_success
	assert_output lo
	runvm_separate events --stats s0
	assert_success
	run -0 jq -e '.data.network_interfaces == []' <<<"$output"
	runvm delete --force s0
	assert_success
	[ ! -e "$ROOT/.pool/$slot" ]
}

@test "pool: warm_pool_limits_mib keeps VMs of that memory limit warm too: such a container is served at its size; the refill keeps the shape" {
	echo "warm_pool_limits_mib = 256" >>"$RUNVM_CONFIG"
	fill
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *": 1 started, 2 ready" ]]
	key=${lines[1]%%:*}
	[ "$key" != "${lines[0]%%:*}" ]
	mib=${key#m}
	mib=${mib%%-*}
	[ "$mib" -lt 2048 ]
	slot=$(ls "$ROOT/.pool" | grep "^$key-")
	qemu=$(slot_qemu "$slot")
	grep -q -- "-m ${mib}M" <(tr '\0' ' ' <"/proc/$qemu/cmdline")
	set_args sh -c 'echo $(($(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo) / 1024)); echo READY; exec sleep 300'
	update_config '.linux.resources.memory.limit = 268435456'
	run_detached small
	[ "$(sandbox_of small)" = ".pool/$slot" ]
	wait_for_grep READY "$BATS_TEST_TMPDIR/small.out"
	total=$(head -1 "$BATS_TEST_TMPDIR/small.out")
	[ "$total" -le "$mib" ]
	# The refill boots that shape again, not the default one.
	local deadline=$((SECONDS + WAIT_TIMEOUT)) refilled=
	while [ "$SECONDS" -le "$deadline" ]; do
		for s in $(slots); do
			[ "$s" != "$slot" ] && [[ "$s" == "$key-"* ]] &&
				[ "$(jq -r .status "$ROOT/.pool/$s/state.json" 2>/dev/null)" = created ] && refilled=$s
		done
		[ -n "$refilled" ] && break
		sleep 0.2
	done
	[ -n "$refilled" ]
	[ "$(ls "$ROOT/.pool" | grep -c "^${lines[0]%%:*}-")" -eq 1 ]
	runvm delete --force small
	[ "$status" -eq 0 ]
	wait_for_exit "$qemu" 10
}

@test "pool: drain leaves nothing; a VM serving a container is left to it" {
	fill --depth 2
	[[ "$output" == *": 2 started, 2 ready" ]]
	set_args sleep 300
	run_detached s
	[ "$(sandbox_of s)" != null ]
	runvm pool drain
	[ "$status" -eq 0 ]
	[[ "$output" == *"removed, 1 serving a container" ]]
	runvm pool status
	[[ "$output" == *" 0 ready, 0 booting, 1 serving" ]]
	[ "$(container_status s)" = running ]
	runvm delete --force s
	[ "$status" -eq 0 ]
	runvm pool drain
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/.pool" ]
	[ -z "$(leaked_processes)" ]
}

@test "pool: runvm check reports the pool" {
	fill
	runvm check --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .warm_pool)" = '{"depth":1,"ready":1,"booting":0,"serving":0}' ]
	runvm check
	[[ "$output" == *"warm pool"*"depth 1, 1 ready"* ]]
}

@test "pool: bad input is one line and leaves nothing" {
	runvm pool fill --depth 65
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"pool fill: --depth 65: at most 64"* ]]
	runvm pool frob
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *'pool: unknown action `frob`: fill, drain or status'* ]]
	echo "warm_pool_limits_mib = 256 0" >"$RUNVM_CONFIG"
	runvm pool status
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *warm_pool_limits_mib* ]]
	echo "warm_pool = 65" >"$RUNVM_CONFIG"
	runvm pool status
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *warm_pool* ]]
	[ ! -e "$ROOT/.pool" ]
}
