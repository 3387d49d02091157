#!/usr/bin/env bats
# The host trusts nothing from the guest (docs/SECURITY.md): what a VM
# cannot honour is refused, helpers inherit nothing, QEMU is confined,
# shares are pinned and read-only where asked, guest output is bounded and
# sanitised, and a hostile ctl client cannot stall the monitor.

load helpers

# state_proc ID NAME: the pid of the VM's process NAME ("qemu", "virtiofsd").
state_proc() {
	jq -r --arg n "$2" '.processes[] | select(.name == $n) | .pid' "$ROOT/$1/state.json"
}

@test "security: the host pid, ipc and uts namespaces are refused, naming the namespace" {
	local ns
	for ns in pid ipc uts; do
		update_config '.linux.namespaces = [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
			{"type": "uts"}, {"type": "mount"}] | .linux.namespaces |= map(select(.type != "'"$ns"'"))'
		runvm run --bundle "$BUNDLE" "ns-$ns"
		assert_failure
		assert_output --partial "the host $ns namespace cannot be shared with a VM"
		[ "${#lines[@]}" -eq 1 ]
	done
}

@test "security: no fd the caller left open reaches qemu, virtiofsd or hooks" {
	is_runvm || skip "runvm only"
	local hook=$BATS_TEST_TMPDIR/hook.sh
	printf '#!/bin/sh\nls -l /proc/self/fd/ >%s/hook-fds 2>&1\n' "$BATS_TEST_TMPDIR" >"$hook"
	chmod +x "$hook"
	update_config '.hooks.prestart = [{"path": "'"$hook"'"}]'
	set_args sleep 600
	# fd 7 is left open without CLOEXEC, as conmon's or a shim's pipes are.
	__runvm create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct \
		7>"$BATS_TEST_TMPDIR/leaked-fd" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/ct.err" ||
		{ cat "$BATS_TEST_TMPDIR/ct.err"; false; }
	track_pid "$(cat "$BATS_TEST_TMPDIR/ct.pid")"
	local qemu vfs
	qemu=$(state_proc ct qemu)
	vfs=$(state_proc ct virtiofsd)
	[ "$qemu" -gt 0 ] && [ "$vfs" -gt 0 ]
	run ls -l "/proc/$qemu/fd/" "/proc/$vfs/fd/"
	echo "$output"
	refute_output --partial leaked-fd
	run cat "$BATS_TEST_TMPDIR/hook-fds"
	refute_output --partial leaked-fd
	runvm delete --force ct
	assert_success
}

# status_field PID FIELD: a field of /proc/PID/status, whitespace squeezed.
status_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

@test "security: qemu runs unprivileged: non-zero uid, no capabilities, NoNewPrivs, seccomp" {
	is_runvm || skip "runvm only"
	set_args sleep 600
	create_container ct
	local qemu
	qemu=$(state_proc ct qemu)
	[ "$qemu" -gt 0 ]
	grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' "/proc/$qemu/status"
	run status_field "$qemu" Uid
	refute_output --regexp '(^|[[:space:]])0([[:space:]]|$)'
	run status_field "$qemu" Gid
	refute_output --regexp '(^|[[:space:]])0([[:space:]]|$)'
	run status_field "$qemu" CapEff
	assert_output 0000000000000000
	run status_field "$qemu" CapPrm
	assert_output 0000000000000000
	run status_field "$qemu" NoNewPrivs
	assert_output 1
	run status_field "$qemu" Seccomp
	assert_output 2
	runvm delete --force ct
	assert_success
}

@test "security: a guest flooding its console does not grow host files past the bound" {
	is_runvm || skip "runvm only"
	# The container writes straight to the VM's serial port.
	update_config '.linux.devices += [{"path": "/dev/ttyS0", "type": "c", "major": 4, "minor": 64, "fileMode": 438}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 4, "minor": 64, "access": "rw"}]'
	set_args sh -c 'head -c 1500000 /dev/zero | tr "\0" x >/dev/ttyS0; echo flooded'
	runvm run --keep --bundle "$BUNDLE" ct
	assert_success
	assert_output flooded
	local total
	total=$(cat "$ROOT"/ct/console.log* | wc -c)
	echo "console: $total bytes kept"
	[ "$total" -le $((1024 * 1024)) ]
	# What is kept is the end of it.
	[ "$(tail -c 100 "$ROOT/ct/console.log" | tr -d x | wc -c)" -lt 100 ]
	runvm delete ct
	assert_success
}

@test "security: escape sequences from the guest never reach the CLI raw (errors, ps)" {
	# The container's command line carries an OSC title and a clear-screen.
	update_config '.process.args = ["sh", "-c", "sleep 600; :", "\u001b]0;pwned\u0007\u001b[2Jevil"]'
	create_container ct
	runvm start ct
	assert_success
	runvm_separate exec ct "$(printf '\033]0;pwned\007\033[2Jmissing')"
	assert_failure
	[[ "$stderr" == *missing* ]]
	[[ "$stderr" != *$'\033'* && "$stderr" != *$'\007'* ]]
	runvm_separate ps ct
	assert_success
	[[ "$output" == *evil* ]]
	[[ "$output" != *$'\033'* && "$output" != *$'\007'* ]]
	runvm delete --force ct
	assert_success
}

