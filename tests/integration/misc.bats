#!/usr/bin/env bats
# The rest of issue 3's CLI: checkpoint/restore refused, run --keep,
# run --no-subreaper, --preserve-fds refused (a VM cannot receive host
# fds), run -d with a terminal and no console socket. Every test also runs
# with RUNVM=/usr/sbin/runc, which differs where runvm refuses what a VM
# cannot do (the runc branch says what runc does instead).

load helpers

@test "checkpoint and restore fail with a clear not-supported error" {
	set_args sleep 1000
	is_runvm || skip "runc implements checkpoint/restore with criu"
	runvm checkpoint ct
	assert_failure 1
	assert_output --partial "checkpoint is not supported"
	runvm checkpoint --image-path "$BATS_TEST_TMPDIR/img" --leave-running ct
	assert_failure
	assert_output --partial "not supported"
	runvm restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" ct
	assert_failure 1
	assert_output --partial "restore is not supported"
	runvm list -q
	assert_output ""
}

@test "run --keep keeps the stopped container; run --no-subreaper (and -no-subreaper) works" {
	set_args sh -c 'echo kept; exit 3'
	runvm run --keep --bundle "$BUNDLE" ct
	assert_equal "$status" 3
	assert_output kept
	runvm state ct
	assert_success
	run -0 jq -r '.status, .pid' <<<"$output"
	assert_output $'stopped\n0'
	runvm list -q
	assert_output ct
	runvm delete ct
	assert_success

	# go-runc sends the single-dash form.
	set_args sh -c 'echo no-subreaper; exit 4'
	runvm run -no-subreaper --bundle "$BUNDLE" ct2
	assert_equal "$status" 4
	assert_output no-subreaper
	runvm state ct2
	assert_failure 1
	assert_output --partial "does not exist"
}

@test "--preserve-fds on create and run: refused, nothing left behind" {
	set_args sleep 1000
	if ! is_runvm; then
		# runc passes fd 3 on.
		__runvm create --bundle "$BUNDLE" --preserve-fds 1 ct 3</dev/null >/dev/null 2>&1
		assert_equal "$(container_status ct)" created
		runvm delete ct
		assert_success
		return 0
	fi
	__runvm create --bundle "$BUNDLE" --preserve-fds 1 ct 3</dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 && status=0 || status=$?
	cat "$BATS_TEST_TMPDIR/out"
	assert_equal "$status" 1
	run -0 cat "$BATS_TEST_TMPDIR/out"
	assert_output --partial "--preserve-fds"
	assert_output --partial "cannot be passed into a VM"
	runvm state ct
	assert_failure 1
	assert_output --partial "does not exist"

	__runvm run -d --bundle "$BUNDLE" --preserve-fds=2 ct 3</dev/null 4</dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 && status=0 || status=$?
	cat "$BATS_TEST_TMPDIR/out"
	assert_equal "$status" 1
	runvm list -q
	assert_output ""
	# --preserve-fds 0 is no request at all.
	runvm create --bundle "$BUNDLE" --preserve-fds 0 ct
	assert_success
	track_pid "$(__runvm state ct | jq -r .pid)"
	runvm delete ct
	assert_success
}

@test "run -d with a terminal and no console socket: the contract's error, nothing left" {
	set_args sh
	update_config '.process.terminal = true'
	runvm run -d --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct
	assert_failure 1
	assert_output --partial "cannot allocate tty if $RUNVM_NAME will detach without setting console socket"
	[ ! -e "$BATS_TEST_TMPDIR/ct.pid" ] || fail "a pid file was written"
	runvm state ct
	assert_failure 1
	runvm list -q
	assert_output ""
}
