#!/usr/bin/env bats
# Fault injection: SIGKILL of each part of a container at the moments a
# shim's timeout or an OOM killer would hit it. Every fault must end with
# `state` telling the truth within a second and `delete --force` leaving no
# process, state dir, temp file, mount, cgroup dir or TAP behind.
#
# FAULT_TRIALS (default 2) trials per fault, run by FAULT_LOOPS (default 1)
# loops in parallel; `make soak` runs 50 trials in 4 loops and prints the
# counts (FAULT_COUNTS=1).

load helpers

FAULT_TRIALS=${FAULT_TRIALS:-2}
FAULT_LOOPS=${FAULT_LOOPS:-1}

cgroup_of() { echo "/faults-$$-$1"; }

cgroup_left() {
	ls -d /sys/fs/cgroup/*"$1" /sys/fs/cgroup"$1" 2>/dev/null || true
}

# The pid of NAME ("qemu", "virtiofsd") recorded in ID's state.json.
recorded_pid() {
	jq -r --arg n "$2" '(.processes // [])[] | select(.name == $n) | .pid' \
		"$ROOT/$1/state.json" 2>/dev/null
}

# Processes whose command line names ID's state dir (QEMU, virtiofsd) or
# ends in ID after this file's --root (create, run, the monitor).
container_procs() {
	local id=$1
	{
		pgrep -f -- "$ROOT/$id/"
		pgrep -f -- "--root $ROOT .* $id\$"
	} 2>/dev/null | sort -u || true
}

# state_within ID WANT: `state` says WANT (or, for "gone", fails) within 1 s.
state_within() {
	local id=$1 want=$2 deadline got
	deadline=$(($(date +%s%N) + 1000000000))
	while :; do
		got=$(__runvm state "$id" 2>/dev/null | jq -r .status 2>/dev/null)
		[ -z "$got" ] && got=gone
		if [ "$got" = "$want" ] || { [ "$want" = stopped ] && [ "$got" = gone ]; }; then
			return 0
		fi
		[ "$(date +%s%N)" -lt "$deadline" ] || break
		sleep 0.05
	done
	echo "$id: state '$got' after 1s, expected '$want'"
	return 1
}

# clean_after ID: delete --force succeeds and leaves nothing of ID.
clean_after() {
	local id=$1 left
	__runvm delete --force "$id" >/dev/null 2>"$BATS_TEST_TMPDIR/$id.delete-err" || {
		echo "$id: delete --force failed: $(cat "$BATS_TEST_TMPDIR/$id.delete-err")"
		return 1
	}
	left=$(container_procs "$id")
	# Processes killed by delete are gone when it returns (it waits).
	if [ -n "$left" ]; then
		echo "$id: processes left: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)")"
		kill -KILL $left 2>/dev/null
		return 1
	fi
	if [ -e "$ROOT/$id" ]; then
		echo "$id: state dir left"
		return 1
	fi
	if ls -d "$ROOT"/@new.* >/dev/null 2>&1 && [ -n "$(find "$ROOT" -maxdepth 1 -name '@new.*' -mmin +1)" ]; then
		echo "$id: stale temp dir left: $(ls -d "$ROOT"/@new.*)"
		return 1
	fi
	# Parallel loops share the root: another container's atomic write may
	# be in flight; a temp file of a minute is a leftover.
	if find "$ROOT" -maxdepth 2 -name '*.tmp' -mmin +1 | grep -q .; then
		echo "$id: temp file left: $(find "$ROOT" -maxdepth 2 -name '*.tmp' -mmin +1)"
		return 1
	fi
	if grep -q " $ROOT/$id" /proc/self/mountinfo; then
		echo "$id: mount left"
		return 1
	fi
	left=$(cgroup_left "$(cgroup_of "$id")")
	if [ -n "$left" ]; then
		echo "$id: cgroup dirs left: $left"
		return 1
	fi
	if ip -o link show 2>/dev/null | grep -q -- "$id"; then
		echo "$id: interface left"
		return 1
	fi
}

# A bundle per loop: sleep 1000, its own cgroup per container.
loop_bundle() {
	local dir=$BATS_TEST_TMPDIR/loop$1
	[ -d "$dir" ] && { echo "$dir"; return; }
	setup_bundle "$dir" >/dev/null
	update_config '.process.args = ["sleep", "1000"] | .process.terminal = false' "$dir"
	echo "$dir"
}

with_cgroup() { # BUNDLE ID
	update_config ".linux.cgroupsPath = \"$(cgroup_of "$2")\"" "$1"
}

# wait_for_file_json ID JQ: until state.json of ID satisfies JQ (bounded).
wait_for_state_json() {
	local id=$1 filter=$2 deadline=$((SECONDS + WAIT_TIMEOUT))
	until jq -e "$filter" "$ROOT/$id/state.json" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# --- one trial of each fault: prints nothing and returns 0 on success ---

# create killed at POINT: "dir" (as soon as its state dir exists), "qemu"
# (QEMU recorded: the guest is booting), "late" (0.8 s into the boot).
trial_create_killed() {
	local point=$1 id=$2 bundle=$3 cpid
	with_cgroup "$bundle" "$id"
	timeout -k 1 "$RUNVM_TIMEOUT" "$RUNVM" --root "$ROOT" create --bundle "$bundle" "$id" \
		</dev/null >/dev/null 2>&1 3>&- &
	cpid=$!
	case $point in
	dir) wait_for_state_json "$id" '.' ;;
	qemu | late) wait_for_state_json "$id" '(.processes // []) | map(.name) | index("qemu")' ;;
	esac || { kill -KILL $cpid; wait $cpid; echo "$id: never reached $point"; return 1; }
	[ "$point" = late ] && sleep "$(late_sleep)"
	# timeout(1) runs create as its child: kill create itself.
	pkill -KILL -P $cpid -f "create --bundle $bundle $id" 2>/dev/null || kill -KILL $cpid 2>/dev/null
	wait $cpid 2>/dev/null
	state_within "$id" stopped || { clean_after "$id"; return 1; }
	clean_after "$id"
}

start_running() { # ID BUNDLE
	with_cgroup "$2" "$1"
	__runvm run -d --bundle "$2" "$1" >/dev/null 2>"$BATS_TEST_TMPDIR/$1.err" || {
		echo "$1: run -d failed: $(cat "$BATS_TEST_TMPDIR/$1.err")"
		return 1
	}
}

# WHAT killed while the container runs: monitor, qemu or virtiofsd.
trial_running_killed() {
	local what=$1 id=$2 bundle=$3 pid
	start_running "$id" "$bundle" || return 1
	case $what in
	monitor) pid=$(__runvm state "$id" | jq .pid) ;;
	*) pid=$(recorded_pid "$id" "$what") ;;
	esac
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || { echo "$id: no $what pid"; clean_after "$id"; return 1; }
	kill -KILL "$pid"
	state_within "$id" stopped || { clean_after "$id"; return 1; }
	clean_after "$id"
}

# delete --force killed halfway (after it asked the monitor to stop).
trial_delete_killed() {
	local id=$1 bundle=$2 dpid
	start_running "$id" "$bundle" || return 1
	timeout -k 1 "$RUNVM_TIMEOUT" "$RUNVM" --root "$ROOT" delete --force "$id" </dev/null >/dev/null 2>&1 3>&- &
	dpid=$!
	sleep 0.0$((RANDOM % 10))
	pkill -KILL -P $dpid 2>/dev/null || kill -KILL $dpid 2>/dev/null
	wait $dpid 2>/dev/null
	# Either still there and saying so, or stopped, or gone.
	local got
	got=$(__runvm state "$id" 2>/dev/null | jq -r .status)
	case $got in "" | stopped | running) ;; *) echo "$id: state '$got' after a killed delete"; clean_after "$id"; return 1 ;; esac
	clean_after "$id"
}

# run_trials NAME FUNC ARGS...: FAULT_LOOPS loops of FAULT_TRIALS trials,
# in parallel; fails unless every trial passed.
run_trials() {
	local name=$1 l pids=() pass=0 fail=0
	shift
	for ((l = 0; l < FAULT_LOOPS; l++)); do
		local bundle
		bundle=$(loop_bundle "$l")
		(
			for ((t = 0; t < FAULT_TRIALS; t++)); do
				id=faults-$name-$l-$t
				if out=$("$@" "$id" "$bundle" 2>&1); then
					echo pass
				else
					echo "fail $out"
				fi
			done >"$BATS_TEST_TMPDIR/loop$l.results"
		) 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait_bg "$p" $((FAULT_TRIALS * 120))
	done
	for ((l = 0; l < FAULT_LOOPS; l++)); do
		pass=$((pass + $(grep -c '^pass' "$BATS_TEST_TMPDIR/loop$l.results" || true)))
		fail=$((fail + $(grep -c '^fail' "$BATS_TEST_TMPDIR/loop$l.results" || true)))
		grep -v "^pass" "$BATS_TEST_TMPDIR/loop$l.results" || true
	done
	[ -z "${FAULT_COUNTS:-}" ] || echo "# $name: $pass passed, $fail failed of $((FAULT_TRIALS * FAULT_LOOPS))" >&3
	[ "$fail" -eq 0 ] && [ "$pass" -eq $((FAULT_TRIALS * FAULT_LOOPS)) ]
}

# The accelerator is decided once per state root by a probe the monitor
# cannot interrupt; decided here, so trials measure the container alone.
setup_file() {
	runvm_setup_file
	local b
	b=$(mktemp -d /tmp/faults-warm.XXXXXX)
	RUNVM="$RUNVM" "$TESTS_TOP/tests/make-bundle.sh" "$b" true >/dev/null 2>&1 &&
		jq '.process.terminal = false' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json" &&
		timeout 120 "$RUNVM" --root "$ROOT" run --bundle "$b" faults-warm </dev/null >/dev/null 2>&1 3>&-
	timeout 30 "$RUNVM" --root "$ROOT" delete --force faults-warm >/dev/null 2>&1 3>&-
	# How long a create takes here once the verdict is cached: "late in
	# the boot" is a share of it, not a fixed time (a fast host is done
	# booting before a fixed 0.8 s).
	local t0 t1
	t0=$(date +%s%N)
	timeout 120 "$RUNVM" --root "$ROOT" create --bundle "$b" faults-timed </dev/null >/dev/null 2>&1 3>&-
	t1=$(date +%s%N)
	timeout 30 "$RUNVM" --root "$ROOT" delete --force faults-timed >/dev/null 2>&1 3>&-
	echo $(((t1 - t0) / 1000000)) >"$BATS_FILE_TMPDIR/create_ms"
	rm -rf "$b"
}

# late_sleep: 60% of a create's time here, in seconds (0.8 when unknown).
late_sleep() {
	local ms
	ms=$(cat "$BATS_FILE_TMPDIR/create_ms" 2>/dev/null || echo 1333)
	awk -v m="$ms" 'BEGIN { printf "%.3f", m * 0.6 / 1000 }'
}

teardown() {
	local d
	runvm_teardown
	for d in $(ls -d /sys/fs/cgroup/faults-$$-* /sys/fs/cgroup/*/faults-$$-* 2>/dev/null); do
		rmdir "$d" 2>/dev/null || true
	done
}

