/* SPDX-License-Identifier: Apache-2.0 */
/* The driver table and the calls of vm/vm.h, dispatched to the driver. */
#include "vm/vm-driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"

static const struct vm_driver *const drivers[] = { &vm_driver_qemu };

const struct vm_driver *vm_driver_find(const char *name)
{
        for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
                if (strcmp(drivers[i]->name, name) == 0)
                        return drivers[i];
        return NULL;
}

const char *vm_driver_name(const struct vm_driver *d)
{
        return d->name;
}

void vm_driver_names(char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]) && len < size; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", i ? ", " : "", drivers[i]->name);
}

int vm_probe(const struct vm_driver *d, const struct vm_probe *p, struct vm_probe_verdict *ret,
             struct rv_error **err)
{
        if (d->probe == NULL) {
                *ret = (struct vm_probe_verdict) { 0 };
                snprintf(ret->reason, sizeof(ret->reason), "the %s driver has no accelerator probe", d->name);
                return 0;
        }
        return d->probe(p, ret, err);
}

int vm_new(const struct vm_driver *d, const struct vm_config *c, struct vm **ret, struct rv_error **err)
{
        struct vm *vm = NULL;

        if (d->create(c, &vm, err) < 0)
                return -1;
        vm->driver = d;
        vm->started = false;
        *ret = vm;
        return 0;
}

static int unsupported(const struct vm *vm, const char *what, struct rv_error **err)
{
        return rv_error_setx(err, EOPNOTSUPP, "the %s driver cannot add a %s%s", vm->driver->name, what,
                             vm->started ? " to a running VM" : "");
}

int vm_add_share(struct vm *vm, const struct vm_share *sh, int tree, struct rv_error **err)
{
        if (vm->driver->add_share == NULL) {
                if (tree >= 0)
                        close(tree);
                return unsupported(vm, "share", err);
        }
        return vm->driver->add_share(vm, sh, tree, err);
}

int vm_remove_shares(struct vm *vm, const char *prefix, struct rv_error **err)
{
        if (vm->driver->remove_shares == NULL)
                return rv_error_setx(err, EOPNOTSUPP, "the %s driver cannot take a share out of a running VM",
                                     vm->driver->name);
        return vm->driver->remove_shares(vm, prefix, err);
}

int vm_add_disk(struct vm *vm, const struct vm_disk *d, struct rv_error **err)
{
        return vm->driver->add_disk ? vm->driver->add_disk(vm, d, err) : unsupported(vm, "disk", err);
}

int vm_remove_disk(struct vm *vm, const char *id, struct rv_error **err)
{
        if (vm->driver->remove_disk == NULL)
                return rv_error_setx(err, EOPNOTSUPP, "the %s driver cannot take a disk out of a running VM",
                                     vm->driver->name);
        return vm->driver->remove_disk(vm, id, err);
}

int vm_add_nic(struct vm *vm, const struct vm_nic *n, struct rv_error **err)
{
        return vm->driver->add_nic ? vm->driver->add_nic(vm, n, err) : unsupported(vm, "NIC", err);
}

int vm_free_moved_initrd(struct vm *vm, uint64_t addr, struct rv_error **err)
{
        if (vm->driver->free_moved_initrd == NULL)
                return rv_error_setx(err, EOPNOTSUPP, "the %s driver cannot free guest RAM", vm->driver->name);
        if (!vm->started)
                return rv_error_setx(err, EINVAL, "free guest RAM: the VM is not running");
        return vm->driver->free_moved_initrd(vm, addr, err);
}

int vm_start(struct vm *vm, struct rv_error **err)
{
        if (vm->started)
                return rv_error_setx(err, EALREADY, "start vm: already started");
        if (vm->driver->start(vm, err) < 0)
                return -1;
        vm->started = true;
        return 0;
}

int vm_take_agent_fd(struct vm *vm)
{
        return vm->driver->take_agent_fd(vm);
}

size_t vm_procs(const struct vm *vm, struct vm_proc *ret, size_t max)
{
        return vm ? vm->driver->procs(vm, ret, max) : 0;
}

int vm_exit_fd(const struct vm *vm)
{
        return vm ? vm->driver->exit_fd(vm) : -1;
}

size_t vm_watch_fds(const struct vm *vm, int fds[VM_WATCH_MAX])
{
        return vm && vm->driver->watch_fds ? vm->driver->watch_fds(vm, fds) : 0;
}

int vm_check(struct vm *vm, struct rv_error **err)
{
        if (vm == NULL)
                return rv_error_setx(err, ESRCH, "the VM is gone");
        return vm->driver->check(vm, err);
}

bool vm_alive(const struct vm *vm)
{
        return vm && vm->driver->alive(vm);
}

void vm_pump_logs(struct vm *vm)
{
        if (vm && vm->driver->pump_logs)
                vm->driver->pump_logs(vm);
}

char *vm_stuck_reason(struct vm *vm)
{
        return vm && vm->driver->stuck_reason ? vm->driver->stuck_reason(vm) : NULL;
}

void vm_save_failure_logs(const struct vm *vm, int dirfd, const char *name, const char *title)
{
        if (vm && vm->driver->save_failure_logs)
                vm->driver->save_failure_logs(vm, dirfd, name, title);
}

void vm_destroy(struct vm **vmp)
{
        struct vm *vm = *vmp;

        *vmp = NULL;
        if (vm)
                vm->driver->destroy(vm);
}
