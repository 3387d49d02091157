#!/usr/bin/env bats
# podman drives the runtime through conmon, as with runc.
# RUNVM=/usr/sbin/runc runs the same tests against runc.

load ../integration/helpers
load podman

setup_file() {
	podman_setup_file 
}

teardown_file() {
	podman_teardown_file
}

setup() {
	command -v podman >/dev/null || skip "podman not installed"
	[ -x "$RUNVM" ] || fail "runtime not found: $RUNVM"
}

teardown() {
	# podman calls the runtime without --root: its default root.
	local cid
	if [ -s "$BATS_TEST_TMPDIR/cid" ]; then
		cid=$(cat "$BATS_TEST_TMPDIR/cid")
		pm rm --force --time 0 "$cid" >/dev/null 2>&1 || true
		if [ -e "$(default_root)/$cid" ]; then
			echo "LEAK: state dir $(default_root)/$cid"
			return 1
		fi
	fi
	check_leaks
}

default_root() {
	if is_runvm; then echo /run/runvm; else echo "/run/$RUNVM_NAME"; fi
}

# pm ARGS...: podman with the private dirs, no systemd, bounded in time.


@test "podman run --rm with the runtime prints hi" {
	# The test's temp dir in the podman command line makes the leak check
	# find the runtime's processes through conmon's arguments too. Default
	# network: podman's CNI bridge, mirrored into the VM.
	run pm --runtime "$(realpath "$RUNVM")" run --rm $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" echo hi
	echo "$output"
	assert_success
	assert_output hi
	run -0 pm ps -a -q
	assert_output ""
}

@test "podman run --network none: exit code and stderr come back" {
	run --separate-stderr pm --runtime "$(realpath "$RUNVM")" run --rm --network none $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c 'echo out; echo err >&2; exit 42'
	echo "stdout: $output"
	echo "stderr: $stderr"
	assert_equal "$status" 42
	assert_output out
	[[ $stderr == *err* ]] || fail "stderr: $stderr"
}

@test "podman run --shm-size 96m: /dev/shm is a tmpfs of that size in the guest, nothing of it on the host" {
	local id shm
	run -0 pm --runtime "$(realpath "$RUNVM")" run -d --network none $(ulimit_args) "$IMAGE" sleep 300
	id=$output
	run -0 pm exec "$id" sh -c 'grep " /dev/shm " /proc/mounts; echo data >/dev/shm/f && cat /dev/shm/f'
	assert_line --partial "/dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=64000k"
	assert_line data
	shm=$(pm inspect "$id" --format '{{.StaticDir}}')/shm
	[ -d "$shm" ] && [ -z "$(ls -A "$shm")" ]
	pm rm -f -t 0 "$id" >/dev/null
	run -0 pm --runtime "$(realpath "$RUNVM")" run --rm --network none --shm-size 96m $(ulimit_args) "$IMAGE" \
		sh -c 'df -k /dev/shm | awk "NR == 2 { print \$2 }"'
	assert_output 98304
}

# --- networking ----------------------------------------------------------

# server_netns: a web server in a namespace of its own (net-psrv, reached
# through the veth net-psh from the host), serving "from-server".
server_netns() {
	ip netns del net-psrv 2>/dev/null || true
	ip link del net-psh 2>/dev/null || true
	ip netns add net-psrv
	ip link add net-psh type veth peer name eth0 netns net-psrv
	ip addr add 10.231.21.1/24 dev net-psh
	ip link set net-psh up
	ip -n net-psrv addr add 10.231.21.2/24 dev eth0
	ip -n net-psrv link set eth0 up
	ip -n net-psrv link set lo up
	ip -n net-psrv route add default via 10.231.21.1
	mkdir -p "$BATS_TEST_TMPDIR/www"
	echo from-server >"$BATS_TEST_TMPDIR/www/index.html"
	ip netns exec net-psrv /bin/busybox httpd -f -p 80 -h "$BATS_TEST_TMPDIR/www" </dev/null >/dev/null 2>&1 3>&- &
	SERVER_PID=$!
	track_pid "$SERVER_PID"
}

server_stop() {
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
	ip netns del net-psrv 2>/dev/null || true
	ip link del net-psh 2>/dev/null || true
}

