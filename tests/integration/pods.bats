#!/usr/bin/env bats
# Pods: who shares a VM (libcontainer-vm/pod-join.c, docs/ARCHITECTURE.md
# "Pods"). A container whose spec joins, by path, the network, ipc or uts
# namespace of a runvm container's monitor belongs in that container's
# VM; so does one the CRI annotations put in that sandbox, and the two
# rules must agree. A sandbox VM cannot take a second container yet: such
# a container is refused in one line naming its sandbox, before anything
# is made. A namespace that is no runvm container's keeps today's answers.

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
	if [ -n "$OTHER_NS_PID" ]; then
		kill -KILL "$OTHER_NS_PID" 2>/dev/null || true
		wait "$OTHER_NS_PID" 2>/dev/null || true
	fi
	runvm_teardown
}

# member_joins TYPE=PATH...: the member's namespaces join these paths.
member_joins() {
	local spec filter=
	for spec in "$@"; do
		filter+="${filter:+ | }(.linux.namespaces[] | select(.type == \"${spec%%=*}\")) |= (.path = \"${spec#*=}\")"
	done
	update_config "$filter" "$MEMBER_BUNDLE"
}

# member_create: `create` of the member, expected to fail; $output has why.
member_create() {
	runvm create --bundle "$MEMBER_BUNDLE" member
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ] || fail "expected one error line"
}

start_sandbox() {
	is_runvm || skip "runvm only: the namespaces a monitor holds"
	set_args sleep 1000
	update_config '.annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox" |
		.annotations["io.kubernetes.cri-o.SandboxID"] = "infra"'
	run_detached infra
	SANDBOX_PID=$(cat "$BATS_TEST_TMPDIR/infra.pid")
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

@test "pods: joining a runvm container's namespaces by path names its sandbox, in one line, leaving nothing" {
	start_sandbox
	# podman's way: the infra's pid.
	member_joins ipc=/proc/$SANDBOX_PID/ns/ipc uts=/proc/$SANDBOX_PID/ns/uts
	member_create
	assert_output --partial "the container belongs in the VM of runvm container \`infra\` (its pod's sandbox)"
	# The network namespace alone says the same: a second VM would mirror
	# the sandbox's interfaces a second time.
	setup_bundle "$BATS_TEST_TMPDIR/member2"
	MEMBER_BUNDLE=$BUNDLE
	member_joins network=/proc/$SANDBOX_PID/ns/net
	member_create
	assert_output --partial "runvm container \`infra\`"
	# A path of the wrong type.
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
	member_create
	assert_output --partial "runvm container \`infra\` (its pod's sandbox)"
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
