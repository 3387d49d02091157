/* SPDX-License-Identifier: Apache-2.0 */
/* How an OCI spec becomes a VM (DESIGN.md §5): sizes, the files shared
 * into the guest, and the guest-local spec the agent runs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vm/vm.h"

struct rv_error;
struct spec_config;
struct runvm_config;

/* Where the agent mounts the virtio-fs share. */
#define GUEST_SHARED_DIR "/run/runvm/shared"

struct vm_plan {
        unsigned memory_mib;
        unsigned vcpus;
        bool vcpus_follow_accel;        /* the default: one under TCG (sizing.h) */
        struct vm_share *shares;        /* parents first; one is named "rootfs" */
        size_t n_shares;
        struct vm_disk *disks;          /* block devices (translate-disks.h); id, source, fd owned */
        size_t n_disks;
        char *rootfs;                   /* absolute host path of root.path */
        char *netns_path;               /* NULL: a new, empty network namespace */
        char *ipcns_path, *utsns_path;  /* a CRI sandbox's pinned ones, the monitor's (pod-join.h) */
        char *cpus;                     /* cpu.cpus, the host CPUs for the vCPUs; NULL: any */
};

/* Checks what a VM can honour, fills *ret, and rewrites c in place into
 * the guest spec (guest paths for the rootfs, bind mounts and block
 * devices). Refusals are specific: "`mounts[2]`: bind source `/run/x.sock`
 * is a socket: only files and directories can be shared into a VM". */
int translate_spec(struct spec_config *c, const char *bundle, const struct runvm_config *cfg,
                   struct vm_plan *ret, struct rv_error **err);
void vm_plan_clear(struct vm_plan *p);
/* The index of the rootfs share. */
size_t vm_plan_rootfs_index(const struct vm_plan *p);
/* The share a guest spec mount source (GUEST_SHARED_DIR/NAME) names, or -1. */
int vm_plan_share_of(const struct vm_plan *p, const char *guest_source);