@test "podman run with the default CNI bridge reaches a server in another namespace" {
	server_netns
	run pm --runtime "$(realpath "$RUNVM")" run --rm $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c 'ip neigh; wget -q -O- http://10.231.21.2/'
	server_stop
	echo "$output"
	assert_success
	assert_line from-server
	# The bridge's gateway was known before the first packet.
	is_runvm && assert_line --index 0 --regexp '^10\.88\.0\.1 .*lladdr'
	true
}

@test "podman run -d -p 18080:80: the container's server is reached on the host's port" {
	run pm --runtime "$(realpath "$RUNVM")" run -d -p 18080:80 $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" \
		sh -c 'mkdir -p /tmp/www && echo served-from-container >/tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'
	echo "$output"
	assert_success
	host_port_get 18080
	assert_output served-from-container
	pm_rm_force "$(cat "$BATS_TEST_TMPDIR/cid")"
}

@test "podman run --network slirp4netns reaches a server" {
	command -v slirp4netns >/dev/null || skip "slirp4netns not installed"
	server_netns
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network slirp4netns $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" wget -q -O- http://10.231.21.2/
	server_stop
	echo "$output"
	assert_success
	assert_output from-server
}

@test "podman cp in and out of a running container hits the container's files; podman top shows no host process" {
	is_runvm || skip "runvm only: the monitor's namespaces"
	run -0 pm --runtime "$(realpath "$RUNVM")" run -d --network none $(ulimit_args) --name sec-cp "$IMAGE" sleep 600
	echo "${lines[-1]}" >"$BATS_TEST_TMPDIR/cid"
	rm -f /tmp/sec-cp-in
	echo copied-in >"$BATS_TEST_TMPDIR/in"
	run -0 pm cp "$BATS_TEST_TMPDIR/in" sec-cp:/tmp/sec-cp-in
	[ ! -e /tmp/sec-cp-in ]
	run -0 pm exec sec-cp cat /tmp/sec-cp-in
	assert_output copied-in
	run -0 pm exec sec-cp hostname
	local name=$output
	[ "$name" != "$(hostname)" ]
	run -0 pm cp sec-cp:/etc/hostname "$BATS_TEST_TMPDIR/hostname"
	run -0 cat "$BATS_TEST_TMPDIR/hostname"
	[ "$output" != "$(cat /etc/hostname)" ]
	# The VM's processes only: its init, the monitor, QEMU, virtiofsd.
	run -0 pm top sec-cp comm
	echo "$output"
	[ "${#lines[@]}" -ge 3 ]
	run grep -cvE '^(COMMAND|runvm-pidns|runvm-monitor|qemu-system-x86|virtiofsd) *$' <<<"$output"
	assert_output 0
	pm_rm_force sec-cp
}

# --- block devices ---------------------------------------------------------

# vmdrv_loop: a loop device over a 16 MiB ext4 image named vmdrv-* in the
# test's temp dir (detached by vmdrv_unloop); prints it.
vmdrv_loop() {
	local img=$BATS_TEST_TMPDIR/vmdrv-disk.img
	truncate -s 16M "$img"
	mkfs.ext4 -q -F "$img"
	losetup -f --show "$img"
}

vmdrv_unloop() {
	local dev
	for dev in $(losetup -j "$BATS_TEST_TMPDIR/vmdrv-disk.img" -O NAME -n 2>/dev/null); do
		losetup -d "$dev" || true
	done
}

# What a container sees of a block device: its type, and ext4's
# superblock magic read through it (or why not).
BLOCK_PROBE='stat -c %F "$0"
	if dd if="$0" of=/dev/null bs=1024 count=2 2>/dev/null; then
		dd if="$0" bs=1024 skip=1 count=1 2>/dev/null | od -An -tx1 -j56 -N2
	else
		echo "read refused"
	fi'

@test "podman run --device /dev/loopN: the container reads the host's device" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	local dev
	dev=$(vmdrv_loop)
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none $(ulimit_args) --device "$dev" \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c "$BLOCK_PROBE; blockdev --getsize64 $dev" "$dev"
	vmdrv_unloop
	echo "$output"
	assert_success
	assert_line "block special file"
	assert_line " 53 ef"
	assert_line $((16 << 20))
}

