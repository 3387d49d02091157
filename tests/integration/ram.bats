#!/usr/bin/env bats
# RAM added as used (docs/RESOURCES.md): a VM of whole 128 MiB blocks
# boots with boot_memory_mib and the agent adds the rest as the guest
# uses it; limits the kernel sizes by its RAM are those of the whole VM.

load helpers

meminfo_mib() { echo "\$((\$(sed -n \"s/^$1: *\\([0-9]*\\) kB/\\1/p\" /proc/meminfo) / 1024))"; }

@test "a 2 GiB VM boots with 256 MiB and adds RAM as its container uses it" {
	is_runvm || skip "runvm's guest"
	# 1700 MiB in one buffer: seven times the boot RAM, most of the VM.
	set_args sh -c "echo boot \$(grep -o 'mem=[^ ]*' /proc/cmdline) $(meminfo_mib MemTotal)
		dd if=/dev/zero of=/dev/null bs=1700M count=1 2>/dev/null; echo dd \$?
		echo after $(meminfo_mib MemTotal)"
	runvm run --bundle "$BUNDLE" ct
	assert_success
	[[ ${lines[0]} =~ ^boot\ mem=256M\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -le 256 ]
	assert_line --index 1 "dd 0"
	[[ ${lines[2]} =~ ^after\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -ge 1750 ]
	[ "${BASH_REMATCH[1]}" -le 2048 ]
}

@test "RAM is added to a 4 GiB VM above the 32-bit hole too, for a tmpfs that fills it" {
	is_runvm || skip "runvm's guest"
	set_args sh -c 'dd if=/dev/zero of=/mnt/f bs=1M count=3300 2>/dev/null; echo dd $?; ls /sys/devices/system/memory | grep -c "^memory"'
	update_config '.annotations["org.runvm.vm.memory_mib"] = "4096"
		| .mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["size=3500M"]}]'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 "dd 0"
	# Blocks 32 and up are the RAM above 4 GiB (microvm keeps 3 GiB below).
	[ "${lines[1]}" -ge 27 ]
}

@test "a container's memory limit still decides: the kill is the container's, not the VM's" {
	is_runvm || skip "runvm's guest"
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=600M count=1 2>/dev/null; echo "dd exit $?"'
	# An 896 MiB limit in a 1024 MiB VM (the annotation), booted with 256.
	update_config '.linux.resources.memory = {"limit": 939524096} | .annotations["org.runvm.vm.memory_mib"] = "1024"'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output "dd exit 0"
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=1000M count=1 2>/dev/null; echo "dd exit $?"'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output "dd exit 137"
}

@test "tmpfs sizes and the kernel's RAM-sized limits are those of the whole VM" {
	is_runvm || skip "runvm's guest"
	set_args sh -c 'df -k /tmp /mnt | awk "NR > 1 { print \$2 }"; cat /proc/sys/kernel/threads-max /proc/sys/fs/file-max; ulimit -u'
	update_config '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
		{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["size=25%"]}]
		| .process.rlimits = []'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	local grown=("${lines[@]}")
	conf=$BATS_TEST_TMPDIR/runvm.conf
	echo "boot_memory_mib = 0" >"$conf"
	RUNVM_CONFIG=$conf runvm run --bundle "$BUNDLE" ct
	assert_success
	# Within 3% of a guest booted with all 2 GiB (the boot's reservations differ).
	for i in 0 1 2 3 4; do
		[ "${grown[$i]}" -ge "$((lines[i] * 97 / 100))" ]
		[ "${grown[$i]}" -le "$((lines[i] * 103 / 100))" ]
	done
	# A tmpfs without a size is half the VM; 25% is a quarter.
	[ "${grown[0]}" -ge $((1000 * 1024)) ]
	[ "${grown[1]}" -ge $((500 * 1024)) ]
}

@test "boot_memory_mib = 0 boots with all the RAM; a VM that is not whole blocks does too, a limit's VM is rounded up to blocks" {
	is_runvm || skip "runvm's guest"
	set_args sh -c "grep -c 'mem=' /proc/cmdline; echo $(meminfo_mib MemTotal)"
	conf=$BATS_TEST_TMPDIR/runvm.conf
	echo "boot_memory_mib = 0" >"$conf"
	RUNVM_CONFIG=$conf runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 0
	[ "${lines[1]}" -ge 1900 ]
	# 200 MiB + base_memory_mib ends inside a block: rounded up to 384
	# MiB, booted with 256.
	update_config '.linux.resources.memory = {"limit": 209715200}'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 1
	# A size given by annotation is kept: 600 MiB would end in a part
	# block, which could never be added.
	update_config '.annotations["org.runvm.vm.memory_mib"] = "600"'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line --index 0 0
	[ "${lines[1]}" -ge 500 ]
}

@test "free page reporting returns pieces of 128 KiB and up; page_reporting_order on the command line wins" {
	is_runvm || skip "runvm's guest"
	# The balloon driver sets 9 (2 MiB) when it registers, over the command
	# line; the agent sets 5, or what the command line says.
	set_args cat /sys/module/page_reporting/parameters/page_reporting_order
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 5
	conf=$BATS_TEST_TMPDIR/runvm.conf
	echo 'kernel_params = page_reporting.page_reporting_order=7' >"$conf"
	RUNVM_CONFIG=$conf runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 7
	# One the kernel refuses (orders are 0-10) leaves the agent's.
	echo 'kernel_params = page_reporting.page_reporting_order=12' >"$conf"
	RUNVM_CONFIG=$conf runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 5
}

