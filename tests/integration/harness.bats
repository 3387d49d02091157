#!/usr/bin/env bats
# The harness checks itself: a leak check that cannot fail would prove
# nothing. No runtime needed.

load helpers

setup() { setup_bundle; }

@test "harness: a clean test passes the leak check" {
	run check_leaks
	assert_success
	assert_output ""
}

@test "harness: a process left in the bundle is a leak" {
	(cd "$BUNDLE/rootfs" && exec sleep 100) 3>&- &
	local pid=$!
	run check_leaks
	assert_failure
	assert_output --partial "LEAK: processes left behind"
	assert_output --partial "$pid sleep 100"
	# check_leaks killed it.
	wait_for_exit "$pid" 5
	wait "$pid" || true
}

@test "harness: a tracked pid still alive is a leak" {
	sleep 100 3>&- &
	local pid=$!
	track_pid "$pid"
	run check_leaks
	assert_failure
	assert_output --partial "$pid sleep 100"
	wait_for_exit "$pid" 5
	wait "$pid" || true
	# Gone (or only a zombie): no leak.
	run check_leaks
	assert_success
}

@test "harness: a state dir or a mount left behind is a leak" {
	mkdir -p "$ROOT/left-over" "$ROOT/@host"
	run leaked_state_dirs
	assert_output "$ROOT/left-over"
	run check_leaks
	# Either delete --force removed it, or the check reports it.
	[ ! -e "$ROOT/left-over" ]
	[ -d "$ROOT/@host" ]
	rmdir "$ROOT/@host"

	mkdir -p "$BUNDLE/mnt"
	mount -t tmpfs tmpfs "$BUNDLE/mnt"
	run check_leaks
	assert_failure
	assert_output --partial "LEAK: mounts left behind"
	assert_output --partial "$BUNDLE/mnt"
	run leaked_mounts
	assert_output ""
}

@test "harness: make-bundle.sh gives a busybox bundle with the requested args" {
	local dir=$BATS_TEST_TMPDIR/mb
	RUNVM= run -0 "$TESTS_TOP/tests/make-bundle.sh" "$dir" sh -c 'echo "a b"'
	[ -x "$dir/rootfs/bin/busybox" ]
	[ "$(readlink "$dir/rootfs/bin/sh")" = /bin/busybox ]
	[ -L "$dir/rootfs/usr/bin/sha256sum" ] || [ -L "$dir/rootfs/bin/sha256sum" ]
	grep -q '^user:x:1000:1000:' "$dir/rootfs/etc/passwd"
	grep -q '^nobody:' "$dir/rootfs/etc/passwd"
	[ -d "$dir/rootfs/proc" ] && [ -d "$dir/rootfs/sys" ] && [ -d "$dir/rootfs/dev" ] && [ -d "$dir/rootfs/tmp" ]
	run -0 jq -c '.process.args, .process.terminal, .root.path' "$dir/config.json"
	assert_output "$(printf '%s\n' '["sh","-c","echo \"a b\""]' false '"rootfs"')"

	run -0 "$TESTS_TOP/tests/make-bundle.sh" --tar "$BATS_TEST_TMPDIR/rootfs.tar"
	run -0 tar -tf "$BATS_TEST_TMPDIR/rootfs.tar"
	assert_line ./bin/busybox
	assert_line ./etc/passwd
}
