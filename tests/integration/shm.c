/*
 * shm: a SysV shared memory segment, to see whether two containers share
 * an IPC namespace (busybox here has no ipcmk/ipcs).
 *
 *   shm make KEY   creates a 4 KiB segment with KEY, prints its id
 *   shm find KEY   exits 0 when a segment with KEY exists, 1 otherwise
 *
 * Built statically, so it runs in any rootfs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: shm make|find KEY\n");
		return 2;
	}
	key_t key = (key_t) strtol(argv[2], NULL, 0);
	int make = strcmp(argv[1], "make") == 0;
	int id = shmget(key, make ? 4096 : 0, make ? IPC_CREAT | IPC_EXCL | 0600 : 0);
	if (id < 0) {
		fprintf(stderr, "shmget %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	printf("%d\n", id);
	return 0;
}
