# Shared by the podman suites: a private podman (storage, run and tmp dirs
# of its own under $PODMAN_DIR: nothing shared with the host's podman,
# nothing left behind; short paths for conmon's sockets) holding the
# busybox image. PM_RUNTIME, when set, is the --runtime of every call.

IMAGE=localhost/runvm-busybox:test

pm() {
	timeout -k 5 $((RUNVM_TIMEOUT * 2)) podman \
		--root "$PODMAN_DIR/storage" --runroot "$PODMAN_DIR/run" --tmpdir "$PODMAN_DIR/tmp" \
		--cgroup-manager cgroupfs --events-backend file --storage-driver vfs \
		${PM_RUNTIME:+--runtime "$PM_RUNTIME"} "$@" </dev/null 3>&-
}

# pm_rm_force NAME: `podman rm --force --time 0 NAME`, which must succeed.
# podman 4.3's rm races the cleanup that conmon starts when the container
# exits (containers/podman#11594: "unlinkat .../userdata/shm: device or
# resource busy", seen with runc as with runvm, 1 in ~10 with --uidmap):
# that one error, podman's own, is retried once.
pm_rm_force() {
	run pm rm --force --time 0 "$1"
	if [ "$status" -ne 0 ] && [[ "$output" == *"/userdata/shm: device or resource busy"* ]]; then
		echo "podman#11594's race, rm again: $output"
		run pm rm --force --time 0 "$1"
	fi
	assert_success
}

# podman sets the container's rlimits from its own defaults; a host that
# cannot raise its hard limits (no CAP_SYS_RESOURCE) needs them given.
ulimit_args() {
	if ! (ulimit -Hn 1048576) 2>/dev/null; then
		echo --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
	fi
}

# podman_setup_file PREFIX: the private podman, its dir named /tmp/PREFIXrvp.*
podman_setup_file() {
	runvm_setup_file
	command -v podman >/dev/null || return 0
	PODMAN_DIR=$(mktemp -d "/tmp/${1}rvp.XXXXXX")
	export PODMAN_DIR
	"$TESTS_TOP/tests/make-bundle.sh" --tar "$PODMAN_DIR/rootfs.tar"
	pm import "$PODMAN_DIR/rootfs.tar" "$IMAGE" >/dev/null
}

podman_teardown_file() {
	if [ -n "${PODMAN_DIR:-}" ]; then
		pm pod rm --all --force >/dev/null 2>&1 || true
		pm rm --all --force --time 0 >/dev/null 2>&1 || true
		pm rmi --all --force >/dev/null 2>&1 || true
		grep -F "$PODMAN_DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r |
			xargs -r -d '\n' -n1 umount -l 2>/dev/null
		rm -rf "$PODMAN_DIR"
	fi
	runvm_teardown_file
}

# host_port_get PORT: what the host's 127.0.0.1:PORT serves at /, into
# $output; fails the test when nothing answers within ~10 s.
host_port_get() {
	local i ok=
	for i in $(seq 1 20); do
		output=$(timeout 5 /bin/busybox wget -q -O- "http://127.0.0.1:$1/" 2>&1) && ok=1 && break
		sleep 0.5
	done
	echo "$output"
	[ -n "$ok" ] || fail "nothing answered on the host's port $1"
}