@test "create killed as soon as its state dir exists" {
	run_trials create-dir trial_create_killed dir
}

@test "create killed once QEMU runs (early boot)" {
	run_trials create-qemu trial_create_killed qemu
}

@test "create killed late in the boot" {
	run_trials create-late trial_create_killed late
}

@test "the monitor killed while the container runs" {
	run_trials monitor trial_running_killed monitor
}

@test "QEMU killed while the container runs" {
	run_trials qemu trial_running_killed qemu
}

@test "virtiofsd killed while the container runs" {
	run_trials virtiofsd trial_running_killed virtiofsd
}

@test "delete killed halfway" {
	run_trials delete trial_delete_killed
}

@test "virtiofsd's death is the container's: stopped with its reason, kill says not running" {
	local pid
	set_args sleep 1000
	runvm run -d --bundle "$BUNDLE" vfs
	assert_success
	pid=$(recorded_pid vfs virtiofsd)
	[ -n "$pid" ]
	kill -KILL "$pid"
	state_within vfs stopped
	run jq -r .reason "$ROOT/vfs/state.json"
	assert_output --partial "virtiofsd exited"
	runvm kill vfs KILL
	assert_failure
	assert_output --partial "container not running"
	runvm delete vfs
	assert_success
}

@test "a monitor whose create died records stopped with the reason" {
	local cpid
	set_args sleep 1000
	timeout -k 1 "$RUNVM_TIMEOUT" "$RUNVM" --root "$ROOT" create --bundle "$BUNDLE" orphan \
		</dev/null >/dev/null 2>&1 3>&- &
	cpid=$!
	wait_for_state_json orphan '(.processes // []) | map(.name) | index("qemu")'
	pkill -KILL -P $cpid -f "create --bundle" 2>/dev/null || kill -KILL $cpid 2>/dev/null
	wait $cpid 2>/dev/null || true
	state_within orphan stopped
	# It stays stopped: the monitor never comes back as `created`.
	sleep 2
	run container_status orphan
	assert_output stopped
	run jq -r .reason "$ROOT/orphan/state.json"
	assert_output "create exited before the container was created"
	[ -z "$(container_procs orphan)" ]
	runvm delete orphan
	assert_success
}

