#!/usr/bin/env bats
# Networking: a network namespace made by the test (a veth pair, the way an
# engine or CNI plugin makes one), joined by path and mirrored into the VM.
# ping and TCP both ways over IPv4 and IPv6, MTUs, two interfaces, a
# second route table, the gateway's neighbour entry preseeded, a new empty
# namespace, changes after start, and teardown: after every test no TAP,
# qdisc or filter of runvm's is left in the namespace, and the namespace
# is the test's to delete. The runtime-neutral parts also run with
# RUNVM=/usr/sbin/runc.

load helpers
load netns-helpers

BUSYBOX=${BUSYBOX:-/bin/busybox}

setup() {
	runvm_setup
	# ping needs a raw socket; the servers write their pages.
	update_config '.root.readonly = false |
		.process.capabilities.bounding += ["CAP_NET_RAW"] |
		.process.capabilities.effective += ["CAP_NET_RAW"] |
		.process.capabilities.permitted += ["CAP_NET_RAW"]'
	netns_init
}

teardown() {
	local rc=0
	stop_httpd
	runvm_teardown || rc=$?
	netns_cleanup || rc=1
	return $rc
}

# host_httpd ADDR:PORT TEXT: a web server on the host serving TEXT at /.
host_httpd() {
	local dir=$BATS_TEST_TMPDIR/www-$RANDOM
	mkdir -p "$dir"
	echo "$2" >"$dir/index.html"
	"$BUSYBOX" httpd -f -p "$1" -h "$dir" </dev/null >/dev/null 2>&1 3>&- &
	track_pid $!
	HTTPD_PIDS+=" $!"
}

stop_httpd() {
	local p
	for p in ${HTTPD_PIDS:-}; do kill "$p" 2>/dev/null || true; done
	HTTPD_PIDS=
}

# retry N CMD...: CMD until it succeeds, N times a second apart.
retry() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 1
	done
	return 1
}

