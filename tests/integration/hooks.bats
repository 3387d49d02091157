#!/usr/bin/env bats
# OCI hooks (CONTRACT.md §5): order, the state on stdin, env, cwd,
# failures, timeouts. Runs against runc too (RUNVM=/usr/sbin/runc); where
# runvm differs by design (createContainer runs on the host, in the
# container's network namespace) the test says so.

load helpers

# hook_script: $HOOKS/hook.sh PHASE appends PHASE to $HOOKS/order and keeps
# its stdin, cwd and environment; fail.sh PHASE also fails with output.
setup() {
	runvm_setup
	HOOKS=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$HOOKS"
	cat >"$HOOKS/hook.sh" <<EOF
#!/bin/sh
echo "\$1" >> "$HOOKS/order"
cat > "$HOOKS/state-\$1.json"
pwd > "$HOOKS/cwd-\$1"
env > "$HOOKS/env-\$1"
EOF
	cat >"$HOOKS/fail.sh" <<EOF
#!/bin/sh
echo "\$1" >> "$HOOKS/order"
echo "some out"; echo "some err" >&2
exit 3
EOF
	chmod +x "$HOOKS/hook.sh" "$HOOKS/fail.sh"
}

# hook SCRIPT PHASE [EXTRA_JQ]: one hook object as JSON.
hook() {
	jq -nc --arg p "$HOOKS/$1" --arg s "$1" --arg ph "$2" "{path: \$p, args: [\$s, \$ph]} ${3:-}"
}

