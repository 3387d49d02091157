/*
 * syscall: call raw syscalls and print what they returned, for comparing
 * a runtime's seccomp filter and kernel with runc's.
 *
 *   syscall NR [NR...]
 *
 * Calls each syscall NR with six zero arguments and prints one line per
 * call: "NR ok" or "NR ERRNO_NAME" (ENOSYS, EPERM, EFAULT, ...). Built
 * statically, so it runs in any rootfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                long nr = strtol(argv[i], NULL, 0);
                long r = syscall(nr, 0, 0, 0, 0, 0, 0);

                if (r >= 0)
                        printf("%ld ok\n", nr);
                else
                        printf("%ld %s\n", nr, strerrorname_np(errno));
        }
        return 0;
}
