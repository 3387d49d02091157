#!/usr/bin/env bats
# linux.seccomp enforced in the guest with libseccomp, compared with runc
# running the same bundle: actions, errnoRet, argument operators, unknown
# syscalls, architectures, flags; notification refused.

load helpers

# both ID: runvm then runc on $BUNDLE; the outputs and statuses must match.
both() {
	runvm run --bundle "$BUNDLE" "$1"
	if have_runc; then
		local mine=$output mystatus=$status
		runc_run "$1-runc"
		assert_equal "$mystatus" "$runc_status"
		# stdout and stderr interleave differently through runc's pipes.
		assert_equal "$(sort <<<"$mine")" "$(sort <<<"$runc_output")"
		status=$mystatus output=$mine
	fi
}

@test "seccomp: ERRNO with errnoRet, TRACE without a tracer, argument operators, unknown names, arches, flags" {
	set_args sh -c 'exec 2>&1; mkdir /tmp/d; echo "mkdir=$?"
		touch /tmp/f; chmod 700 /tmp/f; echo "chmod700=$?"; chmod 755 /tmp/f; echo "chmod755=$?"
		chmod 707 /tmp/f; echo "chmod707=$?"; chmod 4755 /tmp/f; echo "chmod4755=$?"
		ln -s a /tmp/l; echo "symlink=$?"; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
	update_config '
		.root.readonly = false
		| .process.noNewPrivileges = false
		| .linux.seccomp = {
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
			"syscalls": [
				{"names": ["mkdir", "mkdirat", "not_a_syscall_at_all"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
				{"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
				 "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
				{"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
				 "args": [{"index": 1, "value": 7, "valueTwo": 7, "op": "SCMP_CMP_MASKED_EQ"}]},
				{"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 34,
				 "args": [{"index": 1, "value": 2047, "op": "SCMP_CMP_GT"}]},
				{"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_TRACE"},
				{"names": ["getppid"], "action": "SCMP_ACT_LOG"},
				{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}'
	both ct
	assert_success
	assert_line "mkdir=1"
	assert_line --partial "Operation not permitted"
	assert_line "chmod700=1"
	assert_line "chmod755=0"
	assert_line "chmod707=1"
	assert_line "chmod4755=1"
	assert_line "symlink=1"
	assert_line "NoNewPrivs:	0"
	assert_line "Seccomp:	2"

	# runc 1.1 refuses every flag ("seccomp flags are not yet supported by
	# runc"): the same filter with flags must behave the same.
	local without_flags=$output
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
		"SECCOMP_FILTER_FLAG_TSYNC"]'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	# stdout and stderr are separate streams: compare lines, not interleaving.
	assert_equal "$(sort <<<"$output")" "$(sort <<<"$without_flags")"
}

@test "seccomp: SCMP_ACT_KILL_PROCESS / KILL kill the container by SIGSYS (159); ERRNO defaults to EPERM" {
	set_args sh -c 'echo before; kill -0 $$; echo after'
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getpid", "kill"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	both ct
	assert_equal "$status" 159

	# SCMP_ACT_KILL is KILL_THREAD; the shell is single-threaded, so it dies
	# by SIGSYS too. (Not compared: runc's own multi-threaded Go init calls
	# getpid after loading the filter, loses a thread and is SIGKILLed: 137.)
	update_config '.linux.seccomp.syscalls[0].action = "SCMP_ACT_KILL"'
	runvm run --bundle "$BUNDLE" ct
	assert_equal "$status" 159

	# SCMP_ACT_ERRNO without errnoRet is EPERM; defaultErrnoRet for the
	# default action.
	# One stream: runc's stdout and stderr pipes can interleave mid-line.
	set_args sh -c 'exec 2>&1; mkdir /tmp/x; echo "mkdir=$?"; cd /tmp; echo "cd=$?"'
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
			{"names": ["chdir"], "action": "SCMP_ACT_ERRNO"}]}'
	both ct
	assert_success
	assert_line --partial "No space left on device"
	assert_line --partial "can't cd to /tmp: Operation not permitted"
}

@test "seccomp: listenerPath and SCMP_ACT_NOTIFY are refused clearly" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x.sock",
		"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "listenerPath"

	update_config 'del(.linux.seccomp.listenerPath)'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "listenerPath"

	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "SCMP_ACT_BOGUS"
}
