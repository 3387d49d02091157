#!/usr/bin/env bats
# The workload's exit status reaches the caller exactly as with runc.

load helpers

@test "run returns the exit code: 0, 1, 42" {
	local code
	for code in 0 1 42; do
		set_args sh -c "exit $code"
		runvm run --bundle "$BUNDLE" ct
		assert_equal "$status" "$code"
		# run deletes the container afterwards.
		runvm state ct
		assert_failure 1
	done
}

@test "run returns 137 when the workload is killed by SIGKILL" {
	set_args sleep 1000
	__runvm run --bundle "$BUNDLE" ct >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local job=$!
	wait_for_status ct running
	runvm kill ct KILL
	assert_success
	wait_bg "$job"
	cat "$BATS_TEST_TMPDIR/out"
	assert_equal "$status" 137
	runvm state ct
	assert_failure 1
}

@test "run --keep keeps the stopped container" {
	set_args sh -c 'exit 3'
	runvm run --keep --bundle "$BUNDLE" ct
	assert_equal "$status" 3
	assert_equal "$(container_status ct)" stopped
	runvm delete ct
	assert_success
}

# subreaper_run SCRIPT: runs SCRIPT under the subreaper helper, which then
# waits for the pid in $BATS_TEST_TMPDIR/ct.pid; sets $status and $output.
subreaper_run() {
	local helper
	helper=$(subreaper_bin) || fail "cannot build the subreaper helper"
	cat >"$BATS_TEST_TMPDIR/script.sh" <<-EOF
		#!/bin/bash
		exec >"$BATS_TEST_TMPDIR/script.out" 2>&1
		set -ex
		rv() { timeout -k 5 $RUNVM_TIMEOUT "$RUNVM" --root "$ROOT" "\$@" </dev/null; }
		$1
	EOF
	chmod +x "$BATS_TEST_TMPDIR/script.sh"
	run timeout -k 5 $((RUNVM_TIMEOUT * 3)) "$helper" $((RUNVM_TIMEOUT * 3 - 10)) \
		"$BATS_TEST_TMPDIR/ct.pid" "$BATS_TEST_TMPDIR/script.sh" 3>&-
	echo "script output:"
	cat "$BATS_TEST_TMPDIR/script.out"
}

@test "a subreaper caller sees the init exit with the workload's code" {
	set_args sh -c 'exit 42'
	subreaper_run '
		rv create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct
		rv start ct'
	assert_success
	assert_line "exited 42"
	runvm delete ct
	assert_success
}

@test "a subreaper caller sees the init killed by signal 9" {
	set_args sleep 1000
	subreaper_run '
		rv create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct
		rv start ct
		rv kill ct 9'
	assert_success
	assert_line "signaled 9"
	runvm state ct
	run -0 jq -r .status <<<"$output"
	assert_output stopped
	runvm delete ct
	assert_success
}
