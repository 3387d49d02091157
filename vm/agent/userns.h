/* SPDX-License-Identifier: Apache-2.0 */
/* A container's namespaces, runc's way (nsexec.c):
 *
 * - pid, mount, uts, ipc and user are created by the clone of the init
 *   (agent_ns_clone_flags); with a user namespace it is created first by
 *   the kernel, so the others belong to it;
 * - the agent then writes the child's uid_map and gid_map
 *   (linux.uidMappings / gidMappings; setgroups stays allowed, as under
 *   runc running as root) and releases the child with one byte on the
 *   start pipe (agent_ns_after_clone). The host side of a container's
 *   cgroup placement must be done before that release;
 * - the child reads that byte, becomes root of its user namespace
 *   (setresgid/setresuid 0, setgroups {}), then unshares the cgroup
 *   namespace (rooted at its cgroup) and the time namespace, whose
 *   linux.timeOffsets it writes before anyone enters it
 *   (agent_ns_child_enter), then joins it with setns.
 *
 * network is the VM's own (accepted, nothing made); a namespace `path` is
 * refused (the host refuses it already), but for the ipc and uts of
 * another container of the VM's pod (vm/agent/pod.h), joined first. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct rv_error;
struct spec_config;

int agent_ns_clone_flags(const struct spec_config *c, unsigned long *ret_flags, struct rv_error **err);
/* In the agent, right after clone: id maps for a user namespace, then the
 * release byte on start_wfd (always written). */
int agent_ns_after_clone(pid_t pid, const struct spec_config *c, int start_wfd, struct rv_error **err);
/* In the child, first thing: waits for the release on start_rfd. */
int agent_ns_child_enter(const struct spec_config *c, int start_rfd, struct rv_error **err);
bool agent_ns_has(const struct spec_config *c, const char *type);
