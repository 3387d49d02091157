/* SPDX-License-Identifier: Apache-2.0 */
/* Which accelerator a container's VM gets: `accel` from runvm.conf
 * against the host's KVM verdict (the driver's probe, vm/qemu/accel.h). One rule for the
 * monitor and `runvm check`. */
#pragma once

#include <stdbool.h>

struct rv_error;
struct runvm_config;

struct runvm_accel_choice {
        bool kvm;                       /* what the VM boots with */
        bool refused;                   /* accel = kvm, and KVM cannot run the guest */
        bool probed;                    /* a KVM verdict was asked for (not accel = tcg) */
        bool cached;                    /* ... and came from the cache */
        bool kvm_usable;                /* ... and said yes */
        bool booted;                    /* /dev/kvm works; a probe boot decided */
        char reason[512];               /* the verdict's reason */
};

/* root: the state root; its @host entry caches the verdict. */
int runvm_accel_choose(const struct runvm_config *cfg, const char *root, bool reprobe,
                       struct runvm_accel_choice *ret, struct rv_error **err);
/* "<root>/@host", made when missing: host facts cached for every container. */
int runvm_host_cache_dir(const char *root, char **ret, struct rv_error **err);
