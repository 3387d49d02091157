/* SPDX-License-Identifier: Apache-2.0 */
/* The stand-in of a container served by a warm pool VM (docs/ARCHITECTURE.md,
 * "Warm pool") is a pod member's monitor (pod-member.c) with what a cold
 * container's monitor has besides (docs/SECURITY.md, "The monitor is the
 * container's host-side stand-in"): its host cgroup, and the "view" mount
 * namespace whose root is the container's rootfs with its bind mounts, so
 * that /proc/PID/root, `nsenter -m` and `podman cp` act on the
 * container's files, not the host's. Once the container exits it waits
 * for the pool VM to be gone, as a cold monitor exits after its VM. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "libcontainer-vm/monitor-ns.h"
#include "libcontainer-vm/pool-nic.h"

struct monitor_options;
struct rv_error;

struct pool_member {
        struct monitor_ns ns;
        /* The pool monitor, which ends with the VM: its host pid, read
         * through the host's /proc (the member has a pid namespace of its
         * own, where pidfd_open cannot name it, and a /proc of its own
         * once in the view). */
        int host_proc;
        pid_t vm_pid;
        uint64_t vm_start_time;
        struct pool_nic_member net;     /* the container's namespace, when the engine made it */
};

#define POOL_MEMBER_INIT { .ns = MONITOR_NS_INIT, .host_proc = -1, .net = POOL_NIC_MEMBER_INIT }

/* First thing, in the caller's namespaces: the view's trees, the pool
 * monitor's pidfd (checked against its start time). */
int pool_member_prepare(struct pool_member *pm, const struct monitor_options *o, const char *sandbox,
                        struct rv_error **err);
/* Into the container's host cgroup that create made (o->state->cgroup_dirs). */
int pool_member_join_cgroup(const struct monitor_options *o, struct rv_error **err);
/* Once the pool VM made the container (its mount points exist): new
 * mount and cgroup namespaces, the hostname, the view. */
int pool_member_enter_view(struct pool_member *pm, const struct monitor_options *o, struct rv_error **err);
/* Bounded (10 s). */
void pool_member_wait_vm(struct pool_member *pm);
