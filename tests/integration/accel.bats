#!/usr/bin/env bats
# The accelerator (issue 6): `accel = auto` uses KVM only when a probe boot
# of the guest under KVM answered; the verdict is cached under the state
# root; a forced but broken KVM, and any guest that dies during boot, fail
# create at once with one line. Broken and working KVMs are simulated with
# QEMU wrappers (a working one runs the guest under TCG while runvm
# believes it is KVM), so every case runs on any host.

load helpers

REAL_QEMU=/usr/bin/qemu-system-x86_64

setup() {
	runvm_setup
	# QEMU runs as an unprivileged uid of its own (docs/SECURITY.md): the
	# fake QEMUs below must be reachable by it.
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
	is_runvm || skip "runvm's accelerator choice"
	CONF=$BATS_TEST_TMPDIR/runvm.conf
	: >"$CONF"
	export RUNVM_CONFIG=$CONF
	# Each test probes afresh: the verdict is cached per root.
	rm -f "$ROOT/@host/kvm-verdict"
}

teardown() {
	runvm_teardown
}

# The host's own verdict with defaults (no configuration at all).
host_verdict() {
	RUNVM_CONFIG=$BATS_TEST_TMPDIR/empty.conf
	: >"$RUNVM_CONFIG"
	RUNVM_CONFIG=$RUNVM_CONFIG __runvm check --format json
}

# kvm_device_works: /dev/kvm opens and creates VMs (whether or not it can
# run a guest): the probe boot, not the device check, decides.
kvm_device_works() {
	local v
	v=$(host_verdict) || return 1
	[ "$(jq -r .kvm.device_usable <<<"$v")" = true ]
}

# A QEMU that fails the way a broken KVM does whenever it is asked for KVM.
broken_kvm_qemu() {
	local w=$BATS_TEST_TMPDIR/qemu-broken-kvm
	cat >"$w" <<-EOS
	#!/bin/bash
	for a in "\$@"; do
		if [ "\$a" = kvm ]; then
			echo "qemu-system-x86_64: error: simulated: KVM cannot run this guest" >&2
			exit 1
		fi
	done
	exec $REAL_QEMU "\$@"
	EOS
	chmod +x "$w"
	echo "$w"
}

# A QEMU whose "KVM" works: asked for KVM, it boots the guest under TCG
# (with the TSC frequency a TCG microvm needs) and logs that it was asked.
working_kvm_qemu() {
	local w=$BATS_TEST_TMPDIR/qemu-working-kvm khz
	khz=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
	[ -s "$ROOT/@host/tsc_khz" ] && khz=$(cat "$ROOT/@host/tsc_khz")
	cat >"$w" <<-EOS
	#!/bin/bash
	kvm=0 args=()
	while [ \$# -gt 0 ]; do
		case "\$1" in
		-accel) if [ "\$2" = kvm ]; then kvm=1; args+=(-accel tcg); else args+=(-accel "\$2"); fi; shift 2 ;;
		-cpu) if [ "\$2" = host ]; then args+=(-cpu max); else args+=(-cpu "\$2"); fi; shift 2 ;;
		-append) if [ \$kvm = 1 ]; then args+=(-append "\$2 tsc_early_khz=$khz"); else args+=(-append "\$2"); fi; shift 2 ;;
		*) args+=("\$1"); shift ;;
		esac
	done
	[ \$kvm = 1 ] && echo kvm >>"$BATS_TEST_TMPDIR/asked" || echo tcg >>"$BATS_TEST_TMPDIR/asked"
	exec $REAL_QEMU "\${args[@]}"
	EOS
	chmod +x "$w"
	# QEMU runs as an unprivileged uid of its own (docs/SECURITY.md): it
	# records in a file it may write.
	: >"$BATS_TEST_TMPDIR/asked"
	chmod 666 "$BATS_TEST_TMPDIR/asked"
	echo "$w"
}

# A QEMU that, asked for KVM, never answers (a hung guest).
hanging_kvm_qemu() {
	local w=$BATS_TEST_TMPDIR/qemu-hanging-kvm
	cat >"$w" <<-EOS
	#!/bin/bash
	for a in "\$@"; do [ "\$a" = kvm ] && exec sleep 987; done
	exec $REAL_QEMU "\$@"
	EOS
	chmod +x "$w"
	echo "$w"
}

# Nothing but the cache may remain of a probe: no probe dir, no process.
assert_probe_left_nothing() {
	run find "$ROOT/@host" -mindepth 1 -maxdepth 1 -name 'kvm-probe.*' -type d
	assert_output ""
	run pgrep -f "$ROOT/@host/kvm-probe"
	assert_failure
}