# Pages of QEMU's guest RAM (memfd offset = guest address below 4 GiB)
# present in its page tables: QEMU wrote them and the host keeps them.
guest_pages_present() { # QEMU-PID GUEST-ADDR PAGES
	local base
	base=$(awk '/memory-backend-memfd/ { split($1, r, "-"); print r[1]; exit }' "/proc/$1/maps")
	dd if="/proc/$1/pagemap" bs=8 skip=$(((0x$base + $2) / 4096)) count="$3" 2>/dev/null |
		od -An -v -tx8 | awk '{ for (i = 1; i <= NF; i++) if (substr($i, 1, 1) ~ /[89a-f]/) n++ } END { print n + 0 }'
}

# initrd_place ID: where QEMU put ID's initramfs (boot_params'
# ramdisk_image and ramdisk_size), as "ADDR SIZE".
initrd_place() {
	runvm exec "$1" od -An -tu4 -j 536 -N 8 /sys/kernel/boot_params/data
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/$1.initrd"
}

# initrd_copy_freed ID ADDR SIZE: no page of the initramfs copy at ADDR is
# on the host, while the kernel image QEMU loaded at 16 MiB is.
initrd_copy_freed() {
	local qemu
	qemu=$(jq '.processes[] | select(.name == "qemu") | .pid' "$ROOT/$1/state.json")
	[ "$(guest_pages_present "$qemu" "$2" $((($3 + 4095) / 4096)))" = 0 ]
	[ "$(guest_pages_present "$qemu" $((16 << 20)) 256)" -gt 200 ]
}

@test "the boot's initramfs copy in RAM left out at boot is freed on the host" {
	is_runvm || skip "runvm's guest"
	set_args sleep 600
	run_detached ct
	wait_for_status ct running
	initrd_place ct
	read -r addr size <"$BATS_TEST_TMPDIR/ct.initrd"
	# The top of the 2 GiB, above the kernel's mem=256M.
	[ "$addr" -ge $((256 << 20)) ]
	[ "$size" -gt 0 ]
	initrd_copy_freed ct "$addr" "$size"
}

@test "the initramfs copy is freed for a container with a user namespace too (its monitor enters it at start)" {
	is_runvm || skip "runvm's guest"
	set_args sleep 600
	run_detached plain
	wait_for_status plain running
	initrd_place plain
	read -r addr size <"$BATS_TEST_TMPDIR/plain.initrd"
	runvm delete --force plain
	# Its root is not the guest's (boot_params is root's to read), but
	# its VM is of the same size and initramfs: the copy is where it was.
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	run_detached ct
	wait_for_status ct running
	local monitor
	monitor=$(cat "$BATS_TEST_TMPDIR/ct.pid")
	[ "$(readlink "/proc/$monitor/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	initrd_copy_freed ct "$addr" "$size"
}

@test "boot_memory_mib: a bad value is one error line naming the key" {
	is_runvm || skip "runvm's configuration"
	refuses_config_values boot_memory_mib abc -1 "256 MiB"
}

@test "another kernel file gets all its RAM at boot unless boot_memory_mib is set" {
	is_runvm || skip "runvm's configuration"
	# Only runvm's own kernel is known to have the probe interface.
	local kernel
	kernel=$(dirname "$(readlink -f "$RUNVM")")/../guest/vmlinux-runvm
	[ -r "$kernel" ] || skip "runvm's kernel is not built"
	cp "$kernel" "$BATS_TEST_TMPDIR/vmlinux"
	conf=$BATS_TEST_TMPDIR/runvm.conf
	echo "kernel = $BATS_TEST_TMPDIR/vmlinux" >"$conf"
	set_args sh -c "grep -c ' mem=' /proc/cmdline || true"
	RUNVM_CONFIG=$conf runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 0
	echo "boot_memory_mib = 256" >>"$conf"
	RUNVM_CONFIG=$conf runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output 1
}

@test "boot_memory_mib with a kernel that cannot add RAM fails create in one line, leaving nothing" {
	is_runvm || skip "runvm's configuration"
	# Debian's kernel has memory hot-plug but not the probe interface.
	local guest
	guest=$(dirname "$(readlink -f "$RUNVM")")/../guest
	[ -r "$guest/vmlinuz" ] && [ -r "$guest/initrd.img" ] || skip "Debian's guest kernel is not installed"
	conf=$BATS_TEST_TMPDIR/runvm.conf
	printf 'kernel = %s\ninitrd = %s\nboot_memory_mib = 256\n' "$guest/vmlinuz" "$guest/initrd.img" >"$conf"
	RUNVM_CONFIG=$conf runvm create --bundle "$BUNDLE" ct
	assert_failure
	assert_line --partial "boot_memory_mib: the guest kernel cannot add the 1792 MiB of RAM left out at boot (no /sys/devices/system/memory/probe): set boot_memory_mib = 0 for this kernel"
	runvm state ct
	assert_failure
}

@test "runvm check says how the guest gets its RAM" {
	is_runvm || skip "runvm check"
	runvm check
	assert_success
	assert_line --partial "guest ram: 256 MiB at boot, the rest added as used"
	run -0 __runvm check --format json
	[ "$(jq .boot_memory_mib <<<"$output")" = 256 ]
	conf=$BATS_TEST_TMPDIR/runvm.conf
	echo "boot_memory_mib = 0" >"$conf"
	RUNVM_CONFIG=$conf runvm check
	assert_success
	assert_line "guest ram: all of it at boot (boot_memory_mib = 0)"
}
