#!/usr/bin/env bats
# cgroup v2 in the guest: linux.resources become the container's cgroup
# files, device rules are enforced, a cgroup namespace hides the path.
# Each test also passes with RUNVM=/usr/sbin/runc on a cgroup v2 host.

load helpers

# cgroup_ns: the config asks for a cgroup namespace, so /sys/fs/cgroup in
# the container is its own cgroup under runc and runvm alike.
cgroup_ns() {
	update_config '.linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])'
}

@test "memory.limit and reservation become memory.max and memory.low" {
	cgroup_ns
	update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432}'
	set_args cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.low
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output $'67108864\n33554432'
}

@test "cpu quota and period become cpu.max, shares cpu.weight" {
	cgroup_ns
	update_config '.linux.resources.cpu = {"quota": 50000, "period": 100000, "shares": 1024}'
	set_args cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight
	runvm run --bundle "$BUNDLE" ct
	assert_success
	# runc's conversion: 1 + ((1024 - 2) * 9999) / 262142 = 39
	assert_output $'50000 100000\n39'
}

@test "pids.limit becomes pids.max and is enforced" {
	cgroup_ns
	update_config '.linux.resources.pids = {"limit": 5}'
	set_args sh -c 'cat /sys/fs/cgroup/pids.max
		sh -c "for i in 1 2 3 4 5 6; do sleep 5 & done" 2>/dev/null && echo all-forked || echo fork-refused'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output $'5\nfork-refused'
}

@test "device rules: an eBPF program enforces them, runc's default devices stay usable" {
	cgroup_ns
	# Deny all (the default config's rule), allow writing c 1:11 only, and
	# try to deny writing /dev/null: runc appends its default allowed
	# devices after the spec's rules, so /dev/null stays writable there,
	# and in runvm.
	update_config '.linux.resources.devices = [
		{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"},
		{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}]
		| .process.capabilities.bounding += ["CAP_MKNOD"]
		| .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	set_args sh -c 'echo > /dev/null && echo null-ok
		mknod /dev/k c 1 11 && echo x > /dev/k && echo write-ok
		head -c1 /dev/k; mknod /dev/m c 1 1 && head -c1 /dev/m'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_line --index 0 null-ok
	assert_line --index 1 write-ok
	assert_line --index 2 --partial "/dev/k: Operation not permitted"
	assert_line --index 3 --partial "/dev/m: Operation not permitted"
}

@test "a cgroup namespace shows the container's cgroup as 0::/" {
	cgroup_ns
	set_args cat /proc/self/cgroup
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output "0::/"
}

@test "a container without a cgroup namespace leaves the VM's cgroup2 options as they were" {
	is_runvm || skip "the guest's hierarchy"
	# Its cgroup2 mount is made from the VM's own cgroup namespace, which
	# sets the hierarchy's options: without nsdelegate in it, the VM's
	# containers would lose the delegation boundary.
	update_config '.linux.namespaces -= [{"type": "cgroup"}]'
	set_args sh -c 'grep -c "^cgroup /sys/fs/cgroup cgroup2 .*nsdelegate" /proc/self/mounts'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 1
}

@test "device rules: update -r with the rules the container has keeps them; other rules replace them" {
	# The guest loads one program per distinct rule set and attaches it
	# again for the same rules: an update to the same rules must not be
	# refused as "attached already", and must still enforce them.
	local rules='[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
	update_config ".linux.resources.devices = $rules
		| .process.capabilities.bounding += [\"CAP_MKNOD\"]
		| .process.capabilities.effective += [\"CAP_MKNOD\"]
		| .process.capabilities.permitted += [\"CAP_MKNOD\"]"
	set_args sh -c 'mknod /dev/k c 1 11 && sleep 600'
	run_detached ct
	wait_for_status ct running
	local probe='echo x >/dev/k && echo write-ok'
	echo "{\"devices\": $rules}" >"$BATS_TEST_TMPDIR/same.json"
	runvm update -r "$BATS_TEST_TMPDIR/same.json" ct
	assert_success
	runvm exec ct sh -c "$probe"
	assert_success
	assert_output write-ok
	echo '{"devices": [{"allow": false, "access": "rwm"}]}' >"$BATS_TEST_TMPDIR/other.json"
	runvm update -r "$BATS_TEST_TMPDIR/other.json" ct
	assert_success
	runvm exec ct sh -c "$probe"
	assert_failure
	assert_output --partial "/dev/k: Operation not permitted"
	# And back to the first rules: their program, attached again.
	runvm update -r "$BATS_TEST_TMPDIR/same.json" ct
	assert_success
	runvm exec ct sh -c "$probe"
	assert_success
	assert_output write-ok
	runvm delete --force ct
}
