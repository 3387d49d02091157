#!/usr/bin/env bats
# The container's host cgroup carries its limits mapped to what the VM
# needs (docs/RESOURCES.md): memory = the VM + overhead_memory_mib, cpu
# quota/period/shares, cpuset and pids as the container's (pids never
# under the VM's threads); `update` changes the guest's and the host's.
# runc, given the same bundle, is the reference for what host tools read.

load helpers

cgpath() { echo "/runvm-hostlim-$$-$BATS_TEST_NUMBER/ct"; }

is_v2() { [ -e /sys/fs/cgroup/cgroup.controllers ]; }

# host_value PATH V1_CONTROLLER V1_FILE V2_FILE: the host cgroup file's
# content, v1 or v2 as this host has.
host_value() {
	if is_v2; then
		cat "/sys/fs/cgroup$1/$4"
	else
		cat "/sys/fs/cgroup/$2$1/$3"
	fi
}

cpu_quota() { if is_v2; then awk '{ print $1 }' "/sys/fs/cgroup$1/cpu.max"; else cat "/sys/fs/cgroup/cpu$1/cpu.cfs_quota_us"; fi; }
cpu_period() { if is_v2; then awk '{ print $2 }' "/sys/fs/cgroup$1/cpu.max"; else cat "/sys/fs/cgroup/cpu$1/cpu.cfs_period_us"; fi; }

# The guest's own cgroup at /sys/fs/cgroup, under runc and runvm alike.
cgroup_ns() {
	update_config '.linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])'
}

