/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of QEMU's guest RAM. It is a shared memfd (argv.c,
 * memory-backend-memfd: virtiofsd maps it too) that QEMU alone opened;
 * the monitor finds it among QEMU's fds by the name QEMU gives it and
 * frees pages of it with a hole punch, what QEMU's balloon does for the
 * pages the guest reports free. */
#pragma once

#include <stdint.h>

struct qemu_vm;
struct rv_error;

/* The guest's kernel moved the initramfs away from addr (it lay in RAM
 * the kernel was not given at boot): the pages of QEMU's copy there are
 * freed, once they are seen to hold exactly the initramfs file, so that
 * a guest's word frees nothing else. */
int qemu_guest_ram_free_initrd(struct qemu_vm *q, uint64_t addr, struct rv_error **err);
