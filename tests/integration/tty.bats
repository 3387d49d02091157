#!/usr/bin/env bats
# Terminals: the pty master sent over a console socket (CONTRACT.md §5),
# consoleSize applied first, resizes of the master seen by the container,
# input through the master, exec -t (detached with a console socket, and in
# the foreground on the caller's tty), foreground run with a terminal, and
# the tty rules' errors. Every test also passes with RUNVM=/usr/sbin/runc.

load helpers

# Bounded receivers: a boot takes seconds, a lost byte must not take minutes.
RECVTTY_TIMEOUT=45

# A script that shows the size, the tty, then waits for a line of input
# (the receiver resizes the master before sending it) and shows them again.
TTY_SCRIPT='stty size; tty; read -r x; stty size; echo "got=$x"; exit 3'

@test "create --console-socket: consoleSize, tty, resize and input through the master" {
	set_args sh -c "$TTY_SCRIPT"
	update_config '.process.terminal = true | .process.consoleSize = {"height": 30, "width": 100}'
	# Resize only once the first size is out, then answer the read.
	recvtty_start ct wait $'30 100\r\n' size 40 120 sleep 300 write $'hello\r'
	create_container ct --console-socket "$RECVTTY_SOCK"
	# The master arrived before create returned (conmon's "Runtime did not
	# set up terminal"): the receiver wrote the name it came with.
	run -0 cat "$BATS_TEST_TMPDIR/ct.tty-name"
	assert_output --regexp '^/dev/'
	# With a tty the runtime keeps nothing of the caller's stdio.
	run -0 cat "$BATS_TEST_TMPDIR/ct.out" "$BATS_TEST_TMPDIR/ct.err"
	assert_output ""
	assert_equal "$(container_status ct)" created

	runvm start ct
	assert_success
	recvtty_wait ct
	assert_equal "$status" 0
	assert_line --index 0 "30 100"
	# runc: /dev/pts/0; runvm: the guest pty bound on /dev/console.
	assert_line --index 1 --regexp '^/dev/(pts/[0-9]+|console)$'
	assert_line "40 120"
	assert_line "got=hello"
	wait_for_status ct stopped
	runvm delete ct
	assert_success
}

@test "exec -t in the foreground on a pty; exec -t -d --console-socket: size, resize, input" {
	set_args sleep 1000
	run_detached ct
	wait_for_status ct running

	# Foreground exec -t on the caller's tty: input and output through it,
	# the process's exit status returned.
	SCRIPT_STDIN=<(sleep 3; echo typed) in_script "$RUNVM --root $ROOT exec -t ct sh -c 'tty; read -r x; echo \"got=\$x\"; exit 4'"
	assert_equal "$status" 4
	assert_line --regexp '/dev/pts/[0-9]+$'
	assert_line "got=typed"

	# Detached, with a console socket. The process reads a line first, so the size set here is in place
	# before it looks (exec has no consoleSize unless -p gives one).
	recvtty_start ex size 30 100 write $'go\r' wait $'30 100\r\n' size 40 120 sleep 300 write $'hello\r'
	runvm exec -t -d --pid-file "$BATS_TEST_TMPDIR/ex.pid" --console-socket "$RECVTTY_SOCK" ct \
		sh -c "read -r x; $TTY_SCRIPT"
	assert_success
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ex.pid")
	[[ $pid =~ ^[0-9]+$ ]] || fail "pid file holds '$pid'"
	track_pid "$pid"
	recvtty_wait ex
	assert_equal "$status" 0
	assert_line "30 100"
	assert_line --regexp '^/dev/pts/[0-9]+$'
	assert_line "40 120"
	assert_line "got=hello"
	wait_for_exit "$pid" 30

	assert_equal "$(container_status ct)" running
	runvm delete --force ct
	assert_success
}

@test "run in the foreground with a terminal: the caller's tty, input and exit status" {
	set_args sh -c 'tty; read -r x; echo "got=$x"; exit 5'
	update_config '.process.terminal = true'
	SCRIPT_STDIN=<(sleep 5; echo typed) in_script "$RUNVM --root $ROOT run --bundle $BUNDLE ct"
	assert_equal "$status" 5
	assert_line --regexp '^/dev/(pts/[0-9]+|console)$'
	assert_line "got=typed"
	runvm state ct
	assert_failure 1
}

@test "tty rules: terminal without a console socket when detached; socket without a terminal" {
	local detach_msg="cannot allocate tty if $RUNVM_NAME will detach without setting console socket"
	local socket_msg="cannot use console socket if $RUNVM_NAME will not detach or allocate tty"
	update_config '.process.terminal = true'
	runvm run -d --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial "$detach_msg"
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial "$detach_msg"
	runvm state ct
	assert_failure 1

	update_config '.process.terminal = false'
	runvm create --bundle "$BUNDLE" --console-socket "$BATS_TEST_TMPDIR/nobody-listens.sock" ct
	assert_failure 1
	assert_output --partial "$socket_msg"
	runvm run -d --bundle "$BUNDLE" --console-socket "$BATS_TEST_TMPDIR/nobody-listens.sock" ct
	assert_failure 1
	assert_output --partial "$socket_msg"
	runvm list -q
	assert_output ""
}
