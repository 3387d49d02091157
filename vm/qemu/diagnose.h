/* SPDX-License-Identifier: Apache-2.0 */
/* Why a guest is gone or stuck, in one line: read off QEMU's own log, the
 * guest's serial console and QEMU's run state. Pure functions over text,
 * so every case can be tested without a VM. */
#pragma once

#include <stdbool.h>

struct vm_failure {
        const char *qemu_log;           /* what QEMU wrote on stderr; may be NULL */
        const char *console_log;        /* the guest's serial console; may be NULL */
        const char *run_state;          /* QMP query-status; NULL when unknown */
        bool exited;                    /* QEMU is gone */
        int wait_status;                /* its wait status, when exited */
};

/* A malloc'ed one-line reason ("the guest stopped with a KVM internal
 * error (emulation failure)", "the guest kernel panicked: ...", "qemu:
 * ..."), with control characters replaced; NULL when nothing explains it. */
char *vm_failure_reason(const struct vm_failure *f);

/* The line of a console log that explains a failed boot (a kernel panic, a
 * fatal agent error), or NULL: never an unrelated boot message. */
char *vm_console_explanation(const char *console_log);
