#!/usr/bin/env bats
# What issue 14's file and memory tuning must not break: a bind mount stays
# coherent with the host (virtio-fs with a 1 s attribute timeout: what the
# host writes is seen at the container's next open within it, what the
# container writes is on the host when write() returns) while a file's
# pages stay in the guest across opens (cache=always), the
# `tcg_tb_size_mib` key (validated, passed to QEMU), `runvm check`'s
# KSM line, and the agent channel's bounded receive buffers.

load helpers

# The container's view of a bind mount, printed every 0.1 s until told to stop.
WATCH='echo "read-ahead $(cat /sys/class/bdi/0:$(stat -c %d /mnt/b)/read_ahead_kb 2>&1)"
echo from-guest >/mnt/b/guest-made && echo guest-wrote
while [ ! -e /mnt/b/stop ]; do
	echo "content=$(cat /mnt/b/file) new=$(cat /mnt/b/new 2>/dev/null) gone=$([ -e /mnt/b/gone ] && echo no || echo yes)"
	sleep 0.1
done'

@test "bind mount: host changes are seen within the attribute timeout, guest writes are on the host at once" {
	src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	echo before >"$src/file"
	echo here >"$src/gone"
	set_args sh -c "$WATCH"
	update_config '.mounts += [{"destination": "/mnt/b", "type": "bind", "source": "'"$src"'", "options": ["rbind", "rw"]}]'
	run_detached ct
	out=$BATS_TEST_TMPDIR/ct.out
	wait_for_grep "^guest-wrote$" "$out"
	# The agent's read-ahead for the share: 1 MiB, one virtiofsd request.
	! is_runvm || grep -qx "read-ahead 1024" "$out"
	# Written by the guest, seen by the host without any sync.
	[ "$(cat "$src/guest-made")" = from-guest ]
	wait_for_grep "^content=before new= gone=no$" "$out"
	# Same size, new content: only an attribute check at open tells
	# (a cache that keeps pages across opens would show "before" forever).
	echo after_ >"$src/file"
	echo fresh >"$src/new"
	rm "$src/gone"
	changed=$SECONDS
	wait_for_grep "^content=after_ new=fresh gone=yes$" "$out" 20
	# 1 s of attribute and entry timeout, the rest is the emulated loop on
	# a loaded host; cache=always's own timeout (1 day) never gets here.
	echo "seen after $((SECONDS - changed)) s"
	[ $((SECONDS - changed)) -le 10 ]
	touch "$src/stop"
	pid=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	wait_for_exit "$pid" 30
	runvm delete ct
	assert_success
}

@test "a file read before is read from the guest's page cache at its next open, not from the host again" {
	is_runvm || skip "runvm only: virtiofsd's requests"
	# 100 KiB: one READ request of 102400 bytes when it comes from the host.
	head -c 102400 /dev/urandom >"$BUNDLE/rootfs/cached-file"
	set_args sh -c 'for i in 1 2 3; do cat /cached-file >/dev/null; done; echo read-3-times; sleep 600'
	__runvm --debug run -d --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/ct.pid" ct \
		>"$BATS_TEST_TMPDIR/ct.out" 2>"$BATS_TEST_TMPDIR/ct.err"
	track_pid "$(cat "$BATS_TEST_TMPDIR/ct.pid")"
	wait_for_grep "^read-3-times$" "$BATS_TEST_TMPDIR/ct.out"
	# cache=auto dropped the pages at every open: three READs.
	run grep -c "lo_read(ino=[0-9]*, size=102400, off=0)" "$ROOT/ct/virtiofsd.log"
	assert_output 1
	runvm delete --force ct
	assert_success
}

@test "tcg_tb_size_mib: a bad value is one error line naming the key" {
	is_runvm || skip "runvm's configuration"
	refuses_config_values tcg_tb_size_mib abc -1 0 1025 "8 MiB"
}

@test "tcg_tb_size_mib: QEMU under TCG gets the translation cache size" {
	is_runvm || skip "runvm's QEMU"
	[ "$(__runvm check --format json | jq -r .accelerator)" = tcg ] || skip "KVM in use: no translation cache"
	conf=$BATS_TEST_TMPDIR/runvm.conf
	echo "tcg_tb_size_mib = 24" >"$conf"
	set_args sleep 600
	RUNVM_CONFIG=$conf run_detached ct
	qpid=$(jq -r '(.processes // [])[] | select(.name == "qemu") | .pid' "$ROOT/ct/state.json")
	[ -n "$qpid" ]
	tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- "-accel tcg,tb-size=24 "
	runvm delete --force ct
	assert_success
}

@test "check says whether KSM runs, and that it cannot merge the guest memory" {
	is_runvm || skip "runvm check"
	runvm check
	assert_success
	if [ ! -e /sys/kernel/mm/ksm/run ]; then
		assert_line "ksm: absent (no /sys/kernel/mm/ksm/run)"
	elif [ "$(cat /sys/kernel/mm/ksm/run)" = 0 ]; then
		assert_line --regexp '^ksm: off \(/sys/kernel/mm/ksm/run = 0; `echo 1 > /sys/kernel/mm/ksm/run` starts it\); it would not merge the guest memory: .*memfd'
	elif [ "$(cat /sys/kernel/mm/ksm/run)" = 1 ]; then
		assert_line --regexp '^ksm: running .* it does not merge the guest memory'
	fi
	runvm check --format json
	assert_success
	want=$(cat /sys/kernel/mm/ksm/run 2>/dev/null || echo null)
	[ "$(jq -r .ksm_run <<<"$output")" = "$want" ]
}

@test "the agent channel's receive queues have 64 buffers each, not one per descriptor" {
	is_runvm || skip "runvm's guest kernel"
	set_args sh -c 'cat /sys/module/virtio_console/parameters/in_bufs; grep SUnreclaim /proc/meminfo'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 64
	# 1024 buffers of 4 KiB per queue were 8 MiB of it (docs/PERFORMANCE.md).
	[[ ${lines[1]} =~ ^SUnreclaim:\ +([0-9]+)\ kB$ ]]
	[ "${BASH_REMATCH[1]}" -lt 8192 ]
}
