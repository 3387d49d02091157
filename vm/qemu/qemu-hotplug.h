/* SPDX-License-Identifier: Apache-2.0 */
/* Disks into and out of a running QEMU VM (a pod member's): the VM was
 * started with empty PCIe root ports (vm_config.hotplug_slots, argv.c),
 * a disk's fd goes to QEMU over QMP (`add-fd`, then the `file` or
 * `host_device` driver on /dev/fdset/N, read-only as the cold path: no
 * lock, force-share, never share-rw), and a virtio-blk-pci device with
 * the disk's serial lands in a free port (native PCIe hot-plug; the
 * agent finds it by its serial, vm/agent/blockdev.c). Removal: the
 * agent powered the slot off when the container was removed (QEMU
 * reported DEVICE_DELETED), or else device_del and the guest's
 * DEVICE_DELETED (bounded); then blockdev-del and remove-fd: QEMU holds
 * nothing of the host's device. */
#pragma once

#include <stdbool.h>

#include "vm/vm.h"

struct qemu_vm;
struct rv_error;

struct qemu_hotplug_slot {
        bool used;
        char id[VM_DISK_ID_MAX + 1];    /* the disk's serial */
        char source[128];               /* for messages */
        size_t since;                   /* qmp.n_deleted when it was plugged */
};

int qemu_hotplug_add(struct qemu_vm *q, const struct vm_disk *d, struct rv_error **err);
/* The disk whose id is id; a disk that was never hot-plugged is an error
 * (ENOENT). */
int qemu_hotplug_remove(struct qemu_vm *q, const char *id, struct rv_error **err);
