# Shared helpers for runvm's integration tests (bats-core).
#
# Environment:
#   RUNVM          runtime binary under test (default: build/bin/runvm);
#                  RUNVM=/usr/sbin/runc checks the tests against runc.
#   RUNVM_TIMEOUT  seconds allowed for one runtime call (default 90)
#   WAIT_TIMEOUT   seconds allowed for a state change to show (default 60)
#
# Every test gets its own bundle ($BUNDLE, busybox rootfs copied from a
# per-run cache) and every test file its own --root ($ROOT). The teardown
# force-deletes what a test left and then fails the test if anything
# leaked: a process started by it (runtime, monitor, qemu, virtiofsd, or a
# pid it recorded with track_pid), a container state dir under $ROOT, or a
# mount under $ROOT or the test's temp dir.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

TESTS_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
RUNVM=${RUNVM:-$TESTS_TOP/build/bin/runvm}
RUNVM_NAME=$(basename "$RUNVM")
RUNVM_TIMEOUT=${RUNVM_TIMEOUT:-90}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}

# A runtime under test is runvm unless its name says otherwise; a few
# assertions (version line, VM processes) depend on it.
is_runvm() { [ "$RUNVM_NAME" = runvm ]; }

# refuses_config_values KEY VALUE...: each value of KEY in runvm.conf is one
# error line naming the file, the line and the key, and leaves nothing.
refuses_config_values() {
	local key=$1 bad conf=$BATS_TEST_TMPDIR/runvm.conf
	shift
	for bad in "$@"; do
		echo "$key = $bad" >"$conf"
		RUNVM_CONFIG=$conf runvm check
		assert_failure
		[ "${#lines[@]}" -eq 1 ]
		assert_output --partial "msg=\"\`$conf\` line 1: invalid value for \`$key\`\""
	done
	[ -z "$(ls -A "$ROOT" 2>/dev/null | grep -v '^@host$')" ]
}

# --- the runtime -------------------------------------------------------

# __runvm ARGS...: the runtime with the test file's --root, bounded in time,
# fd 3 (bats' own) closed so a daemonised child can never hold it.
# stdin is /dev/null unless RUNVM_STDIN names a file.
__runvm() {
	timeout -k 5 "$RUNVM_TIMEOUT" "$RUNVM" --root "$ROOT" "$@" \
		<"${RUNVM_STDIN:-/dev/null}" 3>&-
}

# runvm ARGS...: like bats' `run`: sets $status, $output, $lines, and echoes
# the command and what it printed (shown when a test fails). Output is
# captured through a file, not a pipe, so a container whose stdio is the
# caller's (create, run -d) cannot hold the capture open.
runvm() {
	local out
	out=$(mktemp "$BATS_TEST_TMPDIR/runvm-out.XXXXXX")
	echo "\$ $RUNVM_NAME $*"
	__runvm "$@" >"$out" 2>&1 && status=0 || status=$?
	output=$(cat "$out")
	lines=()
	if [ -n "$output" ]; then
		mapfile -t lines <<<"$output"
	fi
	echo "$output"
	echo "(status $status)"
	rm -f "$out"
}

# runvm_separate ARGS...: as runvm, but $output is stdout and $stderr stderr.
runvm_separate() {
	local out err
	out=$(mktemp "$BATS_TEST_TMPDIR/runvm-out.XXXXXX")
	err=$(mktemp "$BATS_TEST_TMPDIR/runvm-err.XXXXXX")
	echo "\$ $RUNVM_NAME $*"
	__runvm "$@" >"$out" 2>"$err" && status=0 || status=$?
	output=$(cat "$out")
	stderr=$(cat "$err")
	lines=()
	if [ -n "$output" ]; then
		mapfile -t lines <<<"$output"
	fi
	echo "stdout: $output"
	echo "stderr: $stderr"
	echo "(status $status)"
	rm -f "$out" "$err"
}

