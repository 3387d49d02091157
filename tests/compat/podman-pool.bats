#!/usr/bin/env bats
# podman through conmon with the warm pool on (docs/ARCHITECTURE.md, "Warm
# pool"): `--network none` containers, and those on podman's CNI bridge,
# are served by pre-booted VMs of
# runvm's default root; conmon gets the exit status and output as from a
# cold boot and is never held by the pool's detached monitors. Every test
# drains the pool it filled.

load ../integration/helpers
load podman

POOL=/run/runvm/.pool

setup_file() {
	podman_setup_file pool-
}

teardown_file() {
	podman_teardown_file
}

setup() {
	command -v podman >/dev/null || skip "podman not installed"
	is_runvm || skip "runvm's warm pool"
	export RUNVM_CONFIG=$BATS_TEST_TMPDIR/runvm.conf
	echo "warm_pool = 1" >"$RUNVM_CONFIG"
	# conmon runs the runtime with an environment of its own: a wrapper
	# names the configuration (an installed runvm reads /etc/runvm/runvm.conf).
	RT=$BATS_TEST_TMPDIR/runvm-pool-rt
	printf '#!/bin/sh\nRUNVM_CONFIG=%s exec %s "$@"\n' "$RUNVM_CONFIG" "$(realpath "$RUNVM")" >"$RT"
	chmod +x "$RT"
}

teardown() {
	pm rm --all --force --time 0 >/dev/null 2>&1 || true
	timeout 60 "$RUNVM" pool drain </dev/null 3>&- || true
	if [ -e "$POOL" ]; then
		echo "LEAK: $POOL: $(ls "$POOL")"
		return 1
	fi
	check_leaks
}



ready_qemu() { # the one ready pool VM's QEMU pid
	local s
	s=$(ls "$POOL" | head -1)
	[ -n "$s" ] || return 1
	jq -r '.processes[] | select(.name == "qemu") | .pid' "$POOL/$s/state.json"
}

@test "podman run --network none from the warm pool: output and exit code through conmon, the VM not reused" {
	run -0 timeout 120 "$RUNVM" pool fill
	qemu=$(ready_qemu)
	pid_alive "$qemu"
	track_pid "$qemu"
	run --separate-stderr pm --runtime "$RT" run --rm --network none $(ulimit_args) \
		"$IMAGE" sh -c 'echo out; echo err >&2; exit 42'
	echo "stdout: $output"
	echo "stderr: $stderr"
	assert_equal "$status" 42
	assert_output out
	[[ $stderr == *err* ]] || fail "stderr: $stderr"
	# That VM served the container and is gone; a refill may be booting.
	wait_for_exit "$qemu" 10
	run -0 pm ps -a -q
	assert_output ""
}

@test "podman run -d --network none from the warm pool: exec, stop, rm" {
	run -0 timeout 120 "$RUNVM" pool fill
	qemu=$(ready_qemu)
	track_pid "$qemu"
	run -0 pm --runtime "$RT" run -d --network none $(ulimit_args) "$IMAGE" sleep 300
	cid=$output
	run -0 pm exec "$cid" sh -c 'echo in-pool'
	assert_output in-pool
	# The container's VM is the one that was waiting.
	sandbox=$(jq -r .sandbox "/run/runvm/$cid/state.json")
	[[ $sandbox == .pool/* ]]
	[ "$(jq -r '.processes[] | select(.name == "qemu") | .pid' "/run/runvm/$sandbox/state.json")" = "$qemu" ]
	run -0 pm stop --time 1 "$cid"
	run -0 pm rm "$cid"
	wait_for_exit "$qemu" 10
}

@test "podman run -d -p with podman's CNI bridge from the warm pool: the pool VM's NIC takes eth0, the port is reached" {
	run -0 timeout 120 "$RUNVM" pool fill
	qemu=$(ready_qemu)
	track_pid "$qemu"
	run -0 pm --runtime "$RT" run -d -p 18081:80 $(ulimit_args) "$IMAGE" \
		sh -c 'mkdir -p /tmp/www && echo served-warm >/tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'
	cid=$output
	sandbox=$(jq -r .sandbox "/run/runvm/$cid/state.json")
	[[ $sandbox == .pool/* ]] || fail "booted cold: sandbox $sandbox"
	host_port_get 18081
	assert_output served-warm
	# The bridge's gateway was known before the first packet, as cold.
	run -0 pm exec "$cid" ip neigh
	assert_line --regexp '^10\.88\.0\.1 .*lladdr'
	pm_rm_force "$cid"
	wait_for_exit "$qemu" 10
}
