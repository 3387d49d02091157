#!/usr/bin/env bats
# Shell completions: they load and offer runvm's subcommands and flags.

load helpers

setup() { :; }
teardown() { :; }

# complete_words WORD...: the bash completions for the last word.
complete_words() {
	bash -c '
		source "$1/completions/runvm.bash"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_runvm
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$TESTS_TOP" runvm "$@"
}

@test "bash completion: subcommands, flags, values and signals" {
	run -0 complete_words ""
	for c in create start run kill delete state list spec; do assert_line "$c"; done
	run -0 complete_words cr
	assert_output create
	run -0 complete_words --log-format ""
	assert_output $'text\njson'
	run -0 complete_words --root /x delete --f
	assert_output --partial --force
	run -0 complete_words run --
	assert_line --detach
	assert_line --pid-file
	assert_line --keep
	run -0 complete_words list --format ""
	assert_output $'table\njson'
	run -0 complete_words check --format ""
	assert_output $'text\njson'
	run -0 complete_words check --re
	assert_output --reprobe
	run -0 complete_words kill ct KI
	assert_output KILL
}

@test "bash completion: container IDs come from list -q under --root" {
	# A stand-in runvm on PATH that lists IDs only for the right root.
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/runvm" <<-'EOF2'
		#!/bin/sh
		[ "$1 $2 $3 $4" = "--root /my/root list -q" ] && printf 'web\nworker\n'
		exit 0
	EOF2
	chmod +x "$BATS_TEST_TMPDIR/bin/runvm"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run -0 complete_words --root /my/root kill w
	assert_output $'web\nworker'
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run -0 complete_words --root=/my/root state wo
	assert_output worker
	# create takes a new ID: nothing offered.
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run -0 complete_words --root /my/root create w
	assert_output ""
}

@test "zsh and fish completions parse" {
	local checked=0
	if command -v zsh >/dev/null; then
		run -0 zsh -n "$TESTS_TOP/completions/_runvm"
		checked=1
	fi
	if command -v fish >/dev/null; then
		run -0 fish --no-execute "$TESTS_TOP/completions/runvm.fish"
		checked=1
	fi
	[ "$checked" = 1 ] || skip "neither zsh nor fish installed"
}
