#!/usr/bin/env bats
# podman pods through conmon: one VM per pod (docs/ARCHITECTURE.md,
# "Pods"). The infra container (catatonit) owns the VM; each member
# joins its network, ipc and uts namespaces and runs in that VM.
# Leak check: after `pod rm -f`, no state dir and no process of any of
# the pod's containers is left.

load ../integration/helpers
load podman

setup_file() {
	export PM_RUNTIME=$(realpath "$RUNVM")
	podman_setup_file pods-
}

teardown_file() {
	podman_teardown_file
}

setup() {
	command -v podman >/dev/null || skip "podman not installed"
	command -v catatonit >/dev/null || skip "catatonit (podman's pod infra) not installed"
	is_runvm || skip "runvm's pods"
	POD=pods-p$BATS_TEST_NUMBER
}

teardown() {
	local ids id rc=0 img dev
	ids=$(pm ps -a -q --no-trunc --filter "pod=$POD" 2>/dev/null)
	pm pod rm --force "$POD" >/dev/null 2>&1 || true
	for img in "$BATS_TEST_TMPDIR"/hotplug-*.img; do
		[ -e "$img" ] || continue
		for dev in $(losetup -j "$img" -O NAME -n 2>/dev/null); do
			losetup -d "$dev" || true
		done
	done
	for id in $ids; do
		if [ -e "/run/runvm/$id" ]; then
			echo "LEAK: state dir /run/runvm/$id"
			rc=1
		fi
		if pgrep -f "$id" >/dev/null; then
			echo "LEAK: processes of $id:"
			pgrep -a -f "$id"
			rc=1
		fi
	done
	check_leaks || rc=1
	return $rc
}



# members: two members of $POD, "a" listening on localhost:7777 and
# exiting 5 once it got a line, "b" idle.
members() {
	run -0 pm run -d --pod "$POD" --name "$POD-a" $(ulimit_args) "$IMAGE" sh -c 'nc -l -p 7777; exit 5'
	run -0 pm run -d --pod "$POD" --name "$POD-b" $(ulimit_args) "$IMAGE" sleep 1000
}

# one_pod: what the two members share, and what they do not.
one_pod() {
	local boot
	run -0 pm exec "$POD-a" cat /proc/sys/kernel/random/boot_id
	boot=$output
	run -0 pm exec "$POD-b" cat /proc/sys/kernel/random/boot_id
	assert_output "$boot"
	run -0 pm exec "$POD-a" hostname
	assert_output "$POD"
	run -0 pm exec "$POD-b" hostname
	assert_output "$POD"
	# Their own pid namespaces.
	run -0 pm exec "$POD-b" ps -o comm
	refute_output --partial nc
	run pm exec "$POD-b" sh -c 'exit 4'
	assert_equal "$status" 4
	# localhost: b reaches a's listener; a exits with its own code.
	run -0 pm exec "$POD-b" sh -c 'for i in $(seq 50); do echo hello-pod | nc -w 1 127.0.0.1 7777 && exit 0; sleep 0.2; done; exit 1'
	run -0 pm wait "$POD-a"
	assert_output 5
	run -0 pm logs "$POD-a"
	assert_output hello-pod
	# b still runs: two members, two exit codes.
	run -0 pm inspect "$POD-b" --format '{{.State.Status}}'
	assert_output running
}

@test "podman pod create --network none: two members in one VM, exec into each, pod stop, pod rm -f" {
	run -0 pm pod create --name "$POD" --network none
	members
	one_pod
	run -0 pm pod stop -t 2 "$POD"
	run -0 pm inspect "$POD-b" --format '{{.State.Status}}'
	assert_output exited
	run -0 pm pod rm -f "$POD"
	run -0 pm ps -a -q --filter "pod=$POD"
	assert_output ""
}

