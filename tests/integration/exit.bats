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

# The monitor records `stopped` with the exit status as soon as the agent
# reported it, before the VM is gone (QEMU and virtiofsd still recorded):
# a delete that comes at once kills what is left and leaves nothing.
@test "delete the moment state says stopped leaves nothing behind" {
	set_args sh -c 'exit 3'
	create_container ct
	local st=$ROOT/ct/state.json procs
	procs=$(jq -r '.monitor_pid, ((.processes // [])[] | .pid)' "$st")
	[ "$(wc -w <<<"$procs")" -ge 3 ] || fail "state.json records no VM processes: $procs"
	for p in $procs; do track_pid "$p"; done
	runvm start ct
	assert_success
	local deadline=$((SECONDS + WAIT_TIMEOUT))
	until [ "$(jq -r .status "$st" 2>/dev/null)" = stopped ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "not stopped after ${WAIT_TIMEOUT}s"
		sleep 0.01
	done
	run -0 jq -r '.exit.code' "$st"
	assert_output 3
	runvm delete ct
	assert_success
	for p in $procs; do
		! pid_alive "$p" || fail "pid $p recorded by the container still runs after delete"
	done
	[ ! -e "$ROOT/ct" ] || fail "the state dir is still there"
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
