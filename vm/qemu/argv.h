/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU's command line for a VM: a pure function of the machine, its
 * devices and the fds QEMU gets (tests/unit/test-qemu-argv.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vm/vm.h"

struct rv_error;

/* The fds QEMU is started with (numbers as QEMU will see them). */
struct qemu_fds {
        int console, agent, qmp;
        int vfs;                        /* vhost-user socket, or -1: no virtio-fs */
        int kernel, initrd;
};

struct qemu_devices {
        const struct vm_nic *nics;
        size_t n_nics;                  /* at most VM_MAX_NICS */
        const struct vm_disk *disks;    /* each disk's fd is QEMU's */
        size_t n_disks;                 /* at most VM_MAX_DISKS */
};

/* The id of hot-plug slot N (a pcie-root-port) is this, then N. */
#define QEMU_HOTPLUG_PORT "runvm-hp"

struct qemu_argv {
        char **argv;                    /* NULL-terminated; argv[0] is the binary */
        size_t n;
        int *fds;                       /* every fd QEMU must inherit */
        size_t n_fds;
};

int qemu_argv_build(const struct vm_config *c, const struct qemu_devices *d, const struct qemu_fds *fds,
                    struct qemu_argv *ret, struct rv_error **err);
void qemu_argv_clear(struct qemu_argv *a);

/* QEMU's emulated LAPIC timer (hw/intc/apic.c) counts nanoseconds of
 * QEMU_CLOCK_VIRTUAL before its divider: a 1 GHz bus clock, whatever the
 * host. The guest's own calibration measures the same (~1037 MHz under
 * TCG's timing noise: docs/PERFORMANCE.md). */
#define QEMU_TCG_LAPIC_TIMER_KHZ 1000000u

/* Whether the machine needs ACPI: a kernel that finds its virtio-mmio
 * devices only there, hot-plug slots, or more such devices than microvm
 * has without it. A VM without boots faster and
 * keeps less translated code (docs/PERFORMANCE.md). */
bool qemu_wants_acpi(const struct vm_config *c, const struct qemu_devices *d, bool vfs);
/* The guest kernel's command line for c. */
int qemu_kernel_cmdline(const struct vm_config *c, bool acpi, char **ret, struct rv_error **err);
