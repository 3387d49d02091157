#!/usr/bin/env bats
# containerd's runc shim (io.containerd.runc.v2, go-runc) drives the runtime:
# `ctr run --runc-binary`. The test starts its own containerd with its own
# root, state and socket, and stops it at the end.
# RUNVM=/usr/sbin/runc runs the same tests against runc.

load ../integration/helpers

IMAGE=docker.io/library/runvm-busybox:test
NS=runvmtest

setup_file() {
	runvm_setup_file
	command -v containerd >/dev/null && command -v ctr >/dev/null || return 0
	# ctr --cni looks for plugins in /opt/cni/bin only; Debian's are in
	# /usr/lib/cni. A link for the run, removed again by teardown_file.
	if [ ! -e /opt/cni/bin ] && [ -d /usr/lib/cni ]; then
		mkdir -p /opt/cni
		ln -s /usr/lib/cni /opt/cni/bin
		touch /opt/cni/.runvm-test-link
	fi
	CTD_DIR=$(mktemp -d /tmp/rvc.XXXXXX)
	export CTD_DIR
	cat >"$CTD_DIR/config.toml" <<-EOF
		version = 2
		root = "$CTD_DIR/root"
		state = "$CTD_DIR/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
		[grpc]
		  address = "$CTD_DIR/containerd.sock"
		[ttrpc]
		  address = "$CTD_DIR/containerd.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
	EOF
	containerd --config "$CTD_DIR/config.toml" </dev/null >"$CTD_DIR/containerd.log" 2>&1 3>&- &
	echo $! >"$CTD_DIR/containerd.pid"
	local deadline=$((SECONDS + 30))
	until c version >/dev/null 2>&1; do
		if [ "$SECONDS" -gt "$deadline" ] || ! kill -0 "$(cat "$CTD_DIR/containerd.pid")" 2>/dev/null; then
			cat "$CTD_DIR/containerd.log" >&2
			echo "containerd did not start" >&2
			return 1
		fi
		sleep 0.2
	done
	"$TESTS_TOP/tests/make-bundle.sh" --tar "$CTD_DIR/rootfs.tar"
	"$TESTS_TOP/tests/compat/make-oci-image.sh" "$CTD_DIR/rootfs.tar" "$CTD_DIR/image.tar" "$IMAGE"
	c image import "$CTD_DIR/image.tar" >&2
}

teardown_file() {
	if [ -e /opt/cni/.runvm-test-link ]; then
		rm -f /opt/cni/bin /opt/cni/.runvm-test-link
		rmdir /opt/cni 2>/dev/null || true
	fi
	if [ -n "${CTD_DIR:-}" ]; then
		local pid
		pid=$(cat "$CTD_DIR/containerd.pid" 2>/dev/null)
		if [ -n "$pid" ]; then
			kill -TERM "$pid" 2>/dev/null
			wait_for_exit "$pid" 15 || kill -KILL "$pid" 2>/dev/null
		fi
		# Shims of this containerd (they outlive it by design).
		pkill -KILL -f -- "-address $CTD_DIR/containerd.sock" 2>/dev/null || true
		grep -F "$CTD_DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r |
			xargs -r -d '\n' -n1 umount -l 2>/dev/null
		rm -rf "$CTD_DIR"
	fi
	# ctr puts containers in /NAMESPACE/ID; the runtime removes only the
	# leaf, as runc does, and the namespace's dir is containerd's to drop.
	local d
	for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	runvm_teardown_file
}

setup() {
	command -v containerd >/dev/null && command -v ctr >/dev/null || skip "containerd not installed"
	[ -x "$RUNVM" ] || fail "runtime not found: $RUNVM"
}

teardown() {
	local id rc=0
	for id in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$id" >/dev/null 2>&1; c task delete -f "$id" >/dev/null 2>&1; done
	for id in $(c container ls -q 2>/dev/null); do c container delete "$id" >/dev/null 2>&1; done
	# The shim runs the runtime with --root /run/containerd/runc/<namespace>.
	# (Names no container ID can take, like a runtime's @host cache, are not state.)
	local left
	left=$(ls -A "/run/containerd/runc/$NS" 2>/dev/null | grep -E '^[A-Za-z0-9_+.-]+$' | grep -vxE '\.\.?')
	if [ -n "$left" ]; then
		echo "LEAK: state left in /run/containerd/runc/$NS: $left"
		rc=1
	fi
	# No shim of ours may outlive its task.
	local deadline=$((SECONDS + 10))
	while pgrep -f -- "-namespace $NS -address $CTD_DIR/containerd.sock" >/dev/null; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "LEAK: shim still running: $(pgrep -a -f -- "-address $CTD_DIR/containerd.sock")"
			rc=1
			break
		fi
		sleep 0.2
	done
	check_leaks || rc=1
	return $rc
}

# c ARGS...: ctr against the test's containerd, bounded in time.
c() {
	timeout -k 5 $((RUNVM_TIMEOUT * 2)) ctr --address "$CTD_DIR/containerd.sock" --namespace "$NS" "$@" </dev/null 3>&-
}

@test "ctr run --rm --runc-binary prints hi" {
	run c run --rm --runc-binary "$(realpath "$RUNVM")" "$IMAGE" t1 echo hi
	echo "$output"
	assert_success
	assert_output hi
	run -0 c container ls -q
	assert_output ""
}

@test "ctr run: the workload's exit code comes back" {
	run c run --rm --runc-binary "$(realpath "$RUNVM")" "$IMAGE" t2 sh -c 'exit 42'
	echo "$output"
	assert_equal "$status" 42
}

@test "ctr run --cni (the first CNI config, a bridge) reaches a server in another namespace" {
	[ -d /opt/cni/bin ] && ls /etc/cni/net.d/*.conf* >/dev/null 2>&1 || skip "no CNI plugins or config"
	ip netns del net-csrv 2>/dev/null || true
	ip link del net-csh 2>/dev/null || true
	ip netns add net-csrv
	ip link add net-csh type veth peer name eth0 netns net-csrv
	ip addr add 10.231.22.1/24 dev net-csh
	ip link set net-csh up
	ip -n net-csrv addr add 10.231.22.2/24 dev eth0
	ip -n net-csrv link set eth0 up
	ip -n net-csrv route add default via 10.231.22.1
	mkdir -p "$BATS_TEST_TMPDIR/www"
	echo from-server >"$BATS_TEST_TMPDIR/www/index.html"
	ip netns exec net-csrv /bin/busybox httpd -f -p 80 -h "$BATS_TEST_TMPDIR/www" </dev/null >/dev/null 2>&1 3>&- &
	local srv=$!
	track_pid "$srv"
	# ctr runs CNI after the task is created and before it starts.
	run c run --rm --cni --runc-binary "$(realpath "$RUNVM")" "$IMAGE" t3 wget -q -O- http://10.231.22.2/
	kill "$srv" 2>/dev/null
	ip netns del net-csrv 2>/dev/null || true
	ip link del net-csh 2>/dev/null || true
	echo "$output"
	assert_success
	assert_output from-server
}
