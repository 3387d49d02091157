#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the guest initramfs: the static agent as /init plus exactly the
# kernel modules in modules.list and their dependencies, in load order.
#
#   vm/image/build-initrd.sh AGENT OUTDIR
#   vm/image/build-initrd.sh --builtin AGENT OUTDIR
#
# --builtin: for the purpose-built kernel (build-kernel.sh), which has
# everything built in: only the agent, written to OUTDIR/initrd-runvm.img.
#
# Writes OUTDIR/vmlinuz, OUTDIR/kernel.version and OUTDIR/initrd.img (newc
# cpio, uncompressed: lz4, gzip and zstd measured no faster to boot).
# The kernel is the newest installed /boot/vmlinuz-*-cloud-amd64 unless
# KERNEL_VERSION names one. Deterministic: sorted entries, fixed mtimes,
# owners and modes.
set -eu

usage() { echo "usage: $0 AGENT OUTDIR" >&2; exit 2; }
die() { echo "build-initrd: $*" >&2; exit 1; }

builtin=
if [ "${1:-}" = --builtin ]; then
        builtin=1
        shift
fi
[ $# -eq 2 ] || usage
agent=$1
outdir=$2
here=$(cd "$(dirname "$0")" && pwd)
list=${MODULES_LIST:-$here/modules.list}

[ -x "$agent" ] || die "agent \`$agent\` is not an executable file"
[ -r "$list" ] || die "cannot read \`$list\`"
command -v cpio >/dev/null || die "cpio is not installed (apt-get install cpio)"

if [ -n "$builtin" ]; then
        KERNEL_VERSION=none
elif [ -z "${KERNEL_VERSION:-}" ]; then
        KERNEL_VERSION=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null |
                sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
        [ -n "$KERNEL_VERSION" ] ||
                die "no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)"
fi
kernel=/boot/vmlinuz-$KERNEL_VERSION
moddir=/lib/modules/$KERNEL_VERSION
if [ -z "$builtin" ]; then
        [ -r "$kernel" ] || die "cannot read \`$kernel\`"
        [ -r "$moddir/modules.dep" ] || die "cannot read \`$moddir/modules.dep\`"
fi

mkdir -p "$outdir"
stage=$(mktemp -d "${TMPDIR:-/tmp}/runvm-initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

if [ -n "$builtin" ]; then
        : > "$stage/order"
else
# Module names use '_' and '-' interchangeably; files in modules.dep keep
# their own spelling. Resolve each name to its modules.dep path, then walk
# dependencies depth-first so that every module follows what it needs.
awk -v listfile="$list" '
function norm(s) { gsub("-", "_", s); return s }
function base(p,   b) { b = p; sub(".*/", "", b); sub("\\.ko(\\.[a-z]+)?$", "", b); return norm(b) }
function visit(p,   n, i, d) {
        if (p in state) {
                if (state[p] == 1) { print "dependency cycle at " p > "/dev/stderr"; exit 1 }
                return
        }
        state[p] = 1
        n = split(deps[p], d, " ")
        for (i = 1; i <= n; i++) visit(d[i])
        state[p] = 2
        print p
}
FILENAME != listfile {
        p = $1; sub(":$", "", p)
        deps[p] = ""
        for (i = 2; i <= NF; i++) deps[p] = deps[p] " " $i
        path[base(p)] = p
        next
}
{
        sub("#.*", ""); if (NF == 0) next
        want[++nwant] = norm($1)
}
END {
        for (i = 1; i <= nwant; i++) {
                if (!(want[i] in path)) { print "module " want[i] " not found in modules.dep" > "/dev/stderr"; exit 1 }
                visit(path[want[i]])
        }
}' "$moddir/modules.dep" "$list" > "$stage/order" || die "resolving modules failed"
fi

root=$stage/root
mkdir -p "$root/lib/modules" "$root/dev" "$root/proc" "$root/sys" "$root/run" "$root/newroot"
[ -n "$builtin" ] || : > "$root/lib/modules/load.order"
while read -r rel; do
        name=$(basename "$rel")
        case "$name" in
        *.ko) cp "$moddir/$rel" "$root/lib/modules/$name" ;;
        *.ko.xz) xz -dc "$moddir/$rel" > "$root/lib/modules/${name%.xz}"; name=${name%.xz} ;;
        *.ko.zst) zstd -qdc "$moddir/$rel" > "$root/lib/modules/${name%.zst}"; name=${name%.zst} ;;
        *.ko.gz) gzip -dc "$moddir/$rel" > "$root/lib/modules/${name%.gz}"; name=${name%.gz} ;;
        *) die "unexpected module file \`$rel\`" ;;
        esac
        echo "/lib/modules/$name" >> "$root/lib/modules/load.order"
done < "$stage/order"
# Debug info and the symbol table are a third of the agent and useless in
# the guest (nothing there reads them; build/bin/runvm-agent keeps both
# for the host), and every byte is guest RAM twice: the initramfs QEMU
# loads and the agent's copy in the guest's tmpfs. Strip the copy when
# binutils is there (the build machine has it with the compiler).
if command -v strip >/dev/null; then
        strip --strip-all -o "$root/init" "$agent"
else
        cp "$agent" "$root/init"
fi
chmod 0755 "$root/init"
find "$root" -type d -exec chmod 0755 {} +
find "$root/lib/modules" -type f -exec chmod 0644 {} +
find "$root" -exec touch -h -d @0 {} +

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible) > "$stage/initrd.img"

if [ -n "$builtin" ]; then
        mv "$stage/initrd.img" "$outdir/initrd-runvm.img"
        exit 0
fi
mv "$stage/initrd.img" "$outdir/initrd.img"
if ! cmp -s "$kernel" "$outdir/vmlinuz" 2>/dev/null; then
        cp "$kernel" "$outdir/vmlinuz.tmp"
        mv "$outdir/vmlinuz.tmp" "$outdir/vmlinuz"
fi
echo "$KERNEL_VERSION" > "$outdir/kernel.version.tmp"
mv "$outdir/kernel.version.tmp" "$outdir/kernel.version"
