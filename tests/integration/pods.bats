#!/usr/bin/env bats
# Pods: who shares a VM (libcontainer-vm/pod-join.c, docs/ARCHITECTURE.md
# "Pods"). A container whose spec joins, by path, the network, ipc or uts
# namespace of a runvm container's monitor belongs in that container's
# VM; so does one the CRI annotations put in that sandbox, and the two
# rules must agree. A member runs in the sandbox's running VM (no boot),
# with its own state, stand-in pid, stdio and exit status. A namespace
# that is no runvm container's keeps today's answers.

load helpers

BUSYBOX=${BUSYBOX:-/bin/busybox}

setup() {
	runvm_setup
	SANDBOX_BUNDLE=$BUNDLE
	setup_bundle "$BATS_TEST_TMPDIR/member"
	MEMBER_BUNDLE=$BUNDLE
	BUNDLE=$SANDBOX_BUNDLE
	OTHER_NS_PID=
}

teardown() {
	local img dev
	for img in "$BATS_TEST_TMPDIR"/members-*.img "$BATS_TEST_TMPDIR"/hotplug-*.img; do
		[ -e "$img" ] || continue
		for dev in $(losetup -j "$img" -O NAME -n 2>/dev/null); do
			losetup -d "$dev" || true
		done
	done
	if [ -n "${PINNED:-}" ]; then
		umount "$PINNED/ipc" "$PINNED/uts" 2>/dev/null || true
		ip netns del "pods-crio-$BATS_TEST_NUMBER" 2>/dev/null || true
	fi
	if [ -n "$OTHER_NS_PID" ]; then
		kill -KILL "$OTHER_NS_PID" 2>/dev/null || true
		wait "$OTHER_NS_PID" 2>/dev/null || true
	fi
	runvm_teardown
}

# member_joins TYPE=PATH... [BUNDLE]: the member's namespaces join these paths.
member_joins() {
	local spec filter= bundle=$MEMBER_BUNDLE
	for spec in "$@"; do
		filter+="${filter:+ | }(.linux.namespaces[] | select(.type == \"${spec%%=*}\")) |= (.path = \"${spec#*=}\")"
	done
	update_config "$filter" "$bundle"
}

