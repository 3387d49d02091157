#!/usr/bin/env bats
# runc compatibility inside the container, measured from outside: the same
# bundle under runvm and under runc 1.1 on this host must give the same
# output and exit status (cwd and users, terminals, /dev, /proc, seccomp,
# the guest kernel's syscalls, device rules, hugetlb, cpusets, mountinfo).

load helpers

# both ID: runvm then runc on $BUNDLE; outputs and statuses must match.
both() {
	runvm run --bundle "$BUNDLE" "$1"
	if have_runc; then
		local mine=$output mystatus=$status
		runc_run "$1-runc"
		assert_equal "$mystatus" "$runc_status"
		assert_equal "$mine" "$runc_output"
	fi
}

# syscall_bin: the static syscall helper, copied into the rootfs as /syscall.
syscall_bin() {
	local bin=$BATS_RUN_TMPDIR/syscall
	(
		flock 9
		[ -x "$bin" ] || cc -O2 -static -Wall -o "$bin" "$TESTS_TOP/tests/integration/syscall.c" >&2
	) 9>"$BATS_RUN_TMPDIR/syscall.lock"
	[ -x "$bin" ] || fail "cannot build the syscall helper"
	cp "$bin" "$BUNDLE/rootfs/syscall"
}

@test "cwd: a directory only root can enter works for a non-root process; exec --user and --cwd as runc" {
	mkdir -p "$BUNDLE/rootfs/root/sub"
	chmod 700 "$BUNDLE/rootfs/root"
	set_args sh -c 'pwd; id -u'
	update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.cwd = "/root"'
	both cwd
	assert_success
	assert_output $'/root\n1000'

	update_config '.process.user = {"uid": 0, "gid": 0} | .process.cwd = "/" | .process.args = ["sleep", "600"]'
	run_detached ct
	wait_for_status ct running
	runvm exec --user 1000 --cwd /root/sub ct pwd
	assert_success
	assert_output /root/sub
	local mine=$output
	runvm exec --user 1000 --cwd /nonexistent ct pwd
	assert_equal "$status" 255
	assert_output --partial 'chdir to cwd (\"/nonexistent\") set in config.json failed: no such file or directory'
	runvm delete --force ct
	if have_runc; then
		runc_cmd run -d --bundle "$BUNDLE" rc-$BATS_TEST_NUMBER
		runc_cmd exec --user 1000 --cwd /root/sub rc-$BATS_TEST_NUMBER pwd
		assert_equal "$runc_status" 0
		assert_equal "$runc_output" "$mine"
		runc_cmd exec --user 1000 --cwd /nonexistent rc-$BATS_TEST_NUMBER pwd
		assert_equal "$runc_status" 255
		assert_regex "$runc_output" 'chdir to cwd \(\\"/nonexistent\\"\) set in config.json failed: no such file or directory'
		runc_cleanup rc-$BATS_TEST_NUMBER
	fi
}

@test "a read-only /dev tmpfs: nodes and submounts are made first, then /dev is read-only (runc)" {
	set_args sh -c 'ls /dev/pts >/dev/null && echo pts; echo x >/dev/null && echo null
		touch /dev/new 2>&1 | sed "s/.*: //"; awk "\$5 == \"/dev\" { print \$6 }" /proc/self/mountinfo | cut -d, -f1'
	update_config '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]'
	both rodev
	assert_success
	assert_output $'pts\nnull\nRead-only file system\nro'
}

@test "a symlink as /proc or /sys in the rootfs is refused, as runc refuses it" {
	set_args true
	mkdir "$BUNDLE/rootfs/elsewhere"
	rmdir "$BUNDLE/rootfs/proc"
	ln -s /elsewhere "$BUNDLE/rootfs/proc"
	runvm run --bundle "$BUNDLE" proc
	assert_failure
	assert_output --partial 'error mounting \"proc\" to rootfs at \"/proc\": filesystem \"proc\" must be mounted on ordinary directory'
	if have_runc; then
		runc_run proc
		assert_equal "$runc_status" 1
		assert_regex "$runc_log" 'filesystem \\"proc\\" must be mounted on ordinary directory'
	fi
	rm "$BUNDLE/rootfs/proc"
	mkdir "$BUNDLE/rootfs/proc"
	rmdir "$BUNDLE/rootfs/sys"
	ln -s elsewhere "$BUNDLE/rootfs/sys"
	runvm run --bundle "$BUNDLE" sys
	assert_failure
	assert_output --partial 'filesystem \"sysfs\" must be mounted on ordinary directory'
	# Nothing was mounted through the link.
	[ -z "$(ls -A "$BUNDLE/rootfs/elsewhere")" ]
}

