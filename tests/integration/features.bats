#!/usr/bin/env bats
# `features` (CONTRACT.md §4): valid against the runtime-spec features
# schema (tests/features/, validated with Debian's python3-jsonschema),
# with runc's keys, advertising only what runvm honours.

load helpers

# The Debian interpreter: its jsonschema is the one tests/deps.sh installs.
PYTHON=${PYTHON:-/usr/bin/python3}

@test "features is valid against the runtime-spec features schema" {
	runvm_separate features
	assert_success
	assert_equal "$stderr" ""
	echo "$output" >"$BATS_TEST_TMPDIR/features.json"
	run -0 "$PYTHON" "$TESTS_TOP/tests/features/validate.py" "$BATS_TEST_TMPDIR/features.json"
	# The schema check itself catches a bad document.
	jq '.linux.namespaces += ["bogus"]' "$BATS_TEST_TMPDIR/features.json" >"$BATS_TEST_TMPDIR/bad.json"
	run -1 "$PYTHON" "$TESTS_TOP/tests/features/validate.py" "$BATS_TEST_TMPDIR/bad.json"
	assert_output --partial "'bogus' is not one of"
}

@test "features has every key runc features has" {
	command -v runc >/dev/null || skip "runc not installed"
	# Object keys only (no array indices, no annotation names).
	local keys='[paths | select(all(.[]; type == "string")) | select(.[0] != "annotations" or length == 1) | join(".")] | sort'
	local theirs ours
	theirs=$(runc features | jq -c "$keys")
	runvm features
	assert_success
	ours=$(jq -c "$keys" <<<"$output")
	run -0 jq -nc --argjson a "$theirs" --argjson b "$ours" '$a - $b'
	assert_output '[]'
	# Same shape as runc's: indented output ending in a newline, versions.
	run -0 jq -r '.ociVersionMin' <<<"$(__runvm features)"
	assert_output 1.0.0
	[ "$(__runvm features | tail -c1 | od -An -c | tr -d ' ')" = '\n' ]
}

@test "features advertises only what runvm honours" {
	is_runvm || skip "runvm's own guarantees"
	runvm features
	assert_success
	local doc=$output
	# No host LSMs, no cgroup v1 or systemd driver, no idmapped mounts.
	run -0 jq -c '[.linux.apparmor.enabled, .linux.selinux.enabled, .linux.intelRdt.enabled,
		.linux.mountExtensions.idmap.enabled, .linux.cgroup.v1, .linux.cgroup.v2,
		.linux.cgroup.systemd, .linux.cgroup.systemdUser, .linux.cgroup.rdma]' <<<"$doc"
	assert_output '[false,false,false,false,false,true,false,false,false]'
	# Seccomp notification is refused, so not advertised; flags known = supported.
	run -0 jq -r '.linux.seccomp | [.enabled, (.actions | index("SCMP_ACT_NOTIFY")), (.knownFlags == .supportedFlags)] | @tsv' <<<"$doc"
	assert_output $'true\t\ttrue'
	# The network namespace is the VM; the host's cannot be shared.
	run -0 jq -r '.linux.namespaces | index("network") != null' <<<"$doc"
	assert_output true
	# Mount options: exactly the names vm/agent/mount-opts.c accepts.
	local agent
	agent=$( { sed -n 's/^ *{ "\([a-z]*\)", \(true\|false\), .*/\1/p' "$TESTS_TOP/vm/agent/mount-opts.c"
		grep -q '"tmpcopyup"' "$TESTS_TOP/vm/agent/mount-opts.c" && echo tmpcopyup; } | sort -u | tr '\n' ' ')
	run -0 jq -r '.mountOptions | sort | join(" ")' <<<"$doc"
	assert_output "${agent% }"
	# Every seccomp action and operator advertised is one spec/ accepts.
	local name
	for name in $(jq -r '.linux.seccomp.actions[], .linux.seccomp.operators[]' <<<"$doc"); do
		grep -q "\"$name\"" "$TESTS_TOP/spec/validate.c" || fail "$name is not accepted by spec/validate.c"
	done
}