@test "network: ping and TCP both ways over IPv4 and IPv6 through a veth in a namespace joined by path" {
	make_netns net-t1
	add_veth net-t1 net-h1 eth0 10.231.1.1/24 10.231.1.2/24
	ip addr add fd00:231:1::1/64 dev net-h1 nodad
	ip -n net-t1 addr add fd00:231:1::2/64 dev eth0 nodad
	ip -n net-t1 route add default via 10.231.1.1
	ip -n net-t1 -6 route add default via fd00:231:1::1
	host_httpd 23181 from-host
	use_netns net-t1
	set_args sh -c 'mkdir -p /www && echo from-container >/www/index.html
		ping -c1 -W5 10.231.1.1 >/dev/null && echo PING4-OK
		ping6 -c1 -W5 fd00:231:1::1 >/dev/null && echo PING6-OK
		echo "TCP4 $(timeout 10 wget -q -O- http://10.231.1.1:23181/)"
		echo "TCP6 $(timeout 10 wget -q -O- "http://[fd00:231:1::1]:23181/")"
		echo SERVING; exec httpd -f -p 8080 -h /www'
	run_detached ct
	wait_for_grep SERVING "$BATS_TEST_TMPDIR/ct.out"
	run cat "$BATS_TEST_TMPDIR/ct.out"
	assert_line PING4-OK
	assert_line PING6-OK
	assert_line "TCP4 from-host"
	assert_line "TCP6 from-host"

	run -0 ping -c1 -W5 10.231.1.2
	run -0 ping -6 -c1 -W5 fd00:231:1::2
	# Until httpd listens the tries fail aloud: their stderr is not the answer.
	run -0 --separate-stderr retry 10 timeout 10 "$BUSYBOX" wget -q -O- http://10.231.1.2:8080/
	assert_output from-container
	run -0 timeout 10 "$BUSYBOX" wget -q -O- "http://[fd00:231:1::2]:8080/"
	assert_output from-container

	if is_runvm; then
		# The engine's view of the namespace is unchanged: eth0 keeps its
		# addresses; the TAP next to it is runvm's, and state shows it.
		run -0 ip -n net-t1 -o addr show dev eth0
		assert_output --partial 10.231.1.2/24
		runvm state ct
		assert_success
		run -0 jq -e '.nics | length == 1 and .[0].name == "eth0" and (.[0].tap | endswith("_runvm"))' <<<"$output"
		local mac
		mac=$(ip -n net-t1 -o link show eth0 | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
		run -0 jq -re '.nics[0].mac' <<<"$(__runvm state ct)"
		assert_output "$mac"
		run -0 ip -n net-t1 -o link show
		assert_output --partial tap0_runvm
	fi
	runvm kill ct KILL
	wait_for_status ct stopped
	runvm delete ct
	assert_success
	stop_httpd
}

@test "network: the interface is up and running from the container's first command (operstate up, no NO-CARRIER)" {
	make_netns net-t12
	add_veth net-t12 net-h12 eth0 10.231.12.1/24 10.231.12.2/24
	use_netns net-t12
	# The first thing the container does: a freshly booted VM's NIC once
	# read operstate "down" for its first second (guest kernel patch 0002).
	set_args sh -c 'cat /sys/class/net/eth0/operstate; ip link show eth0 | head -n1'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	[ "${lines[0]}" = up ]
	[[ "${lines[1]}" == *",UP,LOWER_UP"* ]]
	[[ "${lines[1]}" != *NO-CARRIER* ]]
	# lo reads "unknown", as on any host.
	set_args cat /sys/class/net/lo/operstate
	runvm run --bundle "$BUNDLE" ct2
	assert_success
	assert_output unknown
}

@test "network: MTU 9000 and 1280 are honoured; full-size frames cross without fragmentation" {
	make_netns net-t2
	add_veth net-t2 net-h2 eth0 10.231.2.1/24 10.231.2.2/24 9000
	use_netns net-t2
	set_args sh -c 'cat /sys/class/net/eth0/mtu; echo READY; sleep 600'
	run_detached ct
	wait_for_grep READY "$BATS_TEST_TMPDIR/ct.out"
	run -0 head -1 "$BATS_TEST_TMPDIR/ct.out"
	assert_output 9000
	# Don't fragment: an 8972-byte payload is a 9000-byte IP packet, each way.
	run -0 ping -M do -s 8972 -c1 -W5 10.231.2.2
	run ping -M do -s 8973 -c1 -W5 10.231.2.2
	assert_failure
	runvm delete --force ct
	assert_success

	make_netns net-t3
	add_veth net-t3 net-h3 eth0 10.231.3.1/24 10.231.3.2/24 1280
	ip addr add fd00:231:3::1/64 dev net-h3 nodad
	ip -n net-t3 addr add fd00:231:3::2/64 dev eth0 nodad
	use_netns net-t3
	run_detached ct2
	wait_for_grep READY "$BATS_TEST_TMPDIR/ct2.out"
	run -0 head -1 "$BATS_TEST_TMPDIR/ct2.out"
	assert_output 1280
	run -0 ping -6 -M do -s 1232 -c1 -W5 fd00:231:3::2
	runvm delete --force ct2
	assert_success
}

@test "network: two interfaces, a second route table with a policy rule, the gateway's neighbour preseeded" {
	make_netns net-t4
	add_veth net-t4 net-h4 eth0 10.231.4.1/24 10.231.4.2/24
	add_veth net-t4 net-h5 eth1 10.231.5.1/24 10.231.5.2/24
	ip -n net-t4 route add 10.231.50.0/24 via 10.231.4.1
	# Only table 100 reaches 10.231.99.1, and only from eth1's address.
	ip addr add 10.231.99.1/32 dev net-h5
	ip -n net-t4 route add default via 10.231.5.1 dev eth1 table 100
	ip -n net-t4 rule add from 10.231.5.2 table 100 priority 100
	local mac0 mac1 gwmac
	mac0=$(cat /sys/class/net/net-h4/address)
	mac1=$(ip -n net-t4 -o link show eth1 | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
	gwmac=$mac0
	use_netns net-t4
	set_args sh -c 'ip neigh show dev eth0; echo ---
		ip -o link show eth1; ip route show table 100; ip rule; echo ---
		ping -c1 -W5 -I 10.231.5.2 10.231.99.1 >/dev/null && echo TABLE100-OK
		ip route get 10.231.99.1 2>&1 | grep -q unreachable && echo MAIN-UNREACHABLE
		echo DONE'
	run_detached ct
	wait_for_grep DONE "$BATS_TEST_TMPDIR/ct.out"
	run cat "$BATS_TEST_TMPDIR/ct.out"
	# Before any traffic, the gateway is already known (no ARP race). runc
	# shares the engine's neighbour table, which has no entry yet.
	if is_runvm; then
		assert_line --index 0 --regexp "^10\.231\.4\.1 .*lladdr $gwmac"
	fi
	assert_output --partial "link/ether $mac1"
	assert_output --partial "default via 10.231.5.1 dev eth1"
	assert_output --regexp "100:[[:space:]]+from 10.231.5.2 lookup 100"
	assert_line TABLE100-OK
	assert_line MAIN-UNREACHABLE
	runvm delete --force ct
	assert_success
}

@test "network: a new network namespace (no path) has loopback only, and it is up" {
	set_args sh -c 'ip -o link show | cut -d: -f2 | tr -d " "; ping -c1 -W5 127.0.0.1 >/dev/null && echo LO-OK'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line lo
	assert_line LO-OK
	refute_line eth0
}

@test "network: an interface added between create and start (ctr --cni does this) is in the VM at start" {
	set_args sh -c 'ip -o addr show dev eth0; ping -c1 -W5 10.231.11.1 >/dev/null && echo PING-OK'
	create_container ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	ip link del net-h11 2>/dev/null || true
	ip link add net-h11 type veth peer name eth0 netns "$pid"
	HOST_LINKS+=(net-h11)
	ip addr add 10.231.11.1/24 dev net-h11
	ip link set net-h11 up
	nsenter --net="/proc/$pid/ns/net" ip addr add 10.231.11.2/24 dev eth0
	nsenter --net="/proc/$pid/ns/net" ip link set eth0 up
	runvm start ct
	assert_success
	wait_for_status ct stopped
	run cat "$BATS_TEST_TMPDIR/ct.out"
	assert_output --partial "inet 10.231.11.2/24"
	assert_line PING-OK
	runvm delete ct
	assert_success
}

@test "network: delete --force after the monitor was SIGKILLed leaves the namespace as the engine made it" {
	is_runvm || skip "runvm's TAPs and redirects"
	make_netns net-t6
	add_veth net-t6 net-h6 eth0 10.231.6.1/24 10.231.6.2/24
	use_netns net-t6
	set_args sleep 600
	create_container ct
	run -0 tc -n net-t6 qdisc show dev eth0 ingress
	assert_output --partial ingress
	kill -KILL "$(cat "$BATS_TEST_TMPDIR/ct.pid")"
	wait_for_status ct stopped
	# QEMU died with the monitor and its TAP with it; the redirect is left.
	run -0 retry 10 sh -c '! ip -n net-t6 -o link show | grep -q _runvm'
	run -0 tc -n net-t6 qdisc show dev eth0 ingress
	assert_output --partial ingress
	runvm delete --force ct
	assert_success
	run -0 tc -n net-t6 qdisc show dev eth0 ingress
	assert_output ""
	run -0 ip -n net-t6 -o addr show dev eth0
	assert_output --partial 10.231.6.2/24
}

@test "network: an ingress or clsact (eBPF-based plugins) qdisc the engine made is used as it is and stays; only runvm's filter goes" {
	is_runvm || skip "runvm's redirects"
	local kind n=7
	for kind in ingress clsact; do
		make_netns net-t$n
		add_veth net-t$n net-h$n eth0 10.231.$n.1/24 10.231.$n.2/24
		tc -n net-t$n qdisc add dev eth0 $kind
		use_netns net-t$n
		set_args sh -c "ping -c1 -W5 10.231.$n.1 >/dev/null && echo PING-OK"
		runvm run --bundle "$BUNDLE" ct-$kind
		assert_success
		assert_output PING-OK
		run -0 tc -n net-t$n qdisc show dev eth0
		assert_output --partial "qdisc $kind ffff:"
		run -0 tc -n net-t$n filter show dev eth0 ingress
		assert_output ""
		# Not runvm's: the leak check in teardown must not count it.
		tc -n net-t$n qdisc del dev eth0 $kind
		n=13
	done
}

@test "network: an interface added after start is reported in the log and by events, not half-applied" {
	is_runvm || skip "runvm reports changes it cannot follow"
	make_netns net-t8
	add_veth net-t8 net-h8 eth0 10.231.8.1/24 10.231.8.2/24
	use_netns net-t8
	set_args sleep 600
	run_detached ct
	wait_for_status ct running
	added_interface_reported ct net-t8 net-h9
}

@test "network: an interface that cannot be mirrored is refused with a clear error and nothing is left" {
	is_runvm || skip "runc shares the host kernel's devices"
	make_netns net-t9
	add_veth net-t9 net-h10 eth0 10.231.10.1/24 10.231.10.2/24
	# A TUN device (layer 3, as a VPN makes one) that is up is not Ethernet.
	ip -n net-t9 tuntap add dev rvt0 mode tun
	ip -n net-t9 link set rvt0 up
	use_netns net-t9
	runvm create --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial 'interface `rvt0` is not an Ethernet device'
	[ "${#lines[@]}" -eq 1 ]
	run -0 tc -n net-t9 qdisc show dev eth0 ingress
	assert_output ""
	run -0 ip -n net-t9 -o link show
	refute_output --partial _runvm
}

@test "network: a path naming the host's network namespace (pid 1's) is refused as the host network is; nothing is mirrored" {
	is_runvm || skip "runc shares the host's network"
	# In a pid and network namespace of the test's own, so that "pid 1's"
	# is a throwaway one with a veth: were the refusal to fail, that veth,
	# not this machine's uplink, would be the one redirected into a VM.
	update_config '(.linux.namespaces[] | select(.type == "network")) |= (.path = "/proc/1/ns/net")'
	run unshare --net --pid --fork --mount-proc sh -c '
		ip link add rvh0 type veth peer name rvh1 && ip link set rvh0 up && ip link set rvh1 up || exit 99
		timeout 60 "$0" --root "$1" create --bundle "$2" ct </dev/null 2>&1; echo "rc=$?"
		echo "taps=$(ip -o link show | grep -c _runvm)"' "$RUNVM" "$ROOT" "$BUNDLE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == *'network namespace `/proc/1/ns/net` is the host'"'"'s (pid 1'"'"'s): the host network namespace cannot be shared with a VM'* ]]
	[ "${lines[1]}" != rc=0 ]
	[ "${lines[2]}" = taps=0 ]
	[ ! -e "$ROOT/ct" ]
}

@test "network: runvm check says whether TAPs and tc mirred work here" {
	is_runvm || skip "runvm's check"
	runvm check
	assert_success
	assert_output --partial "network: TAP + tc mirred: working"
}