@test "check: the first line is the KVM verdict; --format json says the same" {
	runvm check
	assert_success
	[[ ${lines[0]} =~ ^kvm:\ .*\;\ using\ (KVM|TCG)$ ]]
	first=${lines[0]}
	runvm check --format json
	assert_success
	accel=$(jq -r .accelerator <<<"$output")
	reason=$(jq -r .kvm.reason <<<"$output")
	[ -n "$reason" ] && [ "$reason" != null ]
	[[ $first == *"$reason"* ]]
	if [ "$accel" = kvm ]; then [[ $first == *"using KVM" ]]; else [[ $first == *"using TCG" ]]; fi
	[ "$(jq -r .accel <<<"$output")" = auto ]
	runvm check --format yaml
	assert_failure
	assert_output --partial "invalid format option"
	assert_probe_left_nothing
}

@test "auto: a KVM that cannot run the guest gives TCG, with QEMU's reason" {
	kvm_device_works || skip "no usable /dev/kvm device here: the probe boot is never reached"
	echo "qemu = $(broken_kvm_qemu)" >"$CONF"
	runvm check
	assert_success
	assert_line --index 0 "kvm: /dev/kvm present but unusable: qemu: simulated: KVM cannot run this guest; using TCG"
	assert_probe_left_nothing
	set_args sh -c 'echo ran'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output ran
}

@test "auto: a KVM whose probe guest answers is used" {
	kvm_device_works || skip "no usable /dev/kvm device here"
	echo "qemu = $(working_kvm_qemu)" >"$CONF"
	runvm check --format json
	assert_success
	[ "$(jq -r .accelerator <<<"$output")" = kvm ]
	[ "$(jq -r .kvm.usable <<<"$output")" = true ]
	[[ $(jq -r .kvm.reason <<<"$output") == "the guest booted under KVM and answered in "*" ms" ]]
	set_args sh -c 'echo ran'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output ran
	# Asked for KVM twice (the probe, then the container), never for TCG.
	run cat "$BATS_TEST_TMPDIR/asked"
	assert_output "$(printf 'kvm\nkvm')"
	assert_probe_left_nothing
}

@test "auto: a probe guest that never answers is given up at the deadline, and killed" {
	kvm_device_works || skip "no usable /dev/kvm device here"
	printf 'qemu = %s\nkvm_probe_timeout_ms = 1500\n' "$(hanging_kvm_qemu)" >"$CONF"
	start=$SECONDS
	runvm check
	assert_success
	assert_line --index 0 "kvm: /dev/kvm present but unusable: the guest did not answer within 1500 ms under KVM; using TCG"
	[ $((SECONDS - start)) -lt 10 ]
	run pgrep -f "sleep 987"
	assert_failure
	assert_probe_left_nothing
}

@test "the verdict is cached, and probed again when QEMU changes or on --reprobe" {
	kvm_device_works || skip "no usable /dev/kvm device here"
	w=$(broken_kvm_qemu)
	echo "qemu = $w" >"$CONF"
	runvm check
	assert_line --index 1 --partial "kvm verdict: probed now"
	runvm check
	assert_line --index 1 --partial "kvm verdict: cached"
	# What a probe killed mid-boot leaves (its QEMU dies with it) goes
	# with the next probe.
	mkdir "$ROOT/@host/kvm-probe.killed" && touch "$ROOT/@host/kvm-probe.killed/console.log"
	runvm check --reprobe
	assert_line --index 1 --partial "kvm verdict: probed now"
	assert_probe_left_nothing
	touch -d '1 minute ago' "$w"
	runvm check
	assert_line --index 1 --partial "kvm verdict: probed now"
	runvm check --format json
	[ "$(jq -r .kvm.cached <<<"$output")" = true ]
	# The cache is keyed on the host's boot, /dev/kvm, QEMU, the kernel and the initramfs.
	run head -n1 "$ROOT/@host/kvm-verdict"
	assert_output --partial "boot=$(cat /proc/sys/kernel/random/boot_id)"
	assert_output --partial " kvm=$(printf '%d:%d' "0x$(stat -c %t /dev/kvm)" "0x$(stat -c %T /dev/kvm)"):"
	assert_output --partial "qemu=$w:"
	assert_output --partial " kernel="
	assert_output --partial " initrd="
}

