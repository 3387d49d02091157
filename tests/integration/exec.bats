#!/usr/bin/env bats
# runvm exec: every flag of CONTRACT.md §2, foreground and detached, its
# failures (prefixed `exec failed: `, exit 255) and the container states it
# is allowed in. Every test also runs with RUNVM=/usr/sbin/runc; what runc
# 1.1 does differently is named where it is skipped (exec -u NAME, and the
# --preserve-fds that a VM cannot honour). One container per test: every
# VM boot costs seconds under TCG.

load helpers


# exec_stdin TEXT ID CMD...: exec with TEXT piped into its stdin.
exec_stdin() {
	local text=$1
	shift
	printf '%s\n' "$text" | RUNVM_STDIN=/dev/stdin __runvm exec "$@"
}

@test "exec: status, stdout/stderr apart, stdin EOF, --cwd, -e, -u, -g, -c, --no-new-privs, -p" {
	set_args sleep 1000
	update_config '.process.noNewPrivileges = false | .process.env += ["FOO=from-config"]'
	run_detached ct
	wait_for_status ct running

	# The process's exit code is exec's; its stdout and stderr stay apart.
	runvm_separate exec ct sh -c 'echo to-out; echo to-err >&2; exit 7'
	assert_equal "$status" 7
	assert_output to-out
	assert_equal "$stderr" to-err

	# stdin piped in, EOF delivered (cat ends).
	run -0 exec_stdin piped-in ct cat
	assert_output piped-in

	runvm exec --cwd /tmp ct pwd
	assert_success
	assert_output /tmp

	# -e overrides the config's variables and adds new ones; the rest stay.
	runvm exec -e FOO=overridden -e NEW=added ct sh -c 'echo "$FOO $NEW $TERM"'
	assert_success
	assert_output "overridden added xterm"

	runvm exec -u 1000:1000 -g 10 -g 20 ct id
	assert_success
	assert_output "uid=1000(user) gid=1000(user) groups=10,20"
	runvm exec --user=1000 ct id -u
	assert_success
	assert_output 1000
	if is_runvm; then
		# runc 1.1 takes numbers only ("parsing nobody as int"); runvm
		# resolves names in the container's /etc/passwd.
		runvm exec -u nobody ct id
		assert_success
		assert_output "uid=65534(nobody) gid=65534(nogroup)"
	fi

	# -c adds to the bounding, effective and permitted sets (the config
	# has AUDIT_WRITE, KILL, NET_BIND_SERVICE: 0x20000420).
	runvm exec ct grep -E '^Cap(Eff|Bnd)' /proc/self/status
	assert_success
	assert_line "CapEff:	0000000020000420"
	assert_line "CapBnd:	0000000020000420"
	runvm exec -c CAP_SYS_ADMIN ct grep -E '^Cap(Eff|Bnd)' /proc/self/status
	assert_success
	assert_line "CapEff:	0000000020200420"
	assert_line "CapBnd:	0000000020200420"

	runvm exec ct grep NoNewPrivs /proc/self/status
	assert_success
	assert_output "NoNewPrivs:	0"
	runvm exec --no-new-privs ct grep NoNewPrivs /proc/self/status
	assert_success
	assert_output "NoNewPrivs:	1"

	# -p: the Process document wins over the flags given with it.
	cat >"$BATS_TEST_TMPDIR/process.json" <<-'EOF'
		{
			"terminal": false,
			"user": {"uid": 1000, "gid": 1000},
			"args": ["sh", "-c", "echo \"$FOO\"; pwd; id -u; grep NoNewPrivs /proc/self/status"],
			"env": ["PATH=/bin:/usr/bin", "FOO=from-json"],
			"cwd": "/home/user",
			"noNewPrivileges": true
		}
	EOF
	runvm exec -p "$BATS_TEST_TMPDIR/process.json" --cwd /tmp -e FOO=from-flag -u 0 ct
	assert_success
	assert_output "$(printf '%s\n' from-json /home/user 1000 'NoNewPrivs:	1')"
	runvm exec --process="$BATS_TEST_TMPDIR/process.json" ct
	assert_success
	assert_line --index 0 from-json

	assert_equal "$(container_status ct)" running
	runvm delete --force ct
	assert_success
}