# join_sandbox [BUNDLE]: the bundle joins the sandbox's network, ipc and uts, as podman's members do.
join_sandbox() {
	local bundle=${1:-$MEMBER_BUNDLE}
	update_config "(.linux.namespaces[] | select(.type == \"network\")) |= (.path = \"/proc/$SANDBOX_PID/ns/net\") |
		(.linux.namespaces[] | select(.type == \"ipc\")) |= (.path = \"/proc/$SANDBOX_PID/ns/ipc\") |
		(.linux.namespaces[] | select(.type == \"uts\")) |= (.path = \"/proc/$SANDBOX_PID/ns/uts\")" "$bundle"
}

# member_create: `create` of the member, expected to fail; $output has why.
member_create() {
	runvm create --bundle "$MEMBER_BUNDLE" member
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ] || fail "expected one error line"
}

# shm_bin BUNDLE: the static SysV shm helper, as /shm in the bundle's rootfs.
shm_bin() {
	local bin=$BATS_RUN_TMPDIR/shm
	(
		flock 9
		[ -x "$bin" ] || cc -O2 -static -Wall -o "$bin" "$TESTS_TOP/tests/integration/shm.c" >&2
	) 9>"$BATS_RUN_TMPDIR/shm.lock"
	[ -x "$bin" ] || fail "cannot build the shm helper"
	cp "$bin" "$1/rootfs/shm"
}

start_sandbox() {
	is_runvm || skip "runvm only: the namespaces a monitor holds"
	set_args sleep 1000
	update_config '.hostname = "pods-host" |
		.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox" |
		.annotations["io.kubernetes.cri-o.SandboxID"] = "infra"'
	run_detached infra
	SANDBOX_PID=$(cat "$BATS_TEST_TMPDIR/infra.pid")
}

# start_member ID BUNDLE ARGS...: a member of the sandbox, running ARGS.
start_member() {
	local id=$1 bundle=$2
	shift 2
	update_config ".process.args = $(json_array "$@") | del(.hostname)" "$bundle"
	join_sandbox "$bundle"
	BUNDLE=$bundle run_detached "$id"
}

@test "pods: a member's kill and start are answered when its exit comes with the answer: kill KILL and run of true, 8 times each" {
	start_sandbox
	local i
	# The sandbox's monitor reads the answer and the exit together at
	# times: the member's exit waits until its request is answered.
	for i in $(seq 8); do
		start_member "k$i" "$MEMBER_BUNDLE" sleep 1000
		runvm kill "k$i" KILL
		assert_success
		wait_for_status "k$i" stopped
		runvm delete "k$i"
		assert_success
		update_config '.process.args = ["true"]' "$MEMBER_BUNDLE"
		runvm run --bundle "$MEMBER_BUNDLE" "r$i"
		assert_success
		[ ! -e "$ROOT/r$i" ]
	done
	[ "$(container_status infra)" = running ]
}

@test "pods: state.json records the network, ipc and uts namespaces the monitor holds" {
	start_sandbox
	local type ino dev
	for type in network:net ipc:ipc uts:uts; do
		ino=$(stat -L -c %i "/proc/$SANDBOX_PID/ns/${type#*:}")
		dev=$(stat -L -c %d "/proc/$SANDBOX_PID/ns/${type#*:}")
		run jq -r ".namespaces.${type%%:*} | \"\(.dev) \(.ino)\"" "$ROOT/infra/state.json"
		assert_output "$dev $ino"
	done
	# The monitor's are the container's: not the host's.
	[ "$(stat -L -c %i "/proc/$SANDBOX_PID/ns/ipc")" != "$(stat -L -c %i /proc/self/ns/ipc)" ]
}

@test "pods: two members run at once in the sandbox's VM: one hostname, IPC, kernel and localhost; own exit codes" {
	start_sandbox
	setup_bundle "$BATS_TEST_TMPDIR/member2"
	SECOND_BUNDLE=$BUNDLE
	BUNDLE=$SANDBOX_BUNDLE
	shm_bin "$MEMBER_BUNDLE"
	shm_bin "$SECOND_BUNDLE"
	start_member a "$MEMBER_BUNDLE" sh -c 'nc -l -p 7777; exit 5'
	start_member b "$SECOND_BUNDLE" sh -c 'sleep 1000'
	[ "$(container_status a)" = running ]
	[ "$(container_status b)" = running ]
	# Each member has its own stand-in pid, none of them the sandbox's.
	local pa pb
	pa=$(cat "$BATS_TEST_TMPDIR/a.pid")
	pb=$(cat "$BATS_TEST_TMPDIR/b.pid")
	[ "$pa" != "$pb" ] && [ "$pa" != "$SANDBOX_PID" ]
	run -0 jq -r .pid < <(__runvm state a)
	assert_output "$pa"

	# One guest kernel (no second boot), one hostname.
	local boot host
	boot=$(__runvm exec infra cat /proc/sys/kernel/random/boot_id)
	[ -n "$boot" ]
	runvm exec a cat /proc/sys/kernel/random/boot_id
	assert_success
	assert_output "$boot"
	runvm exec b cat /proc/sys/kernel/random/boot_id
	assert_output "$boot"
	runvm exec a hostname
	assert_output pods-host
	runvm exec b hostname
	assert_output pods-host
	# SysV IPC: a segment made in one is in the other.
	runvm exec b /shm find 0x5eed
	assert_failure
	runvm exec a /shm make 0x5eed
	assert_success
	runvm exec b /shm find 0x5eed
	assert_success
	# Each its own stats, from its own guest cgroup.
	runvm_separate events --stats b
	assert_success
	run -0 jq -e '.type == "stats" and .id == "b" and (.data.pids.current >= 1)' <<<"$output"
	# Their own mount and pid namespaces.
	runvm exec a sh -c 'echo a-only > /tmp/mark'
	runvm exec b cat /tmp/mark
	assert_failure
	runvm exec b ps -o comm
	refute_output --partial nc
	# localhost: b talks to a's listener.
	runvm exec b sh -c 'for i in $(seq 50); do echo hello-pod | nc -w 1 127.0.0.1 7777 && exit 0; sleep 0.2; done; exit 1'
	assert_success
	wait_for_status a stopped 30
	grep -q hello-pod "$BATS_TEST_TMPDIR/a.out"
	run -0 jq -r .exit.code "$ROOT/a/state.json"
	assert_output 5
	# exec's own status, pause and resume, kill's signal.
	runvm exec b sh -c 'exit 7'
	assert_equal "$status" 7
	runvm pause b
	assert_success
	[ "$(container_status b)" = paused ]
	[ "$(container_status infra)" = running ]
	runvm resume b
	assert_success
	[ "$(container_status b)" = running ]
	runvm kill b KILL
	assert_success
	wait_for_status b stopped 30
	run -0 jq -r .exit.signal "$ROOT/b/state.json"
	assert_output 9
	# The sandbox lives on; its VM did not reboot.
	[ "$(container_status infra)" = running ]
	run -0 __runvm exec infra cat /proc/sys/kernel/random/boot_id
	assert_output "$boot"
	runvm delete a
	assert_success
	runvm delete b
	assert_success
}

@test "pods: a member in the foreground exits with its own code; a member that cannot start leaves nothing" {
	start_sandbox
	update_config ".process.args = [\"sh\", \"-c\", \"echo from-member; exit 42\"] | del(.hostname)" "$MEMBER_BUNDLE"
	join_sandbox
	runvm run --bundle "$MEMBER_BUNDLE" fg
	assert_equal "$status" 42
	assert_output from-member
	# A process that is not in the member's rootfs.
	update_config '.process.args = ["/nonexistent"]' "$MEMBER_BUNDLE"
	runvm run --bundle "$MEMBER_BUNDLE" fg2
	assert_failure
	run -0 jq -r '.[].id' < <(__runvm list --format json)
	assert_output infra
}

@test "pods: killing the sandbox's QEMU stops every member, with the reason; delete --force leaves nothing" {
	start_sandbox
	start_member a "$MEMBER_BUNDLE" sleep 1000
	local qemu
	qemu=$(jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/infra/state.json")
	[ -n "$qemu" ]
	kill -KILL "$qemu"
	wait_for_status a stopped 30
	wait_for_status infra stopped 30
	run -0 jq -r .reason "$ROOT/a/state.json"
	assert_output --partial "the pod's sandbox VM (\`infra\`) exited"
	runvm delete --force a
	assert_success
	runvm delete --force infra
	assert_success
}

@test "pods: a path of another namespace type is refused in one line" {
	start_sandbox
	member_joins ipc=/proc/$SANDBOX_PID/ns/uts
	member_create
	assert_output --partial "/ns/uts\` is not an ipc namespace"
	run -0 jq -r '.[].id' < <(__runvm list --format json)
	assert_output infra
}

@test "pods: CRI annotations and namespaces must agree" {
	start_sandbox
	# CRI-O's annotations, containerd's words for the same.
	member_joins network=/proc/$SANDBOX_PID/ns/net ipc=/proc/$SANDBOX_PID/ns/ipc
	update_config '.annotations["io.kubernetes.cri-o.ContainerType"] = "container" |
		.annotations["io.kubernetes.cri-o.SandboxID"] = "infra"' "$MEMBER_BUNDLE"
	update_config '.annotations["io.kubernetes.cri-o.SandboxID"] = "elsewhere"' "$MEMBER_BUNDLE"
	member_create
	assert_output --partial "\`io.kubernetes.cri-o.SandboxID\` names sandbox \`elsewhere\`, which is no running runvm container in this --root"
	# The annotations name the sandbox, the namespaces are not its.
	setup_bundle "$BATS_TEST_TMPDIR/member2"
	MEMBER_BUNDLE=$BUNDLE
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" |
		.annotations["io.kubernetes.cri.sandbox-id"] = "infra"' "$MEMBER_BUNDLE"
	member_create
	assert_output --partial "\`io.kubernetes.cri.sandbox-id\` puts the container in sandbox \`infra\`, but \`linux.namespaces\` joins none of \`infra\`'s network, ipc or uts namespaces by path"
	# A sandbox that joins another sandbox's namespaces.
	update_config '.annotations["io.kubernetes.cri.container-type"] = "sandbox"' "$MEMBER_BUNDLE"
	member_joins uts=/proc/$SANDBOX_PID/ns/uts
	member_create
	assert_output --partial "says the container is a sandbox, but \`linux.namespaces[3]\` joins the uts namespace of runvm container \`infra\`, another pod's"
}

@test "pods: a namespace that is no runvm container's keeps its own VM's answer" {
	is_runvm || skip "runvm's refusal"
	# unshare execs sleep: the pid is the namespace's holder (killed in teardown).
	unshare --ipc --uts sleep 100 3>&- &
	OTHER_NS_PID=$!
	local deadline=$((SECONDS + 10))
	while [ "$(stat -L -c %i /proc/$OTHER_NS_PID/ns/ipc 2>/dev/null)" = "$(stat -L -c %i /proc/self/ns/ipc)" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "unshare did not start"
		sleep 0.1
	done
	member_joins ipc=/proc/$OTHER_NS_PID/ns/ipc
	member_create
	assert_output --partial "joining a ipc namespace by path is not supported: each container has its own VM"
	# Annotations naming a sandbox nobody runs.
	update_config '(.linux.namespaces[] | select(.type == "ipc")) |= del(.path) |
		.annotations["io.kubernetes.cri-o.ContainerType"] = "container" |
		.annotations["io.kubernetes.cri-o.SandboxID"] = "nosuchpod"' "$MEMBER_BUNDLE"
	member_create
	assert_output --partial "names sandbox \`nosuchpod\`, which is no running runvm container"
}

# conmon_create ID BUNDLE: what CRI-O runs for a container: conmon, which
# runs `runvm create` and keeps the container's stdio and exit file.
conmon_create() {
	local id=$1 bundle=$2 deadline=$((SECONDS + 60))
	mkdir -p "$BATS_TEST_TMPDIR/exits" "$BATS_TEST_TMPDIR/sock"
	timeout 60 conmon --api-version 1 -c "$id" -n "$id" -u "$id" -r "$RUNVM" --runtime-arg "--root=$ROOT" \
		-b "$bundle" -p "$bundle/pidfile" -P "$bundle/conmon-pidfile" -l "$bundle/ctr.log" \
		--exit-dir "$BATS_TEST_TMPDIR/exits" --socket-dir-path "$BATS_TEST_TMPDIR/sock" \
		--log-level info --syslog </dev/null >/dev/null 2>&1 3>&-
	until [ -s "$bundle/pidfile" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "conmon: no pid file for $id"
		sleep 0.2
	done
	track_pid "$(cat "$bundle/conmon-pidfile")"
}

@test "pods: CRI-O's calling sequence through conmon: sandbox, app container, exec --process, kill, delete" {
	is_runvm || skip "runvm's pods"
	command -v conmon >/dev/null || skip "conmon not installed"
	# CRI-O pins the pod's namespaces first (pinns), and both containers
	# join them by path.
	PINNED=$BATS_TEST_TMPDIR/pinned
	mkdir -p "$PINNED"
	touch "$PINNED/ipc" "$PINNED/uts"
	unshare --ipc="$PINNED/ipc" --uts="$PINNED/uts" hostname pods-crio
	ip netns add "pods-crio-$BATS_TEST_NUMBER"
	local joins="(.linux.namespaces[] | select(.type == \"network\")) |= (.path = \"/run/netns/pods-crio-$BATS_TEST_NUMBER\") |
		(.linux.namespaces[] | select(.type == \"ipc\")) |= (.path = \"$PINNED/ipc\") |
		(.linux.namespaces[] | select(.type == \"uts\")) |= (.path = \"$PINNED/uts\")"
	update_config ".process.args = [\"sleep\", \"1000\"] | .hostname = \"pods-crio\" | $joins |
		.annotations[\"io.kubernetes.cri-o.ContainerType\"] = \"sandbox\" |
		.annotations[\"io.kubernetes.cri-o.SandboxID\"] = \"sb\""
	update_config ".process.args = [\"sh\", \"-c\", \"echo app-out; sleep 1000\"] | del(.hostname) | $joins |
		.annotations[\"io.kubernetes.cri-o.ContainerType\"] = \"container\" |
		.annotations[\"io.kubernetes.cri-o.SandboxID\"] = \"sb\"" "$MEMBER_BUNDLE"

	# RunPodSandbox: create, start.
	conmon_create sb "$SANDBOX_BUNDLE"
	runvm start sb
	assert_success
	# CreateContainer, StartContainer: the app joins the sandbox's VM.
	conmon_create app "$MEMBER_BUNDLE"
	[ "$(container_status app)" = created ]
	runvm start app
	assert_success
	[ "$(container_status app)" = running ]
	# ExecSync: exec --process, in the app, in the sandbox's kernel.
	jq -n '{"args": ["sh", "-c", "hostname; cat /proc/sys/kernel/random/boot_id"], "cwd": "/", "env": ["PATH=/bin:/usr/bin"], "user": {"uid": 0, "gid": 0}}' >"$BATS_TEST_TMPDIR/process.json"
	runvm exec --process "$BATS_TEST_TMPDIR/process.json" app
	assert_success
	assert_line --index 0 pods-crio
	local boot
	boot=$(__runvm exec sb cat /proc/sys/kernel/random/boot_id)
	assert_line --index 1 "$boot"
	# StopContainer, RemoveContainer; then StopPodSandbox, RemovePodSandbox.
	runvm kill app KILL
	assert_success
	wait_for_status app stopped 30
	local deadline=$((SECONDS + 30))
	until [ -s "$BATS_TEST_TMPDIR/exits/app" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "conmon wrote no exit file for app"
		sleep 0.2
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR/exits/app")" 137
	grep -q app-out "$MEMBER_BUNDLE/ctr.log"
	runvm delete app
	assert_success
	runvm kill sb KILL
	assert_success
	wait_for_status sb stopped 30
	runvm delete sb
	assert_success
	run -0 __runvm list -q
	assert_output ""
}

@test "pods: the sandbox's VM is the pod's size; a member's limits apply in its guest cgroup; one too big is refused" {
	is_runvm || skip "runvm's pods"
	set_args sleep 1000
	update_config '.annotations["io.kubernetes.cri.container-type"] = "sandbox" |
		.annotations["io.kubernetes.cri.sandbox-id"] = "infra" |
		.annotations["io.kubernetes.cri.sandbox-memory"] = "402653184" |
		.annotations["io.kubernetes.cri.sandbox-cpu-quota"] = "100000" |
		.annotations["io.kubernetes.cri.sandbox-cpu-period"] = "100000" |
		.linux.resources.memory.limit = 8388608'
	run_detached infra
	SANDBOX_PID=$(cat "$BATS_TEST_TMPDIR/infra.pid")
	# 384 MiB + base_memory_mib, in whole 128 MiB blocks.
	run -0 jq -r '"\(.memory_mib) \(.vcpus)"' "$ROOT/infra/state.json"
	assert_output "512 1"
	# containerd's app container: its own limit, in its own guest cgroup.
	update_config '.annotations["io.kubernetes.cri.container-type"] = "container" |
		.annotations["io.kubernetes.cri.sandbox-id"] = "infra" |
		.linux.resources.memory.limit = 67108864 |
		.linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])' "$MEMBER_BUNDLE"
	start_member app "$MEMBER_BUNDLE" sleep 1000
	runvm exec app cat /sys/fs/cgroup/memory.max
	assert_success
	assert_output 67108864
	# More than the VM has.
	setup_bundle "$BATS_TEST_TMPDIR/member2"
	update_config '.linux.resources.memory.limit = 1073741824' "$BUNDLE"
	join_sandbox "$BUNDLE"
	runvm create --bundle "$BUNDLE" big
	assert_failure
	assert_output --partial "\`linux.resources.memory.limit\`: 1073741824 bytes is more than the pod's VM has (512 MiB, sandbox \`infra\`)"
	BUNDLE=$SANDBOX_BUNDLE
}

@test "pods: a member's ps, update and events (its oom): its own processes and guest cgroup, the pod's VM as the bound" {
	start_sandbox
	update_config '.linux.namespaces += [{"type": "cgroup"}]' "$MEMBER_BUNDLE"
	start_member a "$MEMBER_BUNDLE" sleep 1001
	local pa expid
	pa=$(cat "$BATS_TEST_TMPDIR/a.pid")
	runvm exec -d --pid-file "$BATS_TEST_TMPDIR/ex.pid" a sleep 999
	assert_success
	expid=$(cat "$BATS_TEST_TMPDIR/ex.pid")
	track_pid "$expid"
	# ps: the member's host pids (its own, its exec's), not the sandbox's; its guest processes only.
	runvm_separate ps --format json a
	assert_success
	run -0 jq -e --argjson p "$pa" --argjson e "$expid" --argjson s "$SANDBOX_PID" \
		'index($p) != null and index($e) != null and index($s) == null' <<<"$output"
	runvm ps a
	assert_success
	assert_output --partial "sleep 1001"
	assert_output --partial "sleep 999"
	refute_output --partial "sleep 1000"
	# update: its guest cgroup; past the pod's VM is refused.
	local show='cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'
	runvm update --memory 100m a
	assert_success
	runvm update --pids-limit 10 a
	assert_success
	runvm exec a sh -c "$show"
	assert_output $'104857600\n10'
	runvm update --memory 4g a
	assert_failure 1
	assert_output --partial "exceeds the pod's VM"
	runvm exec a sh -c "$show"
	assert_output $'104857600\n10'
	run -0 __runvm exec infra cat /sys/fs/cgroup/containers/infra/pids.max
	assert_output max
	# events: the member's oom reaches its stream, not the sandbox's.
	echo '{"memory": {"limit": 33554432, "swap": 33554432}, "pids": {"limit": 100}}' >"$BATS_TEST_TMPDIR/res.json"
	runvm update -r "$BATS_TEST_TMPDIR/res.json" a
	assert_success
	__runvm events --interval 2s a >"$BATS_TEST_TMPDIR/ev.out" 2>"$BATS_TEST_TMPDIR/ev.err" &
	local job=$!
	track_pid "$job"
	__runvm events --interval 60s infra >"$BATS_TEST_TMPDIR/evi.out" 2>&1 &
	local ijob=$!
	track_pid "$ijob"
	wait_for_grep '"type":"stats"' "$BATS_TEST_TMPDIR/ev.out" 30
	runvm exec a sh -c 'head -c 100m /dev/zero | tail -n 1 | wc -c'
	refute_output --partial 104857600
	wait_for_grep '"type":"oom"' "$BATS_TEST_TMPDIR/ev.out" 60
	run -0 sh -c 'jq -c "select(.type == \"oom\") | {type, id, limit: .data.memory_limit}" "$1" | sort -u' sh "$BATS_TEST_TMPDIR/ev.out"
	assert_output '{"type":"oom","id":"a","limit":33554432}'
	run grep -c '"type":"oom"' "$BATS_TEST_TMPDIR/evi.out"
	assert_output 0
	# The member's stream ends with it.
	runvm kill a KILL
	wait_for_status a stopped 30
	wait_for_exit "$job" 20
	[ "$(container_status infra)" = running ]
	kill "$ijob" 2>/dev/null || true
	runvm delete a
	assert_success
}

@test "pods: a member has its own host cgroup (its cgroupsPath) holding its monitor; delete removes it" {
	start_sandbox
	local p="/runvm-members-$$-$BATS_TEST_NUMBER/a" pa
	update_config ".linux.cgroupsPath = \"$p\" | .linux.resources.pids = {\"limit\": 500} |
		.linux.resources.memory = {\"limit\": 67108864} | .linux.namespaces += [{\"type\": \"cgroup\"}]" "$MEMBER_BUNDLE"
	start_member a "$MEMBER_BUNDLE" sleep 1000
	pa=$(cat "$BATS_TEST_TMPDIR/a.pid")
	# Every hierarchy the host has; the sandbox's monitor is elsewhere.
	run grep -c ":$p\$" "/proc/$pa/cgroup"
	assert_equal "$output" "$(wc -l <"/proc/$pa/cgroup")"
	run grep -c ":$p\$" "/proc/$SANDBOX_PID/cgroup"
	assert_output 0
	local dir
	dir=$(ls -d /sys/fs/cgroup/pids"$p" /sys/fs/cgroup"$p" 2>/dev/null | head -1)
	[ -n "$dir" ]
	assert_equal "$(cat "$dir/pids.max")" 500
	# update: the guest cgroup, then this one, as for a standalone container.
	runvm update --pids-limit 600 a
	assert_success
	assert_equal "$(cat "$dir/pids.max")" 600
	run -0 __runvm exec a cat /sys/fs/cgroup/pids.max
	assert_output 600
	run -0 cat "$dir/cgroup.procs"
	assert_output "$pa"
	# The member's memory limit is its guest cgroup's, not its monitor's.
	local mdir
	mdir=$(ls -d /sys/fs/cgroup/memory"$p" /sys/fs/cgroup"$p" 2>/dev/null | head -1)
	run -0 cat "$mdir/memory.max" 2>/dev/null || run -0 cat "$mdir/memory.limit_in_bytes"
	[ "$output" != 67108864 ]
	run -0 __runvm exec a cat /sys/fs/cgroup/memory.max
	assert_output 67108864
	runvm kill a KILL
	wait_for_status a stopped 30
	runvm delete a
	assert_success
	run ls -d /sys/fs/cgroup/*"$p" /sys/fs/cgroup"$p"
	assert_failure
	rmdir /sys/fs/cgroup/*"$(dirname "$p")" /sys/fs/cgroup"$(dirname "$p")" 2>/dev/null || true
}

@test "pods: members that join the sandbox's pid namespace see each other's processes; another pid path is refused" {
	start_sandbox
	setup_bundle "$BATS_TEST_TMPDIR/member2"
	SECOND_BUNDLE=$BUNDLE
	BUNDLE=$SANDBOX_BUNDLE
	local b
	for b in "$MEMBER_BUNDLE" "$SECOND_BUNDLE"; do
		update_config "(.linux.namespaces[] | select(.type == \"pid\")) |= (.path = \"/proc/$SANDBOX_PID/ns/pid\")" "$b"
	done
	start_member a "$MEMBER_BUNDLE" sleep 1001
	start_member b "$SECOND_BUNDLE" sleep 1002
	# One pid namespace: each sees the sandbox's and the other's processes.
	runvm exec a ps -o args
	assert_success
	assert_output --partial "sleep 1000"
	assert_output --partial "sleep 1002"
	runvm exec b ps -o args
	assert_output --partial "sleep 1001"
	# runvm ps is still the member's own.
	runvm ps a
	assert_success
	assert_output --partial "sleep 1001"
	refute_output --partial "sleep 1002"
	# kill of one member leaves the other and the sandbox running.
	runvm kill a KILL
	wait_for_status a stopped 30
	[ "$(container_status b)" = running ]
	runvm exec b ps -o args
	refute_output --partial "sleep 1001"
	runvm delete a
	assert_success
	# A pid namespace that is not the sandbox's.
	sleep 1000 &
	OTHER_NS_PID=$!
	setup_bundle "$BATS_TEST_TMPDIR/third"
	join_sandbox "$BUNDLE"
	update_config "(.linux.namespaces[] | select(.type == \"pid\")) |= (.path = \"/proc/$OTHER_NS_PID/ns/pid\")"
	runvm create --bundle "$BUNDLE" c
	assert_failure
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "is not the pod's sandbox's (\`infra\`)"
	BUNDLE=$SANDBOX_BUNDLE
	runvm kill b KILL
	wait_for_status b stopped 30
	runvm delete b
	assert_success
}

# vfs_mounts NAME: the mount points of the sandbox's virtiofsd processes that contain NAME.
vfs_mounts() {
	local pid ppid
	for pid in $(pgrep -x virtiofsd); do
		ppid=$pid
		while [ "$ppid" -gt 1 ] && [ "$ppid" != "$SANDBOX_PID" ]; do
			ppid=$(awk '{print $4}' "/proc/$ppid/stat" 2>/dev/null || echo 1)
		done
		[ "$ppid" = "$SANDBOX_PID" ] && awk '{print $5}' "/proc/$pid/mountinfo" 2>/dev/null
	done | grep -F -- "$1" || true
}

@test "pods: a member's files leave the sandbox's export when it ends: no mount left in virtiofsd or the guest" {
	start_sandbox
	local id="unshare-$$"
	update_config '.mounts += [{"destination": "/data", "type": "bind", "source": "'"$BATS_TEST_TMPDIR"'", "options": ["bind", "ro"]}] |
		(.linux.namespaces[] | select(.type == "pid")) |= (.path = "/proc/'"$SANDBOX_PID"'/ns/pid")' "$MEMBER_BUNDLE"
	start_member "$id" "$MEMBER_BUNDLE" sleep 1001
	# In the export while it runs: its rootfs and its volume.
	run vfs_mounts ".runvm-pods/$id"
	[ "${#lines[@]}" -ge 2 ] || fail "expected the member's rootfs and volume in virtiofsd's view: $output"
	# In the guest (the shared pid namespace lets the sandbox see every mount namespace).
	run -0 __runvm exec infra sh -c 'cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -c "runvm-pods/'"$id"'/" || true'
	[ "$output" -ge 1 ]
	runvm kill "$id" KILL
	wait_for_status "$id" stopped 30
	runvm delete "$id"
	assert_success
	run vfs_mounts ".runvm-pods/$id"
	assert_output ""
	run vfs_mounts ".runvm-pods"
	assert_output ""
	run -0 __runvm exec infra sh -c 'cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -c "runvm-pods/'"$id"'/" || true'
	assert_output 0
	# The guest forgot it: its guest cgroup is gone too.
	run -0 __runvm exec infra sh -c "cd /sys/fs/cgroup/containers && test -e infra && echo infra
		test -e $id && echo left || echo gone"
	assert_output $'infra\ngone'
	# The host's own view never had them.
	run findmnt -rn -o TARGET
	refute_output --partial ".runvm-pods/$id"
	# The pod goes on: a new member with the same id gets fresh files.
	start_member "$id" "$MEMBER_BUNDLE" sh -c 'ls /data >/dev/null && echo ok'
	wait_for_status "$id" stopped 30
	run -0 cat "$BATS_TEST_TMPDIR/$id.out"
	assert_output ok
	runvm delete "$id"
	assert_success
	run vfs_mounts ".runvm-pods/$id"
	assert_output ""
	# delete --force of a running member: its files go and the guest forgets it once its exit comes.
	start_member "$id" "$MEMBER_BUNDLE" sleep 1003
	run vfs_mounts ".runvm-pods/$id"
	[ -n "$output" ]
	runvm delete --force "$id"
	assert_success
	run vfs_mounts ".runvm-pods/$id"
	assert_output ""
	local i
	for i in $(seq 50); do
		[ "$(__runvm exec infra sh -c "test -e /sys/fs/cgroup/$id && echo left || echo gone")" = gone ] && break
		sleep 0.2
	done
	run -0 __runvm exec infra sh -c "test -e /sys/fs/cgroup/$id && echo left || echo gone"
	assert_output gone
}

# hotplug_image NAME: a 16 MiB ext4 image holding /hello, named after the
# branch that made these tests (loop devices are global); prints it.
hotplug_image() {
	local img=$BATS_TEST_TMPDIR/hotplug-$1.img
	mkdir -p "$BATS_TEST_TMPDIR/hotplug-src"
	echo "hello from the host" >"$BATS_TEST_TMPDIR/hotplug-src/hello"
	truncate -s 16M "$img"
	mkfs.ext4 -q -F -d "$BATS_TEST_TMPDIR/hotplug-src" "$img"
	echo "$img"
}

# member_disk DEV ACCESS [MOUNT_OPTIONS_JSON]: in the member's bundle, DEV
# as /dev/hotplugblk (linux.devices), the device rule ACCESS, and DEV
# mounted on /data.
member_disk() {
	local dev=$1 access=$2 opts=${3:-[]} maj min
	maj=$(stat -c %Hr "$dev")
	min=$(stat -c %Lr "$dev")
	update_config '.linux.devices = [{"path": "/dev/hotplugblk", "type": "b", "major": '"$maj"', "minor": '"$min"'}]
		| .linux.resources.devices += [{"allow": true, "type": "b", "major": '"$maj"', "minor": '"$min"',
		"access": "'"$access"'"}]
		| .mounts += [{"destination": "/data", "type": "ext4", "source": "'"$dev"'", "options": '"$opts"'}]
		| del(.hostname)' "$MEMBER_BUNDLE"
}

# member_raw_disk NAME: a blank 16 MiB loop device (hotplug-NAME.img, detached
# by teardown) as the member's /dev/hotplugblk, rwm; prints the device.
member_raw_disk() {
	local img=$BATS_TEST_TMPDIR/hotplug-$1.img dev maj min
	truncate -s 16M "$img"
	dev=$(losetup -f --show "$img")
	maj=$(stat -c %Hr "$dev")
	min=$(stat -c %Lr "$dev")
	update_config '.linux.devices = [{"path": "/dev/hotplugblk", "type": "b", "major": '"$maj"', "minor": '"$min"'}]
		| .linux.resources.devices += [{"allow": true, "type": "b", "major": '"$maj"', "minor": '"$min"', "access": "rwm"}]' \
		"$MEMBER_BUNDLE"
	echo "$dev"
}

# qemu_holds DEV: the sandbox's QEMU has an fd open on DEV.
qemu_holds() {
	local qemu fd
	qemu=$(jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/infra/state.json")
	for fd in /proc/"$qemu"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}

@test "pods: a killed member whose exit never comes is let go 5 s later; the pod runs on" {
	start_sandbox
	# A lookup sent to a stopped virtiofsd holds the member's process in
	# an uninterruptible wait, its SIGKILL pending until the answer.
	start_member hpo "$MEMBER_BUNDLE" sh -c 'echo looping; while :; do stat /bin/sh >/dev/null; sleep 0.2; done'
	local t vfs
	for t in $(seq 100); do grep -q looping "$BATS_TEST_TMPDIR/hpo.out" && break; sleep 0.1; done
	grep -q looping "$BATS_TEST_TMPDIR/hpo.out" || fail "the member did not start: $(cat "$BATS_TEST_TMPDIR/hpo.err")"
	vfs=$(jq -r '.processes[] | select(.name == "virtiofsd") | .pid' "$ROOT/infra/state.json")
	vfs="$vfs $(pgrep -P "$vfs" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	kill -STOP $vfs
	sleep 2 # the dentry's 1 s timeout: the next stat asks virtiofsd
	kill -KILL "$(cat "$BATS_TEST_TMPDIR/hpo.pid")"
	for t in $(seq 150); do grep -q "member \`hpo\`: no exit" "$ROOT/infra/monitor.log" && break; sleep 0.1; done
	# shellcheck disable=SC2086
	kill -CONT $vfs
	run -0 cat "$ROOT/infra/monitor.log"
	assert_output --partial "member \`hpo\`: its monitor went"
	assert_output --partial "member \`hpo\`: no exit 5000 ms after it was killed"
	refute_output --partial "member \`hpo\` exited"
	runvm delete --force hpo
	assert_success
	[ ! -e "$ROOT/hpo" ]
	# The late exit, once virtiofsd answers, is nobody's; the pod serves
	# its next member.
	start_member hpn "$MEMBER_BUNDLE" sh -c 'echo next'
	wait_for_status hpn stopped
	run -0 cat "$BATS_TEST_TMPDIR/hpn.out"
	assert_output next
	run -0 jq -r .status < <(__runvm state infra)
	assert_output running
}

@test "pods: a member's block device is hot-plugged: read, written, then released with the member; the pod runs on" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	start_sandbox
	join_sandbox
	local img dev
	img=$(hotplug_image rw)
	dev=$(losetup -f --show "$img")
	member_disk "$dev" rwm
	update_config '.process.args = ["sh", "-c", "stat -c \"%n %F\" /dev/hotplugblk; blockdev --getro /dev/hotplugblk
		cat /data/hello; echo from-the-member >/data/new && echo write-ok
		dd if=/dev/hotplugblk bs=512 count=1 2>/dev/null | wc -c"]' "$MEMBER_BUNDLE"
	runvm run --bundle "$MEMBER_BUNDLE" hp
	assert_success
	assert_line "/dev/hotplugblk block special file"
	assert_line 0
	assert_line "hello from the host"
	assert_line write-ok
	assert_line 512
	# `run` removed it, and its exit was told once the disk was out of the VM.
	if qemu_holds "$dev"; then
		local t
		for t in $(seq 50); do qemu_holds "$dev" || break; sleep 0.1; done
		fail "QEMU still holds $dev (after ${t}x0.1s: $(qemu_holds "$dev" && echo still || echo released)); $(tail -5 "$ROOT/infra/monitor.log")"
	fi
	losetup -d "$dev"
	run debugfs -R "cat /new" "$img"
	assert_output --partial from-the-member
	# The pod runs on, and takes the same disk again.
	run -0 jq -r .status < <(__runvm state infra)
	assert_output running
	dev=$(losetup -f --show "$img")
	member_disk "$dev" rwm
	update_config '.process.args = ["cat", "/data/new"]' "$MEMBER_BUNDLE"
	runvm run --bundle "$MEMBER_BUNDLE" hp2
	assert_success
	assert_output from-the-member
	if qemu_holds "$dev"; then
		local t
		for t in $(seq 50); do qemu_holds "$dev" || break; sleep 0.1; done
		fail "QEMU still holds $dev (after ${t}x0.1s: $(qemu_holds "$dev" && echo still || echo released)); $(tail -5 "$ROOT/infra/monitor.log")"
	fi
}

@test "pods: a member's read-only block device cannot be written, and the image is unchanged" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	start_sandbox
	join_sandbox
	local img dev sum
	img=$(hotplug_image ro)
	dev=$(losetup -f --show "$img")
	sum=$(sha256sum <"$img")
	member_disk "$dev" rwm '["ro"]'
	update_config '.process.args = ["sh", "-c", "blockdev --getro /dev/hotplugblk; cat /data/hello
		if echo x >/data/x; then echo wrote; fi
		if echo x | dd of=/dev/hotplugblk 2>/dev/null; then echo wrote-raw; fi"]' "$MEMBER_BUNDLE"
	runvm run --bundle "$MEMBER_BUNDLE" hpro
	assert_success
	assert_line 1
	assert_line "hello from the host"
	assert_output --partial "Read-only file system"
	refute_line wrote
	refute_line wrote-raw
	! qemu_holds "$dev" || fail "QEMU still holds $dev"
	[ "$(sha256sum <"$img")" = "$sum" ]
}

@test "pods: a member whose monitor is killed ends on its exit: its disk's filesystem written back, its slot let go from the guest" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	start_sandbox
	local img dev monitor t
	img=$(hotplug_image kill)
	dev=$(losetup -f --show "$img")
	member_disk "$dev" rwm
	# Written, not synced: only the guest's unmount at its removal writes it back.
	update_config '.process.args = ["sh", "-c", "echo left-by-the-member >/data/new; echo written; exec sleep 1000"]' "$MEMBER_BUNDLE"
	join_sandbox
	BUNDLE=$MEMBER_BUNDLE run_detached hpk
	monitor=$(cat "$BATS_TEST_TMPDIR/hpk.pid")
	for t in $(seq 100); do grep -q written "$BATS_TEST_TMPDIR/hpk.out" && break; sleep 0.1; done
	grep -q written "$BATS_TEST_TMPDIR/hpk.out" || fail "the member wrote nothing: $(cat "$BATS_TEST_TMPDIR/hpk.err")"
	kill -KILL "$monitor"
	for t in $(seq 300); do qemu_holds "$dev" || break; sleep 0.1; done
	! qemu_holds "$dev" || fail "QEMU still holds $dev after 30 s; $(tail -5 "$ROOT/infra/monitor.log")"
	run -0 cat "$ROOT/infra/monitor.log"
	assert_output --partial "member \`hpk\`: its monitor went"
	# The guest let the slot go: QEMU's attention button was not pressed.
	refute_output --partial "still in its slot: device_del"
	run -0 jq -r .status "$ROOT/hpk/state.json"
	assert_output stopped
	losetup -d "$dev"
	run debugfs -R "cat /new" "$img"
	assert_output --partial left-by-the-member
	runvm delete hpk
	assert_success
	[ ! -e "$ROOT/hpk" ]
	# One without disks ends the same way: its exit recorded, its files out.
	local plain
	setup_bundle "$BATS_TEST_TMPDIR/plain"
	plain=$BUNDLE
	BUNDLE=$SANDBOX_BUNDLE
	start_member hpn "$plain" sleep 1000
	kill -KILL "$(cat "$BATS_TEST_TMPDIR/hpn.pid")"
	for t in $(seq 100); do grep -q "member \`hpn\` exited" "$ROOT/infra/monitor.log" && break; sleep 0.1; done
	run -0 cat "$ROOT/infra/monitor.log"
	assert_output --partial "member \`hpn\`: its monitor went"
	assert_output --partial "member \`hpn\` exited"
	run -0 jq -r .status "$ROOT/hpn/state.json"
	assert_output stopped
	runvm delete hpn
	assert_success
	[ ! -e "$ROOT/hpn" ]
	run -0 jq -r .status < <(__runvm state infra)
	assert_output running
}

@test "pods: a block device for a VM started without hot-plug slots is refused in one line; nothing is left" {
	is_runvm || skip "runvm only: the namespaces a monitor holds"
	# Joined by its namespaces alone: not known as a sandbox when it booted.
	set_args sleep 1000
	run_detached infra
	SANDBOX_PID=$(cat "$BATS_TEST_TMPDIR/infra.pid")
	join_sandbox
	local dev
	dev=$(member_raw_disk slots)
	member_create
	assert_output --partial "block device \`$dev\` into the pod's running VM"
	assert_output --partial "started without hot-plug slots"
	! qemu_holds "$dev" || fail "QEMU holds $dev"
	run -0 jq -r '.[].id' < <(__runvm list --format json)
	assert_output infra
}

@test "pods: pod_disk_slots = 0: a sandbox boots without PCIe slots and a member's block device is refused" {
	is_runvm || skip "runvm only: runvm.conf"
	export RUNVM_CONFIG=$BATS_TEST_TMPDIR/runvm.conf
	echo "pod_disk_slots = 0" >"$RUNVM_CONFIG"
	start_sandbox
	local qemu dev
	qemu=$(jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/infra/state.json")
	run -0 tr '\0' ' ' <"/proc/$qemu/cmdline"
	refute_output --partial pcie-root-port
	refute_output --partial pcie=on
	join_sandbox
	dev=$(member_raw_disk noslots)
	member_create
	assert_output --partial "started without hot-plug slots"
	assert_output --partial "pod_disk_slots"
	! qemu_holds "$dev" || fail "QEMU holds $dev"
	run -0 jq -r '.[].id' < <(__runvm list --format json)
	assert_output infra
}

# member_hooks PHASE=SCRIPT...: the member's hooks, each `SCRIPT PHASE` of $HOOKS.
member_hooks() {
	local hooks='{}' spec
	for spec in "$@"; do
		hooks=$(jq -c --arg ph "${spec%%=*}" --arg p "$HOOKS/${spec#*=}" --arg s "${spec#*=}" \
			'.[$ph] += [{path: $p, args: [$s, $ph]}]' <<<"$hooks")
	done
	update_config ".hooks = $hooks" "$MEMBER_BUNDLE"
}

@test "pods: a member's hooks run in runc's order with its own state; startContainer in the guest; a failing one leaves nothing" {
	start_sandbox
	join_sandbox
	HOOKS=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$HOOKS"
	printf '#!/bin/sh\necho "$1" >> %s/order\ncat > %s/state-"$1".json\npwd > %s/cwd-"$1"\n' \
		"$HOOKS" "$HOOKS" "$HOOKS" >"$HOOKS/hook.sh"
	printf '#!/bin/sh\necho "$1" >> %s/order\necho some out\nexit 3\n' "$HOOKS" >"$HOOKS/fail.sh"
	chmod +x "$HOOKS/hook.sh" "$HOOKS/fail.sh"
	update_config '.process.args = ["sleep", "1000"] | del(.hostname) | .annotations = {"a.b": "c"} | .root.readonly = false' "$MEMBER_BUNDLE"
	member_hooks prestart=hook.sh createRuntime=hook.sh createContainer=hook.sh poststart=hook.sh poststop=hook.sh
	update_config '.hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "cat > /start.json"]}]' "$MEMBER_BUNDLE"
	BUNDLE=$MEMBER_BUNDLE create_container hm
	local pid phase
	pid=$(cat "$BATS_TEST_TMPDIR/hm.pid")
	[ "$pid" != "$SANDBOX_PID" ]
	run -0 tr '\n' ' ' <"$HOOKS/order"
	assert_output "prestart createRuntime createContainer poststart "
	for phase in prestart createRuntime createContainer; do
		run -0 jq -r '[.id, .status, .pid, .bundle, .annotations["a.b"]] | join(" ")' "$HOOKS/state-$phase.json"
		assert_output "hm creating $pid $MEMBER_BUNDLE c"
		assert_equal "$(cat "$HOOKS/cwd-$phase")" "$MEMBER_BUNDLE"
	done
	run -0 jq -r '[.id, .status, .pid] | join(" ")' "$HOOKS/state-poststart.json"
	assert_output "hm created $pid"
	runvm start hm
	assert_success
	# startContainer ran in the member's guest container, with its state.
	runvm exec hm cat /start.json
	assert_success
	run -0 jq -r '[.id, .pid, .bundle] | join(" ")' <<<"$output"
	assert_output "hm $pid $MEMBER_BUNDLE"
	runvm kill hm KILL
	wait_for_status hm stopped 30
	runvm delete hm
	assert_success
	run -0 tr '\n' ' ' <"$HOOKS/order"
	assert_output "prestart createRuntime createContainer poststart poststop "
	run -0 jq -c '[.id, .status, .pid]' "$HOOKS/state-poststop.json"
	assert_output '["hm","stopped",null]'
	# A failing prestart: create fails with its output, poststop runs, nothing is left.
	rm -f "$HOOKS/order"
	member_hooks prestart=fail.sh poststop=hook.sh
	runvm create --bundle "$MEMBER_BUNDLE" hf
	assert_failure
	assert_output --partial 'error running hook: exit status 3, stdout: some out'
	run -0 tr '\n' ' ' <"$HOOKS/order"
	assert_output "prestart poststop "
	run -0 jq -r '.[].id' < <(__runvm list --format json)
	assert_output infra
	[ "$(container_status infra)" = running ]
}

@test "pods: a member's terminal: the master on its console socket, consoleSize, resize, input; run -t in the foreground" {
	start_sandbox
	join_sandbox
	update_config '.process.args = ["sh", "-c", "stty size; tty; read -r x; stty size; echo \"got=$x\"; exit 3"] |
		del(.hostname) | .process.terminal = true | .process.consoleSize = {"height": 30, "width": 100}' "$MEMBER_BUNDLE"
	recvtty_start ct wait $'30 100\r\n' size 40 120 sleep 300 write $'hello\r'
	BUNDLE=$MEMBER_BUNDLE create_container ct --console-socket "$RECVTTY_SOCK"
	# The master arrived before create returned, as conmon expects.
	run -0 cat "$BATS_TEST_TMPDIR/ct.tty-name"
	assert_output --regexp '^/dev/'
	run -0 cat "$BATS_TEST_TMPDIR/ct.out" "$BATS_TEST_TMPDIR/ct.err"
	assert_output ""
	assert_equal "$(container_status ct)" created
	runvm start ct
	assert_success
	recvtty_wait ct
	assert_equal "$status" 0
	assert_line --index 0 "30 100"
	assert_line --index 1 --regexp '^/dev/(pts/[0-9]+|console)$'
	assert_line "40 120"
	assert_line "got=hello"
	wait_for_status ct stopped 30
	run -0 jq -r .exit.code "$ROOT/ct/state.json"
	assert_output 3
	runvm delete ct
	assert_success
	# In the foreground on the caller's pty (script: CI has no tty).
	update_config '.process.args = ["sh", "-c", "tty; exit 4"] | del(.process.consoleSize)' "$MEMBER_BUNDLE"
	in_script "$RUNVM --root $ROOT run --bundle $MEMBER_BUNDLE fgtty"
	assert_equal "$status" 4
	assert_output --regexp '/dev/(pts/[0-9]+|console)'
	[ "$(container_status infra)" = running ]
}

@test "pods: a member's pid holds the pod's namespaces; the sandbox is not deleted under its members unless --force" {
	start_sandbox
	start_member a "$MEMBER_BUNDLE" sleep 1000
	local pa boot
	pa=$(cat "$BATS_TEST_TMPDIR/a.pid")
	[ "$(stat -L -c %i "/proc/$pa/ns/net")" = "$(stat -L -c %i "/proc/$SANDBOX_PID/ns/net")" ]
	[ "$(stat -L -c %i "/proc/$pa/ns/ipc")" = "$(stat -L -c %i "/proc/$SANDBOX_PID/ns/ipc")" ]
	# Joining a member's namespaces is joining its pod.
	setup_bundle "$BATS_TEST_TMPDIR/third"
	update_config ".process.args = [\"sleep\", \"1000\"] | del(.hostname) |
		(.linux.namespaces[] | select(.type == \"network\")) |= (.path = \"/proc/$pa/ns/net\") |
		(.linux.namespaces[] | select(.type == \"ipc\")) |= (.path = \"/proc/$pa/ns/ipc\")"
	run_detached c
	BUNDLE=$SANDBOX_BUNDLE
	boot=$(__runvm exec infra cat /proc/sys/kernel/random/boot_id)
	runvm exec c cat /proc/sys/kernel/random/boot_id
	assert_output "$boot"
	runvm delete infra
	assert_failure
	assert_output --partial "cannot delete container infra: it is the sandbox of the running containers"
	assert_output --partial "delete them first, or use --force"
	runvm delete --force infra
	assert_success
	wait_for_status a stopped 30
	wait_for_status c stopped 30
	run -0 jq -r .reason "$ROOT/c/state.json"
	assert_output --partial "the pod's sandbox VM (\`infra\`) exited"
}
