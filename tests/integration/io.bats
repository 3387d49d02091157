#!/usr/bin/env bats
# stdio: streams kept apart, large data intact, stdin EOF delivered.

load helpers

@test "stdout and stderr are kept apart" {
	set_args sh -c 'echo to-stdout; echo to-stderr >&2; echo more-stdout'
	runvm_separate run --bundle "$BUNDLE" ct
	assert_success
	assert_output $'to-stdout\nmore-stdout'
	assert_equal "$stderr" "to-stderr"
}

@test "10 MiB of output arrive intact" {
	head -c $((10 * 1024 * 1024)) /dev/urandom >"$BUNDLE/rootfs/data.bin"
	set_args cat /data.bin
	__runvm run --bundle "$BUNDLE" ct >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" && status=0 || status=$?
	cat "$BATS_TEST_TMPDIR/err"
	assert_equal "$status" 0
	assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/out")" $((10 * 1024 * 1024))
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/out")" "$(sha256sum <"$BUNDLE/rootfs/data.bin")"
}

@test "stdin is piped in and EOF delivered" {
	set_args cat
	echo hi >"$BATS_TEST_TMPDIR/in"
	RUNVM_STDIN=$BATS_TEST_TMPDIR/in runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output hi

	# From a pipe, as `echo hi | runvm run` does.
	pipe_in() { echo piped | RUNVM_STDIN=/dev/stdin __runvm run --bundle "$BUNDLE" ct2; }
	run -0 pipe_in
	assert_output piped
}

@test "a large stdin arrives whole" {
	head -c $((5 * 1024 * 1024 + 123)) /dev/urandom >"$BATS_TEST_TMPDIR/in"
	set_args sh -c 'cat >/dev/shm/in && wc -c </dev/shm/in && sha256sum </dev/shm/in'
	RUNVM_STDIN=$BATS_TEST_TMPDIR/in runvm_separate run --bundle "$BUNDLE" ct
	assert_success
	assert_equal "$(echo "${lines[0]}" | tr -d ' ')" $((5 * 1024 * 1024 + 123))
	assert_equal "${lines[1]%% *}" "$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1)"
}

@test "create without a tty gives the container the caller's stdio" {
	set_args sh -c 'echo out-from-created; echo err-from-created >&2'
	create_container ct
	runvm start ct
	assert_success
	wait_for_status ct stopped
	run -0 cat "$BATS_TEST_TMPDIR/ct.out"
	assert_output out-from-created
	run -0 cat "$BATS_TEST_TMPDIR/ct.err"
	assert_output err-from-created
	runvm delete ct
	assert_success
}