remove_parent() {
	local parent
	parent=$(dirname "$1")
	rmdir /sys/fs/cgroup/*"$parent" /sys/fs/cgroup"$parent" 2>/dev/null || true
}

# A failed test leaves no parent cgroup behind either.
teardown() {
	runvm_teardown
	local p
	p=$(cgpath)
	rmdir /sys/fs/cgroup/*"$p-runc" /sys/fs/cgroup"$p-runc" 2>/dev/null || true
	remove_parent "$p"
}

limits='{"memory": {"limit": 67108864}, "cpu": {"quota": 150000, "period": 100000, "shares": 512, "cpus": "0,1"}, "pids": {"limit": 500}}'

@test "host cgroup files show the limits: memory as the VM needs, cpu, cpuset, pids as the container's" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
	local p overhead=256
	p=$(cgpath)
	set_args sleep 1000
	cgroup_ns
	update_config ".linux.resources = $limits | .linux.cgroupsPath = \"$p\""
	runvm run -d --bundle "$BUNDLE" ct
	assert_success
	# 64 MiB + base 64 = a 128 MiB VM, + the measured overhead.
	assert_equal "$(host_value "$p" memory memory.limit_in_bytes memory.max)" $(((128 + overhead) * 1024 * 1024))
	assert_equal "$(cpu_quota "$p")" 150000
	assert_equal "$(cpu_period "$p")" 100000
	if is_v2; then
		assert_equal "$(cat "/sys/fs/cgroup$p/cpu.weight")" 20
	else
		assert_equal "$(cat "/sys/fs/cgroup/cpu$p/cpu.shares")" 512
	fi
	assert_equal "$(host_value "$p" cpuset cpuset.cpus cpuset.cpus)" 0-1
	assert_equal "$(host_value "$p" pids pids.max pids.max)" 500
	# The guest has the container's own.
	runvm exec ct cat /sys/fs/cgroup/memory.max
	assert_success
	assert_output 67108864
	runvm delete --force ct
	assert_success
	remove_parent "$p"
	if have_runc; then
		# runc writes the same cpu, cpuset and pids values.
		update_config ".linux.cgroupsPath = \"$p-runc\""
		runc_cmd run -d --bundle "$BUNDLE" ct-runc
		assert_equal "$runc_status" 0
		assert_equal "$(cpu_quota "$p-runc")" 150000
		assert_equal "$(host_value "$p-runc" cpuset cpuset.cpus cpuset.cpus)" 0-1
		assert_equal "$(host_value "$p-runc" pids pids.max pids.max)" 500
		runc_cleanup ct-runc
		remove_parent "$p-runc"
	fi
}

@test "a pids limit under what the VM's threads need becomes the VM's need on the host" {
	local p
	p=$(cgpath)
	set_args sleep 1000
	cgroup_ns
	update_config ".linux.resources = {\"pids\": {\"limit\": 10}} | .linux.cgroupsPath = \"$p\""
	runvm run -d --bundle "$BUNDLE" ct
	assert_success
	local host
	host=$(host_value "$p" pids pids.max pids.max)
	[ "$host" -gt 10 ]
	runvm exec ct cat /sys/fs/cgroup/pids.max
	assert_output 10
	runvm delete --force ct
	remove_parent "$p"
}

@test "update changes the guest's cgroup and the host's, as runc's update changes its" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
	local p
	p=$(cgpath)
	set_args sleep 1000
	cgroup_ns
	update_config ".linux.resources = $limits | .linux.cgroupsPath = \"$p\""
	runvm run -d --bundle "$BUNDLE" ct
	assert_success
	runvm update --cpu-quota 50000 --cpu-period 200000 --cpu-share 256 --pids-limit 1000 --cpuset-cpus 1 ct
	assert_success
	assert_equal "$(cpu_quota "$p")" 50000
	assert_equal "$(cpu_period "$p")" 200000
	assert_equal "$(host_value "$p" pids pids.max pids.max)" 1000
	assert_equal "$(host_value "$p" cpuset cpuset.cpus cpuset.cpus)" 1
	assert_equal "$(host_value "$p" cpu cpu.shares cpu.weight)" "$(is_v2 && echo 10 || echo 256)"
	runvm exec ct cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpuset.cpus
	assert_output $'50000 200000\n1000\n1'
	# The VM does not grow: the host's memory limit stays.
	local mem
	mem=$(host_value "$p" memory memory.limit_in_bytes memory.max)
	runvm update --memory 33554432 ct
	assert_success
	assert_equal "$(host_value "$p" memory memory.limit_in_bytes memory.max)" "$mem"
	# A CPU the VM has no vCPU for: refused by the guest, the host unchanged.
	runvm update --cpuset-cpus 7 ct
	assert_failure
	assert_equal "$(host_value "$p" cpuset cpuset.cpus cpuset.cpus)" 1
	runvm delete --force ct
	assert_success
	remove_parent "$p"
	if have_runc; then
		update_config ".linux.cgroupsPath = \"$p-runc\""
		runc_cmd run -d --bundle "$BUNDLE" ct-runc
		runc_cmd update --cpu-quota 50000 --cpu-period 200000 --pids-limit 1000 --cpuset-cpus 1 ct-runc
		assert_equal "$runc_status" 0
		assert_equal "$(cpu_quota "$p-runc")" 50000
		assert_equal "$(host_value "$p-runc" pids pids.max pids.max)" 1000
		runc_cleanup ct-runc
		remove_parent "$p-runc"
	fi
}

@test "without cgroupsPath the host cgroup is named after the container, under the caller's, as runc's" {
	local id="runvm-hostlim-$$" pid own
	set_args sleep 1000
	update_config 'del(.linux.cgroupsPath) | .linux.resources = {"pids": {"limit": 300}}'
	runvm run -d --bundle "$BUNDLE" "$id"
	assert_success
	pid=$(__runvm state "$id" | jq .pid)
	if is_v2; then
		grep -q "^0::.*/$id\$" "/proc/$pid/cgroup"
	else
		own=$(awk -F: '$2 == "pids" { print $3 }' /proc/self/cgroup)
		run awk -F: '$2 == "pids" { print $3 }' "/proc/$pid/cgroup"
		assert_output "${own%/}/$id"
		assert_equal "$(cat "/sys/fs/cgroup/pids${own%/}/$id/pids.max")" 300
	fi
	runvm delete --force "$id"
	assert_success
}

@test "--systemd-cgroup without systemd: one clear error, nothing left" {
	[ -d /run/systemd/system ] && skip "systemd runs here"
	set_args true
	update_config '.linux.cgroupsPath = "system.slice:runvm:hostlim"'
	runvm --systemd-cgroup create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial '--systemd-cgroup: systemd is not running on this host'
	assert_output --partial 'runvm-hostlim.scope'
	assert_equal "${#lines[@]}" 1
	update_config '.linux.cgroupsPath = "no-colons"'
	runvm --systemd-cgroup create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial 'expected slice:prefix:name with --systemd-cgroup'
	runvm state ct
	assert_failure
}