@test "exec -d --pid-file: a host pid that takes signals and exits with the process's status" {
	set_args sleep 1000
	run_detached ct
	wait_for_status ct running

	# Under a subreaper (as containerd's shim and conmon are) the pid from
	# the pid file is reaped with the process's status: SIGTERM sent to
	# that pid reaches the process, whose trap exits 5.
	local helper
	helper=$(subreaper_bin) || fail "cannot build the subreaper helper"
	cat >"$BATS_TEST_TMPDIR/script.sh" <<-EOF
		#!/bin/bash
		exec >"$BATS_TEST_TMPDIR/script.out" 2>&1
		set -ex
		timeout -k 5 $RUNVM_TIMEOUT "$RUNVM" --root "$ROOT" exec -d --pid-file "$BATS_TEST_TMPDIR/ex.pid" ct \\
			sh -c 'trap "exit 5" TERM; echo started; while :; do sleep 0.1; done' \\
			</dev/null >"$BATS_TEST_TMPDIR/ex.out" 2>"$BATS_TEST_TMPDIR/ex.err"
		pid=\$(cat "$BATS_TEST_TMPDIR/ex.pid")
		[[ \$pid =~ ^[0-9]+\$ ]]
		echo "\$pid" >"$BATS_TEST_TMPDIR/ex.pid-seen"
		( for i in \$(seq 300); do grep -q started "$BATS_TEST_TMPDIR/ex.out" && break; sleep 0.1; done
		  kill -TERM "\$pid" ) >/dev/null 2>&1 &
	EOF
	chmod +x "$BATS_TEST_TMPDIR/script.sh"
	run timeout -k 5 $((RUNVM_TIMEOUT * 2)) "$helper" $((RUNVM_TIMEOUT * 2 - 10)) \
		"$BATS_TEST_TMPDIR/ex.pid" "$BATS_TEST_TMPDIR/script.sh" 3>&-
	cat "$BATS_TEST_TMPDIR/script.out" "$BATS_TEST_TMPDIR/ex.err"
	assert_success
	assert_output "exited 5"
	run -0 cat "$BATS_TEST_TMPDIR/ex.out"
	assert_output started
	# digits only, no newline
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ex.pid")" -eq 0 ] || fail "pid file ends with a newline"
	assert_equal "$(container_status ct)" running

	# SIGKILL to an exec pid ends that process only.
	runvm exec -d --pid-file "$BATS_TEST_TMPDIR/ex2.pid" ct sleep 999
	assert_success
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ex2.pid")
	[[ $pid =~ ^[0-9]+$ ]] || fail "pid file holds '$pid'"
	track_pid "$pid"
	pid_alive "$pid" || fail "exec pid $pid is not a live host process"
	runvm ps --format json ct
	assert_success
	run -0 jq -e --argjson p "$pid" 'index($p) != null' <<<"$output"
	runvm ps ct
	assert_output --partial "sleep 999"

	kill -KILL "$pid"
	wait_for_exit "$pid" 30
	local deadline=$((SECONDS + 30))
	while runvm ps ct && [[ $output == *"sleep 999"* ]]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "the exec'd process outlived its pid"
		sleep 0.5
	done
	assert_success
	runvm ps --format json ct
	run -0 jq -e --argjson p "$pid" 'index($p) == null' <<<"$output"
	assert_equal "$(container_status ct)" running
	runvm exec ct true
	assert_success

	runvm delete --force ct
	assert_success
}

@test "exec into a created container works; failures exit 255; into a stopped one fails" {
	set_args sleep 1000
	create_container ct

	runvm exec ct echo in-created
	assert_success
	assert_output in-created
	assert_equal "$(container_status ct)" created

	runvm_separate exec ct nosuchcmd
	assert_equal "$status" 255
	assert_output ""
	# The log line on stderr escapes the quotes.
	[[ ${stderr//\\/} == *'exec failed: '*'exec: "nosuchcmd": executable file not found in $PATH'* ]] ||
		fail "unexpected error text: $stderr"

	runvm exec -t -d ct true
	assert_equal "$status" 255
	assert_output --partial "exec failed: cannot allocate tty if $RUNVM_NAME will detach without setting console socket"
	runvm exec -d --console-socket "$BATS_TEST_TMPDIR/none.sock" ct true
	assert_equal "$status" 255
	assert_output --partial "exec failed: cannot use console socket if $RUNVM_NAME will not detach or allocate tty"

	if is_runvm; then
		# A VM cannot receive host fds: refused, not ignored.
		__runvm exec --preserve-fds 1 ct true 3</dev/null >"$BATS_TEST_TMPDIR/pfd.out" 2>&1 && status=0 || status=$?
		cat "$BATS_TEST_TMPDIR/pfd.out"
		assert_equal "$status" 255
		run -0 cat "$BATS_TEST_TMPDIR/pfd.out"
		assert_output --partial "exec failed: --preserve-fds"
	fi
	assert_equal "$(container_status ct)" created

	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	runvm exec ct true
	assert_equal "$status" 255
	assert_output --partial "exec failed: "
	assert_output --partial "stopped"
	runvm delete ct
	assert_success
	runvm exec ct true
	assert_equal "$status" 255
	assert_output --partial "does not exist"
}

@test "exec into a paused container fails unless --ignore-paused (which runs once resumed)" {
	set_args sleep 1000
	run_detached ct
	wait_for_status ct running
	runvm pause ct
	assert_success

	runvm exec ct true
	assert_equal "$status" 255
	assert_output --partial "exec failed: cannot exec in a paused container"

	# runc: the process joins the frozen container and runs when thawed.
	__runvm exec --ignore-paused ct echo after-resume >"$BATS_TEST_TMPDIR/ip.out" 2>&1 &
	local job=$!
	sleep 3
	assert_equal "$(container_status ct)" paused
	runvm resume ct
	assert_success
	wait_bg "$job"
	cat "$BATS_TEST_TMPDIR/ip.out"
	assert_equal "$status" 0
	run -0 cat "$BATS_TEST_TMPDIR/ip.out"
	assert_output after-resume

	assert_equal "$(container_status ct)" running
	runvm delete --force ct
	assert_success
}