@test "delete never removes a state dir it cannot read" {
	set_args sleep 1000
	runvm run -d --bundle "$BUNDLE" unread
	assert_success
	cp "$ROOT/unread/state.json" "$BATS_TEST_TMPDIR/state.json"
	echo '{' >"$ROOT/unread/state.json"
	runvm delete --force unread
	assert_failure
	assert_output --partial "not removing a container whose processes may still run"
	[ -d "$ROOT/unread" ]
	cp "$BATS_TEST_TMPDIR/state.json" "$ROOT/unread/state.json"
	runvm delete --force unread
	assert_success
}

@test "a nearly full state root: create fails at once and cleanly, or works" {
	local small=$BATS_TEST_TMPDIR/small pages start rc failed=0 out
	set_args true
	mkdir -p "$small"
	mount -t tmpfs -o size=64k faults-small "$small"
	mkdir "$small/root"
	"$RUNVM" --root "$small/root" list >/dev/null
	# From full down to 6 free pages (4 KiB each), one run each.
	for pages in 0 1 2 3 4 5 6; do
		rm -f "$small/fill"
		dd if=/dev/zero of="$small/fill" bs=4k count=$((16 - pages)) 2>/dev/null || true
		start=$SECONDS
		out=$(timeout -k 5 60 "$RUNVM" --root "$small/root" run --bundle "$BUNDLE" "full$pages" \
			</dev/null 2>&1 3>&-) && rc=0 || rc=$?
		echo "$pages free pages: status $rc in $((SECONDS - start))s: $out"
		if [ "$rc" -ne 0 ]; then
			failed=$((failed + 1))
			[ "$rc" -eq 1 ] || { umount "$small"; fail "not a clean failure"; }
			[ $((SECONDS - start)) -lt 10 ] || { umount "$small"; fail "failure took too long"; }
			grep -q "no space left on device" <<<"$out" || { umount "$small"; fail "no reason given"; }
		fi
		[ -z "$(pgrep -f -- "--root $small/root")" ] || { umount "$small"; fail "process left"; }
		[ -z "$(ls "$small/root" | grep -v '^@host$')" ] || { ls -la "$small/root"; umount "$small"; fail "state left"; }
	done
	umount "$small"
	[ "$failed" -gt 0 ]
}

