#!/usr/bin/env bats
# create / start / kill / delete, and what state and list show on the way.

load helpers

RFC3339NANO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'

# assert_listed ID STATUS PID: `list` (table, json, -q) shows the container.
assert_listed() {
	local id=$1 want=$2 pid=$3
	runvm list
	assert_success
	assert_line --index 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
	assert_line --regexp "^$id +$pid +$want +$BUNDLE +[0-9T:.Z-]+ +[a-z0-9]+$"

	runvm list --format json
	assert_success
	assert_equal "${#lines[@]}" 1
	run -0 jq -r --arg id "$id" '.[] | select(.id == $id) | "\(.status) \(.pid) \(.bundle)"' <<<"$output"
	assert_output "$want $pid $BUNDLE"

	runvm list -q
	assert_success
	assert_output "$id"
}

@test "state and list through created, running and stopped" {
	set_args sleep 1000
	create_container ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	[[ $pid =~ ^[0-9]+$ ]] || fail "pid file holds '$pid' (digits only, no newline)"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ct.pid")" -eq 0 ] || fail "pid file ends with a newline"
	pid_alive "$pid" || fail "pid $pid from the pid file is not alive"

	runvm_separate state ct
	assert_success
	assert_equal "$stderr" ""
	local st=$output
	run -0 jq -r '.id, .status, .pid, .bundle, .rootfs' <<<"$st"
	assert_output "$(printf '%s\n' ct created "$pid" "$BUNDLE" "$BUNDLE/rootfs")"
	run -0 jq -r '.created' <<<"$st"
	assert_output --regexp "$RFC3339NANO"
	assert_listed ct created "$pid"

	runvm start ct
	assert_success
	assert_equal "$(container_status ct)" running
	assert_listed ct running "$pid"
	pid_alive "$pid"

	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	wait_for_exit "$pid" 30
	runvm state ct
	assert_success
	run -0 jq -r '.status, .pid' <<<"$output"
	assert_output $'stopped\n0'
	assert_listed ct stopped 0

	runvm delete ct
	assert_success
	runvm state ct
	assert_failure 1
	assert_output --partial "container does not exist"
	runvm list -q
	assert_output ""
}

@test "kill in the created state stops the container" {
	set_args sleep 1000
	create_container ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	wait_for_exit "$pid" 30
	runvm delete ct
	assert_success
}

@test "kill delivers signals by name, SIG name and number" {
	# sh as init only gets signals it has a handler for.
	set_args sh -c 'trap "echo got-usr1" USR1; trap "echo got-hup" HUP; trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'
	run_detached ct
	wait_for_status ct running
	local deadline=$((SECONDS + 30))
	until grep -q ready "$BATS_TEST_TMPDIR/ct.out"; do
		[ "$SECONDS" -lt "$deadline" ] || fail "container never said ready"
		sleep 0.2
	done

	runvm kill ct USR1
	assert_success
	runvm kill ct SIGHUP
	assert_success
	deadline=$((SECONDS + 30))
	until grep -q got-usr1 "$BATS_TEST_TMPDIR/ct.out" && grep -q got-hup "$BATS_TEST_TMPDIR/ct.out"; do
		[ "$SECONDS" -lt "$deadline" ] || fail "signals not delivered: $(cat "$BATS_TEST_TMPDIR/ct.out")"
		sleep 0.2
	done
	assert_equal "$(container_status ct)" running

	# No signal: SIGTERM.
	runvm kill ct
	assert_success
	wait_for_status ct stopped
	runvm delete ct
	assert_success
}

@test "delete: created container is killed and removed" {
	set_args sleep 1000
	create_container ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	runvm delete ct
	assert_success
	wait_for_exit "$pid" 10
	runvm state ct
	assert_failure 1
	assert_output --partial "container does not exist"
}

@test "delete: running container needs --force" {
	set_args sleep 1000
	run_detached ct
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	wait_for_status ct running

	runvm delete ct
	assert_failure 1
	assert_output --partial "cannot delete container ct that is not stopped: running"
	assert_equal "$(container_status ct)" running

	runvm delete --force ct
	assert_success
	# delete is synchronous: the init is gone when it returns.
	wait_for_exit "$pid" 5
	runvm state ct
	assert_failure 1
}

@test "start twice, and start of a stopped container" {
	set_args sleep 1000
	create_container ct
	runvm start ct
	assert_success
	runvm start ct
	assert_failure 1
	assert_output --partial "cannot start an already running container"

	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	runvm start ct
	assert_failure 1
	assert_output --partial "cannot start a container that has stopped"
	runvm delete ct
	assert_success
}

@test "create with an existing ID fails and leaves the first container alone" {
	set_args sleep 1000
	create_container ct
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --regexp 'container with (given )?[Ii][Dd] (already )?exists'
	assert_equal "$(container_status ct)" created
	runvm delete --force ct
	assert_success
}

@test "run -d: pid file, running state, and the workload's view" {
	set_args sh -c 'echo "pid=$$"; sleep 1000'
	run_detached ct
	wait_for_status ct running
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	runvm state ct
	run -0 jq -r .pid <<<"$output"
	assert_output "$pid"
	# The process is init of its own pid namespace.
	local deadline=$((SECONDS + 30))
	until grep -q '^pid=' "$BATS_TEST_TMPDIR/ct.out"; do
		[ "$SECONDS" -lt "$deadline" ] || fail "no output from the container"
		sleep 0.2
	done
	run -0 cat "$BATS_TEST_TMPDIR/ct.out"
	assert_output "pid=1"
	runvm delete --force ct
	assert_success
}

@test "delete of a detached container returns once the monitor's pid namespace has ended" {
	set_args sleep 1000
	run_detached ct
	wait_for_status ct running
	local init cgroup
	init=$(jq -r .pidns_init_pid "$ROOT/ct/state.json")
	[ "$init" -gt 1 ] || fail "no pidns_init_pid in state.json: $init"
	pid_alive "$init" || fail "the pid namespace's init $init is not running"
	cgroup=$(jq -r '.cgroup_dirs[0] // empty' "$ROOT/ct/state.json")
	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	runvm delete ct
	assert_success
	# No grace period: what was in the namespace is gone when delete returns.
	! pid_alive "$init" || fail "pidns init $init outlived delete"
	[ -z "$cgroup" ] || [ ! -d "$cgroup" ] || fail "host cgroup $cgroup outlived delete"
}
