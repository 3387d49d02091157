/* SPDX-License-Identifier: Apache-2.0 */
/* A warm pool VM's shape (pool.h): what cannot change once it booted, as
 * the key its slot's name begins with; and the shapes kept warm. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "libcontainer-vm/config.h"

struct rv_error;

/* What cannot change after boot. key: "m<MiB>-c<vCPUs>-<kvm|tcg>-n1-<hash
 * of kernel, initrd, QEMU, virtiofsd, kernel_params, tb size>". */
struct pool_shape {
        unsigned memory_mib;
        unsigned vcpus;                 /* as booted (1 under TCG when it follows the accel) */
        bool kvm;
        char key[96];
};

/* Pure: the shape of a VM of that size with that configuration. */
void pool_shape_make(const struct runvm_config *cfg, unsigned memory_mib, unsigned vcpus, bool kvm,
                     struct pool_shape *ret);
/* The shapes kept warm: the default one, then one per
 * `warm_pool_limits_mib` (a container with that memory limit and no other
 * resource), each once. ret has room for POOL_MAX_SHAPES. */
#define POOL_MAX_SHAPES (1 + RUNVM_POOL_MAX_LIMITS)
int pool_shapes(const struct runvm_config *cfg, const char *root, struct pool_shape *ret, size_t *ret_n,
                struct rv_error **err);