@test "seccomp: a syscall newer than the profile knows is ENOSYS, an older one the default errno (runc's stub)" {
	syscall_bin
	# Allow every x86_64 syscall up to rseq (334) but getpriority (140);
	# 424 pidfd_send_signal and 435 clone3 are beyond the profile's knowledge.
	local names
	names=$(awk '$1 == "#define" && $2 ~ /^__NR_/ && $3 <= 334 && $2 != "__NR_getpriority" { sub("__NR_", "", $2); print $2 }' \
		/usr/include/x86_64-linux-gnu/asm/unistd_64.h | jq -R . | jq -sc .)
	update_config ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"],
		\"syscalls\": [{\"names\": $names, \"action\": \"SCMP_ACT_ALLOW\"}]} | .process.noNewPrivileges = true"
	set_args /syscall 140 424 435 39
	both stub
	assert_success
	assert_output $'140 EPERM\n424 ENOSYS\n435 ENOSYS\n39 ok'
	# A default of allow gets no stub: the syscall runs.
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	set_args /syscall 140 39
	both allow
	assert_success
	assert_output $'140 EPERM\n39 ok'
}

@test "seccomp: startContainer hooks run under the container's filter (runc)" {
	# The hook runs in the container, after the filter is loaded: the
	# mkdir it needs is denied there, so the container fails to start.
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
		| .process.noNewPrivileges = true | .root.readonly = false
		| .hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "mkdir /hookdir"]}]'
	set_args true
	runvm run --bundle "$BUNDLE" hook
	assert_failure
	assert_output --partial startContainer
	[ ! -e "$BUNDLE/rootfs/hookdir" ]
	if have_runc; then
		runc_run hook
		assert_equal "$runc_status" 1
		[ ! -e "$BUNDLE/rootfs/hookdir" ]
	fi
	# Without the rule the same hook succeeds.
	update_config '.linux.seccomp.syscalls = []'
	runvm run --bundle "$BUNDLE" hook2
	assert_success
	[ -d "$BUNDLE/rootfs/hookdir" ]
}

@test "the guest kernel has every syscall the host kernel has (kcmp, process_vm_*, NUMA, fanotify, ...)" {
	syscall_bin
	# Harmless with zero arguments; each is gated by a kernel option.
	local nrs="312 310 311 300 323 237 238 239 256 279 163 179 139 154 173 444 447 246 175 176 313 134"
	# shellcheck disable=SC2086
	set_args /syscall $nrs
	runvm run --bundle "$BUNDLE" sc
	assert_success
	refute_line "312 ENOSYS"
	refute_line "310 ENOSYS"
	refute_line "311 ENOSYS"
	if have_runc; then
		local mine=$output
		runc_run sc
		assert_equal "$runc_status" 0
		# ENOSYS in the guest only where the host kernel has no such syscall.
		while read -r nr res; do
			[ "$res" = ENOSYS ] || continue
			grep -qx "$nr ENOSYS" <<<"$runc_output" || fail "syscall $nr: ENOSYS in the guest, '$(grep "^$nr " <<<"$runc_output")' under runc"
		done <<<"$mine"
	fi
}

@test "terminals: /dev/pts/N, owned by the process's uid and the tty group (5), run and exec, root and non-root (runc)" {
	local bin
	bin=$(recvtty_bin) || fail "cannot build the recvtty helper"
	set_args sh -c 'stat -L -c "%u %g" /proc/self/fd/0; tty; sleep 600'
	update_config '.process.terminal = true | .process.user = {"uid": 1000, "gid": 1000}'
	recvtty_start run
	runvm create --bundle "$BUNDLE" --console-socket "$RECVTTY_SOCK" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct
	assert_success
	track_pid "$(cat "$BATS_TEST_TMPDIR/ct.pid")"
	runvm start ct
	assert_success
	wait_for_grep '^1000 5' "$BATS_TEST_TMPDIR/run.tty" 30
	# runc's init terminal is a pty of the container's devpts.
	wait_for_grep '^/dev/pts/0' "$BATS_TEST_TMPDIR/run.tty" 30
	for u in 0 1000; do
		recvtty_start exec$u
		runvm exec -d -t --user $u --console-socket "$RECVTTY_SOCK" ct stat -L -c "%u %g" /proc/self/fd/0
		assert_success
		wait_for_grep "^$u 5" "$BATS_TEST_TMPDIR/exec$u.tty" 30
	done
	runvm delete --force ct
}

@test "linux.resources.devices and update: access strings runc takes are taken" {
	set_args sh -c 'echo x >/dev/null && echo null-ok; head -c1 /dev/zero | wc -c'
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwa"},
		{"allow": true, "type": "c", "major": 1, "minor": 5, "access": "mrw"}]'
	both dev
	assert_success
	assert_output $'null-ok\n1'
	# update -r with such rules is taken too; the container then sees what runc's sees.
	echo '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwa"}]}' \
		>"$BATS_TEST_TMPDIR/res.json"
	update_config '.process.args = ["sleep", "600"]'
	run_detached ct
	wait_for_status ct running
	runvm update -r "$BATS_TEST_TMPDIR/res.json" ct
	assert_success
	runvm exec ct sh -c 'echo x >/dev/null && echo null-ok; head -c1 /dev/zero | wc -c'
	assert_success
	local mine=$output
	runvm delete --force ct
	if have_runc; then
		runc_cmd run -d --bundle "$BUNDLE" rc-$BATS_TEST_NUMBER
		runc_cmd update -r "$BATS_TEST_TMPDIR/res.json" rc-$BATS_TEST_NUMBER
		assert_equal "$runc_status" 0
		runc_cmd exec rc-$BATS_TEST_NUMBER sh -c 'echo x >/dev/null && echo null-ok; head -c1 /dev/zero | wc -c'
		runc_cleanup rc-$BATS_TEST_NUMBER
		assert_equal "$mine" "$runc_output"
	fi
}

