/* SPDX-License-Identifier: Apache-2.0 */
/* The warm pool (docs/ARCHITECTURE.md, "Warm pool"): pre-booted idle VMs
 * under ROOT/.pool/, one state dir per VM ("slot"), named after the VM's
 * shape, each owned by a detached pool monitor (pool-monitor.c). create
 * claims a ready VM of its container's shape and runs the container in it
 * as a pod member (pod-member.c); a VM that served is never reused: its
 * pool monitor ends with the container. Off unless `warm_pool` > 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "libcontainer-vm/pool-shape.h"
#include "libcontainer-vm/state.h"

struct rv_error;
struct runvm_config;
struct runvm_context;
struct spec_config;
struct vm_plan;
struct host_cgroup_limits;

/* Under the state root: ROOT/.pool/<slot>. A member's `sandbox` names a
 * pool VM as ".pool/<slot>" (state_dir_open takes it as an id). */
#define POOL_DIR ".pool"
#define POOL_SANDBOX_PREFIX POOL_DIR "/"

/* Pure: whether a container can be served from the pool: no pod, nothing
 * a pod member cannot have yet (hooks, a terminal, block devices), no
 * cpu.cpus pinning, the default memory and vCPUs (a limit boots cold, at
 * its own size). A network namespace given by path must also have at
 * most POOL_NICS interfaces to mirror (pool-nic.h), which the caller
 * counts: that is no longer pure. */
bool pool_eligible(const struct spec_config *guest, const struct vm_plan *plan,
                   const struct runvm_config *cfg, bool pod_member);
/* Takes a ready VM of the shape (never one another took: the claim file
 * is made O_EXCL), discarding dead ones on the way. *ret_sandbox:
 * ".pool/<slot>" (caller frees), or NULL when none is ready. */
int pool_claim(const char *root, const struct pool_shape *shape, char **ret_sandbox, struct rv_error **err);
/* A claimed VM that will not serve (the create failed): its processes
 * killed, its dir removed. */
void pool_discard(const char *root, const char *sandbox);
/* The claimed VM's processes (QEMU, virtiofsd) still to be moved into
 * the container's host cgroup. */
struct pool_procs {
        pid_t pid[STATE_MAX_PROCS];
        size_t n;
};

/* Makes the container's host cgroup with the limits for the claimed VM;
 * *ret_dirs as host_cgroup_enter's, *ret the processes pool_adopt_procs
 * moves (the systemd driver's scope takes QEMU at once). The moves are
 * apart because the first write to a cgroup.procs since a while waits for
 * an RCU grace period (cgroup_threadgroup_rwsem, 12-28 ms on these
 * hosts): create lets the member's monitor hand the container over to
 * the guest meanwhile. */
int pool_adopt(const char *root, const char *sandbox, const char *cgroups_path, const char *id, bool systemd,
               const struct host_cgroup_limits *limits, char ***ret_dirs, struct pool_procs *ret,
               struct rv_error **err);
int pool_adopt_procs(const struct pool_procs *procs, char *const *dirs, struct rv_error **err);
bool pool_is_sandbox(const char *sandbox);

/* Starts pool monitors until `depth` unclaimed VMs of the shape are there
 * or booting; with wait, until they are ready (bounded by the boot
 * timeout); without, they boot at nice 10 (a refill must not slow the
 * container that triggered it) until a claim renices them. Never more than depth: the count and the new slots are made
 * under ROOT/.pool/.lock. *ret_started: how many were started. */
int pool_fill(const struct runvm_context *ctx, const struct runvm_config *cfg, const struct pool_shape *shape,
              unsigned depth, bool wait, unsigned *ret_started, struct rv_error **err);
/* Every unclaimed VM of the root torn down, dead slots removed; VMs that
 * serve a container are left to it. *ret_removed, *ret_serving. */
int pool_drain(const char *root, unsigned *ret_removed, unsigned *ret_serving, struct rv_error **err);

struct pool_status {
        unsigned ready, booting, serving;
};
int pool_status(const char *root, struct pool_status *ret, struct rv_error **err);
