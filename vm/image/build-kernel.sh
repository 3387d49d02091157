#!/bin/bash
# build-kernel.sh OUTDIR [WORKDIR]: the purpose-built guest kernel (everything a
# container guest needs built in, no modules), from Debian's
# linux-source-6.1, the patches of vm/image/kernel-patches/ and
# vm/image/guest-kernel.config applied on top of tinyconfig. Writes
# OUTDIR/vmlinux-runvm (an ELF QEMU boots through PVH) and
# OUTDIR/vmlinux-runvm.version. Measured: 3x faster boot than the
# Debian cloud kernel under TCG (../shared/guest-kernel/README.md).
set -euo pipefail

out=${1:?usage: build-kernel.sh OUTDIR [WORKDIR]}
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/guest-kernel.config
src_tar=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
[ -n "$src_tar" ] || { echo "build-kernel: linux-source-6.1 is not installed (make deps)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=${2:-$out/kernel-build}
mkdir -p "$work"
work=$(cd "$work" && pwd)
stamp=$work/.source-$(basename "$src_tar")
extract() {
	find "$work" -mindepth 1 -delete
	tar -xf "$src_tar" -C "$work" --strip-components=1
	touch "$stamp"
}
# A set left half-applied (a patch that failed): the tree is unknown.
[ -e "$stamp" ] && [ ! -d "$work/.patches.tmp" ] || extract
cd "$work"
# Patches of vm/image/kernel-patches/, applied once to the extracted tree.
# $work/.patches holds a copy of the set applied, so a changed set is
# undone (reversed, newest first) and the new one applied: only the files
# they touch are rebuilt. A tree the reversal cannot restore is extracted
# again (a full build).
applied=$work/.patches
wanted=$(cd "$here/kernel-patches" 2>/dev/null && ls -- *.patch 2>/dev/null || true)
same_set() {
	[ -d "$applied" ] || { [ -z "$wanted" ]; return; }
	[ "$(cd "$applied" && ls -- *.patch 2>/dev/null || true)" = "$wanted" ] || return 1
	for p in $wanted; do cmp -s "$applied/$p" "$here/kernel-patches/$p" || return 1; done
}
if ! same_set; then
	if [ -d "$applied" ]; then
		for p in $(cd "$applied" && ls -r -- *.patch 2>/dev/null || true); do
			patch -p1 -R -s -f --no-backup-if-mismatch <"$applied/$p" >/dev/null ||
				{ echo "build-kernel: cannot reverse $p: extracting the source again" >&2; extract; break; }
		done
		rm -rf "$applied"
	fi
	mkdir -p "$applied.tmp"
	for p in $wanted; do
		patch -p1 -N -s -f --no-backup-if-mismatch <"$here/kernel-patches/$p" ||
			{ echo "build-kernel: $p does not apply to $(basename "$src_tar")" >&2; exit 1; }
		cp "$here/kernel-patches/$p" "$applied.tmp/"
	done
	mv "$applied.tmp" "$applied"
fi
# The same inputs give the same .config: rebuild only what changed.
make -s tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m -O . .config "$fragment" >/dev/null
make -s olddefconfig >/dev/null
# Every option of the fragment must have survived (a missing dependency
# silently drops one otherwise).
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=y' "$fragment" | while read -r line; do
	grep -qx "$line" .config || echo "${line%%=*}"
done)
[ -z "$missing" ] || { echo "build-kernel: options dropped by Kconfig: $missing" >&2; exit 1; }
make -s -j"$(nproc)" KBUILD_BUILD_TIMESTAMP="1970-01-01 00:00:00 UTC" KBUILD_BUILD_USER=runvm KBUILD_BUILD_HOST=runvm vmlinux
cp vmlinux "$out/vmlinux-runvm.tmp"
mv "$out/vmlinux-runvm.tmp" "$out/vmlinux-runvm"
make -s kernelrelease > "$out/vmlinux-runvm.version"
echo "build-kernel: $(cat "$out/vmlinux-runvm.version") -> $out/vmlinux-runvm"
