/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pool-shape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "base/error.h"
#include "libcontainer-vm/accel.h"
#include "libcontainer-vm/sizing.h"
#include "spec/config.h"

static uint32_t fnv1a(uint32_t h, const char *s)
{
        for (; s && *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619u;
        }
        return (h ^ '|') * 16777619u;
}

void pool_shape_make(const struct runvm_config *cfg, unsigned memory_mib, unsigned vcpus, bool kvm,
                     struct pool_shape *ret)
{
        char tb[16], boot[16];
        uint32_t h = 2166136261u;

        snprintf(tb, sizeof(tb), "%u", cfg->tcg_tb_size_mib);
        snprintf(boot, sizeof(boot), "%u", cfg->boot_memory_mib);
        h = fnv1a(h, cfg->kernel);
        h = fnv1a(h, cfg->initrd);
        h = fnv1a(h, cfg->qemu_path);
        h = fnv1a(h, cfg->virtiofsd_path);
        h = fnv1a(h, cfg->kernel_params);
        h = fnv1a(h, tb);
        h = fnv1a(h, boot);
        *ret = (struct pool_shape) { .memory_mib = memory_mib, .vcpus = vcpus, .kvm = kvm };
        snprintf(ret->key, sizeof(ret->key), "m%u-c%u-%s-n1-%08x", memory_mib, vcpus, kvm ? "kvm" : "tcg", h);
}

static uint64_t host_memory_mib(void)
{
        struct sysinfo si;
        if (sysinfo(&si) < 0)
                return UINT64_MAX;
        return (uint64_t) si.totalram * si.mem_unit / (1024 * 1024);
}

/* The shape of a container whose only resource is that memory limit
 * (0: none), on a host with that much memory and accelerator. */
static int shape_for_limit(const struct runvm_config *cfg, uint64_t host_mib, bool kvm, unsigned limit_mib,
                           struct pool_shape *ret, struct rv_error **err)
{
        struct spec_config spec = { 0 };
        unsigned mem, vcpus;

        if (limit_mib > 0) {
                spec.linux_.resources.memory.has = spec.linux_.resources.memory.has_limit = true;
                spec.linux_.resources.memory.limit = (int64_t) limit_mib * 1024 * 1024;
        }
        if (vm_size_plan(&spec, cfg, host_mib, &mem, &vcpus, err) < 0)
                return -1;
        if (!kvm && vm_size_vcpus_follow_accel(&spec, cfg))
                vcpus = 1;
        pool_shape_make(cfg, mem, vcpus, kvm, ret);
        return 0;
}

int pool_shapes(const struct runvm_config *cfg, const char *root, struct pool_shape *ret, size_t *ret_n,
                struct rv_error **err)
{
        struct runvm_accel_choice accel;
        uint64_t host_mib = host_memory_mib();
        size_t n = 0;

        /* Once for all shapes: the cached verdict is files to read. */
        if (runvm_accel_choose(cfg, root, false, &accel, err) < 0 ||
            shape_for_limit(cfg, host_mib, accel.kvm, 0, &ret[n++], err) < 0)
                return -1;
        for (size_t i = 0; i < cfg->n_warm_pool_limits; i++) {
                struct pool_shape s;
                bool seen = false;
                if (shape_for_limit(cfg, host_mib, accel.kvm, cfg->warm_pool_limits_mib[i], &s, err) < 0)
                        return rv_error_wrap(err, "warm_pool_limits_mib %u", cfg->warm_pool_limits_mib[i]);
                /* Two limits can make one VM size (the minimum size). */
                for (size_t k = 0; k < n; k++)
                        seen |= strcmp(ret[k].key, s.key) == 0;
                if (!seen)
                        ret[n++] = s;
        }
        *ret_n = n;
        return 0;
}
