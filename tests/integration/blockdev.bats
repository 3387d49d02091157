#!/usr/bin/env bats
# Block devices (issue 12): linux.devices of type b and mounts whose source
# is a block device reach the guest as virtio-blk disks; a disk is
# read-only for the guest when any one of the mount's `ro`, a device rule
# without `w`, or a read-only host device says so, and then the host's
# image is never written. Loop devices are made by each test over images
# named vmdrv-* in its temp dir, and detached in teardown.

load helpers

setup() {
	runvm_setup
	is_runvm || skip "runvm's disks"
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	CONF=$BATS_TEST_TMPDIR/runvm.conf
	: >"$CONF"
	export RUNVM_CONFIG=$CONF
}

teardown() {
	runvm_teardown
	local img dev
	for img in "$BATS_TEST_TMPDIR"/vmdrv-*.img; do
		[ -e "$img" ] || continue
		for dev in $(losetup -j "$img" -O NAME -n 2>/dev/null); do
			losetup -d "$dev" || true
		done
	done
	if mountpoint -q "$BATS_TEST_TMPDIR/vmdrv-mnt" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/vmdrv-mnt"
	fi
}

# ext4_image NAME: a 16 MiB ext4 image holding /hello ("hello from the host").
ext4_image() {
	local img=$BATS_TEST_TMPDIR/vmdrv-$1.img
	mkdir -p "$BATS_TEST_TMPDIR/vmdrv-src"
	echo "hello from the host" >"$BATS_TEST_TMPDIR/vmdrv-src/hello"
	truncate -s 16M "$img"
	mkfs.ext4 -q -F -d "$BATS_TEST_TMPDIR/vmdrv-src" "$img"
	echo "$img"
}

# attach IMG [ro]: a loop device over IMG (read-only with ro); prints it.
attach() {
	if [ "${2:-}" = ro ]; then
		losetup -r -f --show "$1"
	else
		losetup -f --show "$1"
	fi
}

# use_disk DEV ACCESS [MOUNT_OPTIONS_JSON] [FSTYPE]: DEV as /dev/vmdrvblk
# (linux.devices, mode 0660, gid 6), the device rule ACCESS for it, and
# DEV mounted on /data.
use_disk() {
	local dev=$1 access=$2 opts=${3:-[]} fstype=${4:-ext4} maj min
	maj=$(stat -c %Hr "$dev")
	min=$(stat -c %Lr "$dev")
	update_config '.linux.devices = [{"path": "/dev/vmdrvblk", "type": "b", "major": '"$maj"', "minor": '"$min"',
		"fileMode": 432, "uid": 0, "gid": 6}]
		| .linux.resources.devices += [{"allow": true, "type": "b", "major": '"$maj"', "minor": '"$min"',
		"access": "'"$access"'"}]
		| .mounts += [{"destination": "/data", "type": "'"$fstype"'", "source": "'"$dev"'", "options": '"$opts"'}]'
}

@test "blockdev: a loop device in linux.devices and mounted is readable and writable when allowed" {
	local img dev
	img=$(ext4_image rw)
	dev=$(attach "$img")
	use_disk "$dev" rwm
	set_args sh -c 'stat -c "%n %F %a %u:%g" /dev/vmdrvblk; cat /data/hello; blockdev --getro /dev/vmdrvblk
		echo from-the-guest >/data/new && echo write-ok
		dd if=/dev/vmdrvblk bs=512 count=1 2>/dev/null | wc -c
		awk '"'"'$5 == "/data" { for (i = 7; i <= NF; i++) if ($i == "-") print $5, $(i + 1) }'"'"' /proc/self/mountinfo'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line "/dev/vmdrvblk block special file 660 0:6"
	assert_line "hello from the host"
	assert_line 0
	assert_line write-ok
	assert_line 512
	assert_line "/data ext4"
	# The guest's write reached the host's device.
	run debugfs -R "cat /new" "$img"
	assert_output --partial from-the-guest
}

# ro_case: the guest sees a read-only disk, a write into the filesystem
# fails with EROFS, and the image is unchanged.
ro_case() {
	local img=$1 sum
	sum=$(sha256sum <"$img")
	set_args sh -c 'blockdev --getro /dev/vmdrvblk; cat /data/hello
		if echo x >/data/x; then echo wrote; fi
		grep " /data " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line 1
	assert_line "hello from the host"
	assert_output --partial "Read-only file system"
	refute_line wrote
	assert_line ro
	[ "$(sha256sum <"$img")" = "$sum" ]
}

@test "blockdev: the mount's ro alone makes the disk read-only" {
	local img dev
	img=$(ext4_image ro-mount)
	dev=$(attach "$img")
	use_disk "$dev" rwm '["ro"]'
	ro_case "$img"
}

@test "blockdev: a device rule without w alone makes the disk read-only" {
	local img dev
	img=$(ext4_image ro-rule)
	dev=$(attach "$img")
	use_disk "$dev" rm
	ro_case "$img"
}

@test "blockdev: a read-only host device (losetup -r) alone makes the disk read-only" {
	local img dev
	img=$(ext4_image ro-host)
	dev=$(attach "$img" ro)
	use_disk "$dev" rwm
	ro_case "$img"
}

