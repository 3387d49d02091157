#!/usr/bin/env bats
# The container's host-side processes live in linux.cgroupsPath on the host
# (what /proc/PID/cgroup callers read), and nothing of it outlives delete.

load helpers

cgpath() { echo "/runvm-test-$$-$BATS_TEST_NUMBER/ct"; }

cgroup_dirs_left() {
	local p=$1
	ls -d /sys/fs/cgroup/*"$p" /sys/fs/cgroup"$p" 2>/dev/null || true
}

teardown_cgroup_parent() {
	local parent
	parent=$(dirname "$(cgpath)")
	rmdir /sys/fs/cgroup/*"$parent" /sys/fs/cgroup"$parent" 2>/dev/null || true
}

@test "the monitor and QEMU are in linux.cgroupsPath; delete removes it" {
	local p pid qemu
	p=$(cgpath)
	set_args sleep 1000
	update_config ".linux.cgroupsPath = \"$p\""
	runvm run -d --bundle "$BUNDLE" ct
	assert_success
	pid=$(__runvm state ct | jq .pid)
	# Every hierarchy the host has (v1 controllers and the unified one).
	run grep -c ":$p\$" "/proc/$pid/cgroup"
	assert_equal "$output" "$(wc -l <"/proc/$pid/cgroup")"
	qemu=$(pgrep -P "$pid" -f qemu-system | head -1)
	[ -n "$qemu" ]
	grep -q ":$p\$" "/proc/$qemu/cgroup"
	runvm delete --force ct
	assert_success
	assert_equal "$(cgroup_dirs_left "$p")" ""
	teardown_cgroup_parent
}

@test "a failed create removes the host cgroup it made" {
	local p
	p=$(cgpath)
	set_args no-such-binary
	update_config ".linux.cgroupsPath = \"$p\""
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial 'executable file not found in $PATH'
	assert_equal "$(cgroup_dirs_left "$p")" ""
	teardown_cgroup_parent
}

@test "a systemd-style cgroupsPath is refused clearly" {
	set_args true
	update_config '.linux.cgroupsPath = "system.slice:runvm:ct"'
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial 'linux.cgroupsPath'
}

@test "two containers in one cgroupsPath: the first delete does not wait, the last removes it" {
	local p start
	p=$(cgpath)
	set_args sleep 1000
	update_config ".linux.cgroupsPath = \"$p\""
	runvm run -d --bundle "$BUNDLE" ct1
	assert_success
	runvm run -d --bundle "$BUNDLE" ct2
	assert_success
	start=$SECONDS
	runvm delete --force ct1
	assert_success
	[ $((SECONDS - start)) -lt 5 ] || fail "delete of the first took $((SECONDS - start))s"
	# Still ct2's.
	[ -n "$(cgroup_dirs_left "$p")" ]
	runvm delete --force ct2
	assert_success
	assert_equal "$(cgroup_dirs_left "$p")" ""
	teardown_cgroup_parent
}