# set_hooks PHASE=SCRIPT[:JQ]...: config.hooks from scratch.
set_hooks() {
	local hooks='{}' spec phase script extra
	for spec in "$@"; do
		phase=${spec%%=*}
		script=${spec#*=}
		extra=
		if [[ $script == *:* ]]; then
			extra=${script#*:}
			script=${script%%:*}
		fi
		hooks=$(jq -c --arg ph "$phase" --argjson h "$(hook "$script" "$phase" "$extra")" \
			'.[$ph] += [$h]' <<<"$hooks")
	done
	update_config ".hooks = $hooks"
}

order() { tr '\n' ' ' <"$HOOKS/order" 2>/dev/null | sed 's/ $//'; }

@test "hooks run in runc's order, each with the state on stdin" {
	set_args sleep 1000
	update_config '.annotations = {"a.b": "c", "org.example/key": "value"}'
	set_hooks prestart=hook.sh createRuntime=hook.sh 'createRuntime=hook.sh:| .env = ["FOO=bar"]' \
		createContainer=hook.sh poststart=hook.sh poststop=hook.sh
	create_container hk
	local pid version
	pid=$(cat "$BATS_TEST_TMPDIR/hk.pid")
	version=$(__runvm state hk | jq -r .ociVersion)

	# runc ≤ 1.5: poststart runs in create, before start.
	assert_equal "$(order)" "prestart createRuntime createRuntime createContainer poststart"

	# The compact state, runc's keys and values.
	local phase
	for phase in prestart createRuntime; do
		run -0 jq -c 'keys' "$HOOKS/state-$phase.json"
		assert_output '["annotations","bundle","id","ociVersion","pid","status"]'
		run -0 jq -r '[.ociVersion, .id, .status, .pid, .bundle, .annotations["a.b"], .annotations["org.example/key"]] | join(" ")' \
			"$HOOKS/state-$phase.json"
		assert_output "$version hk creating $pid $BUNDLE c value"
		assert_equal "$(cat "$HOOKS/cwd-$phase")" "$BUNDLE"
	done
	run -0 jq -r '.status' "$HOOKS/state-createContainer.json"
	assert_output creating
	if is_runvm; then
		# On the host, with the monitor's pid (runc: in the container, pid 1).
		run -0 jq -r '.pid' "$HOOKS/state-createContainer.json"
		assert_output "$pid"
	fi
	run -0 jq -r '[.status, .pid] | join(" ")' "$HOOKS/state-poststart.json"
	assert_output "created $pid"

	# A hook's env is exactly its own; without one, the runtime's.
	run -0 grep -v '^PWD=' "$HOOKS/env-createRuntime"
	assert_output "FOO=bar"
	grep -q '^PATH=' "$HOOKS/env-prestart"

	runvm start hk
	assert_success
	assert_equal "$(order)" "prestart createRuntime createRuntime createContainer poststart"
	runvm kill hk KILL
	assert_success
	wait_for_status hk stopped
	runvm delete hk
	assert_success
	assert_equal "$(order)" "prestart createRuntime createRuntime createContainer poststart poststop"
	run -0 jq -c '.' "$HOOKS/state-poststop.json"
	assert_output "{\"ociVersion\":\"$version\",\"id\":\"hk\",\"status\":\"stopped\",\"bundle\":\"$BUNDLE\",\"annotations\":{\"a.b\":\"c\",\"org.example/key\":\"value\"}}"
}

@test "run in the foreground runs every host hook once" {
	set_args true
	set_hooks prestart=hook.sh createRuntime=hook.sh poststart=hook.sh poststop=hook.sh
	runvm run --bundle "$BUNDLE" hr
	assert_success
	assert_equal "$(order)" "prestart createRuntime poststart poststop"
	run -0 jq -r '.status' "$HOOKS/state-poststop.json"
	assert_output stopped
}

@test "a failing prestart hook fails create with its output, runs poststop, leaves nothing" {
	set_hooks prestart=fail.sh poststop=hook.sh
	create_container hf || true
	assert_equal "$status" 1
	run -0 cat "$BATS_TEST_TMPDIR/hf.err"
	assert_output --partial 'error running hook: exit status 3, stdout: some out\n, stderr: some err\n'
	assert_output --partial 'hook #0'
	assert_equal "$(order)" "prestart poststop"
	runvm state hf
	assert_failure
	assert_output --partial "container does not exist"
}

@test "a failing createRuntime or poststart hook fails create" {
	local phase
	for phase in createRuntime poststart; do
		rm -f "$HOOKS/order"
		set_hooks "$phase=fail.sh" poststop=hook.sh
		create_container "h$phase" || true
		assert_equal "$status" 1
		run -0 cat "$BATS_TEST_TMPDIR/h$phase.err"
		assert_output --partial 'exit status 3, stdout: some out'
		assert_equal "$(order)" "$phase poststop"
		runvm state "h$phase"
		assert_failure
	done
}

@test "a hook past its timeout is killed and fails create" {
	cat >"$HOOKS/slow.sh" <<EOF
#!/bin/sh
echo \$\$ > "$HOOKS/slow.pid"
exec sleep 60
EOF
	chmod +x "$HOOKS/slow.sh"
	set_hooks 'prestart=slow.sh:| .timeout = 1'
	local start=$SECONDS
	create_container ht || true
	assert_equal "$status" 1
	[ $((SECONDS - start)) -lt 30 ] || fail "create took $((SECONDS - start))s"
	run -0 cat "$BATS_TEST_TMPDIR/ht.err"
	assert_output --partial 'hook ran past specified timeout of 1.0s'
	track_pid "$(cat "$HOOKS/slow.pid")"
	wait_for_exit "$(cat "$HOOKS/slow.pid")" 10
}

@test "a failing poststop hook only warns: delete succeeds" {
	set_args true
	set_hooks poststop=fail.sh
	run_detached hp
	wait_for_status hp stopped
	runvm_separate delete hp
	assert_success
	assert_equal "$output" ""
	[[ $stderr == *'error running hook: exit status 3, stdout: some out'* ]] || fail "no warning: $stderr"
	assert_equal "$(order)" "poststop"
	runvm state hp
	assert_failure
}

@test "delete --force of a created container runs poststop" {
	set_args sleep 1000
	set_hooks poststop=hook.sh
	create_container hd
	runvm delete --force hd
	assert_success
	assert_equal "$(order)" "poststop"
	run -0 jq -r '[.status, has("pid")] | join(" ")' "$HOOKS/state-poststop.json"
	assert_output "stopped false"
}

@test "startContainer runs in the container, before the process, with the state on stdin" {
	# The hook's path and its files are the container's.
	update_config '.root.readonly = false | .annotations = {"a.b": "c"}'
	set_args sh -c 'cat /start.json; echo; cat /start.env'
	update_config '.hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "cat > /start.json; env > /start.env"], env: ["X=y"]}]}'
	runvm_separate run --bundle "$BUNDLE" hs
	assert_success
	local out=$output
	run -0 jq -c '[keys, .id, .status, .bundle, .annotations]' <<<"${lines[0]}"
	assert_output "[[\"annotations\",\"bundle\",\"id\",\"ociVersion\",\"pid\",\"status\"],\"hs\",\"created\",\"$BUNDLE\",{\"a.b\":\"c\"}]"
	# Its env is its own (runc adds only the shell's PWD, SHLVL).
	run -0 sed -n '2,$p' <<<"$out"
	assert_line X=y
	refute_line --regexp '^(HOME|TERM|BATS[A-Z_]*)='
}

@test "startContainer without an env of its own gets the process's env, as in runc" {
	update_config '.root.readonly = false | .process.env = ["PATH=/usr/bin:/bin", "PROC=one"]'
	set_args cat /start.env
	update_config '.hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "env > /start.env"]}]}'
	runvm_separate run --bundle "$BUNDLE" he
	assert_success
	assert_line PROC=one
	assert_line PATH=/usr/bin:/bin
	# Nothing of the agent's or the caller's own environment.
	refute_line --regexp '^(TERM|BATS[A-Z_]*)='
}
