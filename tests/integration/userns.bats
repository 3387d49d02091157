#!/usr/bin/env bats
# The monitor (the pid runvm reports) in the container's user namespace
# (docs/SECURITY.md, "The monitor in the container's user namespace"):
# its uid_map and gid_map are the spec's once the container started, the
# host's without a user namespace; what needs the host's credentials
# after that goes through its keeper, and every way a container ends
# leaves nothing (process, state dir, mount by the helpers' teardown;
# cgroup dir and TAP checked here). ctl.sock still refuses every host uid
# but root, though inside the namespace they all read alike.

load helpers
load netns-helpers

MAPS='.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 64536}]'

setup() {
	runvm_setup
	is_runvm || skip "runvm only: the monitor's namespaces"
	netns_init
}

teardown() {
	local rc=0
	runvm_teardown || rc=$?
	netns_cleanup || rc=1
	return $rc
}

# in_own_userns PID: PID's user namespace is not the host's.
in_own_userns() {
	[ "$(readlink "/proc/$1/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

# map_lines FILE: a uid_map/gid_map with its columns' padding squeezed.
map_lines() {
	awk '{ print $1, $2, $3 }' "$1"
}

# spec_map KEY: the spec's mappings for KEY, in uid_map's order.
spec_map() {
	jq -r ".linux.$1[] | \"\(.containerID) \(.hostID) \(.size)\"" "$BUNDLE/config.json"
}

# keeper_of PID: the pid of the monitor's keeper ("" when none).
keeper_of() {
	local p
	for p in $(pgrep -P "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = runvm-keeper ] && echo "$p"
	done
	return 0
}

# cgroup_dirs ID: the host cgroup dirs the container's state records.
cgroup_dirs() {
	jq -r '.cgroup_dirs[]?' "$ROOT/$1/state.json"
}

# gone_cgroups DIR...: none of them exists any more.
gone_cgroups() {
	local d
	for d in "$@"; do
		if [ -d "$d" ]; then
			echo "LEAK: host cgroup $d"
			return 1
		fi
	done
}

# netns_with_eth0 NS HOST_LINK: NS with a veth's eth0 (10.233.7.2/24),
# joined by the container.
netns_with_eth0() {
	make_netns "$1"
	ip link del "$2" 2>/dev/null || true
	ip link add "$2" type veth peer name eth0 netns "$1"
	HOST_LINKS+=("$2")
	ip link set "$2" up
	ip -n "$1" addr add 10.233.7.2/24 dev eth0
	ip -n "$1" link set eth0 up
	use_netns "$1"
}

@test "userns: the reported pid's uid_map and gid_map are the spec's once started; the host's without a user namespace" {
	update_config "$MAPS"
	set_args sleep 600
	create_container userns-ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")
	# Before start a rebuild of the VM may still need the host: not yet.
	assert_equal "$(readlink "/proc/$pid/ns/user")" "$(readlink /proc/self/ns/user)"
	runvm start userns-ct
	assert_success
	assert_equal "$(map_lines "/proc/$pid/uid_map")" "$(spec_map uidMappings)"
	assert_equal "$(map_lines "/proc/$pid/gid_map")" "$(spec_map gidMappings)"
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	# The container sees the same maps.
	runvm exec userns-ct cat /proc/self/uid_map
	assert_success
	assert_equal "$(awk '{ print $1, $2, $3 }' <<<"$output")" "$(spec_map uidMappings)"
	# The monitor keeps kuid 0 (unmapped: 65534 inside), so its state dir
	# stays its own; the keeper stays in the host's user namespace.
	assert_equal "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 0
	local k
	k=$(keeper_of "$pid")
	[ -n "$k" ]
	assert_equal "$(readlink "/proc/$k/ns/user")" "$(readlink /proc/self/ns/user)"
	runvm delete --force userns-ct
	assert_success
	[ ! -e "/proc/$k" ] || [ "$(proc_state "$k")" = Z ]

	# Without a user namespace: the host's maps, the host's namespace.
	update_config 'del(.linux.uidMappings, .linux.gidMappings) | .linux.namespaces |= map(select(.type != "user"))'
	run_detached userns-plain
	pid=$(cat "$BATS_TEST_TMPDIR/userns-plain.pid")
	assert_equal "$(map_lines "/proc/$pid/uid_map")" "$(map_lines /proc/self/uid_map)"
	assert_equal "$(readlink "/proc/$pid/ns/user")" "$(readlink /proc/self/ns/user)"
	assert_equal "$(keeper_of "$pid")" ""
	runvm delete --force userns-plain
	assert_success
}

@test "userns: run, exec, ps, pause, kill and delete in a user namespace with a netns leave no TAP, cgroup or process" {
	netns_with_eth0 userns-n1 userns-h1
	update_config "$MAPS"
	set_args sh -c 'trap "exit 7" TERM; while :; do sleep 1; done'
	run_detached userns-ct
	local pid dirs
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")
	assert_equal "$(map_lines "/proc/$pid/uid_map")" "$(spec_map uidMappings)"
	ip -n userns-n1 -o link show | grep -q _runvm
	mapfile -t dirs < <(cgroup_dirs userns-ct)
	[ "${#dirs[@]}" -gt 0 ]
	runvm exec userns-ct sh -c 'id -u; ip -o addr show eth0'
	assert_success
	assert_line 0
	assert_output --partial 10.233.7.2
	runvm ps userns-ct
	assert_success
	assert_output --partial sleep
	runvm pause userns-ct
	assert_success
	assert_equal "$(container_status userns-ct)" paused
	runvm resume userns-ct
	assert_success
	runvm kill userns-ct TERM
	assert_success
	wait_for_status userns-ct stopped
	# The monitor undid the wiring through its keeper before it exited.
	wait_for_exit "$pid" 20
	run ip -n userns-n1 -o link show
	refute_output --partial _runvm
	run tc -n userns-n1 qdisc show dev eth0
	refute_output --partial ingress
	runvm delete userns-ct
	assert_success
	gone_cgroups "${dirs[@]}"
}

@test "userns: delete --force while running, and QEMU killed from outside, leave nothing" {
	netns_with_eth0 userns-n2 userns-h2
	update_config "$MAPS"
	set_args sleep 600
	run_detached userns-ct
	local pid dirs qemu
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")
	in_own_userns "$pid"
	mapfile -t dirs < <(cgroup_dirs userns-ct)
	runvm delete --force userns-ct
	assert_success
	run ip -n userns-n2 -o link show
	refute_output --partial _runvm
	gone_cgroups "${dirs[@]}"

	run_detached userns-ct2
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct2.pid")
	in_own_userns "$pid"
	mapfile -t dirs < <(cgroup_dirs userns-ct2)
	qemu=$(pgrep -P "$pid" -x qemu-system-x86)
	[ -n "$qemu" ]
	kill -KILL "$qemu"
	wait_for_status userns-ct2 stopped 30
	# virtiofsd too: the keeper killed it for the monitor.
	wait_for_exit "$pid" 20
	run ip -n userns-n2 -o link show
	refute_output --partial _runvm
	run tc -n userns-n2 qdisc show dev eth0
	refute_output --partial ingress
	runvm delete userns-ct2
	assert_success
	gone_cgroups "${dirs[@]}"
}

@test "userns: a failed start leaves the monitor in the host's namespace and nothing after delete" {
	update_config "$MAPS"'
		| .hooks.startContainer = [{"path": "/bin/false"}]'
	set_args sleep 600
	create_container userns-ct
	local pid dirs
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")
	mapfile -t dirs < <(cgroup_dirs userns-ct)
	runvm start userns-ct
	assert_failure
	if [ -e "/proc/$pid" ]; then
		! in_own_userns "$pid"
	fi
	runvm delete --force userns-ct
	assert_success
	gone_cgroups "${dirs[@]}"
}

@test "userns: ctl.sock refuses a host uid other than root, though the monitor is in a user namespace" {
	update_config "$MAPS"
	set_args sleep 600
	run_detached userns-ct
	in_own_userns "$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")"
	local sock=$ROOT/userns-ct/ctl.sock py u
	# The state dir (0700) is the first wall; open it to test the second.
	chmod o+x "$ROOT" "$ROOT/userns-ct"
	chmod o+w "$sock"
	# Inline: the test's temp dir is not readable by those uids.
	py=$(cat <<-'EOF'
		import socket, struct, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.settimeout(10)
		s.connect(sys.argv[1])
		try:
		    s.sendall(struct.pack("=IiII", 5, 0, 0, 0))   # CTL_PS
		    data = s.recv(65536)
		except (BrokenPipeError, ConnectionResetError, socket.timeout):
		    data = b""
		print("answered" if data else "refused")
	EOF
	)
	# 12345 and 65534 read as the monitor's own uid inside; 100000 is the
	# container's root, 0 inside.
	for u in 12345 65534 100000 100005; do
		run setpriv --reuid "$u" --regid "$u" --clear-groups /usr/bin/python3 -c "$py" "$sock"
		assert_output refused
	done
	run /usr/bin/python3 -c "$py" "$sock"
	assert_output answered
	runvm delete --force userns-ct
	assert_success
}

@test "userns: an OOM kill is still an oom event, and exec -t works, with the monitor in a user namespace" {
	update_config "$MAPS"'
		| .linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	set_args sleep 600
	run_detached userns-ct
	in_own_userns "$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")"
	__runvm events --interval 2s userns-ct >"$BATS_TEST_TMPDIR/ev.out" 2>"$BATS_TEST_TMPDIR/ev.err" &
	local job=$!
	track_pid "$job"
	wait_for_grep '"type":"stats"' "$BATS_TEST_TMPDIR/ev.out" 30
	runvm exec userns-ct sh -c 'head -c 100m /dev/zero | tail -n 1 | wc -c'
	refute_output --partial 104857600
	wait_for_grep '"type":"oom"' "$BATS_TEST_TMPDIR/ev.out" 60
	# A terminal session: the client's pty passed over ctl.sock.
	in_script "$RUNVM --root $ROOT exec -t userns-ct sh -c 'tty; id -u'"
	assert_success
	assert_output --partial /dev/pts/
	assert_line 0
	runvm delete --force userns-ct
	assert_success
	wait_bg "$job" 20
}

@test "userns: a pod member cannot join a sandbox whose monitor is in a user namespace, in one line, leaving nothing" {
	update_config "$MAPS"'
		| .annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"
		| .annotations["io.kubernetes.cri-o.SandboxID"] = "userns-infra"'
	set_args sleep 600
	run_detached userns-infra
	local spid
	spid=$(cat "$BATS_TEST_TMPDIR/userns-infra.pid")
	in_own_userns "$spid"
	local sandbox=$BUNDLE
	setup_bundle "$BATS_TEST_TMPDIR/member"
	update_config "(.linux.namespaces[] | select(.type == \"network\")) |= (.path = \"/proc/$spid/ns/net\") |
		(.linux.namespaces[] | select(.type == \"ipc\")) |= (.path = \"/proc/$spid/ns/ipc\") |
		(.linux.namespaces[] | select(.type == \"uts\")) |= (.path = \"/proc/$spid/ns/uts\") |
		.process.args = [\"true\"] | del(.hostname)"
	runvm create --bundle "$BUNDLE" userns-member
	assert_failure
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "a pod member cannot join it"
	run -0 jq -r '.[].id' < <(__runvm list --format json)
	assert_output userns-infra
	BUNDLE=$sandbox
	runvm delete --force userns-infra
	assert_success
}

@test "userns: net.* sysctls apply to a container with a user namespace (podman sets ping_group_range), the others in its namespaces" {
	update_config "$MAPS"'
		| .linux.sysctl = {"net.ipv4.ping_group_range": "0 0", "net.ipv4.ip_unprivileged_port_start": "80", "kernel.msgmax": "16384"}'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/msgmax'
	runvm run --bundle "$BUNDLE" userns-ct
	assert_success
	assert_equal "${lines[0]}" 80
	assert_equal "${lines[1]}" 16384
	if have_runc; then
		# The mapped root must be able to reach the bundle.
		local d=$BUNDLE
		while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
		runc_run userns-ct-runc
		assert_equal "$runc_status" 0
		assert_equal "$runc_output" "$output"
	fi
}

@test "userns: a keeper killed from outside: ctl.sock refuses everyone, and the container's end still leaves nothing" {
	netns_with_eth0 userns-n3 userns-h3
	update_config "$MAPS"
	set_args sleep 8
	run_detached userns-ct
	local pid k dirs
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")
	mapfile -t dirs < <(cgroup_dirs userns-ct)
	k=$(keeper_of "$pid")
	[ -n "$k" ]
	kill -KILL "$k"
	# Without it no client's host uid can be known: refused, root too.
	runvm ps userns-ct
	assert_failure
	# sleep ends; the VM cannot be killed from inside: the monitor exits
	# and its pid namespace takes QEMU and virtiofsd.
	wait_for_exit "$pid" 40
	assert_equal "$(container_status userns-ct)" stopped
	runvm delete userns-ct
	assert_success
	run ip -n userns-n3 -o link show
	refute_output --partial _runvm
	gone_cgroups "${dirs[@]}"
}

@test "userns: the network changed before start (VM rebuilt with the host's credentials) and after start (reported)" {
	update_config "$MAPS"
	set_args sh -c 'ip -o addr show dev eth0; sleep 600'
	create_container userns-ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/userns-ct.pid")
	ip link del userns-h4 2>/dev/null || true
	ip link add userns-h4 type veth peer name eth0 netns "$pid"
	HOST_LINKS+=(userns-h4)
	nsenter --net="/proc/$pid/ns/net" ip addr add 10.233.4.2/24 dev eth0
	nsenter --net="/proc/$pid/ns/net" ip link set eth0 up
	runvm start userns-ct
	assert_success
	in_own_userns "$pid"
	wait_for_grep "inet 10.233.4.2/24" "$BATS_TEST_TMPDIR/userns-ct.out" 30
	# After start: reported, not applied (the monitor reads netlink in
	# its user namespace as before).
	ip link del userns-h5 2>/dev/null || true
	ip link add userns-h5 type veth peer name eth1 netns "$pid"
	HOST_LINKS+=(userns-h5)
	wait_for_grep '`eth1` added in the container' "$ROOT/userns-ct/monitor.log" 30
	runvm exec userns-ct sh -c 'ip -o link show | cut -d: -f2 | tr -d " "'
	assert_success
	refute_line eth1
	runvm delete --force userns-ct
	assert_success
}
