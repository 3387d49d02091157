#!/usr/bin/env bats
# Bad inputs get one clear error, found on the host before any VM boots,
# and leave nothing behind (docs/ERRORS.md lists them). Where runc refuses
# the same input, the texts agree where they can (runc 1.1's in comments).
#
# A config whose qemu does not exist proves no VM was booted: an error that
# needed a boot would be QEMU's instead.

load helpers

setup() {
	runvm_setup
	NOBOOT_CONFIG=$BATS_TEST_TMPDIR/noboot.conf
	{ cat "${RUNVM_CONFIG:-/dev/null}" 2>/dev/null; echo "qemu = /nonexistent/qemu-for-badinput"; } >"$NOBOOT_CONFIG"
}

# refused_before_boot TEXT: create fails with TEXT, no VM, nothing left.
refused_before_boot() {
	RUNVM_CONFIG=$NOBOOT_CONFIG runvm create --bundle "$BUNDLE" bad
	assert_failure
	assert_output --partial "$1"
	refute_output --partial "qemu"
	[ "${#lines[@]}" -eq 1 ] || fail "expected one error line"
	[ ! -e "$ROOT/bad" ]
}

@test "a NUL in an argument is refused with its JSON path" {
	# runc: exec /bin/echo: invalid argument
	update_config '.process.args = ["echo", "a\u0000b"]'
	refused_before_boot '`process.args[1]`: contains a NUL character'
}

@test "a NUL in an env entry is refused with its JSON path" {
	# runc: environment variable value can't contain null(\x00): "A=x\x00y"
	update_config '.process.env += ["A=x\u0000y"]'
	refused_before_boot '`process.env['
	assert_output --partial 'contains a NUL character'
}

@test "memory.limit below -1 is refused; -1 is unlimited" {
	# runc: failed to write "-5": ... memory.limit_in_bytes: invalid argument
	update_config '.linux.resources.memory.limit = -5'
	refused_before_boot '`linux.resources.memory.limit`: -5 is not a limit (-1 means unlimited)'
	update_config '.linux.resources.memory.limit = -1 | .linux.resources.memory.swap = -2'
	refused_before_boot '`linux.resources.memory.swap`: -2 is not a limit (-1 means unlimited)'
}

@test "a memory limit no VM can have is refused at once" {
	update_config '.linux.resources.memory.limit = 1125899906842624'
	refused_before_boot '`linux.resources.memory.limit`: 1125899906842624 bytes needs a'
	assert_output --partial 'the host has only'
	# Near INT64_MAX: no overflow into a small VM.
	sed -i 's/"limit": 1125899906842624/"limit": 9223372036854775807/' "$BUNDLE/config.json"
	refused_before_boot '`linux.resources.memory.limit`: 9223372036854775807 bytes needs a'
}

@test "a rootfs that is a symlink is refused as runc does" {
	ln -s rootfs "$BUNDLE/rootlink"
	update_config '.root.path = "rootlink"'
	refused_before_boot "invalid rootfs: not an absolute path, or a symlink"
}

@test "a missing process is refused before boot" {
	update_config 'del(.process)'
	refused_before_boot "process property must not be empty"
}

@test "an empty executable is refused before boot" {
	update_config '.process.args = [""]'
	refused_before_boot '`process.args[0]`: exec: '
	assert_output --partial 'executable file not found in $PATH'
}

@test "a cwd that is a file is refused before boot" {
	update_config '.process.cwd = "/etc/passwd"'
	refused_before_boot '`process.cwd`: `/etc/passwd` is not a directory in the rootfs'
}

@test "an oversized config is refused before boot, with the bound" {
	head -c $((10 << 20)) /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	jq --tab --rawfile big "$BATS_TEST_TMPDIR/big" '.annotations = {"big": $big}' "$BUNDLE/config.json" \
		>"$BUNDLE/c" && mv "$BUNDLE/c" "$BUNDLE/config.json"
	refused_before_boot '`annotations`: 10485763 bytes, more than the 262144 accepted'
}

@test "annotations that would make state.json unreadable are refused" {
	head -c $((2 << 20)) /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	jq --tab --rawfile big "$BATS_TEST_TMPDIR/big" '.annotations = {"big": $big}' "$BUNDLE/config.json" \
		>"$BUNDLE/c" && mv "$BUNDLE/c" "$BUNDLE/config.json"
	refused_before_boot '`annotations`:'
}

@test "an unknown capability is warned about once, on stderr and in --log" {
	set_args true
	update_config '.process.capabilities.bounding += ["CAP_FOO"] | .process.capabilities.effective += ["CAP_FOO"]'
	runvm_separate --log "$BATS_TEST_TMPDIR/log" run --bundle "$BUNDLE" caps
	assert_success
	# runc: level=warning msg="ignoring unknown or unavailable capabilities: [CAP_FOO]"
	[ "$(grep -c 'ignoring unknown or unavailable capabilities: \[CAP_FOO\]' <<<"$stderr")" -eq 1 ]
	[ "$(grep -c 'ignoring unknown or unavailable capabilities: \[CAP_FOO\]' "$BATS_TEST_TMPDIR/log")" -eq 1 ]
}

@test "a boot killed early quotes no irrelevant console line" {
	local cpid
	set_args true
	"$RUNVM" --root "$ROOT" create --bundle "$BUNDLE" early </dev/null >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	cpid=$!
	local deadline=$((SECONDS + 60))
	# Killed once the kernel printed its first (routine) line.
	until [ -s "$ROOT/early/console.log" ] &&
		jq -e '(.processes // []) | map(.name) | index("qemu")' "$ROOT/early/state.json" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || fail "the guest never printed on its console"
		sleep 0.05
	done
	cat "$ROOT/early/console.log"
	kill -KILL "$(jq -r '.processes[] | select(.name == "qemu") | .pid' "$ROOT/early/state.json")"
	wait_bg "$cpid" 60
	[ "$status" -ne 0 ]
	cat "$BATS_TEST_TMPDIR/err"
	grep -qE "the VM exited|the agent closed the channel|qemu was killed" "$BATS_TEST_TMPDIR/err"
	if grep -q "PCI: Fatal" "$BATS_TEST_TMPDIR/err"; then fail "quoted a routine console line"; fi
	[ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
	[ ! -e "$ROOT/early" ]
}
