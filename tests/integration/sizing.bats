#!/usr/bin/env bats
# Memory pressure inside the VM behaves like runc's on the host: the
# container's cgroup limit decides, by OOM kill, never the guest kernel's
# overcommit heuristic for a VM sized to the limit.

load helpers

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
