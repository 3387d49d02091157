#!/usr/bin/env bats
# The process block (user, capabilities, noNewPrivileges, rlimits,
# oomScoreAdj, scheduler, ioPriority, env, cwd), user/cgroup/time
# namespaces and startContainer hooks, each compared with runc running the
# same bundle where runc 1.1 supports the feature. Checks are combined per
# container: every VM boot costs seconds under TCG.

load helpers

@test "process: user, groups, umask, caps, NoNewPrivs, rlimits, oom_score_adj, env, cwd as runc" {
	set_args sh -c 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status; id; umask
		ulimit -Sn; ulimit -Hn; ulimit -c; ulimit -u; ulimit -l; ulimit -s
		cat /proc/self/oom_score_adj; pwd; env | grep -E "^(FOO|HOME|DUP)=" | sort
		touch ./f && stat -c "%a %u %g" ./f'
	update_config '
		.root.readonly = false
		| .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20, 1000], "umask": 23}
		| .process.cwd = "/home/newdir/sub"
		| .process.env += ["FOO=bar", "DUP=1", "DUP=2"]
		| .process.noNewPrivileges = false
		| .process.oomScoreAdj = 321
		| .process.rlimits = [
			{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 2048},
			{"type": "RLIMIT_CORE", "soft": 1048576, "hard": 1048576},
			{"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
			{"type": "RLIMIT_MEMLOCK", "soft": 65536, "hard": 65536},
			{"type": "RLIMIT_STACK", "soft": 4194304, "hard": 8388608}]
		| .process.capabilities = {
			"bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_KILL", "CAP_SETUID", "CAP_NOT_A_CAP"],
			"permitted": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"],
			"effective": ["CAP_CHOWN", "CAP_KILL"],
			"inheritable": ["CAP_NET_RAW", "CAP_KILL"],
			"ambient": ["CAP_KILL"]}'
	# The cwd is created (root-owned) before the user switch: let the user write.
	mkdir -p "$BUNDLE/rootfs/home/newdir/sub" && chmod 777 "$BUNDLE/rootfs/home/newdir/sub"
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line "CapBnd:	00000000002020a1"
	assert_line "CapAmb:	0000000000000020"
	assert_line "NoNewPrivs:	0"
	# Without file capabilities a non-root execve keeps only the ambient set.
	assert_line "CapPrm:	0000000000000020"
	assert_line "CapInh:	0000000000002020"
	assert_line "uid=1000(user) gid=1000(user) groups=10,20,1000(user)"
	assert_line "0027"
	assert_line "321"
	assert_line "/home/newdir/sub"
	assert_line "DUP=2"
	assert_line "640 1000 1000"
	assert_line "HOME=/home/user"
	# Both runtimes warn about CAP_NOT_A_CAP, on the host, in their log shape.
	assert_line --index 0 --regexp '^time=".*" level=warning msg="ignoring unknown or unavailable capabilities: \[CAP_NOT_A_CAP\]"$'
	if have_runc; then
		local mine
		mine=$(grep -v '^time="' <<<"$output")
		runc_run ct-runc
		assert_equal "$runc_status" 0
		assert_equal "$mine" "$runc_output"
	fi
}

@test "process: a missing cwd is created; capabilities absent and noNewPrivileges as runc" {
	set_args sh -c 'pwd; grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
	update_config '.process.cwd = "/does/not/exist" | del(.process.capabilities) | .process.noNewPrivileges = true'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line "/does/not/exist"
	assert_line "NoNewPrivs:	1"
	if have_runc; then
		local mine=$output
		runc_run ct-runc
		assert_equal "$mine" "$runc_output"
	fi
}

@test "process: scheduler (sched_setattr) and ioPriority (ioprio_set)" {
	# runc 1.1 predates both fields: checked against the values asked for.
	set_args sh -c 'set -- $(cat /proc/self/stat | sed "s/.*) //"); echo "nice=${17} policy=${39}"; ionice -p $$'
	update_config '
		.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7, "flags": ["SCHED_FLAG_RESET_ON_FORK"]}
		| .process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	# SCHED_BATCH is 3; RESET_ON_FORK puts the children (sh's cat) back
	# to SCHED_OTHER, but the shell itself keeps it.
	assert_line "nice=7 policy=3"
	assert_line --regexp "^best-effort: prio 6$"

	update_config '.process.scheduler = {"policy": "SCHED_NOPE"}'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "SCHED_NOPE"
}

@test "process: executable lookup errors carry runc's texts" {
	set_args nosuchcmd
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial 'nosuchcmd'
	assert_output --partial 'executable file not found in $PATH'
}

@test "namespaces: user (uid/gid maps), cgroup, time with offsets" {
	set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; cat /proc/self/cgroup
		[ "$(readlink /proc/self/ns/time)" = "$(readlink /proc/self/ns/time_for_children)" ] && echo timens-ok
		read -r up _ </proc/uptime; echo "${up%.*}"'
	update_config '
		.linux.namespaces += [{"type": "user"}, {"type": "cgroup"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	if have_runc; then
		# The mapped root must be able to reach the bundle.
		local d=$BUNDLE
		while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
		runc_run ct-runc
		assert_equal "$runc_status" 0
	fi
	update_config '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_equal "${lines[0]}" "$(printf '%10s %10s %10s' 0 100000 65536)"
	assert_equal "${lines[1]}" "$(printf '%10s %10s %10s' 0 100000 65536)"
	assert_line 0
	assert_line "0::/"
	assert_line timens-ok
	# boottime moved 10 days ahead (the guest booted seconds ago).
	[ "${lines[-1]}" -ge 864000 ]
	if have_runc; then
		# The same maps and identity as runc's (runc 1.1 has no time namespace).
		assert_equal "$(head -3 <<<"$output")" "$(head -3 <<<"$runc_output")"
	fi

	update_config 'del(.linux.gidMappings)'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "user namespaces enabled, but no gid mappings found"
}

@test "hooks: startContainer runs in the container with the state on stdin; a failure fails start" {
	set_args sh -c 'cat /hook.out'
	update_config '
		.root.readonly = false
		| .hooks.startContainer = [{"path": "/bin/sh",
			"args": ["sh", "-c", "{ cat; echo; echo pid=$$ env=$HOOKVAR; hostname; } > /hook.out"],
			"env": ["HOOKVAR=v1"], "timeout": 20}]
		| .hostname = "inside"'
	runvm run --bundle "$BUNDLE" ct
	if [[ "$output" == *"hooks.startContainer"*"not supported"* ]]; then
		skip "the host still refuses startContainer hooks"
	fi
	assert_success
	assert_line --regexp '"status": ?"created"'
	assert_line --regexp '"id": ?"ct"'
	assert_line --regexp '^pid=[0-9]+ env=v1$'
	assert_line inside

	update_config '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "echo oops >&2; exit 3"]}]'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "error running startContainer hook #0: error running hook: exit status 3, stdout: , stderr: oops"

	update_config '.hooks.startContainer = [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]'
	runvm run --bundle "$BUNDLE" ct
	assert_failure
	assert_output --partial "hook ran past specified timeout of 1.0s"
}
