/* SPDX-License-Identifier: Apache-2.0 */
/* Can this host run a runvm guest under KVM? Not "does /dev/kvm open":
 * a nested or broken KVM opens, creates VMs, and then stops the guest
 * with an internal error. The answer is a real boot of the guest kernel
 * and initramfs under KVM (the agent in probe mode) that must say hello
 * before a short deadline. The verdict is cached under the state root,
 * keyed on what could change it: the host's boot, /dev/kvm, QEMU, the
 * kernel, the initramfs and runvm itself. */
#pragma once

#include <stdbool.h>

struct rv_error;

struct vm_kvm_probe {
        const char *qemu_path;
        const char *kernel;
        const char *initrd;
        const char *cache_dir;          /* <root>/@host; NULL: neither read nor write a cache */
        int timeout_ms;                 /* the probe boot's deadline */
        bool reprobe;                   /* ignore a cached verdict */
};

struct vm_kvm_verdict {
        bool usable;
        bool cached;                    /* read from the cache, not probed now */
        bool booted;                    /* /dev/kvm was fine: a probe boot decided */
        char reason[512];               /* why not, or how the probe went */
};

/* *ret says whether KVM can run the guest, and why. Returns -1 only when
 * the question cannot be asked (out of memory); KVM's failures are
 * verdicts, not errors. Leaves no process or file but the cache. */
int vm_kvm_probe(const struct vm_kvm_probe *p, struct vm_kvm_verdict *ret, struct rv_error **err);

/* The cache file's name inside cache_dir. */
#define VM_KVM_VERDICT_FILE "kvm-verdict"