@test "cpuset: cpu.cpus 0-1 with a one-CPU quota is honoured as written, on those host CPUs (runc)" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status'
	update_config '.linux.resources.cpu = {"cpus": "0-1", "quota": 100000, "period": 100000}'
	both cpus
	assert_success
	assert_output $'Cpus_allowed_list:\t0-1'
	is_runvm || return 0
	# The vCPU threads run on the host CPUs named, one each.
	set_args sleep 600
	update_config '.linux.resources.cpu = {"cpus": "1", "quota": 100000, "period": 100000}'
	run_detached ct
	wait_for_status ct running
	local monitor qemu t comm pinned=
	monitor=$(__runvm state ct | jq .pid)
	qemu=$(pgrep -P "$monitor" -f qemu-system | head -1)
	[ -n "$qemu" ]
	for t in /proc/$qemu/task/*; do
		comm=$(cat "$t/comm")
		[[ $comm == "CPU "* ]] || continue
		comm=${comm#CPU }
		pinned+="vcpu${comm%%/*}:$(taskset -pc "${t##*/}" | sed 's/.*: //') "
	done
	# cpus "1": two vCPUs (the guest's CPU 1 must exist); vCPU 1 on host
	# CPU 1, vCPU 0 (unused by the container) on the set too.
	assert_equal "$(xargs -n1 <<<"$pinned" | sort | xargs)" "vcpu0:1 vcpu1:1"
	runvm delete --force ct
}

@test "cpuset: a CPU the host does not have is refused before the VM boots" {
	set_args true
	update_config '.linux.resources.cpu = {"cpus": "0-4095"}'
	runvm run --bundle "$BUNDLE" big
	assert_failure
	assert_output --partial 'linux.resources.cpu.cpus'
}

@test "hugetlb: 1GB and 2MB hugepageLimits are set (runc's hugetlb.<size>.max)" {
	grep -qw pdpe1gb /proc/cpuinfo || skip "the host CPU has no 1 GB pages"
	set_args sh -c 'ls /sys/kernel/mm/hugepages; cat /sys/fs/cgroup/hugetlb.1GB.max /sys/fs/cgroup/hugetlb.2MB.max'
	update_config '.linux.resources.hugepageLimits = [{"pageSize": "1GB", "limit": 1073741824}, {"pageSize": "2MB", "limit": 0}]
		| .linux.namespaces += [{"type": "cgroup"}]'
	# runc cannot run this here (no hugetlb controller on this host): it
	# writes each limit to hugetlb.<size>.max on cgroup v2.
	runvm run --bundle "$BUNDLE" huge
	assert_success
	assert_output $'hugepages-1048576kB\nhugepages-2048kB\n1073741824\n0'
}

@test "mountinfo of bind mounts: root fields and propagation tags as runc shows them" {
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/sub" "$src/sub2"
	echo f >"$src/file"
	# Root field and the optional fields (peer group numbers differ between
	# any two mount namespaces: keep the tags' names). runvm's binds are
	# nodev on purpose (host device nodes never act in the guest).
	set_args sh -c 'for m in /mnt/a /mnt/b /mnt/c /mnt/f /mnt/p; do
		awk -v m="$m" '"'"'$5 == m { o = ""; for (i = 7; $i != "-"; i++) { t = $i; sub(/:.*/, "", t); o = o " " t }; sub(/,nodev/, "", $6); print m, $4, $6 o }'"'"' /proc/self/mountinfo
	done'
	update_config ".mounts += [
		{\"destination\": \"/mnt/a\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"rshared\"]},
		{\"destination\": \"/mnt/b\", \"type\": \"bind\", \"source\": \"$src/sub\", \"options\": [\"bind\", \"ro\", \"rprivate\"]},
		{\"destination\": \"/mnt/c\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"ro\"]},
		{\"destination\": \"/mnt/f\", \"type\": \"bind\", \"source\": \"$src/file\", \"options\": [\"bind\"]},
		{\"destination\": \"/mnt/p\", \"type\": \"bind\", \"source\": \"$src/sub2\", \"options\": [\"rbind\", \"rslave\"]}]"
	both mi
	assert_success
	# The root is the source's path in its host filesystem, not a share name.
	local root
	root=$(awk -v p="$src" 'index(p, $5) == 1 && (length($5) > length(best) || best == "") { best = $5; r = $4 } END { print (r == "/" ? "" : r) substr(p, length(best) + (best == "/" ? 0 : 1)) }' /proc/self/mountinfo)
	assert_line --index 0 "/mnt/a $root rw,relatime shared"
	assert_line --index 1 "/mnt/b $root/sub ro,relatime"
	assert_line --index 2 "/mnt/c $root ro,relatime"
	assert_line --index 3 "/mnt/f $root/file rw,relatime"
}