# create_container ID [ARGS...]: `create` with $BUNDLE and a pid file; the
# container's stdout/stderr go to $BATS_TEST_TMPDIR/ID.out / ID.err.
create_container() {
	local id=$1
	shift
	echo "\$ $RUNVM_NAME create --bundle $BUNDLE --pid-file $BATS_TEST_TMPDIR/$id.pid $* $id"
	__runvm create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/$id.pid" "$@" "$id" \
		>"$BATS_TEST_TMPDIR/$id.out" 2>"$BATS_TEST_TMPDIR/$id.err" && status=0 || status=$?
	echo "(status $status)"
	if [ "$status" -ne 0 ]; then
		cat "$BATS_TEST_TMPDIR/$id.err"
		return 1
	fi
	track_pid "$(cat "$BATS_TEST_TMPDIR/$id.pid")"
}

# run_detached ID: `run -d` with $BUNDLE and a pid file, output as above.
run_detached() {
	local id=$1
	echo "\$ $RUNVM_NAME run -d --bundle $BUNDLE --pid-file $BATS_TEST_TMPDIR/$id.pid $id"
	__runvm run -d --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/$id.pid" "$id" \
		>"$BATS_TEST_TMPDIR/$id.out" 2>"$BATS_TEST_TMPDIR/$id.err" && status=0 || status=$?
	echo "(status $status)"
	if [ "$status" -ne 0 ]; then
		cat "$BATS_TEST_TMPDIR/$id.err"
		return 1
	fi
	track_pid "$(cat "$BATS_TEST_TMPDIR/$id.pid")"
}

# container_status ID: prints the status from `state` ("" when it fails).
container_status() {
	__runvm state "$1" 2>/dev/null | jq -r .status 2>/dev/null
}

# wait_for_status ID STATUS [SECONDS]: poll `state` until STATUS shows.
wait_for_status() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-$WAIT_TIMEOUT})) cur=
	while [ "$SECONDS" -le "$deadline" ]; do
		cur=$(container_status "$id")
		[ "$cur" = "$want" ] && return 0
		# stopped is final: waiting longer for another status is pointless.
		[ "$cur" = stopped ] && break
		sleep 0.2
	done
	echo "container $id: status '$cur', expected '$want' (waited up to ${3:-$WAIT_TIMEOUT}s)"
	return 1
}

# wait_for_exit PID [SECONDS]: wait until PID is gone (or a zombie).
wait_for_exit() {
	local pid=$1 deadline=$((SECONDS + ${2:-$WAIT_TIMEOUT}))
	while [ "$SECONDS" -le "$deadline" ]; do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "pid $pid still alive after ${2:-$WAIT_TIMEOUT}s"
	return 1
}

