# bash completion for runvm (runc-compatible OCI runtime in microVMs)
# Installed as $PREFIX/share/bash-completion/completions/runvm.

_runvm_container_ids() {
	local root=/run/runvm i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case "${COMP_WORDS[i]}" in
		--root | -root) root=${COMP_WORDS[i + 1]} ;;
		--root=* | -root=*) root=${COMP_WORDS[i]#*=} ;;
		esac
	done
	runvm --root "$root" list -q 2>/dev/null
}

_runvm() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local commands="checkpoint create delete events exec features kill list pause ps restore resume run spec start state update check pool help"
	local global_flags="--debug --log --log-format --root --criu --systemd-cgroup --rootless --help -h --version -v"
	local signals="ABRT ALRM BUS CHLD CONT FPE HUP ILL INT IO KILL PIPE PROF PWR QUIT SEGV STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ"

	# The subcommand: first word that is not a global flag or its value.
	local i cmd= cmd_idx=0
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		--log | --log-format | --root | --criu | --rootless | -log | -log-format | -root | -criu | -rootless) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; cmd_idx=$i; break ;;
		esac
	done

	if [ -z "$cmd" ]; then
		case "$prev" in
		--log | --root | --criu) COMPREPLY=($(compgen -f -- "$cur")); return ;;
		--log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
		--rootless) COMPREPLY=($(compgen -W "true false auto" -- "$cur")); return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_flags" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	local flags= takes_id=1
	case "$cmd" in
	create) flags="--bundle -b --console-socket --pid-file --no-pivot --no-new-keyring --preserve-fds --pidfd-socket --detach" ;;
	run) flags="--bundle -b --console-socket --detach -d --keep --pid-file --no-subreaper --no-pivot --no-new-keyring --preserve-fds --pidfd-socket" ;;
	start | pause | resume | state) flags="" ;;
	kill) flags="--all -a" ;;
	delete) flags="--force -f" ;;
	list) flags="--format -f --quiet -q"; takes_id=0 ;;
	ps) flags="--format -f" ;;
	exec) flags="--console-socket --cwd --env -e --tty -t --user -u --additional-gids -g --process -p --detach -d --pid-file --process-label --apparmor --no-new-privs --cap -c --preserve-fds --cgroup --ignore-paused --pidfd-socket" ;;
	events) flags="--interval --stats" ;;
	spec) flags="--bundle -b --rootless"; takes_id=0 ;;
	features | help) flags=""; takes_id=0 ;;
	check) flags="--format -f --reprobe"; takes_id=0 ;;
	pool) flags="--depth"; takes_id=0 ;;
	update) flags="--resources -r --blkio-weight --cpu-period --cpu-quota --cpu-rt-period --cpu-rt-runtime --cpu-share --cpuset-cpus --cpuset-mems --kernel-memory --kernel-memory-tcp --memory --memory-reservation --memory-swap --pids-limit --l3-cache-schema --mem-bw-schema" ;;
	checkpoint | restore) flags="--image-path --work-path --leave-running --tcp-established --file-locks --bundle -b" ;;
	esac

	case "$prev" in
	--bundle | -b | --console-socket | --pid-file | --process | -p | --cwd | --image-path | --work-path | --pidfd-socket)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--resources | -r) COMPREPLY=($(compgen -f -- "$cur") -); return ;;
	--format | -f)
		if [ "$cmd" = list ] || [ "$cmd" = ps ]; then
			COMPREPLY=($(compgen -W "table json" -- "$cur")); return
		elif [ "$cmd" = check ]; then
			COMPREPLY=($(compgen -W "text json" -- "$cur")); return
		fi ;;
	--cap | -c) COMPREPLY=($(compgen -W "$(for c in CHOWN DAC_OVERRIDE FOWNER KILL NET_ADMIN NET_BIND_SERVICE NET_RAW SETGID SETUID SYS_ADMIN SYS_PTRACE AUDIT_WRITE; do echo CAP_$c; done)" -- "$cur")); return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
		return
	fi
	# The argument after the container ID: kill's signal.
	local nargs=0
	for ((i = cmd_idx + 1; i < cword; i++)); do
		[[ ${words[i]} == -* ]] || ((nargs++))
	done
	if [ "$cmd" = kill ] && [ "$nargs" -ge 1 ]; then
		COMPREPLY=($(compgen -W "$signals" -- "$cur"))
		return
	fi
	if [ "$takes_id" = 1 ] && [ "$nargs" -eq 0 ]; then
		case "$cmd" in
		create | run) ;; # a new ID: nothing to offer
		*) COMPREPLY=($(compgen -W "$(_runvm_container_ids)" -- "$cur")) ;;
		esac
	fi
	[ "$cmd" = help ] && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
	[ "$cmd" = pool ] && [ "$nargs" -eq 0 ] && COMPREPLY=($(compgen -W "fill drain status" -- "$cur"))
	return 0
}
complete -F _runvm runvm
