#!/usr/bin/env bats
# What the container wrote is on the host the moment `run` returns. Through
# virtio-fs (cache=auto, no writeback caching) write(2) reaches virtiofsd
# before it returns, and a shared mapping's pages are written back when
# the mapping goes (FUSE's vma close), with the agent's sync() before the
# exit report or without it (measured: docs/PERFORMANCE.md, "The fixed
# cost"); a filesystem on a block device needs that sync: blockdev.bats
# ("readable and writable") fails without it.

load helpers

# A static writer (the bundle's busybox cannot mmap): for each directory
# given, `plain` by write(2) and `mapped` through a MAP_SHARED mapping
# left without msync, then exit.
build_writer() {
	cat >"$BATS_TEST_TMPDIR/writer.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	static const char text[] = "written in the container\n";
	for (int i = 1; i < argc; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/plain", argv[i]);
		int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0 || write(fd, text, sizeof(text) - 1) != sizeof(text) - 1 || close(fd) < 0)
			return perror(path), 1;
		snprintf(path, sizeof(path), "%s/mapped", argv[i]);
		fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
		if (fd < 0 || ftruncate(fd, sizeof(text) - 1) < 0)
			return perror(path), 1;
		char *p = mmap(NULL, sizeof(text) - 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return perror(path), 1;
		close(fd);
		memcpy(p, text, sizeof(text) - 1);
	}
	return 0;
}
C
	cc -static -O2 -o "$BUNDLE/rootfs/writer" "$BATS_TEST_TMPDIR/writer.c"
}

@test "written: write(2) and a shared mapping, in the rootfs and a bind mount, are on the host when run returns" {
	local src=$BATS_TEST_TMPDIR/src dir
	mkdir -p "$src"
	build_writer
	update_config '.root.readonly = false
		| .mounts += [{"destination": "/mnt/b", "type": "bind", "source": "'"$src"'", "options": ["rbind", "rw"]}]'
	set_args /writer / /mnt/b
	runvm run --bundle "$BUNDLE" ct
	assert_success
	for dir in "$BUNDLE/rootfs" "$src"; do
		[ "$(cat "$dir/plain")" = "written in the container" ]
		[ "$(cat "$dir/mapped")" = "written in the container" ]
	done
}