@test "accel = kvm on a KVM that cannot run the guest fails create in seconds, naming KVM" {
	kvm_device_works || skip "no usable /dev/kvm device here"
	printf 'accel = kvm\nqemu = %s\n' "$(broken_kvm_qemu)" >"$CONF"
	start=$SECONDS
	runvm_separate create --bundle "$BUNDLE" ct
	assert_failure
	[ $((SECONDS - start)) -lt 10 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *"accel = kvm, but KVM cannot run the guest: qemu: simulated: KVM cannot run this guest"* ]]
	runvm state ct
	assert_failure
	assert_probe_left_nothing
}

@test "accel = kvm with this host's own QEMU and KVM: works, or fails in under 10 s naming KVM" {
	echo "accel = kvm" >"$CONF"
	verdict=$(host_verdict)
	start=$SECONDS
	set_args sh -c 'echo ran'
	runvm_separate run --bundle "$BUNDLE" ct
	if [ "$(jq -r .kvm.usable <<<"$verdict")" = true ]; then
		assert_success
		assert_output ran
	else
		assert_failure
		[ $((SECONDS - start)) -lt 10 ]
		[[ $stderr == *KVM* ]]
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	fi
}

@test "accel = tcg never probes" {
	echo "accel = tcg" >"$CONF"
	runvm check
	assert_success
	assert_line --index 0 "kvm: not probed (accel = tcg in the configuration); using TCG"
	[ ! -e "$ROOT/@host/kvm-verdict" ]
}

@test "tcg: the LAPIC timer's rate comes from the host, not a calibration, and timers fire" {
	printf 'accel = tcg\nkernel_params = "apic=verbose"\n' >"$CONF"
	# The purpose-built kernel's patch (vm/image/kernel-patches/) reads it
	# (apic=verbose has the kernel say so, where it would otherwise print
	# its calibration's result); the guest's clock event device is the
	# LAPIC timer, and a sleep ends.
	set_args sh -c 'cat /proc/cmdline; cat /sys/devices/system/clockevents/clockevent0/current_device; sleep 1; echo slept; dmesg | grep -i "lapic timer\|calibration result"'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 --partial " lapic_timer_khz=1000000"
	assert_line --index 1 lapic
	assert_line --index 2 slept
	assert_line --index 3 --partial "lapic timer already calibrated 4000000"
	refute_line --partial "calibration result"
}

@test "a guest kernel that panics fails create at once, with the panic and the kept logs" {
	echo "kernel_params = rdinit=/runvm-no-such-init" >"$CONF"
	start=$SECONDS
	runvm_separate create --bundle "$BUNDLE" ct
	assert_failure
	# Not the 60 s hello deadline: the VM's exit ends the wait.
	[ $((SECONDS - start)) -lt 20 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *"the guest kernel panicked: "* ]]
	[[ $stderr == *"guest logs: $ROOT/@host/failed-boot.log"* ]]
	run grep -c "Kernel panic - not syncing" "$ROOT/@host/failed-boot.log"
	assert_output 1
	runvm state ct
	assert_failure
}

@test "a QEMU that cannot start fails create at once with QEMU's own words" {
	cat >"$BATS_TEST_TMPDIR/qemu-bad-option" <<-EOS
	#!/bin/bash
	echo "qemu-system-x86_64: -device virtserialport: simulated: no such bus" >&2
	exit 1
	EOS
	chmod +x "$BATS_TEST_TMPDIR/qemu-bad-option"
	printf 'accel = tcg\nqemu = %s\n' "$BATS_TEST_TMPDIR/qemu-bad-option" >"$CONF"
	start=$SECONDS
	runvm_separate create --bundle "$BUNDLE" ct
	assert_failure
	[ $((SECONDS - start)) -lt 10 ]
	[[ $stderr == *"qemu: -device virtserialport: simulated: no such bus"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

@test "hypervisor: qemu is the driver; another name is one line naming the key and the file" {
	printf 'accel = tcg\nhypervisor = qemu\n' >"$CONF"
	runvm check
	assert_success
	assert_output --partial "hypervisor: qemu"
	runvm check --format json
	assert_success
	[ "$(jq -r .hypervisor <<<"$output")" = qemu ]
	printf 'accel = tcg\n\nhypervisor = firecracker\n' >"$CONF"
	runvm_separate create --bundle "$BUNDLE" ct
	assert_failure
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *"\`$CONF\` line 3: unknown hypervisor \`firecracker\` for key \`hypervisor\` (this runvm has: qemu)"* ]]
	runvm state ct
	assert_failure
	[ ! -e "$ROOT/ct" ]
}