@test "security: a fifo as the container's /etc/passwd does not hang exec -u" {
	set_args sleep 600
	create_container ct
	rm -f "$BUNDLE/rootfs/etc/passwd"
	mkfifo "$BUNDLE/rootfs/etc/passwd"
	local start=$SECONDS
	RUNVM_TIMEOUT=20 runvm exec -u nobody ct true
	assert_failure
	[ "$status" -ne 124 ] && [ "$status" -ne 137 ]
	assert_output --partial "/etc/passwd"
	assert_output --partial "not a regular file"
	[ $((SECONDS - start)) -lt 10 ]
	runvm delete --force ct
	assert_success
}

@test "security: a ctl client that trickles its request does not delay another command" {
	is_runvm || skip "runvm only"
	set_args sleep 600
	create_container ct
	"$BATS_TEST_DIRNAME/ctl-trickle.py" "$ROOT/ct/ctl.sock" 30 >"$BATS_TEST_TMPDIR/trickle.out" 2>&1 3>&- &
	local trickler=$! start
	track_pid "$trickler"
	sleep 1.5
	start=$SECONDS
	runvm kill ct 0
	assert_success
	runvm ps ct
	assert_success
	echo "took $((SECONDS - start)) s"
	[ $((SECONDS - start)) -le 7 ]
	kill "$trickler" 2>/dev/null || true
	wait "$trickler" 2>/dev/null || true
	runvm delete --force ct
	assert_success
}

@test "security: a wedged guest: requests expire, and one refused for capacity never reaches the guest" {
	is_runvm || skip "runvm only"
	set_args sleep 600
	create_container ct
	runvm start ct
	assert_success
	local qemu i pids=()
	qemu=$(state_proc ct qemu)
	kill -STOP "$qemu"
	# Fill the monitor's table of requests waiting for the guest (64).
	for i in $(seq 64); do
		__runvm ps ct >"$BATS_TEST_TMPDIR/ps-$i.out" 2>&1 &
		pids+=($!)
	done
	sleep 3
	RUNVM_TIMEOUT=10 runvm exec ct touch /refused
	assert_failure
	assert_output --partial "too many requests in flight"
	local start=$SECONDS
	for i in "${pids[@]}"; do
		wait_bg "$i" 60
	done
	kill -CONT "$qemu"
	echo "the ps calls ended after $((SECONDS - start)) s"
	run cat "$BATS_TEST_TMPDIR/ps-1.out"
	assert_output --partial "no answer from the guest in time"
	# The refused exec was never sent: nothing made the file.
	runvm exec ct ls /refused
	assert_failure
	runvm exec ct true
	assert_success
	runvm delete --force ct
	assert_success
}

@test "security: a symlink swapped into a bind source by a prestart hook cannot export another directory" {
	local src=$BATS_TEST_TMPDIR/src secret=$BATS_TEST_TMPDIR/secret hook=$BATS_TEST_TMPDIR/swap.sh
	mkdir -p "$src" "$secret"
	echo good >"$src/file"
	echo secret >"$secret/file"
	printf '#!/bin/sh\nmv %s %s.orig && ln -s %s %s\n' "$src" "$src" "$secret" "$src" >"$hook"
	chmod +x "$hook"
	update_config '.hooks.prestart = [{"path": "'"$hook"'"}]
		| .mounts += [{"destination": "/mnt/b", "type": "bind", "source": "'"$src"'", "options": ["rbind"]}]'
	set_args cat /mnt/b/file
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output good
}

@test "security: a write into a submount of a read-only bind fails in the guest" {
	local src=$BATS_TEST_TMPDIR/ro
	mkdir -p "$src/sub"
	mount -t tmpfs -o size=1m sec-sub "$src/sub"
	# The guest is hostile: it remounts its view read-write first.
	update_config '.mounts += [{"destination": "/mnt/ro", "type": "bind", "source": "'"$src"'", "options": ["rbind", "ro"]}]
		| .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args sh -c 'mount -o remount,rw /mnt/ro; mount -o remount,rw /mnt/ro/sub
		echo x >/mnt/ro/sub/f && echo written; echo y >/mnt/ro/g && echo written-top; grep /mnt/ro /proc/self/mountinfo; true'
	runvm run --bundle "$BUNDLE" ct
	local out=$output
	ls -la "$src/sub"
	umount "$src/sub"
	[ "$status" -eq 0 ]
	[[ "$out" != *written* ]]
}

