/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's VM is sized once, when its sandbox is created, for the whole
 * pod (docs/ARCHITECTURE.md, "Pods"): the CRI engines put the sum of its
 * containers' limits on the sandbox (containerd:
 * io.kubernetes.cri.sandbox-memory, -cpu-quota, -cpu-period; CRI-O:
 * io.kubernetes.cri-o.PodLinuxResources plus PodLinuxOverhead, JSON of
 * CRI's LinuxContainerResources). Those replace the sandbox container's
 * own limits for the VM's size (sizing.h does the rest). A member then
 * must fit in the VM it joins. Pure but for the sandbox's state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct rv_error;
struct spec_config;
struct container_state;

#define POD_CRI_SANDBOX_MEMORY "io.kubernetes.cri.sandbox-memory"
#define POD_CRI_SANDBOX_QUOTA "io.kubernetes.cri.sandbox-cpu-quota"
#define POD_CRI_SANDBOX_PERIOD "io.kubernetes.cri.sandbox-cpu-period"
#define POD_CRIO_RESOURCES "io.kubernetes.cri-o.PodLinuxResources"
#define POD_CRIO_OVERHEAD "io.kubernetes.cri-o.PodLinuxOverhead"

struct pod_total {
        bool has_memory;
        int64_t memory;                 /* bytes */
        bool has_quota;
        int64_t quota;
        uint64_t period;                /* µs; 100000 when none is given */
};

/* The pod's total from a CRI sandbox's annotations (nothing for another
 * container, or when they give none). A malformed value is an error
 * naming the annotation. */
int pod_total_from(const struct spec_config *spec, struct pod_total *ret, struct rv_error **err);
/* *spec's resources for the VM's size: the pod's total where given. */
void pod_total_apply(const struct pod_total *t, struct spec_config *sized);
/* A member's limits against the sandbox's VM (its state: memory_mib,
 * vcpus): one that needs more is refused. */
int pod_member_fits(const struct spec_config *member, const struct container_state *sandbox,
                    struct rv_error **err);
