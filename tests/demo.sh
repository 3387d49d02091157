#!/bin/bash
# `make demo`: run a busybox container with build/bin/runvm and show that it
# ran inside its own virtual machine, not in a namespace of this kernel.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
RUNVM=${RUNVM:-$top/build/bin/runvm}
[ -x "$RUNVM" ] || { echo "demo: $RUNVM not built (make all)" >&2; exit 1; }

work=$(mktemp -d /tmp/runvm-demo.XXXXXX)
id=demo-$$
cleanup() {
	timeout 30 "$RUNVM" --root "$work/root" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# What the container prints, one "key: value" per line.
script='
echo "kernel: $(uname -r)"
echo "hostname: $(hostname)"
echo "cpu: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed "s/^ *//")"
echo "hypervisor-flag: $(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no)"
echo "memory: $(grep MemTotal /proc/meminfo | tr -s " " | cut -d" " -f2-)"
echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
echo "boot-id: $(cat /proc/sys/kernel/random/boot_id)"
echo "uptime: $(cut -d" " -f1 /proc/uptime)s"
'
RUNVM=$RUNVM "$top/tests/make-bundle.sh" "$work/bundle" sh -c "$script" >/dev/null

echo "== runvm run $id (busybox bundle from busybox-static)"
start=$(date +%s%N)
out=$(cd "$work/bundle" && timeout 120 "$RUNVM" --root "$work/root" run "$id" </dev/null)
end=$(date +%s%N)
echo "$out" | sed 's/^/   container | /'

get() { echo "$out" | sed -n "s/^$1: //p"; }
guest_kernel=$(get kernel)
guest_boot=$(get boot-id)
guest_up=$(get uptime)
host_kernel=$(uname -r)
host_boot=$(cat /proc/sys/kernel/random/boot_id)
host_up=$(cut -d' ' -f1 /proc/uptime)

echo
printf '%-28s %-40s %s\n' "" "host" "container"
printf '%-28s %-40s %s\n' "kernel release (uname -r)" "$host_kernel" "$guest_kernel"
printf '%-28s %-40s %s\n' "kernel boot id" "$host_boot" "$guest_boot"
printf '%-28s %-40s %s\n' "kernel uptime" "${host_up}s" "$guest_up"
printf '%-28s %-40s %s\n' "cpuinfo 'hypervisor' flag" \
	"$(grep -qw hypervisor /proc/cpuinfo && echo yes || echo no)" "$(get hypervisor-flag)"
printf '%-28s %-40s %s\n' "memory" "$(grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2-)" "$(get memory)"
echo
echo "runvm run took $(((end - start) / 1000000)) ms, boot included"

# The proof: a different kernel instance. A namespaced container shares the
# host kernel's boot id; a VM has its own, booted just now.
if [ -z "$guest_boot" ]; then
	echo "demo: FAILED: the container printed nothing" >&2
	exit 1
fi
if [ "$guest_boot" = "$host_boot" ]; then
	echo "demo: FAILED: same kernel boot id as the host: not a VM" >&2
	exit 1
fi
if [ "$guest_kernel" != "$host_kernel" ]; then
	echo "PROOF: the container ran on its own kernel ($guest_kernel, host: $host_kernel), booted ${guest_up} before it printed."
else
	echo "PROOF: the container ran on its own kernel instance (boot id $guest_boot, host $host_boot), booted ${guest_up} before it printed."
fi
