/* SPDX-License-Identifier: Apache-2.0 */
/* Who shares a VM (docs/ARCHITECTURE.md, "Pods"). A container belongs in
 * another runvm container's VM when its spec joins, by path, a network,
 * ipc or uts namespace that container's monitor holds (podman pods,
 * CRI-O and containerd all say "pod" this way), or when the CRI
 * annotations name that container as its sandbox. The two rules must
 * agree. Everything else gets its own VM. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "libcontainer-vm/state.h"

struct rv_error;
struct spec_config;

/* The annotations CRI-O and containerd's CRI plugin put on every
 * container: what it is ("sandbox" or "container") and its pod's
 * sandbox container. */
#define POD_CRIO_TYPE "io.kubernetes.cri-o.ContainerType"
#define POD_CRIO_SANDBOX "io.kubernetes.cri-o.SandboxID"
#define POD_CRI_TYPE "io.kubernetes.cri.container-type"
#define POD_CRI_SANDBOX "io.kubernetes.cri.sandbox-id"

/* A namespace the spec joins by path, as the path resolved. */
struct pod_ns_ref {
        enum state_ns type;
        size_t index;                   /* in linux.namespaces */
        struct state_nsid id;
};

/* The decision from what was resolved, pure: refs are the spec's joined
 * namespaces, candidates the live runvm containers of the root (their
 * recorded namespaces). *ret_sandbox: a candidate's id (pointing into
 * it), or NULL for a VM of its own. Disagreeing rules, or annotations
 * naming a sandbox that is not among the candidates, fail with one error
 * naming both sides. */
int pod_join_decide(const struct spec_config *spec, const struct pod_ns_ref *refs, size_t n_refs,
                    struct container_state *const *candidates, size_t n_candidates,
                    const char **ret_sandbox, struct rv_error **err);

/* Resolves the spec's namespace paths (their nsfs inodes; a path of the
 * wrong namespace type is an error) and reads the root's live containers,
 * then decides. *ret_sandbox: the sandbox container's id (caller frees),
 * or NULL; *ret_joined: which of its namespaces the spec joins (bits
 * 1 << STATE_NS_*). Reads nothing when the spec joins nothing and has no
 * CRI annotation. */
int pod_join_resolve(const char *root, const struct spec_config *spec, char **ret_sandbox,
                     unsigned *ret_joined, struct rv_error **err);

/* Fails (EBUSY) when live containers of the root are members of sandbox
 * id's pod, naming them: deleting it would end their VM. */
int pod_check_no_members(const char *root, const char *id, struct rv_error **err);

/* The monitor's own namespaces (/proc/self/ns/{net,ipc,uts}) into s, for
 * the containers that may join it. */
int pod_record_namespaces(struct container_state *s, struct rv_error **err);

/* CRI-O pins a pod's ipc and uts namespaces on the host (pinns) and its
 * sandbox joins them by path; the guest has its own anyway. For a
 * container the CRI annotations call a sandbox, those paths are taken out
 * of the spec (*ret_ipc, *ret_uts: the caller frees) and its monitor
 * joins them (pod_join_pinned), so that the pod's members, which join
 * the same paths, are found as its. */
int pod_sandbox_take_paths(struct spec_config *spec, char **ret_ipc, char **ret_uts, struct rv_error **err);
/* In the monitor, after its own namespaces were made: joins the pinned
 * ones (NULL: none). */
int pod_join_pinned(const char *ipc, const char *uts, struct rv_error **err);