@test "security: root.readonly is enforced on the host: a guest that remounts / read-write still cannot write" {
	update_config '.root.readonly = true
		| .mounts += [{"destination": "/opt/new/point", "type": "tmpfs", "source": "tmpfs"}]
		| .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args sh -c 'mount -o remount,rw /; echo x >/hostile && echo written; touch /opt/new/point/ok && echo tmpfs-ok'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	refute_line written
	assert_line tmpfs-ok
	[ ! -e "$BUNDLE/rootfs/hostile" ]
	# The mount point was made on the host, as runc makes it.
	[ -d "$BUNDLE/rootfs/opt/new/point" ]
}

@test "security: a device node or setuid file made in the guest does not appear as such on the host" {
	update_config '.root.readonly = false
		| .process.capabilities.bounding += ["CAP_MKNOD", "CAP_FSETID", "CAP_FOWNER", "CAP_SETFCAP"]
		| .process.capabilities.effective += ["CAP_MKNOD", "CAP_FSETID", "CAP_FOWNER", "CAP_SETFCAP"]
		| .process.capabilities.permitted += ["CAP_MKNOD", "CAP_FSETID", "CAP_FOWNER", "CAP_SETFCAP"]'
	set_args sh -c 'mknod /devnode c 1 3; mknod /blknode b 7 0; cp /bin/busybox /suid && chmod 4755 /suid
		cp -p /suid /suid2; ls -l /suid /suid2; true'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	local f
	for f in devnode blknode; do
		[ ! -e "$BUNDLE/rootfs/$f" ] || { ls -l "$BUNDLE/rootfs/$f"; [ ! -c "$BUNDLE/rootfs/$f" ] && [ ! -b "$BUNDLE/rootfs/$f" ]; }
	done
	for f in suid suid2; do
		[ ! -e "$BUNDLE/rootfs/$f" ] || { ls -l "$BUNDLE/rootfs/$f"; [ ! -u "$BUNDLE/rootfs/$f" ]; }
	done
}

@test "security: the reported pid has its own namespaces; its root is the container's files, shared with the guest" {
	is_runvm || skip "runvm only"
	local src=$BATS_TEST_TMPDIR/bindsrc ns pid
	mkdir -p "$src"
	echo bound >"$src/file"
	echo marker >"$BUNDLE/rootfs/etc/marker"
	update_config '.root.readonly = false
		| .mounts += [{"destination": "/mnt/b", "type": "bind", "source": "'"$src"'", "options": ["rbind"]}]'
	set_args sleep 600
	create_container ct
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	for ns in mnt pid ipc uts cgroup; do
		echo "$ns: $(readlink "/proc/$pid/ns/$ns") host $(readlink "/proc/self/ns/$ns")"
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ]
	done
	run cat "/proc/$pid/root/etc/marker"
	assert_output marker
	run cat "/proc/$pid/root/mnt/b/file"
	assert_output bound
	run nsenter -m -t "$pid" cat /etc/marker
	assert_output marker
	run nsenter -u -t "$pid" hostname
	assert_output "$(jq -r .hostname "$BUNDLE/config.json")"
	runvm start ct
	assert_success
	# Written from the host side: the guest reads it at once.
	echo copied-in >"/proc/$pid/root/tmp/in"
	runvm exec ct cat /tmp/in
	assert_output copied-in
	runvm exec ct sh -c 'echo copied-out >/tmp/out'
	assert_success
	run nsenter -m -t "$pid" cat /tmp/out
	assert_output copied-out
	# Tools listing the processes of that namespace see no host process:
	# only the VM's (its init, the monitor, QEMU, virtiofsd).
	run nsenter -m -t "$pid" sh -c 'cat /proc/[0-9]*/comm'
	echo "$output"
	[ "${#lines[@]}" -ge 3 ]
	refute_output --regexp '^(bats|bash|sshd|systemd|init|sleep)$'
	run grep -cvE '^(runvm-pidns|runvm-monitor|qemu-system-x86|virtiofsd)$' <<<"$output"
	assert_output 0
	[ ! -e "/proc/$pid/root/proc/$$" ]
	runvm delete --force ct
	assert_success
}

@test "security: a bind mount without rbind does not export the source's submounts" {
	local src=$BATS_TEST_TMPDIR/nr
	mkdir -p "$src/sub"
	mount -t tmpfs -o size=1m sec-nr "$src/sub"
	echo hidden >"$src/sub/file"
	update_config '.mounts += [{"destination": "/mnt/b", "type": "bind", "source": "'"$src"'", "options": ["bind"]},
		{"destination": "/mnt/r", "type": "bind", "source": "'"$src"'", "options": ["rbind"]}]'
	set_args sh -c 'cat /mnt/b/sub/file 2>/dev/null || echo not-there; cat /mnt/r/sub/file'
	runvm run --bundle "$BUNDLE" ct
	local out=$output st=$status
	umount "$src/sub"
	[ "$st" -eq 0 ]
	[ "$out" = "not-there
hidden" ]
}
