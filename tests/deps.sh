#!/bin/bash
# Install every Debian package runvm needs to build, test, demo and bench.
# Idempotent and fast when everything is there: apt is only touched when
# dpkg says something is missing. Runs as root, no tty needed.
set -euo pipefail

PACKAGES=(
	# build
	build-essential pkg-config libyajl-dev libcmocka-dev libcap-dev
	libseccomp-dev libnl-3-dev libnl-route-3-dev clang binutils git
	# guest: hypervisor, kernel, initramfs tools (virtiofsd is in qemu-system-common)
	qemu-system-x86 qemu-system-common linux-image-cloud-amd64 cpio kmod
	linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils patch
	# tests
	bats bats-support bats-assert busybox-static jq zsh python3-jsonschema
	iproute2 procps util-linux psmisc coreutils findutils
	# block device tests: XFS images with a dirty log
	xfsprogs e2fsprogs
	# networking tests and bench: ping -M do, throughput
	iputils-ping iperf3
	# compatibility tests and runc references
	runc crun podman containerd conmon containernetworking-plugins catatonit
	uidmap fuse-overlayfs slirp4netns
)

# One dpkg-query for all; "install ok installed" is the only state that counts.
declare -A ok=()
while read -r name status; do
	if [ "$status" = "install ok installed" ]; then ok[${name%%:*}]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
	[ -n "${ok[$p]:-}" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
for try in 1 2 3; do
	if apt-get update -q </dev/null &&
		apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}" </dev/null; then
		break
	fi
	[ "$try" -lt 3 ] || { echo "deps: apt-get failed" >&2; exit 1; }
	echo "deps: apt-get failed, retrying in 10s" >&2
	sleep 10
done

# Packaged services must not be left running by the install (the tests
# start their own containerd with their own sockets).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl disable --now containerd >/dev/null 2>&1 || true
fi
echo "deps: done"