@test "podman run -v /dev/loopN:/dev/xvda: the node is there, as with runc" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	local dev mine
	dev=$(vmdrv_loop)
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none $(ulimit_args) -v "$dev:/dev/xvda" \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c "$BLOCK_PROBE" /dev/xvda
	mine=$output
	echo "$output"
	if [ "$status" -eq 0 ] && have_runc; then
		rm -f "$BATS_TEST_TMPDIR/cid"
		run pm --runtime "$RUNC" run --rm --network none $(ulimit_args) -v "$dev:/dev/xvda" \
			--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c "$BLOCK_PROBE" /dev/xvda
		echo "runc: $output"
		assert_equal "$mine" "$output"
	fi
	vmdrv_unloop
	assert_success
	# No device rule for a bind mount: opening it is refused, as with runc.
	assert_equal "$mine" "block special file
read refused"
}

@test "podman run --privileged works and gets no host block device by surprise" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 (e2fsprogs) is not installed"
	local dev
	dev=$(vmdrv_loop)
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none $(ulimit_args) --privileged \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c "[ -e $dev ] && echo present || echo absent; echo hi"
	vmdrv_unloop
	echo "$output"
	assert_success
	assert_line hi
	if is_runvm; then
		assert_line absent
	else
		assert_line present
	fi
}

# --- the VM sized like the container (docs/RESOURCES.md) -------------------

@test "podman --memory 64m: a 200 MB allocation exits 137 with OOMKilled=true" {
	run pm --runtime "$(realpath "$RUNVM")" run --name sizing-oom --network none --memory 64m $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c 'dd if=/dev/zero of=/dev/null bs=200M count=1'
	echo "$output"
	assert_equal "$status" 137
	run -0 pm inspect --format '{{.State.OOMKilled}} {{.State.ExitCode}}' sizing-oom
	assert_output "true 137"
}

@test "podman without limits: 1 GiB allocates" {
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" sh -c 'dd if=/dev/zero of=/dev/null bs=1G count=1 2>/dev/null; echo "dd $?"'
	echo "$output"
	assert_success
	assert_output "dd 0"
}

@test "podman --cpuset-cpus 0,1 and --cpus 2: two CPUs in the container" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none --cpuset-cpus 0,1 $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" nproc
	echo "$output"
	assert_success
	assert_output 2
	rm -f "$BATS_TEST_TMPDIR/cid"
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none --cpus 2 $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" nproc
	echo "$output"
	assert_success
	assert_output 2
}

@test "podman --cpus 1: one vCPU" {
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none --cpus 1 $(ulimit_args) \
		--cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" nproc
	echo "$output"
	assert_success
	assert_output 1
}

@test "podman run --uidmap/--gidmap: the reported pid's maps are the container's; exec, cp and top work" {
	is_runvm || skip "runvm only: the monitor's namespaces"
	run pm --runtime "$(realpath "$RUNVM")" run --rm --network none $(ulimit_args) \
		--uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMAGE" sh -c 'id -u; exit 3'
	assert_equal "$status" 3
	assert_output 0
	run -0 pm --runtime "$(realpath "$RUNVM")" run -d --network none $(ulimit_args) --name userns-map \
		--uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMAGE" sleep 600
	echo "${lines[-1]}" >"$BATS_TEST_TMPDIR/cid"
	local pid
	pid=$(pm inspect -f '{{.State.Pid}}' userns-map)
	run -0 awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map"
	assert_output "0 100000 65536"
	run -0 awk '{ print $1, $2, $3 }' "/proc/$pid/gid_map"
	assert_output "0 100000 65536"
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	run -0 pm exec userns-map sh -c 'id -u; cat /proc/self/uid_map'
	assert_line 0
	assert_line --regexp '^ +0 +100000 +65536$'
	echo copied-in >"$BATS_TEST_TMPDIR/in"
	run -0 pm cp "$BATS_TEST_TMPDIR/in" userns-map:/tmp/in
	run -0 pm exec userns-map cat /tmp/in
	assert_output copied-in
	# The VM's processes, and the monitor's keeper (docs/SECURITY.md).
	run -0 pm top userns-map comm
	echo "$output"
	run grep -cvE '^(COMMAND|runvm-pidns|runvm-monitor|runvm-keeper|qemu-system-x86|virtiofsd) *$' <<<"$output"
	assert_output 0
	pm_rm_force userns-map
}
