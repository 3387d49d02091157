#!/usr/bin/env bats
# runc compatibility of the command line, measured from outside: what a
# caller of runc sees (exit status, output, files) from kill, ps, exec
# --pid-file, events, --debug/--log, -h and --version, compared with runc
# 1.1 running the same bundle on this host.

load helpers

# runc_stopped ID: a runc container that ran `true` and is stopped.
runc_stopped() {
	runc_cmd run -d --bundle "$BUNDLE" "$1"
	[ "$runc_status" -eq 0 ] || return 1
	local deadline=$((SECONDS + 20))
	until timeout 10 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" state "$1" 2>/dev/null | jq -e '.status == "stopped"' >/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

@test "kill --all on a stopped container succeeds, kill without --all fails (runc)" {
	set_args true
	run_detached ct
	wait_for_status ct stopped
	runvm kill --all ct KILL
	assert_success
	assert_output ""
	runvm kill ct KILL
	assert_failure
	assert_output --partial "container not running"
	if have_runc; then
		runc_stopped rc-$BATS_TEST_NUMBER
		runc_cmd kill --all rc-$BATS_TEST_NUMBER KILL
		assert_equal "$runc_status" 0
		runc_cmd kill rc-$BATS_TEST_NUMBER KILL
		assert_equal "$runc_status" 1
		assert_regex "$runc_output" "container not running"
		runc_cleanup rc-$BATS_TEST_NUMBER
	fi
}

@test "ps on a stopped container prints the header only and succeeds; json is null (runc)" {
	set_args true
	run_detached ct
	wait_for_status ct stopped
	runvm_separate ps ct
	assert_success
	local header=$output
	assert_equal "$(wc -l <<<"$output")" 1
	assert_regex "$output" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$'
	runvm_separate ps -f json ct
	assert_success
	assert_output null
	if have_runc; then
		runc_stopped rc-$BATS_TEST_NUMBER
		runc_cmd ps rc-$BATS_TEST_NUMBER
		assert_equal "$runc_status" 0
		# The same header, column widths included (procps sizes the PID
		# columns for the host's pid_max).
		assert_equal "$header" "$runc_output"
		runc_cmd ps -f json rc-$BATS_TEST_NUMBER
		assert_equal "$runc_output" null
		runc_cleanup rc-$BATS_TEST_NUMBER
	fi
}

@test "ps: the UID column names users as the host's ps -ef does (root, not 0)" {
	set_args sleep 600
	run_detached ct
	wait_for_status ct running
	runvm ps ct
	assert_success
	# runc runs the host's ps -ef: uid 0 is the host's root.
	assert_regex "${lines[1]}" '^root +[0-9]+ +[0-9]+ '
	refute_regex "${lines[1]}" '^0 '
	runvm delete --force ct
}

@test "exec --pid-file in the foreground writes a live pid; a missing directory fails with 255 (runc)" {
	set_args sleep 600
	run_detached ct
	wait_for_status ct running
	# The pid file exists while the process runs, and names a live process.
	runvm exec --pid-file "$BATS_TEST_TMPDIR/exec.pid" ct sh -c 'sleep 1; echo done'
	assert_success
	assert_output done
	[ -s "$BATS_TEST_TMPDIR/exec.pid" ]
	grep -qxE '[0-9]+' "$BATS_TEST_TMPDIR/exec.pid"
	runvm exec --pid-file "$BATS_TEST_TMPDIR/no-such-dir/exec.pid" ct true
	assert_equal "$status" 255
	assert_output --partial "exec failed"
	assert_output --partial "no-such-dir"
	[ ! -e "$BATS_TEST_TMPDIR/no-such-dir" ]
	runvm delete --force ct
	if have_runc; then
		local id=rc-$BATS_TEST_NUMBER
		runc_cmd run -d --bundle "$BUNDLE" $id
		runc_cmd exec --pid-file "$BATS_TEST_TMPDIR/runc-exec.pid" $id true
		assert_equal "$runc_status" 0
		[ -s "$BATS_TEST_TMPDIR/runc-exec.pid" ]
		runc_cmd exec --pid-file "$BATS_TEST_TMPDIR/no-such-dir/exec.pid" $id true
		assert_equal "$runc_status" 255
		assert_regex "$runc_output" "exec failed"
		runc_cleanup $id
	fi
}

@test "--debug: every command prints runc-shaped level=debug lines on stderr and to --log" {
	set_args sleep 600
	runvm_separate --debug run -d --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct
	assert_success
	track_pid "$(cat "$BATS_TEST_TMPDIR/ct.pid")"
	local shape='^time="[0-9T:Z-]+" level=debug msg=".+"$'
	for cmd in "exec ct true" "state ct" "ps ct" "kill ct 0" "pause ct" "resume ct" "list"; do
		# shellcheck disable=SC2086
		runvm_separate --debug $cmd
		assert_success
		[ -n "$stderr" ] || fail "--debug $cmd printed nothing on stderr"
		while IFS= read -r l; do
			[[ $l =~ $shape ]] || fail "--debug $cmd: not runc's shape: $l"
		done <<<"$stderr"
	done
	# With --log the lines go to the file, not to stderr.
	runvm_separate --debug --log "$BATS_TEST_TMPDIR/log" exec ct true
	assert_success
	assert_equal "$stderr" ""
	grep -qE "$shape" "$BATS_TEST_TMPDIR/log"
	runvm_separate --debug delete --force ct
	assert_success
	grep -qE "$shape" <<<"$stderr"
	if have_runc; then
		local id=rc-$BATS_TEST_NUMBER
		runc_cmd run -d --bundle "$BUNDLE" $id
		timeout 30 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" --debug exec $id true 2>"$BATS_TEST_TMPDIR/runc.err" </dev/null
		grep -qE 'level=debug msg=' "$BATS_TEST_TMPDIR/runc.err"
		runc_cleanup $id
	fi
}

@test "events ends (status 0) when the container stops, and when it is deleted" {
	set_args sh -c 'sleep 3'
	run_detached ct
	wait_for_status ct running
	timeout 60 "$RUNVM" --root "$ROOT" events --interval 1s ct >"$BATS_TEST_TMPDIR/events" 2>&1 </dev/null 3>&- &
	local ev=$!
	wait_bg $ev 40
	assert_equal "$status" 0
	grep -q '"type":"stats"' "$BATS_TEST_TMPDIR/events"
	# Once events has ended, the container is stopped.
	assert_equal "$(container_status ct)" stopped
	runvm delete ct
	assert_success

	set_args sleep 600
	run_detached ct2
	wait_for_status ct2 running
	timeout 60 "$RUNVM" --root "$ROOT" events ct2 >"$BATS_TEST_TMPDIR/events2" 2>&1 </dev/null 3>&- &
	ev=$!
	sleep 1
	runvm delete --force ct2
	assert_success
	wait_bg $ev 20
	assert_equal "$status" 0
}

@test "-h, COMMAND -h and --version have runc's layout" {
	have_runc || skip "runc not installed"
	# --version: the version line, then commit:, spec:, and the toolchain
	# and libseccomp lines, each "key: value".
	runvm_separate --version
	assert_success
	assert_regex "${lines[0]}" '^runvm version [0-9]+\.[0-9]+\.[0-9]+'
	assert_regex "${lines[1]}" '^commit: .+'
	assert_regex "${lines[2]}" '^spec: [0-9]+\.[0-9]+\.[0-9]+'
	local theirs mine
	theirs=$("$RUNC" --version | sed 's/:.*//' | sed '1s/ .*//' | tr '\n' ' ')
	mine=$("$RUNVM" --version | sed 's/:.*//' | sed '1s/ .*//' | sed '1s/runvm/runc/' | tr '\n' ' ')
	# runc's go: line is runvm's cc: line.
	assert_equal "$mine" "${theirs/go /cc }"
	# -h: the same sections; VERSION holds the bare version then commit:...
	theirs=$("$RUNC" -h | grep -E '^[A-Z ]+:$' | tr '\n' ' ')
	mine=$("$RUNVM" -h | grep -E '^[A-Z ]+:$' | tr '\n' ' ')
	assert_equal "$mine" "$theirs"
	run -0 bash -c "'$RUNVM' -h | sed -n '/^VERSION:/{n;p}'"
	assert_regex "$output" '^   [0-9]+\.[0-9]+\.[0-9]+$'
	# Every runc command is listed, in runc's order (runvm's own, check and pool, stand before help).
	theirs=$("$RUNC" -h | sed -n '/^COMMANDS:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | tr '\n' ' ')
	mine=$("$RUNVM" -h | sed -n '/^COMMANDS:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | grep -vxE 'check|pool' | tr '\n' ' ')
	assert_equal "$mine" "$theirs"
	theirs=$("$RUNC" -h | grep -oE '^   --[a-z-]+' | tr '\n' ' ')
	mine=$("$RUNVM" -h | grep -oE '^   --[a-z-]+' | tr '\n' ' ')
	assert_equal "$mine" "$theirs"
	# COMMAND -h: the same sections in the same order, every runc flag, and
	# the OPTIONS list ending the way urfave/cli ends it.
	local c
	for c in create delete events exec kill list pause ps resume run spec start state update features; do
		theirs=$("$RUNC" $c -h | grep -E '^[A-Z]+:$' | tr '\n' ' ')
		mine=$("$RUNVM" $c -h | grep -E '^[A-Z]+:$' | tr '\n' ' ')
		assert_equal "$c: $mine" "$c: $theirs"
		theirs=$("$RUNC" $c -h | sed 's/runc/runvm/g' | sed -n '/^USAGE:/{n;p}')
		mine=$("$RUNVM" $c -h | sed -n '/^USAGE:/{n;p}')
		assert_equal "$c: $mine" "$c: $theirs"
		theirs=$("$RUNC" $c -h | grep -oE '^   --[a-z0-9-]+' | sort | tr '\n' ' ')
		mine=$("$RUNVM" $c -h | grep -oE '^   --[a-z0-9-]+' | sort | tr '\n' ' ')
		for f in $theirs; do
			[[ " $mine " == *" $f "* ]] || fail "$c -h: runc's flag $f is missing"
		done
		assert_equal "$c: $("$RUNVM" $c -h | tail -n1 | od -c)" "$c: $("$RUNC" $c -h | tail -n1 | sed 's/runc/runvm/g' | od -c)"
	done
}

@test "no cgroupsPath: the container's host processes are in a cgroup named after its ID, as runc's" {
	set_args sleep 600
	update_config 'del(.linux.cgroupsPath)'
	local id=compat-cg-$$-$BATS_TEST_NUMBER
	run_detached $id
	wait_for_status $id running
	local pid mine
	pid=$(__runvm state $id | jq .pid)
	mine=$(sed "s|$id|ID|" "/proc/$pid/cgroup")
	grep -q '/ID$' <<<"$mine"
	runvm delete --force $id
	assert_success
	# Nothing of it is left.
	[ -z "$(ls -d /sys/fs/cgroup/*/$id /sys/fs/cgroup/$id 2>/dev/null)" ]
	if have_runc; then
		local rid=compat-rcg-$$-$BATS_TEST_NUMBER
		runc_cmd run -d --bundle "$BUNDLE" $rid
		assert_equal "$runc_status" 0
		pid=$(timeout 10 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" state $rid | jq .pid)
		local theirs
		theirs=$(sed "s|$rid|ID|" "/proc/$pid/cgroup")
		runc_cleanup $rid
		assert_equal "$mine" "$theirs"
	fi
}

@test "events: an OOM kill reaches events within a second" {
	set_args sleep 600
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	run_detached ct
	wait_for_status ct running
	__runvm events --interval 30s ct >"$BATS_TEST_TMPDIR/ev.out" 2>"$BATS_TEST_TMPDIR/ev.err" &
	local job=$! i
	track_pid "$job"
	# The first stats line: the subscription is in place.
	wait_for_grep '"type":"stats"' "$BATS_TEST_TMPDIR/ev.out" 30
	# One 48 MiB buffer against a 32 MiB limit: the kill comes at once
	# (a workload growing its buffer step by step, like busybox tail with
	# one endless line, takes 10 s and more under TCG to get there).
	runvm exec ct dd if=/dev/zero of=/dev/null bs=48M count=1
	assert_equal "$status" 137
	for i in $(seq 10); do
		grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/ev.out" && break
		sleep 0.1
	done
	grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/ev.out" || fail "no oom event within a second of the kill"
	runvm delete --force ct
	wait_for_exit "$job" 20
}

# misuse RUNTIME-CMD...: every step of a container's life used wrongly, one
# line per command: its arguments, its error (runc's logrus text) and status.
misuse() {
	local rt=("$@") id=mis-$BATS_TEST_NUMBER out=$BATS_TEST_TMPDIR/misuse.out
	step() {
		timeout -k 5 60 "${rt[@]}" "$@" >"$out" 2>&1 </dev/null 3>&-
		local rc=$?
		echo "[$*] $(sed -E 's/^time="[^"]*" level=([a-z]+) msg=/\1 /; s/runvm|runc/RT/g' "$out" | tr '\n' '|') $rc"
	}
	step state $id
	step create --bundle "$BUNDLE" $id
	step start $id
	step start $id
	step resume $id
	step pause $id
	step pause $id
	step exec $id true
	step resume $id
	step delete $id
	step kill $id KILL
	local deadline=$((SECONDS + 30))
	until timeout 10 "${rt[@]}" state $id 2>/dev/null | jq -e '.status == "stopped"' >/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.2
	done
	step pause $id
	step resume $id
	step start $id
	step update --pids-limit 10 $id
	step events --stats $id
	step kill $id KILL
	step delete $id
	step delete $id
	step kill $id
}

@test "lifecycle misuse: each command's error and status are runc's" {
	set_args sleep 600
	local mine theirs
	mine=$(misuse "$RUNVM" --root "$ROOT")
	echo "$mine"
	assert_regex "$mine" 'resume mis-[0-9]+\] error "container not paused"\| 1'
	if have_runc; then
		theirs=$(misuse "$RUNC" --root "$BATS_TEST_TMPDIR/runc")
		runc_cleanup mis-$BATS_TEST_NUMBER
		assert_equal "$mine" "$theirs"
	fi
}
