#!/usr/bin/env bats
# Operations on a live container: ps, pause/resume, events (stats, interval,
# oom), update, kill --all and kill 0. Every test also runs with
# RUNVM=/usr/sbin/runc (host cgroup v1 here); where runvm decides something
# runc does not do (ps arguments, a limit above the VM's memory, events
# ending with the container) the runvm-only part says so.

load helpers

# lines_in FILE: number of lines in FILE (0 when missing).
lines_in() { wc -l <"$1" 2>/dev/null || echo 0; }

# wait_lines FILE N [SECONDS]: until FILE has at least N lines.
wait_lines() {
	local deadline=$((SECONDS + ${3:-$WAIT_TIMEOUT}))
	until [ "$(lines_in "$1")" -ge "$2" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "$1 has $(lines_in "$1") lines, expected $2 or more:"
			cat "$1"
			return 1
		fi
		sleep 0.2
	done
}

@test "ps: json is the container's host pids (with state's pid and an exec's), table shows the workload" {
	set_args sleep 1000
	run_detached ct
	wait_for_status ct running
	local pid expid
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	runvm exec -d --pid-file "$BATS_TEST_TMPDIR/ex.pid" ct sleep 999
	assert_success
	expid=$(cat "$BATS_TEST_TMPDIR/ex.pid")
	track_pid "$expid"

	# containerd parses this as []int: nothing on stderr, ints only.
	runvm_separate ps --format json ct
	assert_success
	assert_equal "$stderr" ""
	run -0 jq -e --argjson p "$pid" --argjson e "$expid" \
		'type == "array" and all(.[]; type == "number" and . > 0) and index($p) != null and index($e) != null' <<<"$output"
	runvm ps -f json ct
	assert_success
	run -0 jq -e 'type == "array"' <<<"$output"

	runvm ps ct
	assert_success
	assert_line --index 0 --regexp '(^| )PID( |$)'
	assert_output --partial "sleep 1000"
	assert_output --partial "sleep 999"

	if is_runvm; then
		# ps options are the host ps's: refused, the processes are in the VM.
		runvm ps ct -ef
		assert_failure 1
		assert_output --partial "ps options are not supported"
	else
		runvm ps ct -o pid,args
		assert_success
		assert_output --partial "sleep 999"
	fi

	runvm ps --format yaml ct
	assert_failure 1
	runvm ps --format json nosuch
	assert_failure 1
	assert_output --partial "does not exist"

	runvm delete --force ct
	assert_success
	wait_for_exit "$expid" 10
}

@test "pause/resume: running -> paused -> running, a paused workload makes no progress; errors" {
	set_args sh -c 'i=0; while :; do i=$((i + 1)); echo "$i"; sleep 0.2; done'
	run_detached ct
	wait_for_status ct running
	local out=$BATS_TEST_TMPDIR/ct.out n1 n2
	wait_lines "$out" 3

	runvm pause ct
	assert_success
	assert_equal "$(container_status ct)" paused
	runvm state ct
	run -0 jq -r .status <<<"$output"
	assert_output paused
	# Output already written may still be on its way: count after a moment,
	# then again later.
	sleep 1
	n1=$(lines_in "$out")
	sleep 3
	n2=$(lines_in "$out")
	assert_equal "$n2" "$n1"

	runvm pause ct
	assert_failure 1
	runvm resume ct
	assert_success
	assert_equal "$(container_status ct)" running
	wait_lines "$out" $((n2 + 3)) 30
	runvm resume ct
	assert_failure 1
	assert_output --partial "container not paused"

	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	runvm pause ct
	assert_failure 1
	assert_output --partial "container not running"
	runvm resume ct
	assert_failure 1
	assert_equal "$(container_status ct)" stopped
	runvm delete ct
	assert_success
}

@test "pause/resume in the created state returns to created; start then works" {
	set_args sh -c 'echo started'
	create_container ct
	runvm pause ct
	assert_success
	assert_equal "$(container_status ct)" paused
	runvm start ct
	assert_failure 1
	runvm resume ct
	assert_success
	assert_equal "$(container_status ct)" created
	runvm start ct
	assert_success
	wait_for_status ct stopped
	run -0 cat "$BATS_TEST_TMPDIR/ct.out"
	assert_output started
	runvm delete ct
	assert_success
}

@test "events: --stats prints one stats event; --interval prints them until the container ends" {
	set_args sleep 1000
	run_detached ct
	wait_for_status ct running

	runvm_separate events --stats ct
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
	run -0 jq -e '.type == "stats" and .id == "ct" and (.data | has("cpu") and has("memory") and has("pids"))
		and (.data.memory.usage.usage > 0) and (.data.pids.current >= 1)' <<<"$output"

	__runvm events --interval 1s ct >"$BATS_TEST_TMPDIR/ev.out" 2>"$BATS_TEST_TMPDIR/ev.err" &
	local job=$!
	wait_lines "$BATS_TEST_TMPDIR/ev.out" 3 30
	run -0 jq -se 'length >= 3 and all(.[]; .type == "stats" and .id == "ct")' "$BATS_TEST_TMPDIR/ev.out"

	runvm kill ct KILL
	assert_success
	wait_for_status ct stopped
	if is_runvm; then
		# runvm's events ends with the container.
		wait_for_exit "$job" 20
	else
		# runc's ends once the cgroup is gone, i.e. at delete.
		runvm delete ct
		assert_success
		wait_for_exit "$job" 20
	fi
	wait "$job" || true
	cat "$BATS_TEST_TMPDIR/ev.err"
	runvm delete --force ct
	assert_success
}

@test "events: an OOM kill in the container is an oom event" {
	set_args sleep 1000
	# memory + swap at the same limit: nothing escapes to swap.
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	run_detached ct
	wait_for_status ct running

	__runvm events --interval 2s ct >"$BATS_TEST_TMPDIR/ev.out" 2>"$BATS_TEST_TMPDIR/ev.err" &
	local job=$!
	track_pid "$job"
	wait_lines "$BATS_TEST_TMPDIR/ev.out" 1 30
	# tail keeps a line that never ends: 100 MiB against a 32 MiB limit.
	runvm exec ct sh -c 'head -c 100m /dev/zero | tail -n 1 | wc -c'
	refute_output --partial 104857600
	wait_for_grep '"type":"oom"' "$BATS_TEST_TMPDIR/ev.out" 60
	# One event per OOM the kernel reports (runc on v1 may see two); runc's
	# type and id, and from runvm what the VM had (docs/RESOURCES.md).
	run -0 sh -c 'jq -c "select(.type == \"oom\") | {type, id}" "$1" | sort -u' sh "$BATS_TEST_TMPDIR/ev.out"
	assert_output '{"type":"oom","id":"ct"}'
	if ! is_runc_under_test; then
		run -0 jq -s -c 'map(select(.type == "oom"))[0].data | {memory_limit, has_vm: (.vm_memory_mib > 0)}' "$BATS_TEST_TMPDIR/ev.out"
		assert_output '{"memory_limit":33554432,"has_vm":true}'
	fi
	assert_equal "$(container_status ct)" running

	runvm delete --force ct
	assert_success
	wait_for_exit "$job" 20
	wait "$job" || true
}

@test "update: --memory, --pids-limit, -r FILE, -r - change the cgroup; a limit above the VM is refused" {
	set_args sleep 1000
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	run_detached ct
	wait_for_status ct running
	# v2 in runvm's guest; v1 for runc on this host.
	local show='cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
		cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max'

	runvm update --memory 100m ct
	assert_success
	runvm update --pids-limit 10 ct
	assert_success
	runvm exec ct sh -c "$show"
	assert_success
	assert_output $'104857600\n10'

	echo '{"memory": {"limit": 83886080}, "pids": {"limit": 20}}' >"$BATS_TEST_TMPDIR/res.json"
	runvm update -r "$BATS_TEST_TMPDIR/res.json" ct
	assert_success
	runvm exec ct sh -c "$show"
	assert_output $'83886080\n20'

	# From stdin, as containerd sends it: only what is present changes.
	echo '{"pids": {"limit": 30}}' >"$BATS_TEST_TMPDIR/res2.json"
	RUNVM_STDIN=$BATS_TEST_TMPDIR/res2.json runvm update --resources=- ct
	assert_success
	runvm exec ct sh -c "$show"
	assert_output $'83886080\n30'
	runvm events --stats ct
	run -0 jq -r '.data.pids.limit, .data.memory.usage.limit' <<<"$output"
	assert_output $'30\n83886080'

	if is_runvm; then
		# The VM (default_memory_mib, 2048, without a limit) cannot grow
		# while it runs.
		runvm update --memory 4g ct
		assert_failure 1
		assert_output --partial "exceeds the VM's"
		runvm exec ct sh -c "$show"
		assert_output $'83886080\n30'
	fi

	runvm update ct extra-arg
	assert_failure 1
	runvm update --memory 100m nosuch
	assert_failure 1
	assert_output --partial "does not exist"

	runvm delete --force ct
	assert_success
}

@test "kill --all reaches every process (exec'd ones too); kill 0 probes" {
	set_args sh -c 'trap "echo init-got-usr1" USR1; echo ready; while :; do sleep 0.1; done'
	run_detached ct
	wait_for_status ct running
	wait_for_grep ready "$BATS_TEST_TMPDIR/ct.out" 30
	__runvm exec -d --pid-file "$BATS_TEST_TMPDIR/ex.pid" ct \
		sh -c 'trap "echo exec-got-usr1" USR1; echo ready; while :; do sleep 0.1; done' \
		>"$BATS_TEST_TMPDIR/ex.out" 2>&1 && status=0 || status=$?
	assert_equal "$status" 0
	local expid
	expid=$(cat "$BATS_TEST_TMPDIR/ex.pid")
	track_pid "$expid"
	wait_for_grep ready "$BATS_TEST_TMPDIR/ex.out" 30

	runvm kill ct 0
	assert_success
	runvm kill --all ct USR1
	assert_success
	wait_for_grep init-got-usr1 "$BATS_TEST_TMPDIR/ct.out" 30
	wait_for_grep exec-got-usr1 "$BATS_TEST_TMPDIR/ex.out" 30
	assert_equal "$(container_status ct)" running

	runvm kill -a ct KILL
	assert_success
	wait_for_status ct stopped
	wait_for_exit "$expid" 30
	runvm kill ct 0
	assert_failure 1
	assert_output --partial "container not running"
	runvm delete ct
	assert_success
}
