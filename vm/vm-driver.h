/* SPDX-License-Identifier: Apache-2.0 */
/* What a VM driver implements (vm/vm.h is what its callers see). A
 * driver's VM embeds struct vm first and is reached with container_of;
 * vm/vm.c dispatches. Ops a driver lacks are NULL: vm/vm.c answers for
 * them (EOPNOTSUPP, nothing to watch). */
#pragma once

#include "vm/vm.h"

struct vm {
        const struct vm_driver *driver;
        bool started;
};

struct vm_driver {
        const char *name;               /* runvm.conf's `hypervisor` */
        int (*probe)(const struct vm_probe *p, struct vm_probe_verdict *ret, struct rv_error **err);
        int (*create)(const struct vm_config *c, struct vm **ret, struct rv_error **err);
        /* Called before start (cold-plug) or after it (hot-plug; vm->started). */
        int (*add_share)(struct vm *vm, const struct vm_share *sh, int tree, struct rv_error **err);
        /* After start: the shares at or below a name prefix go. */
        int (*remove_shares)(struct vm *vm, const char *prefix, struct rv_error **err);
        int (*add_disk)(struct vm *vm, const struct vm_disk *d, struct rv_error **err);
        /* After start: a disk add_disk hot-plugged goes. */
        int (*remove_disk)(struct vm *vm, const char *id, struct rv_error **err);
        int (*add_nic)(struct vm *vm, const struct vm_nic *n, struct rv_error **err);
        int (*start)(struct vm *vm, struct rv_error **err);
        /* After start; optional. */
        int (*free_moved_initrd)(struct vm *vm, uint64_t addr, struct rv_error **err);
        int (*take_agent_fd)(struct vm *vm);
        size_t (*procs)(const struct vm *vm, struct vm_proc *ret, size_t max);
        int (*exit_fd)(const struct vm *vm);
        size_t (*watch_fds)(const struct vm *vm, int fds[VM_WATCH_MAX]);
        int (*check)(struct vm *vm, struct rv_error **err);
        bool (*alive)(const struct vm *vm);
        void (*pump_logs)(struct vm *vm);
        char *(*stuck_reason)(struct vm *vm);
        void (*save_failure_logs)(const struct vm *vm, int dirfd, const char *name, const char *title);
        /* Kills, closes and frees. */
        void (*destroy)(struct vm *vm);
};

#ifndef container_of
#define container_of(ptr, type, member) ((type *) ((char *) (ptr) - offsetof(type, member)))
#endif

extern const struct vm_driver vm_driver_qemu;
