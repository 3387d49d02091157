/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the QEMU driver: the VM (QEMU microvm plus virtiofsd serving the
 * container's files) as qemu.c, virtiofsd.c, health.c and accel.c share
 * it. Nothing outside vm/qemu/ (and its unit tests) includes this. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/qemu/qemu-hotplug.h"
#include "vm/qemu/qmp.h"
#include "vm/qemu/virtiofsd.h"
#include "vm/qemu/vmlog.h"
#include "vm/vm-driver.h"

enum { VM_LOG_CONSOLE, VM_LOG_QEMU, VM_LOG_VIRTIOFSD, VM_N_LOGS };

struct qemu_vm {
        struct vm base;
        struct vm_config cfg;           /* strings are the caller's */
        struct virtiofsd vfs;           /* its shares; runs once started */
        struct vm_disk *disks;          /* fds dup'ed */
        size_t n_disks;
        struct qemu_hotplug_slot hotplug[VM_MAX_HOTPLUG_SLOTS];        /* cfg.hotplug_slots of them */
        struct vm_nic *nics;            /* fds dup'ed */
        size_t n_nics;
        pid_t qemu_pid;
        int qemu_pidfd;
        /* Kept from start for guest-ram.c, which may run in another mount
         * namespace (the monitor's view): QEMU's /proc/<pid> (the host's)
         * and the file it loaded as the initramfs; -1 when not open. */
        int qemu_procfd, initrd_fd;
        int agent_fd;                   /* host end of the agent channel */
        int qmp_fd;                     /* host end of the QMP monitor */
        struct qmp qmp;                 /* on qmp_fd; negotiated while the guest boots */
        char *log_dir;                  /* holds qemu.log and console.log */
        int qemu_status;                /* wait status, once QEMU was reaped */
        /* The guest's serial console, QEMU's and virtiofsd's stderr arrive
         * on fds and are kept in log_dir bounded (vmlog.h): whoever waits
         * on the VM polls them (vm_watch_fds) and pumps them (vm_check). */
        int log_dirfd;
        struct vmlog logs[VM_N_LOGS];
};

static inline struct qemu_vm *qemu_vm(struct vm *vm)
{
        return container_of(vm, struct qemu_vm, base);
}

static inline const struct qemu_vm *qemu_vm_const(const struct vm *vm)
{
        return container_of(vm, const struct qemu_vm, base);
}

/* A VM with nothing open and nothing running (the unit tests fill one in). */
void qemu_vm_init(struct qemu_vm *q);

/* An fd that can never collide with stdio numbers in a child. */
int qemu_fd_above_stdio(int fd);

/* A pipe for a helper's stdout and stderr: the helper gets the write end
 * (*ret_write), the VM's bounded log `name` the non-blocking read end. */
int qemu_log_pipe(struct qemu_vm *q, int which, const char *name, int *ret_write, struct rv_error **err);

/* health.c: the driver's check, watch and log ops. */
size_t qemu_watch_fds(const struct vm *vm, int fds[VM_WATCH_MAX]);
void qemu_pump_logs(struct vm *vm);
int qemu_check(struct vm *vm, struct rv_error **err);
bool qemu_alive(const struct vm *vm);
char *qemu_stuck_reason(struct vm *vm);
void qemu_save_failure_logs(const struct vm *vm, int dirfd, const char *name, const char *title);

/* accel.c: the driver's probe. */
int qemu_probe(const struct vm_probe *p, struct vm_probe_verdict *ret, struct rv_error **err);
