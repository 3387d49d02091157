# fish completion for runvm (runc-compatible OCI runtime in microVMs)

function __runvm_ids
    set -l root /run/runvm
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --root -root
                set -l j (math $i + 1)
                test $j -le (count $tokens); and set root $tokens[$j]
            case '--root=*' '-root=*'
                set root (string replace -r '^-+root=' '' -- $tokens[$i])
        end
    end
    runvm --root $root list -q 2>/dev/null
end

set -l cmds create start run kill delete state list ps exec pause resume events update spec features check pool checkpoint restore help
set -l id_cmds start kill delete state ps exec pause resume events update

complete -c runvm -f
# global flags
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l debug -d 'enable debug logging'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l log -r -F -d 'log file'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l log-format -x -a 'text json' -d 'log format'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l root -x -a '(__fish_complete_directories)' -d 'state directory'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l criu -r -d 'criu binary (ignored)'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l systemd-cgroup -d 'systemd cgroup driver'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -l rootless -x -a 'true false auto' -d 'rootless mode'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -s h -l help -d 'show help'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -s v -l version -d 'print the version'

# subcommands
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a create -d 'create a container (boots its VM)'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a start -d 'start a created container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a run -d 'create and run a container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a kill -d 'signal the container init'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a delete -d 'delete a container and its VM'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a state -d 'output the state of a container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a list -d 'list containers'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a pool -d 'fill, drain or show the warm pool'
complete -c runvm -n "__fish_seen_subcommand_from pool" -a 'fill drain status' -d 'pool action'
complete -c runvm -n "__fish_seen_subcommand_from pool" -l depth -x -d 'VMs to keep ready'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a ps -d 'processes of a container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a exec -d 'run a process in a container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a pause -d 'pause a container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a resume -d 'resume a container'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a events -d 'events and stats'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a update -d 'update resources'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a spec -d 'create a new config.json'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a features -d 'supported features'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a check -d 'host capabilities runvm uses'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a checkpoint -d 'not supported'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a restore -d 'not supported'
complete -c runvm -n "not __fish_seen_subcommand_from $cmds" -a help -d 'show help'

# container IDs
complete -c runvm -n "__fish_seen_subcommand_from $id_cmds" -a '(__runvm_ids)' -d container

# create / run
for c in create run
    complete -c runvm -n "__fish_seen_subcommand_from $c" -s b -l bundle -x -a '(__fish_complete_directories)' -d 'bundle directory'
    complete -c runvm -n "__fish_seen_subcommand_from $c" -l console-socket -r -F -d 'socket for the pty master'
    complete -c runvm -n "__fish_seen_subcommand_from $c" -l pid-file -r -F -d 'pid file'
    complete -c runvm -n "__fish_seen_subcommand_from $c" -l no-pivot -d 'no pivot_root'
    complete -c runvm -n "__fish_seen_subcommand_from $c" -l no-new-keyring -d 'no session keyring'
    complete -c runvm -n "__fish_seen_subcommand_from $c" -l preserve-fds -x -d 'pass N extra fds'
    complete -c runvm -n "__fish_seen_subcommand_from $c" -l pidfd-socket -r -F -d 'socket for a pidfd'
end
complete -c runvm -n "__fish_seen_subcommand_from create" -l detach -d 'accepted, ignored'
complete -c runvm -n "__fish_seen_subcommand_from run" -s d -l detach -d 'detach'
complete -c runvm -n "__fish_seen_subcommand_from run" -l keep -d 'keep the stopped container'
complete -c runvm -n "__fish_seen_subcommand_from run" -l no-subreaper -d 'no subreaper'

# kill / delete / list / ps
complete -c runvm -n "__fish_seen_subcommand_from kill" -s a -l all -d 'all processes'
complete -c runvm -n "__fish_seen_subcommand_from kill" -a 'TERM KILL INT HUP QUIT USR1 USR2 STOP CONT WINCH' -d signal
complete -c runvm -n "__fish_seen_subcommand_from delete" -s f -l force -d 'kill first if running'
complete -c runvm -n "__fish_seen_subcommand_from list" -s f -l format -x -a 'table json' -d 'output format'
complete -c runvm -n "__fish_seen_subcommand_from check" -s f -l format -x -a 'text json' -d 'output format'
complete -c runvm -n "__fish_seen_subcommand_from check" -l reprobe -d 'probe KVM again'
complete -c runvm -n "__fish_seen_subcommand_from list" -s q -l quiet -d 'IDs only'
complete -c runvm -n "__fish_seen_subcommand_from ps" -s f -l format -x -a 'table json' -d 'output format'

# exec
complete -c runvm -n "__fish_seen_subcommand_from exec" -l console-socket -r -F -d 'socket for the pty master'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l cwd -x -d 'working directory'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s e -l env -x -d 'KEY=VALUE'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s t -l tty -d 'allocate a pty'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s u -l user -x -d 'uid[:gid]'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s g -l additional-gids -x -d 'additional gid'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s p -l process -r -F -d 'process.json'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s d -l detach -d 'detach'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l pid-file -r -F -d 'pid file'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l process-label -x -d 'SELinux label'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l apparmor -x -d 'AppArmor profile'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l no-new-privs -d 'set no_new_privs'
complete -c runvm -n "__fish_seen_subcommand_from exec" -s c -l cap -x -d 'add a capability'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l preserve-fds -x -d 'pass N extra fds'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l cgroup -x -d 'sub-cgroup'
complete -c runvm -n "__fish_seen_subcommand_from exec" -l ignore-paused -d 'exec in a paused container'

# events / update / spec
complete -c runvm -n "__fish_seen_subcommand_from events" -l interval -x -d 'stats interval'
complete -c runvm -n "__fish_seen_subcommand_from events" -l stats -d 'one stats event'
complete -c runvm -n "__fish_seen_subcommand_from update" -s r -l resources -r -F -d 'resources JSON, - for stdin'
for f in memory memory-reservation memory-swap cpu-period cpu-quota cpu-share cpuset-cpus cpuset-mems pids-limit blkio-weight
    complete -c runvm -n "__fish_seen_subcommand_from update" -l $f -x
end
complete -c runvm -n "__fish_seen_subcommand_from spec" -s b -l bundle -x -a '(__fish_complete_directories)' -d 'bundle directory'
complete -c runvm -n "__fish_seen_subcommand_from spec" -l rootless -d 'rootless spec'