@test "blockdev: an XFS image with a dirty log mounted read-only is not replayed, the image unchanged" {
	command -v mkfs.xfs >/dev/null || skip "mkfs.xfs (xfsprogs) is not installed"
	grep -qw xfs /proc/filesystems || skip "the host kernel cannot mount XFS to make a dirty log"
	local img=$BATS_TEST_TMPDIR/vmdrv-xfs.img dev mnt=$BATS_TEST_TMPDIR/vmdrv-mnt sum
	truncate -s 320M "$img"
	mkfs.xfs -q -f "$img"
	dev=$(attach "$img")
	mkdir -p "$mnt"
	mount -t xfs "$dev" "$mnt"
	echo "before the crash" >"$mnt/hello"
	xfs_io -c fsync "$mnt/hello"
	# Down without writing back what the log holds: the log stays dirty.
	xfs_io -x -c "shutdown" "$mnt"
	umount "$mnt"
	run xfs_logprint -t "$img"
	assert_output --partial "state: <DIRTY>"
	sum=$(sha256sum <"$img")
	use_disk "$dev" rwm '["ro"]' xfs
	set_args sh -c 'blockdev --getro /dev/vmdrvblk; ls /data >/dev/null && echo mounted
		awk '"'"'$5 == "/data" { for (i = 7; i <= NF; i++) if ($i == "-") print $(i + 1), $(i + 3) }'"'"' /proc/self/mountinfo'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line 1
	assert_line mounted
	assert_output --regexp "xfs ro,.*norecovery"
	[ "$(sha256sum <"$img")" = "$sum" ]
}

@test "blockdev: a block device bound onto a path is that device, as with runc" {
	local img dev maj min
	img=$(ext4_image bind)
	dev=$(attach "$img")
	maj=$(stat -c %Hr "$dev")
	min=$(stat -c %Lr "$dev")
	update_config '.mounts += [{"destination": "/dev/xvda", "type": "bind", "source": "'"$dev"'", "options": ["rbind"]}]
		| .linux.resources.devices += [{"allow": true, "type": "b", "major": '"$maj"', "minor": '"$min"', "access": "rm"}]'
	set_args sh -c 'stat -c "%F" /dev/xvda; dd if=/dev/xvda bs=1024 skip=1 count=1 2>/dev/null | od -An -tx1 -j56 -N2'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line "block special file"
	# ext4's superblock magic, read through the node.
	assert_line " 53 ef"
	if have_runc; then
		local mine=$output
		runc_run ct-runc
		assert_equal "$mine" "$runc_output"
	fi
}

@test "blockdev: in a user namespace, where mknod is refused, the disk's node is bound at the path" {
	local img dev
	img=$(ext4_image userns)
	dev=$(attach "$img")
	use_disk "$dev" rm
	update_config '.mounts |= map(select(.destination != "/data"))
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	# The node keeps its owner (the guest's root, unmapped here), as a
	# bind of the host's node does under runc.
	set_args sh -c 'stat -c "%F %u" /dev/vmdrvblk; head -c1 /dev/vmdrvblk >/dev/null 2>&1 || echo refused'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_line "block special file 65534"
	assert_line refused
}

@test "blockdev: rules that allow every device (--privileged) get no host block device unless configured" {
	local img dev maj min
	img=$(ext4_image priv)
	dev=$(attach "$img")
	maj=$(stat -c %Hr "$dev")
	min=$(stat -c %Lr "$dev")
	update_config '.linux.devices = [{"path": "/dev/vmdrvblk", "type": "b", "major": '"$maj"', "minor": '"$min"'}]
		| .linux.resources.devices = [{"allow": true, "access": "rwm"}]'
	set_args sh -c 'if [ -b /dev/vmdrvblk ]; then blockdev --getsize64 /dev/vmdrvblk; else echo absent; fi'
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output absent
	echo "privileged_host_devices = true" >"$CONF"
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output $((16 << 20))
}

@test "blockdev: a block device the host does not have is one line, nothing left" {
	update_config '.linux.devices = [{"path": "/dev/vmdrvblk", "type": "b", "major": 4093, "minor": 77}]'
	runvm_separate create --bundle "$BUNDLE" ct
	assert_failure
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *'`linux.devices[0]`: `/dev/vmdrvblk`: the host has no block device 4093:77'* ]]
	[ ! -e "$ROOT/ct" ]
}

# use_disks N: linux.devices /dev/vmdrvN for N loop devices over fresh
# images, each with a read rule.
use_disks() {
	local n=$1 i dev maj min devs='[]' rules='[]'
	for i in $(seq 0 $((n - 1))); do
		truncate -s 1M "$BATS_TEST_TMPDIR/vmdrv-$i.img"
		printf 'disk%s' "$i" | dd of="$BATS_TEST_TMPDIR/vmdrv-$i.img" conv=notrunc status=none
		dev=$(attach "$BATS_TEST_TMPDIR/vmdrv-$i.img")
		maj=$(stat -c %Hr "$dev")
		min=$(stat -c %Lr "$dev")
		devs=$(jq -c --arg p "/dev/vmdrv$i" --argjson ma "$maj" --argjson mi "$min" \
			'. + [{"path": $p, "type": "b", "major": $ma, "minor": $mi, "fileMode": 432, "uid": 0, "gid": 0}]' <<<"$devs")
		rules=$(jq -c --argjson ma "$maj" --argjson mi "$min" \
			'. + [{"allow": true, "type": "b", "major": $ma, "minor": $mi, "access": "rw"}]' <<<"$rules")
	done
	update_config ".linux.devices = $devs | .linux.resources.devices += $rules"
}

@test "blockdev: a VM of 4 disks boots without ACPI, one of 5 keeps it (microvm's 8 transports); each disk reads back" {
	set_args sh -c 'grep -o "acpi=off" /proc/cmdline || echo acpi; for d in /dev/vmdrv*; do head -c 5 "$d"; echo; done'
	use_disks 4
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output $'acpi=off\ndisk0\ndisk1\ndisk2\ndisk3'
	use_disks 5
	runvm run --bundle "$BUNDLE" ct
	assert_success
	assert_output $'acpi\ndisk0\ndisk1\ndisk2\ndisk3\ndisk4'
}
