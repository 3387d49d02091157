#!/usr/bin/env bats
# Command line, errors and logs: everything that must fail cleanly, mostly
# without booting a VM.

load helpers

# Asserts $ROOT holds no container and the container is unknown.
assert_no_container() {
	local id=$1
	run -1 __runvm state "$id"
	assert_output --partial "container does not exist"
	[ -z "$(leaked_state_dirs)" ] || fail "state dir left: $(leaked_state_dirs)"
}

@test "--version prints the version, commit and spec lines" {
	runvm --version
	assert_success
	[[ ${lines[0]} == "$RUNVM_NAME version "* ]] || fail "first line: ${lines[0]}"
	assert_line --regexp '^commit: .+'
	assert_line --regexp '^spec: 1\.[0-9]+\.[0-9]+'
}

@test "unknown subcommand exits 3" {
	runvm no-such-command
	assert_equal "$status" 3
}

@test "unknown flag: flag provided but not defined, exit 1" {
	runvm --foo list
	assert_failure 1
	assert_output --partial "flag provided but not defined: -foo"

	runvm state --foo x
	assert_failure 1
	assert_output --partial "flag provided but not defined: -foo"
}

@test "wrong number of arguments is a usage error" {
	runvm create
	assert_failure 1
	assert_output --regexp 'create\\?" requires exactly 1 argument\(s\)'

	runvm start a b
	assert_failure 1
	assert_output --regexp 'start\\?" requires exactly 1 argument\(s\)'

	runvm state
	assert_failure 1
	assert_output --regexp 'state\\?" requires exactly 1 argument\(s\)'
}

@test "invalid container IDs are refused" {
	local id
	for id in 'a/b' '..' '.' 'bad id' 'x:y'; do
		runvm create --bundle "$BUNDLE" "$id"
		assert_failure 1
		assert_output --partial "invalid container ID format"
	done
	[ -z "$(leaked_state_dirs)" ]
}

@test "missing container: state, start, kill, delete fail; delete --force succeeds" {
	local cmd
	for cmd in state start kill delete; do
		runvm "$cmd" nosuch
		assert_failure 1
		assert_output --partial "container does not exist"
	done
	runvm delete --force nosuch
	assert_success
}

@test "list with no containers" {
	runvm list
	assert_success
	assert_line --index 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
	assert_equal "${#lines[@]}" 1

	runvm list -q
	assert_success
	assert_output ""

	runvm list --format json
	assert_success
	assert_output "null"
}

@test "missing bundle directory" {
	runvm create --bundle "$BATS_TEST_TMPDIR/nonexistent" ct
	assert_failure 1
	assert_output --partial "no such file or directory"
	assert_no_container ct
}

@test "missing config.json" {
	rm "$BUNDLE/config.json"
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial "config.json"
	assert_no_container ct
}

@test "malformed config.json" {
	echo '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_no_container ct
}

@test "a type error in config.json names the JSON path" {
	update_config '.process.args = "sh"'
	runvm create --bundle "$BUNDLE" ct
	assert_failure 1
	assert_output --partial "process.args"
	assert_no_container ct
}

@test "--log-format json writes exactly one JSON error line" {
	local log=$BATS_TEST_TMPDIR/log.json
	runvm_separate --log "$log" --log-format json state nosuch
	assert_failure 1
	# The error is also printed plainly on stderr when the log is a file.
	[[ $stderr == *"container does not exist"* ]] || fail "stderr: $stderr"

	cat "$log"
	assert_equal "$(wc -l <"$log")" 1
	run -0 jq -c 'keys_unsorted' "$log"
	assert_output '["level","msg","time"]'
	run -0 jq -r .level "$log"
	assert_output error
	run -0 jq -r .msg "$log"
	assert_output --partial "container does not exist"
	run -0 jq -r .time "$log"
	assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$'
}

@test "--log-format text writes a logfmt error line" {
	local log=$BATS_TEST_TMPDIR/log.txt
	runvm --log "$log" state nosuch
	assert_failure 1
	cat "$log"
	run -0 cat "$log"
	assert_output --regexp '^time="[0-9T:Z+-]+" level=error msg=".*container does not exist.*"$'
}

@test "invalid --log-format is refused" {
	runvm --log-format xml list
	assert_failure 1
	assert_output --partial "invalid log-format: xml"
}

@test "spec writes a default config.json and refuses to overwrite it" {
	local dir=$BATS_TEST_TMPDIR/spec
	mkdir "$dir"
	runvm spec --bundle "$dir"
	assert_success
	run -0 jq -r '.process.args[0], .process.terminal, .root.path' "$dir/config.json"
	assert_output $'sh\ntrue\nrootfs'
	run -0 jq -r '.ociVersion' "$dir/config.json"
	assert_output --regexp '^1\.[0-9]+\.[0-9]+'

	local before
	before=$(sha256sum "$dir/config.json")
	runvm spec --bundle "$dir"
	assert_failure 1
	assert_output --partial "File config.json exists. Remove it first"
	assert_equal "$(sha256sum "$dir/config.json")" "$before"

	# Without -b: the current directory.
	mkdir "$dir/cwd"
	cd "$dir/cwd"
	runvm spec
	assert_success
	[ -s "$dir/cwd/config.json" ]
	cd /
}

@test "a create that fails in the guest leaves nothing behind" {
	set_args /nonexistent-binary
	runvm create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" ct
	assert_failure 1
	assert_output --partial "no such file or directory"
	[ ! -e "$BATS_TEST_TMPDIR/pid" ] || fail "pid file written by a failed create"
	assert_no_container ct
	# teardown checks processes and mounts.
}
