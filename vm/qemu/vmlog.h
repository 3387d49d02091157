/* SPDX-License-Identifier: Apache-2.0 */
/* What the VM writes for the host to keep: the guest's serial console and
 * QEMU's and virtiofsd's stderr arrive on fds the monitor reads, and are
 * copied into console.log, qemu.log and virtiofsd.log in the state dir
 * (RAM, under /run). Each file is bounded: at its size cap it becomes
 * NAME.1 (replacing the previous one) and NAME starts again, so a guest
 * flooding its console keeps at most twice the cap on the host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rv_error;

#define VMLOG_CONSOLE_MAX (512u << 10)
#define VMLOG_HELPER_MAX (256u << 10)

struct vmlog {
        int fd;                 /* read end (non-blocking), -1 once the writer is gone */
        int out;                /* NAME in dirfd, append-only */
        int dirfd;
        const char *name;
        size_t max;
        size_t size;            /* bytes in NAME */
};

#define VMLOG_INIT { .fd = -1, .out = -1, .dirfd = -1 }

/* Takes fd (also on failure). */
int vmlog_open(struct vmlog *l, int dirfd, const char *name, size_t max, int fd,
               struct rv_error **err);
/* Copies what is readable now (a bounded amount per call, so one stream
 * cannot starve the others). Closes fd at EOF. */
void vmlog_pump(struct vmlog *l);
void vmlog_close(struct vmlog *l);
/* The last max_len bytes written (from NAME, and NAME.1 when NAME holds
 * less), with every control character but none replaced: ready to be
 * quoted in an error message. NULL when there is nothing. */
char *vmlog_tail(int dirfd, const char *name, size_t max_len);