# wait_bg PID [SECONDS]: `wait` for a background job of this shell with a
# deadline (SIGKILL after it); sets $status to its exit status.
wait_bg() {
	local pid=$1 deadline=$((SECONDS + ${2:-$RUNVM_TIMEOUT}))
	while kill -0 "$pid" 2>/dev/null && [ "$(proc_state "$pid")" != Z ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "background job $pid did not finish in time; killing it"
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$pid" && status=0 || status=$?
}

# --- bundles -----------------------------------------------------------

# The busybox rootfs and base config.json are made once per bats run.
_bundle_cache() {
	local cache=$BATS_RUN_TMPDIR/bundle-cache
	(
		flock 9
		if [ ! -e "$cache/done" ]; then
			rm -rf "$cache"
			mkdir -p "$cache"
			"$TESTS_TOP/tests/make-bundle.sh" --rootfs "$cache/rootfs" >&2 &&
				RUNVM="$RUNVM" "$TESTS_TOP/tests/make-bundle.sh" --config "$cache" sh >&2 &&
				touch "$cache/done"
		fi
	) 9>"$BATS_RUN_TMPDIR/bundle-cache.lock"
	[ -e "$cache/done" ] || { echo "could not make the test bundle"; return 1; }
	echo "$cache"
}

# setup_bundle [DIR]: a fresh bundle in DIR (default $BATS_TEST_TMPDIR/bundle),
# exported as $BUNDLE; process.args = ["sh"].
setup_bundle() {
	local cache
	cache=$(_bundle_cache) || return 1
	BUNDLE=${1:-$BATS_TEST_TMPDIR/bundle}
	mkdir -p "$BUNDLE"
	cp -a "$cache/rootfs" "$BUNDLE/rootfs"
	cp "$cache/config.json" "$BUNDLE/config.json"
	export BUNDLE
}

# update_config JQ_FILTER [BUNDLE]: edit config.json in place.
update_config() {
	local cfg=${2:-$BUNDLE}/config.json
	jq --tab "$1" "$cfg" >"$cfg.tmp" && mv "$cfg.tmp" "$cfg"
}

# json_array ARG...: a JSON array of strings (jq's --args would take "-c" as
# its own option).
json_array() {
	local a out=
	for a in "$@"; do
		out+=${out:+,}$(jq -cn --arg a "$a" '$a')
	done
	echo "[$out]"
}

# set_args ARG...: process.args = ARGS.
set_args() {
	local args
	args=$(json_array "$@")
	update_config ".process.args = $args"
}

# --- helper programs ---------------------------------------------------

# subreaper_bin: path of the compiled subreaper helper (built once a run).
subreaper_bin() {
	local bin=$BATS_RUN_TMPDIR/subreaper
	(
		flock 9
		[ -x "$bin" ] || cc -O2 -Wall -o "$bin" "$TESTS_TOP/tests/integration/subreaper.c" >&2
	) 9>"$BATS_RUN_TMPDIR/subreaper.lock"
	[ -x "$bin" ] && echo "$bin"
}

# --- leak checks -------------------------------------------------------

proc_state() { # PID -> one-letter state, "" when gone
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	echo "${stat%% *}"
}

pid_alive() { # alive and not a zombie
	local s
	s=$(proc_state "$1")
	[ -n "$s" ] && [ "$s" != Z ]
}

# track_pid PID: a process the test expects gone by the end of the test.
track_pid() {
	[ -n "$1" ] || return 0
	echo "$1 $(awk '{print $22}' "/proc/$1/stat" 2>/dev/null)" >>"$BATS_TEST_TMPDIR/.tracked-pids"
}

# Prints "PID CMDLINE" for every live process that belongs to this test:
# tracked pids (same start time), and any process whose command line or
# working directory points into $ROOT or the test's temp dir. One ps, one
# find and one awk: forks are slow and this runs after every test.
leaked_processes() {
	(
		cd /
		tracked=
		[ -f "$BATS_TEST_TMPDIR/.tracked-pids" ] && tracked=$(tr '\n' ',' <"$BATS_TEST_TMPDIR/.tracked-pids")
		{
			ps -e -o pid=,ppid=,stat=,args=
			echo "--cwd--"
			find /proc -mindepth 2 -maxdepth 2 -name cwd -printf '%h %l\n' 2>/dev/null
		} | LEAK_SELF=$BASHPID LEAK_ROOT=$ROOT LEAK_TMP=$BATS_TEST_TMPDIR LEAK_TRACKED=$tracked awk '
			function starttime(pid,   line, f) {
				line = ""
				getline line < ("/proc/" pid "/stat")
				close("/proc/" pid "/stat")
				sub(/^.*\) /, "", line)
				split(line, f, " ")
				return f[20]
			}
			BEGIN { root = ENVIRON["LEAK_ROOT"]; tmp = ENVIRON["LEAK_TMP"] }
			/^--cwd--$/ { incwd = 1; next }
			!incwd {
				pid = $1; ppid[pid] = $2; stat[pid] = $3
				args = $0; sub(/^ *[0-9]+ +[0-9]+ +[^ ]+ */, "", args); cmd[pid] = args
				next
			}
			{ p = $1; sub(/^\/proc\//, "", p); cwd[p] = $2 }
			END {
				for (p = ENVIRON["LEAK_SELF"]; p != "" && p != 0; p = ppid[p]) mine[p] = 1
				n = split(ENVIRON["LEAK_TRACKED"], t, ",")
				for (i = 1; i <= n; i++) {
					split(t[i], pt, " ")
					if (pt[1] in stat && stat[pt[1]] !~ /^Z/ && starttime(pt[1]) == pt[2]) hit[pt[1]] = 1
				}
				for (p in cmd) {
					if (p in mine || stat[p] ~ /^Z/) continue
					if ((root != "" && (index(cmd[p], root) || index(cwd[p], root) == 1)) ||
					    (tmp != "" && (index(cmd[p], tmp) || index(cwd[p], tmp) == 1)))
						hit[p] = 1
				}
				for (p in hit) print p, cmd[p]
			}' | sort -n
	)
}

# Container state dirs: directories named like a container ID. (A runtime
# may keep host caches under the root in names no ID can take, like @host.)
leaked_state_dirs() {
	[ -d "$ROOT" ] || return 0
	find "$ROOT" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | grep -E '/[A-Za-z0-9_+.-]+$' | grep -vE '/\.\.?$'
}

leaked_mounts() {
	awk -v a="$ROOT" -v b="$BATS_TEST_TMPDIR" \
		'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo
}

# Deletes whatever the test left, then fails if anything leaked (and cleans
# it up by force so the next test starts clean).
check_leaks() {
	local id ids procs dirs mounts deadline rc=0
	ids=$( (__runvm list -q 2>/dev/null; leaked_state_dirs | xargs -r -d "\n" -n1 basename) | sort -u)
	for id in $ids; do
		__runvm delete --force "$id" >/dev/null 2>&1 || true
	done
	# delete is synchronous; allow a moment for exiting processes to be reaped.
	deadline=$((SECONDS + 5))
	while procs=$(leaked_processes) && [ -n "$procs" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.2
	done
	dirs=$(leaked_state_dirs)
	mounts=$(leaked_mounts)
	if [ -n "$procs" ]; then
		echo "LEAK: processes left behind:"
		echo "$procs" | sed 's/^/  /'
		echo "$procs" | awk '{print $1}' | xargs -r kill -KILL 2>/dev/null
		rc=1
	fi
	if [ -n "$dirs" ]; then
		echo "LEAK: state dirs left under $ROOT:"
		echo "$dirs" | sed 's/^/  /'
		rc=1
	fi
	if [ -n "$mounts" ]; then
		echo "LEAK: mounts left behind:"
		echo "$mounts" | sed 's/^/  /'
		echo "$mounts" | sort -r | xargs -r -d "\n" -n1 umount -l 2>/dev/null
		rc=1
	fi
	[ -z "$dirs" ] || echo "$dirs" | xargs -r -d "\n" rm -rf
	return $rc
}

# --- runc, the reference ------------------------------------------------

RUNC=${RUNC:-/usr/sbin/runc}

# have_runc: runc is installed and is not itself the runtime under test.
have_runc() { [ -x "$RUNC" ] && [ "$RUNVM_NAME" != runc ]; }
is_runc_under_test() { [ "$RUNVM_NAME" = runc ]; }

# runc_cmd ARGS...: any runc command with this test's own root; sets
# $runc_status and $runc_output (stdout and stderr). Through a file: a
# detached container keeps runc's stdio open.
runc_cmd() {
	timeout -k 5 60 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" "$@" >"$BATS_TEST_TMPDIR/runc.out" 2>&1 </dev/null 3>&- &&
		runc_status=0 || runc_status=$?
	runc_output=$(cat "$BATS_TEST_TMPDIR/runc.out")
	echo "\$ runc $*"
	echo "$runc_output"
	echo "(runc status $runc_status)"
}

# runc_run ID: $BUNDLE under runc in the foreground, under a unique ID (runc
# may leave a cgroup behind a killed container); sets $runc_status,
# $runc_output without runc's own log lines (not the container's) and
# $runc_log with them.
runc_run() {
	timeout -k 5 60 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" run --bundle "$BUNDLE" "$1-$BATS_TEST_NUMBER-$RANDOM" \
		>"$BATS_TEST_TMPDIR/runc.out" 2>&1 </dev/null 3>&- && runc_status=0 || runc_status=$?
	runc_output=$(grep -v '^time="' "$BATS_TEST_TMPDIR/runc.out" || true)
	runc_log=$(grep '^time="' "$BATS_TEST_TMPDIR/runc.out" || true)
	echo "runc output: $runc_output"
	echo "runc log: $runc_log"
	echo "(runc status $runc_status)"
}

# runc_cleanup ID: a runc container of this test gone, whatever it did.
runc_cleanup() {
	timeout -k 5 30 "$RUNC" --root "$BATS_TEST_TMPDIR/runc" delete --force "$1" >/dev/null 2>&1 </dev/null 3>&- || true
}

# --- bats hooks (a test file may override and call these) --------------

runvm_setup_file() {
	# Short paths: unix socket paths under the root must fit in 108 bytes.
	ROOT=$(mktemp -d /tmp/rvt.XXXXXX)
	export ROOT
	[ -x "$RUNVM" ] || echo "# runtime not found: $RUNVM" >&3
}

runvm_teardown_file() {
	[ -n "${ROOT:-}" ] && [ -d "$ROOT" ] && rm -rf "$ROOT"
	return 0
}

runvm_setup() {
	[ -x "$RUNVM" ] || fail "runtime not found: $RUNVM (build it with make)"
	setup_bundle
}

runvm_teardown() {
	check_leaks
}

setup_file() { runvm_setup_file; }
teardown_file() { runvm_teardown_file; }
setup() { runvm_setup; }
teardown() { runvm_teardown; }

# --- consoles, ttys and waiting on files (exec, tty, ops, misc .bats) ---

# recvtty_bin: path of the compiled console-socket receiver (built once a run).
recvtty_bin() {
	local bin=$BATS_RUN_TMPDIR/recvtty
	(
		flock 9
		[ -x "$bin" ] || cc -O2 -Wall -o "$bin" "$TESTS_TOP/tests/integration/recvtty.c" >&2
	) 9>"$BATS_RUN_TMPDIR/recvtty.lock"
	[ -x "$bin" ] && echo "$bin"
}

# recvtty_start NAME [ACTION...]: a console socket receiver (recvtty.c) in
# the background, listening on $BATS_TEST_TMPDIR/NAME.sock (in
# $RECVTTY_SOCK); what it reads from the pty master goes to
# $BATS_TEST_TMPDIR/NAME.tty, its errors to NAME.tty-err, the name sent
# with the fd to NAME.tty-name. ACTIONs: see recvtty.c. Its pid is
# $RECVTTY_PID. Returns once the socket listens (bounded).
recvtty_start() {
	local name=$1 bin deadline
	shift
	bin=$(recvtty_bin) || fail "cannot build the recvtty helper"
	RECVTTY_SOCK=$BATS_TEST_TMPDIR/$name.sock
	rm -f "$RECVTTY_SOCK"
	"$bin" -t "${RECVTTY_TIMEOUT:-$RUNVM_TIMEOUT}" -n "$BATS_TEST_TMPDIR/$name.tty-name" "$RECVTTY_SOCK" "$@" \
		>"$BATS_TEST_TMPDIR/$name.tty" 2>"$BATS_TEST_TMPDIR/$name.tty-err" </dev/null 3>&- &
	RECVTTY_PID=$!
	track_pid "$RECVTTY_PID"
	deadline=$((SECONDS + 10))
	until [ -S "$RECVTTY_SOCK" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "recvtty never listened on $RECVTTY_SOCK"
		sleep 0.05
	done
}

# recvtty_wait NAME [SECONDS]: waits (bounded) for the receiver started by
# recvtty_start NAME; $status is its exit status, $output what it read
# from the master with CRs removed, $lines likewise.
recvtty_wait() {
	local name=$1
	wait_bg "$RECVTTY_PID" "${2:-$RUNVM_TIMEOUT}"
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/$name.tty")
	lines=()
	[ -z "$output" ] || mapfile -t lines <<<"$output"
	echo "recvtty $name (status $status) read:"
	echo "$output"
	cat "$BATS_TEST_TMPDIR/$name.tty-err"
}

# in_script CMD: runs the shell command CMD on a fresh pty (util-linux
# script), bounded; stdin is $SCRIPT_STDIN (default /dev/null). Sets
# $status (CMD's) and $output (CRs removed).
in_script() {
	local out=$BATS_TEST_TMPDIR/script.out
	echo "\$ script -qefc '$1'"
	timeout -k 5 "$RUNVM_TIMEOUT" script -qefc "$1" /dev/null <"${SCRIPT_STDIN:-/dev/null}" >"$out" 2>&1 3>&- &&
		status=0 || status=$?
	output=$(tr -d '\r' <"$out")
	lines=()
	[ -z "$output" ] || mapfile -t lines <<<"$output"
	echo "$output"
	echo "(status $status)"
}

# wait_for_grep REGEX FILE [SECONDS]: until a line of FILE matches (grep -E).
wait_for_grep() {
	local deadline=$((SECONDS + ${3:-$WAIT_TIMEOUT}))
	until grep -qE -- "$1" "$2" 2>/dev/null; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "'$1' never showed in $2 (waited ${3:-$WAIT_TIMEOUT}s); it holds:"
			cat "$2" 2>/dev/null
			return 1
		fi
		sleep 0.2
	done
}
