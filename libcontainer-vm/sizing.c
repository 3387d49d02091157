/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/sizing.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "libcontainer-vm/config.h"
#include "spec/config.h"
#include "vm/qemu/affinity.h"
#include "vm/vm.h"

#define MIB (1024ull * 1024ull)

/* An annotation's value: a decimal integer in [min, max]; absent is 0
 * in *ret. One line naming the annotation otherwise. */
static int annotation_uint(const struct spec_config *c, const char *key, uint64_t min, uint64_t max,
                           const char *why, uint64_t *ret, struct rv_error **err)
{
        const char *v = spec_config_annotation(c, key);
        char *end;

        *ret = 0;
        if (v == NULL)
                return 0;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' || n < min || n > max)
                return rv_error_setx(err, EINVAL, "annotation `%s` `%s`: expected an integer from %llu to %llu%s",
                                     key, v, (unsigned long long) min, (unsigned long long) max, why);
        *ret = n;
        return 0;
}

static int plan_memory(const struct spec_config *c, const struct runvm_config *cfg, uint64_t host,
                       unsigned *ret, struct rv_error **err)
{
        const struct spec_memory *mem = &c->linux_.resources.memory;
        uint64_t mib = cfg->default_memory_mib, limit_mib = 0, want;
        uint64_t max = host < UINT32_MAX ? host : UINT32_MAX;

        if (mem->has_limit && mem->limit > 0) {
                /* In MiB, rounded up, without overflow near INT64_MAX. */
                limit_mib = (uint64_t) mem->limit / MIB + ((uint64_t) mem->limit % MIB != 0);
                mib = limit_mib + cfg->base_memory_mib;
                if (mib > max)
                        return rv_error_setx(err, ENOMEM, "`linux.resources.memory.limit`: %lld bytes needs a "
                                             "%llu MiB VM; the host has only %llu MiB", (long long) mem->limit,
                                             (unsigned long long) mib, (unsigned long long) host);
        }
        if (mib < VM_MIN_MEMORY_MIB)
                mib = VM_MIN_MEMORY_MIB;
        /* limit + base_memory_mib seldom ends on a block, and such a VM
         * boots with all its RAM (vm_boot_ram_mib): its guest's headroom
         * rounded up to a block, it boots with boot_memory_mib like any
         * other (the container's own limit is unchanged). */
        if (limit_mib > 0 && cfg->boot_memory_mib > 0) {
                uint64_t whole = (mib + VM_RAM_BLOCK_MIB - 1) / VM_RAM_BLOCK_MIB * VM_RAM_BLOCK_MIB;
                if (whole <= max && vm_boot_ram_mib((unsigned) whole, cfg->boot_memory_mib) > 0)
                        mib = whole;
        }
        /* A VM at or under the limit would OOM its guest kernel before
         * the container's cgroup limit ever decides. */
        uint64_t min = limit_mib + 1 > VM_MIN_MEMORY_MIB ? limit_mib + 1 : VM_MIN_MEMORY_MIB;
        if (min > max)
                min = max;
        if (annotation_uint(c, VM_ANNOTATION_MEMORY_MIB, min, max,
                            limit_mib ? " (above the memory limit, within the host's RAM)" : " (within the host's RAM)",
                            &want, err) < 0)
                return -1;
        if (want)
                mib = want;
        if (mib > max)
                mib = max;
        *ret = (unsigned) mib;
        return 0;
}

static int plan_vcpus(const struct spec_config *c, const struct runvm_config *cfg, unsigned *ret,
                      struct rv_error **err)
{
        const struct spec_cpu *cpu = &c->linux_.resources.cpu;
        /* max_vcpus 0 (the host's count unknown) is one, not "no limit". */
        unsigned max = cfg->max_vcpus > 0 ? cfg->max_vcpus : 1, need = 1, n;
        uint64_t want;

        /* cpu.cpus is written in the guest as given: the VM needs a vCPU
         * for the highest CPU it names (affinity.c pins vCPU N to host
         * CPU N), so never fewer than that, whatever the quota says. */
        if (cpu->cpus != NULL && cpu->cpus[0] != '\0') {
                cpu_set_t set;
                unsigned highest;
                if (vm_cpuset_parse(cpu->cpus, &set, &highest, err) < 0)
                        return rv_error_wrap(err, "`linux.resources.cpu.cpus`");
                if (highest >= max)
                        return rv_error_setx(err, ERANGE, "`linux.resources.cpu.cpus` `%s`: CPU %u is beyond "
                                             "this host's %u CPUs", cpu->cpus, highest, max);
                need = highest + 1;
        }
        if (cpu->has_quota && cpu->quota > 0) {
                uint64_t period = cpu->has_period && cpu->period > 0 ? cpu->period : 100000;
                uint64_t q = (uint64_t) cpu->quota / period + ((uint64_t) cpu->quota % period != 0);
                /* More vCPUs than the host has cannot run a quota faster:
                 * clamped, never wrapped. */
                n = q > max ? max : (unsigned) q;
        } else if (cpu->cpus != NULL && cpu->cpus[0] != '\0') {
                n = need;
        } else {
                n = cfg->default_vcpus > 0 ? cfg->default_vcpus : max;
        }
        if (n < need)
                n = need;
        if (n > max)
                n = max;
        if (annotation_uint(c, VM_ANNOTATION_VCPUS, need, max,
                            need > 1 ? " (enough for `linux.resources.cpu.cpus`, within the host's CPUs)"
                                     : " (within the host's CPUs)", &want, err) < 0)
                return -1;
        if (want)
                n = (unsigned) want;
        *ret = n;
        return 0;
}

int vm_size_plan(const struct spec_config *c, const struct runvm_config *cfg, uint64_t host_memory_mib,
                 unsigned *ret_memory_mib, unsigned *ret_vcpus, struct rv_error **err)
{
        unsigned mib = 0, vcpus = 0;

        if (plan_memory(c, cfg, host_memory_mib, &mib, err) < 0 || plan_vcpus(c, cfg, &vcpus, err) < 0)
                return -1;
        *ret_memory_mib = mib;
        *ret_vcpus = vcpus;
        return 0;
}

bool vm_size_vcpus_follow_accel(const struct spec_config *c, const struct runvm_config *cfg)
{
        const struct spec_cpu *cpu = &c->linux_.resources.cpu;

        return cfg->default_vcpus == 0 && !(cpu->has_quota && cpu->quota > 0) &&
               (cpu->cpus == NULL || cpu->cpus[0] == '\0') &&
               spec_config_annotation(c, VM_ANNOTATION_VCPUS) == NULL;
}
