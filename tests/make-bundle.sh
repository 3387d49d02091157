#!/bin/bash
# Make an OCI bundle (or a rootfs tarball) from Debian's busybox-static.
#
#   tests/make-bundle.sh DIR [ARGS...]   DIR/rootfs + DIR/config.json, process.args = ARGS (default: sh)
#   tests/make-bundle.sh --rootfs DIR    only the rootfs, in DIR
#   tests/make-bundle.sh --tar FILE      the rootfs as a tarball (for podman import / OCI layers)
#
# config.json comes from `$RUNVM spec` when RUNVM is set (and works), else from
# the built-in template below (runc's default spec). Either way it is then
# edited with jq: terminal false, args from ARGS.
set -euo pipefail

BUSYBOX=${BUSYBOX:-/bin/busybox}

die() { echo "make-bundle: $*" >&2; exit 1; }

make_rootfs() {
	local root=$1
	[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
	file_is_static "$BUSYBOX" || die "$BUSYBOX is not statically linked (install busybox-static)"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,home/user,run,var/tmp}
	chmod 1777 "$root/tmp" "$root/var/tmp"
	cp "$BUSYBOX" "$root/bin/busybox"
	chmod 0755 "$root/bin/busybox"
	# One process instead of ~400 `ln`s; applets land in /bin, /sbin,
	# /usr/bin and /usr/sbin as symlinks to /bin/busybox.
	if [ "$(id -u)" = 0 ]; then
		chroot "$root" /bin/busybox --install -s
	else
		local applet
		while IFS= read -r applet; do
			if [ -n "$applet" ] && [ ! -e "$root/$applet" ]; then
				ln -s /bin/busybox "$root/$applet"
			fi
		done < <("$BUSYBOX" --list-full)
	fi
	cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	cat > "$root/etc/group" <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
	chown 1000:1000 "$root/home/user"
	echo "runvm-test" > "$root/etc/hostname"
	: > "$root/etc/resolv.conf"
	: > "$root/etc/hosts"
}

file_is_static() {
	# ELF without a PT_INTERP program header = static. Avoid depending on `file`.
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

template_config() {
	cat <<'EOF'
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": { "uid": 0, "gid": 0 },
		"args": [ "sh" ],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"ambient": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": true },
	"hostname": "runvm",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		  "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		  "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
		  "options": [ "nosuid", "noexec", "nodev" ] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs",
		  "options": [ "nosuid", "noexec", "nodev", "ro" ] },
		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
		  "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
	],
	"linux": {
		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
		"namespaces": [
			{ "type": "pid" }, { "type": "network" }, { "type": "ipc" },
			{ "type": "uts" }, { "type": "mount" }
		],
		"maskedPaths": [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
			"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
			"/proc/sched_debug", "/sys/firmware", "/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
		]
	}
}
EOF
}

# Prints the base config on stdout.
base_config() {
	local tmp
	if [ -n "${RUNVM:-}" ] && [ -x "${RUNVM%% *}" ]; then
		tmp=$(mktemp -d)
		if timeout 10 $RUNVM spec -b "$tmp" >/dev/null 2>&1 && jq -e . "$tmp/config.json" >/dev/null 2>&1; then
			cat "$tmp/config.json"
			rm -rf "$tmp"
			return 0
		fi
		rm -rf "$tmp"
		echo "make-bundle: '$RUNVM spec' failed; using the built-in template" >&2
	fi
	template_config
}

# json_array ARG...: a JSON array of strings (jq's --args would take "-c" as
# its own option).
json_array() {
	local a out=
	for a in "$@"; do
		out+=${out:+,}$(jq -cn --arg a "$a" '$a')
	done
	echo "[$out]"
}

write_config() {
	local dir=$1; shift
	[ $# -gt 0 ] || set -- sh
	local args
	args=$(json_array "$@")
	base_config | jq --tab --argjson args "$args" \
		'.process.terminal = false | .process.args = $args | .root.path = "rootfs"' \
		> "$dir/config.json.tmp"
	mv "$dir/config.json.tmp" "$dir/config.json"
}

case "${1:-}" in
"" | -h | --help)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	[ $# -gt 0 ] || exit 1
	exit 0
	;;
--tar)
	[ $# -eq 2 ] || die "usage: $0 --tar FILE"
	out=$2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	make_rootfs "$tmp/rootfs"
	case "$out" in
	*.gz) tar --numeric-owner -C "$tmp/rootfs" -czf "$out.tmp" . ;;
	*) tar --numeric-owner -C "$tmp/rootfs" -cf "$out.tmp" . ;;
	esac
	mv "$out.tmp" "$out"
	;;
--rootfs)
	[ $# -eq 2 ] || die "usage: $0 --rootfs DIR"
	make_rootfs "$2"
	;;
--config)
	# --config DIR [ARGS...]: only (re)write DIR/config.json
	[ $# -ge 2 ] || die "usage: $0 --config DIR [ARGS...]"
	dir=$2; shift 2
	mkdir -p "$dir"
	write_config "$dir" "$@"
	;;
*)
	dir=$1; shift
	mkdir -p "$dir"
	make_rootfs "$dir/rootfs"
	write_config "$dir" "$@"
	;;
esac
