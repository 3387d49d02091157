/* SPDX-License-Identifier: Apache-2.0 */
/* A warm pool VM's owner (docs/ARCHITECTURE.md, "Warm pool"): a detached
 * monitor with no container, in network, ipc and uts namespaces of its
 * own (a new network namespace has only lo: the VM has no NIC), that
 * boots the VM of its shape, records it ready and serves CTL_MEMBER on
 * its ctl.sock as a pod's sandbox does (monitor-pod.c). Once its one
 * member is gone, or its claim was not followed by one, it kills the VM
 * and removes its slot: a VM that served is never reused. */
#pragma once

struct runvm_config;
struct runvm_context;

/* In a slot's dir, made with O_EXCL by whoever takes the VM: a claiming
 * create or drain. */
#define POOL_CLAIM_FILE "claimed"

/* proot: ROOT/.pool; name: the slot, whose state dir exists (status
 * creating, this pid recorded); the VM's size as booted. Never returns. */
_Noreturn void pool_monitor_main(const struct runvm_context *ctx, const struct runvm_config *cfg,
                                 unsigned memory_mib, unsigned vcpus, const char *proot, const char *name);
