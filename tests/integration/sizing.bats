#!/usr/bin/env bats
# The VM is sized like the container (docs/RESOURCES.md): memory = limit +
# base_memory_mib (at least 128 MiB) or default_memory_mib; vCPUs from the
# quota and cpu.cpus; org.runvm.vm.* annotations within bounds. Memory
# pressure inside behaves like runc's on the host: the container's cgroup
# limit decides, by OOM kill, and the kill is told (events, host cgroup).

load helpers

# The one test with a cgroupsPath leaves no parent cgroup, even failed.
teardown() {
	runvm_teardown
	rmdir /sys/fs/cgroup/*"/runvm-sizing-$$-$BATS_TEST_NUMBER" "/sys/fs/cgroup/runvm-sizing-$$-$BATS_TEST_NUMBER" \
		2>/dev/null || true
}

# What default_vcpus = 0 gives here: the host's CPUs under KVM, one under
# TCG (sizing.h), as `runvm check` says which runs the guest.
default_vcpus() {
	if [ "$(__runvm check --format json | jq -r .accelerator)" = kvm ]; then nproc; else echo 1; fi
}

vm_field() { jq -r ".$2" "$ROOT/$1/state.json"; }

@test "an allocation far over the memory limit is OOM-killed (137), as with runc" {
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo "dd exit $?"'
	update_config '.linux.resources.memory = {"limit": 67108864}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output --partial "dd exit 137"
	if have_runc; then
		runc_run ct-runc
		assert_equal "$runc_status" 0
		[[ $runc_output == *"dd exit 137"* ]]
	fi
}

@test "an OOM kill is an oom event naming the limit and the VM, and the bundle gets conmon's oom file" {
	set_args sh -c 'sleep 1; dd if=/dev/zero of=/dev/null bs=200M count=1'
	update_config '.linux.resources.memory = {"limit": 67108864}'
	rm -f "$BUNDLE/oom"
	runvm create --bundle "$BUNDLE" ct
	assert_success
	timeout 60 "$RUNVM" --root "$ROOT" events ct >"$BATS_TEST_TMPDIR/events" 2>&1 3>&- &
	local ev=$!
	sleep 0.5
	runvm start ct
	assert_success
	wait_for_status ct stopped
	wait "$ev" || true
	cat "$BATS_TEST_TMPDIR/events"
	run jq -c 'select(.type == "oom") | .data' "$BATS_TEST_TMPDIR/events"
	assert_output '{"memory_limit":67108864,"vm_memory_mib":128}'
	# The `oom` file conmon makes in the bundle when the host cgroup reports
	# one (docs/RESOURCES.md says why the host cgroup cannot).
	[ -e "$BUNDLE/oom" ]
	runvm delete ct
	assert_success
}

@test "without a memory limit the VM has default_memory_mib: 1 GiB allocates" {
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=1G count=1 2>/dev/null; echo "dd exit $?"'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output "dd exit 0"
	if have_runc; then
		runc_run ct-runc
		assert_equal "$runc_output" "dd exit 0"
	fi
	runvm create --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(vm_field ct memory_mib)" 2048
	# `runvm state` shows it too.
	run -0 jq -c .vm <<<"$(__runvm state ct)"
	assert_output "{\"memory_mib\":2048,\"vcpus\":$(default_vcpus)}"
	runvm delete --force ct
	assert_success
}

@test "a memory limit gives a VM of limit + base_memory_mib, never under 128 MiB" {
	set_args cat /proc/cmdline
	update_config '.linux.resources.memory = {"limit": 268435456}'
	# With RAM added after boot (runvm's kernel), 256 + 64 is rounded up
	# to whole 128 MiB blocks, and the guest boots with 256 MiB of it.
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output --partial ' mem=256M '
	runvm create --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(vm_field ct memory_mib)" 384
	runvm delete --force ct
	# Booted with all its RAM, the VM is the sum.
	local conf=$BATS_TEST_TMPDIR/runvm.conf
	printf 'boot_memory_mib = 0\n' >"$conf"
	RUNVM_CONFIG=$conf runvm create --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(vm_field ct memory_mib)" $((256 + 64))
	RUNVM_CONFIG=$conf runvm delete --force ct
	update_config '.linux.resources.memory = {"limit": 4194304}'
	runvm create --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(vm_field ct memory_mib)" 128
	runvm delete --force ct
}

@test "without a limit, an allocation beyond the VM is an oom event naming the VM's size" {
	set_args sh -c 'sleep 1; dd if=/dev/zero of=/dev/null bs=300M count=1 2>/dev/null; echo "dd exit $?"'
	update_config '.annotations["org.runvm.vm.memory_mib"] = "128"'
	runvm create --bundle "$BUNDLE" ct
	assert_success
	timeout 60 "$RUNVM" --root "$ROOT" events ct >"$BATS_TEST_TMPDIR/events" 2>&1 3>&- &
	local ev=$!
	sleep 0.5
	runvm start ct
	assert_success
	wait_for_status ct stopped
	wait "$ev" || true
	run jq -c 'select(.type == "oom") | .data' "$BATS_TEST_TMPDIR/events"
	assert_output '{"memory_limit":null,"vm_memory_mib":128}'
	grep -q 'no memory limit and its VM has 128 MiB' "$ROOT/ct/monitor.log"
	runvm delete ct
	assert_success
}

@test "vCPUs: ceil(quota / period), the cpuset's CPUs, the host's without limits" {
	local host
	host=$(nproc)
	set_args nproc
	update_config '.linux.resources.cpu = {"quota": 100000, "period": 100000}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 1
	update_config '.linux.resources.cpu = {"quota": 150000, "period": 100000}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output "$(( host < 2 ? host : 2 ))"
	# No limits: default_vcpus 0 (the host's CPUs, what nproc shows under
	# runc, when KVM runs the guest; one under TCG).
	update_config 'del(.linux.resources.cpu)'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output "$(default_vcpus)"
	if have_runc; then
		runc_run ct-runc
		assert_equal "$runc_output" "$host"
	fi
}

@test "cpu.cpus 0,1: two vCPUs on host CPUs 0 and 1, nproc 2 as with runc" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
	set_args sh -c 'nproc; cat /proc/self/status | grep Cpus_allowed_list'
	update_config '.linux.resources.cpu = {"cpus": "0,1"}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 2
	assert_line --index 1 --regexp 'Cpus_allowed_list:[[:space:]]+0-1'
	if have_runc; then
		runc_run ct-runc
		[[ $runc_output == 2* ]]
	fi
}

@test "org.runvm.vm.memory_mib and org.runvm.vm.vcpus size the VM" {
	# The RAM beyond boot_memory_mib is there once used (ram.bats).
	set_args sh -c 'nproc; dd if=/dev/zero of=/dev/null bs=400M count=1 2>/dev/null
		awk "/MemTotal/ { print (\$2 > 400000 && \$2 <= 524288) }" /proc/meminfo'
	update_config '.annotations["org.runvm.vm.memory_mib"] = "512" | .annotations["org.runvm.vm.vcpus"] = "1"'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output $'1\n1'
	runvm create --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(vm_field ct memory_mib)" 512
	assert_equal "$(vm_field ct vcpus)" 1
	runvm delete --force ct
	assert_success
}

@test "a bad org.runvm.vm annotation is one error line naming it, and leaves nothing" {
	set_args true
	local v
	for v in abc 0 -5 99999999; do
		update_config ".annotations = {\"org.runvm.vm.vcpus\": \"$v\"}"
		runvm create --bundle "$BUNDLE" ct
		assert_failure 1
		assert_output --partial "annotation \`org.runvm.vm.vcpus\` \`$v\`: expected an integer from 1 to"
		assert_equal "${#lines[@]}" 1
		runvm state ct
		assert_failure
	done
	update_config '.annotations = {"org.runvm.vm.memory_mib": "64"}'
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial 'annotation `org.runvm.vm.memory_mib` `64`: expected an integer from 128 to'
	update_config '.annotations = {"org.runvm.vm.memory_mib": "256"} | .linux.resources.memory = {"limit": 268435456}'
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial 'above the memory limit'
}

@test "runvm.conf: default_memory_mib, default_vcpus and overhead_memory_mib; a bad value names the key" {
	local conf=$BATS_TEST_TMPDIR/runvm.conf p="/runvm-sizing-$$-$BATS_TEST_NUMBER/ct"
	printf 'default_memory_mib = 512\ndefault_vcpus = 1\noverhead_memory_mib = 100\n' >"$conf"
	set_args true
	RUNVM_CONFIG=$conf runvm create --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(vm_field ct memory_mib)" 512
	assert_equal "$(vm_field ct vcpus)" 1
	RUNVM_CONFIG=$conf runvm delete --force ct
	# The host cgroup's memory limit: the VM (64 + 64 MiB) + the overhead.
	update_config ".linux.resources.memory = {\"limit\": 67108864} | .linux.cgroupsPath = \"$p\""
	RUNVM_CONFIG=$conf runvm create --bundle "$BUNDLE" ct
	assert_success
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		assert_equal "$(cat "/sys/fs/cgroup$p/memory.max")" $(((128 + 100) * 1024 * 1024))
	else
		assert_equal "$(cat "/sys/fs/cgroup/memory$p/memory.limit_in_bytes")" $(((128 + 100) * 1024 * 1024))
	fi
	RUNVM_CONFIG=$conf runvm delete --force ct
	rmdir /sys/fs/cgroup/*"$(dirname "$p")" /sys/fs/cgroup"$(dirname "$p")" 2>/dev/null || true
	# The old name still works; a value under 128 MiB does not.
	printf 'memory_mib = 64\n' >"$conf"
	RUNVM_CONFIG=$conf runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial "\`$conf\` line 1: invalid value for \`memory_mib\`"
}

# QEMU's resident guest memory (KiB): the memfd backing the guest's RAM.
qemu_guest_kib() {
	local pid
	pid=$(jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/$1/state.json")
	awk '/^RssShmem:/ { print $2 }' "/proc/$pid/status"
}

@test "guest memory a container frees goes back to the host (free page reporting)" {
	is_runvm || skip "the VM's memory"
	set_args sh -c 'dd if=/dev/zero of=/big/fill bs=1M count=256 2>/dev/null && echo FILLED && exec sleep 1000'
	update_config '.mounts += [{"destination": "/big", "type": "tmpfs", "source": "tmpfs", "options": ["size=300m"]}]'
	run_detached ct
	wait_for_grep FILLED "$BATS_TEST_TMPDIR/ct.out" 120
	local full
	full=$(qemu_guest_kib ct)
	[ "$full" -gt $((256 * 1024)) ] || fail "the guest's 256 MiB are not resident on the host ($full KiB)"
	runvm exec ct rm /big/fill
	assert_success
	# The guest reports free 4 MiB blocks every 2 s; bounded at 60 s.
	local now deadline=$((SECONDS + 60))
	while now=$(qemu_guest_kib ct); [ "$now" -gt $((full - 128 * 1024)) ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "guest memory still resident after the free: $now KiB of $full"
		sleep 1
	done
	runvm delete --force ct
	assert_success
}
