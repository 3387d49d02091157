# Network namespaces made the way an engine or CNI plugin makes them (a
# veth pair, one end in a named netns), for network.bats and pool.bats.
# netns_init in setup, netns_cleanup in teardown: it checks that nothing of
# runvm's (a TAP, an ingress qdisc) is left in them, then deletes them.

netns_init() {
	NETNS_LIST=()
	HOST_LINKS=()
}

# netns_cleanup: 1 when runvm left something in a namespace.
netns_cleanup() {
	local rc=0 ns l
	for ns in "${NETNS_LIST[@]}"; do
		if is_runvm && [ -e "/run/netns/$ns" ]; then
			if ip -n "$ns" -o link show | grep -q '_runvm'; then
				echo "LEAK: TAP left in $ns:"
				ip -n "$ns" -o link show
				rc=1
			fi
			if tc -n "$ns" qdisc show | grep -q ingress; then
				echo "LEAK: ingress qdisc left in $ns:"
				tc -n "$ns" qdisc show
				rc=1
			fi
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
	for l in "${HOST_LINKS[@]}"; do
		ip link del "$l" 2>/dev/null || true
	done
	return $rc
}

# make_netns NAME: a named netns (lo up), deleted by netns_cleanup.
make_netns() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	ip -n "$1" link set lo up
	NETNS_LIST+=("$1")
}

# add_veth NS HOST_NAME CTR_NAME HOST_CIDR CTR_CIDR [MTU]: a veth pair, one
# end in the host's namespace, the other in NS; addresses without DAD.
add_veth() {
	local ns=$1 h=$2 c=$3 hip=$4 cip=$5 mtu=${6:-1500}
	ip link del "$h" 2>/dev/null || true
	ip link add "$h" mtu "$mtu" type veth peer name "$c" mtu "$mtu" netns "$ns"
	HOST_LINKS+=("$h")
	ip addr add "$hip" dev "$h" nodad 2>/dev/null || ip addr add "$hip" dev "$h"
	ip link set "$h" up
	ip -n "$ns" addr add "$cip" dev "$c" nodad 2>/dev/null || ip -n "$ns" addr add "$cip" dev "$c"
	ip -n "$ns" link set "$c" up
}

# use_netns NS: the container joins /run/netns/NS.
use_netns() {
	update_config "(.linux.namespaces[] | select(.type == \"network\")) |= (.path = \"/run/netns/$1\")"
}

# added_interface_reported ID NS HOST_NAME: a veth end added to NS (as
# eth1) while container ID runs is reported and not applied: a `network`
# event with "mirrored": false, a line in ID's monitor.log, and the guest
# keeps eth0 only. Deletes ID.
added_interface_reported() {
	local id=$1 ns=$2 h=$3 evpid
	__runvm events "$id" >"$BATS_TEST_TMPDIR/ev.out" 2>"$BATS_TEST_TMPDIR/ev.err" &
	evpid=$!
	track_pid "$evpid"
	sleep 1
	ip link del "$h" 2>/dev/null || true
	ip link add "$h" type veth peer name eth1 netns "$ns"
	HOST_LINKS+=("$h")
	wait_for_grep '"type":"network"' "$BATS_TEST_TMPDIR/ev.out" 30
	run -0 jq -se --arg id "$id" 'map(select(.type == "network")) | .[0] | .id == $id and .data.interface == "eth1" and .data.change == "added" and .data.mirrored == false' "$BATS_TEST_TMPDIR/ev.out"
	run -0 grep -F '`eth1` added in the container'"'"'s network namespace after' "$ROOT/$id/monitor.log"
	runvm exec "$id" sh -c 'ip -o link show | cut -d: -f2 | tr -d " "'
	assert_success
	assert_line eth0
	refute_line eth1
	runvm delete --force "$id"
	assert_success
	wait_bg "$evpid" 30
}