@test "create killed during a prestart hook: delete --force stops the monitor and the hook" {
	local cpid hook start
	set_args sleep 1000
	update_config '.hooks.prestart = [{"path": "/bin/sleep", "args": ["sleep", "1077.5"]}]'
	timeout -k 1 "$RUNVM_TIMEOUT" "$RUNVM" --root "$ROOT" create --bundle "$BUNDLE" inhook \
		</dev/null >/dev/null 2>&1 3>&- &
	cpid=$!
	local deadline=$((SECONDS + 30))
	until hook=$(pgrep -xf "sleep 1077.5"); do
		[ "$SECONDS" -lt "$deadline" ] || fail "the hook never ran"
		sleep 0.05
	done
	pkill -KILL -P $cpid -f "create --bundle" 2>/dev/null || kill -KILL $cpid 2>/dev/null
	wait $cpid 2>/dev/null || true
	# create runs the hooks for the monitor (docs/SECURITY.md): the hook
	# dies with create, and the monitor, seeing create gone, tears down
	# (stopped); or it has not noticed yet (creating).
	run container_status inhook
	[[ "$output" == creating || "$output" == stopped ]] || fail "status '$output'"
	start=$SECONDS
	runvm delete --force inhook
	assert_success
	[ $((SECONDS - start)) -lt 10 ]
	sleep 0.2
	[ -z "$(pgrep -xf "sleep 1077.5")" ] || fail "the hook outlived its monitor"
	[ ! -e "$ROOT/inhook" ]
}