@test "podman run --pod --device /dev/loopN: hot-plugged into the pod's VM, read and written, released when the member ends" {
	run -0 pm pod create --name "$POD" --network none
	run -0 pm run -d --pod "$POD" --name "$POD-b" $(ulimit_args) "$IMAGE" sleep 1000
	local img=$BATS_TEST_TMPDIR/hotplug-podman.img dev infra qemu fd
	truncate -s 8M "$img"
	printf hello-host | dd of="$img" conv=notrunc 2>/dev/null
	dev=$(losetup -f --show "$img")
	run -0 pm run --rm --pod "$POD" --name "$POD-d" --device "$dev:/dev/xvdb" $(ulimit_args) "$IMAGE" \
		sh -c 'head -c 10 /dev/xvdb; echo; printf from-pod | dd of=/dev/xvdb bs=1 seek=100 conv=notrunc 2>/dev/null'
	assert_output hello-host
	# The pod's QEMU let go of it, and the other member runs on.
	infra=$(pm pod inspect "$POD" --format '{{.InfraContainerID}}')
	qemu=$(jq -r '.processes[] | select(.name == "qemu") | .pid' "/run/runvm/$infra/state.json")
	for fd in /proc/"$qemu"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" != "$dev" ] || fail "QEMU still holds $dev"
	done
	run -0 pm inspect "$POD-b" --format '{{.State.Status}}'
	assert_output running
	losetup -d "$dev"
	run -0 dd if="$img" bs=1 skip=100 count=8 status=none
	assert_output from-pod
	run -0 pm pod rm -f "$POD"
}

@test "podman pod create (CNI bridge): the members see the pod's interface, once" {
	run -0 pm pod create --name "$POD"
	members
	one_pod
	# The infra mirrored the pod's namespace: the members see its eth0.
	run -0 pm exec "$POD-b" sh -c 'ip -o -4 addr show eth0 | wc -l'
	assert_output 1
	run -0 pm pod rm -f "$POD"
}

@test "podman run -it --pod: a member's terminal through conmon's console socket" {
	run -0 pm pod create --name "$POD" --network none
	local podman="podman --root $PODMAN_DIR/storage --runroot $PODMAN_DIR/run --tmpdir $PODMAN_DIR/tmp
		--cgroup-manager cgroupfs --events-backend file --storage-driver vfs --runtime $(realpath "$RUNVM")"
	# script: a pty for podman's -t (CI has none).
	in_script "$(echo $podman) run -it --rm --pod $POD $(ulimit_args) $IMAGE sh -c 'tty; test -t 0 && echo stdin-tty; exit 6'"
	assert_equal "$status" 6
	# (the echo of a NUL conmon may type first can lead the line)
	assert_line --regexp '/dev/(pts/[0-9]+|console)$'
	assert_line stdin-tty
	run -0 pm pod rm -f "$POD"
}

@test "podman pod create --share ipc,net,uts,pid: the members and the infra share one pid namespace in the VM" {
	run -0 pm pod create --name "$POD" --network none --share ipc,net,uts,pid
	run -0 pm run -d --pod "$POD" --name "$POD-a" $(ulimit_args) "$IMAGE" sleep 1001
	run -0 pm run -d --pod "$POD" --name "$POD-b" $(ulimit_args) "$IMAGE" sleep 1002
	run -0 pm exec "$POD-b" ps -o args
	assert_output --partial "sleep 1001"
	assert_output --partial catatonit
	run -0 pm exec "$POD-a" ps -o args
	assert_output --partial "sleep 1002"
	run -0 pm pod rm -f "$POD"
}

@test "podman pod: the members share the pod's /dev/shm, a tmpfs of the VM's" {
	run -0 pm pod create --network none --name "$POD"
	members
	run -0 pm exec "$POD-b" sh -c 'echo from-b >/dev/shm/s'
	run -0 pm exec "$POD-a" sh -c 'cat /dev/shm/s; grep " /dev/shm " /proc/mounts | cut -d" " -f3'
	assert_line from-b
	assert_line tmpfs
	run -0 pm pod rm -f -t 0 "$POD"
}

