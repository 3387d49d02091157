/* SPDX-License-Identifier: Apache-2.0 */
/* What the container's host cgroup limits: the container's resources
 * mapped to what its VM needs (docs/RESOURCES.md). The guest enforces the
 * container's own limits; the host's are what QEMU, virtiofsd and the
 * monitor may take, written where host tools read them:
 * - memory: the VM's size + overhead_memory_mib when the container has a
 *   limit (the guest kernel and QEMU live inside it), none otherwise;
 * - cpu quota/period, shares (v2: weight), cpuset cpus/mems: as given
 *   (the vCPU threads are what runs the container);
 * - pids: the container's pids.max, but never under what the VM's
 *   threads need (HOST_CGROUP_VM_PIDS + one a vCPU): a guest process is
 *   not a host task, and a small limit must not stop QEMU from starting;
 * - blkio weight (v2: io.weight): as given. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct rv_error;
struct spec_resources;

/* QEMU's main, RCU and I/O threads, virtiofsd's pool (64) and its own,
 * the monitor and a hook or two; measured idle: 12 tasks. */
#define HOST_CGROUP_VM_PIDS 128

struct host_cgroup_limits {
        uint64_t memory_bytes;          /* 0: no limit written */
        bool has_cpu_quota;
        int64_t cpu_quota;              /* -1: unlimited */
        uint64_t cpu_period;            /* 0: the kernel's */
        uint64_t cpu_shares;            /* 0: not written */
        const char *cpus, *mems;        /* NULL: the parent's */
        int64_t pids_max;               /* 0: not written; -1: max */
        uint16_t blkio_weight;          /* 0: not written */
};

/* vm_memory_mib: the VM's size, or 0 when the memory limit must not
 * change (update: the VM does not grow). r's strings are borrowed. */
void host_cgroup_limits_from(const struct spec_resources *r, unsigned vm_memory_mib, unsigned overhead_mib,
                             unsigned vcpus, struct host_cgroup_limits *ret);
/* Writes the limits into each of dirs (v1 hierarchies or the v2 one):
 * a controller the host lacks is skipped with a warning; a value the
 * kernel refuses is an error naming the file. */
int host_cgroup_apply(char *const *dirs, const struct host_cgroup_limits *l, struct rv_error **err);
/* One dir of several (host_cgroup_enter, as it makes them); then, once,
 * a warning for each limit no hierarchy had a controller for. */
int host_cgroup_apply_dir(const char *dir, const struct host_cgroup_limits *l, unsigned *found,
                          struct rv_error **err);
void host_cgroup_warn_missing(const struct host_cgroup_limits *l, unsigned found);
/* `update`: the resources document (as `runvm update` sends the guest)
 * written into the container's host cgroup dirs; memory stays. */
int host_cgroup_update(char *const *dirs, const char *resources_json, unsigned vcpus, struct rv_error **err);
