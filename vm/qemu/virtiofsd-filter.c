/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/virtiofsd-filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

#define ARG_LO(n) (offsetof(struct seccomp_data, args) + (n) * sizeof(__u64))
#define DENY(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* Each syscall that sets a file's mode, and the argument holding it. */
#define MODE_AT(nr, arg)                                                     \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 3),                     \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg)),                     \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, S_ISUID, 0, 1),                 \
        DENY(EPERM)

int virtiofsd_filter_install(void)
{
        /* A MODE_AT block may leave the mode in the accumulator: the
         * number is loaded again before the next block. */
#define RELOAD BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                /* virtiofsd is x86-64 only: any other ABI is refused. */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                DENY(ENOSYS),
                RELOAD,
                BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 0, 1),
                DENY(ENOSYS),
                /* Its mode is in a struct seccomp cannot read; glibc falls back. */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
                DENY(ENOSYS),
                MODE_AT(__NR_chmod, 1), RELOAD,
                MODE_AT(__NR_fchmod, 1), RELOAD,
                MODE_AT(__NR_fchmodat, 2), RELOAD,
                MODE_AT(__NR_fchmodat2, 2), RELOAD,
                MODE_AT(__NR_open, 2), RELOAD,
                MODE_AT(__NR_openat, 3), RELOAD,
                MODE_AT(__NR_creat, 1), RELOAD,
                MODE_AT(__NR_mknod, 1), RELOAD,
                MODE_AT(__NR_mknodat, 2),
                ALLOW,
        };
#undef RELOAD
        struct sock_fprog prog = { .len = (unsigned short) ARRAY_SIZE(f), .filter = f };

        return (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}
