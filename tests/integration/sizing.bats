#!/usr/bin/env bats
# Memory pressure inside the VM behaves like runc's on the host: the
# container's cgroup limit decides, by OOM kill, never the guest kernel's
# overcommit heuristic for a VM sized to the limit.

load helpers

RUNC=${RUNC:-/usr/sbin/runc}

@test "an allocation far over the memory limit is OOM-killed (137), as with runc" {
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo "dd exit $?"'
	update_config '.linux.resources.memory = {"limit": 67108864}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output --partial "dd exit 137"
	if [ -x "$RUNC" ] && [ "$RUNVM_NAME" != runc ]; then
		run timeout -k 5 60 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" run --bundle "$BUNDLE" "ct-runc-$RANDOM" </dev/null 3>&-
		assert_success
		assert_output --partial "dd exit 137"
	fi
}
