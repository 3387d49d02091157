/* SPDX-License-Identifier: Apache-2.0 */
/* Containers of one pod in one VM (docs/ARCHITECTURE.md, "Pods"): every
 * container's ipc, uts and pid namespaces are published as nsfs binds at
 * AGENT_POD_NS_DIR/<id>/{ipc,uts,pid}, which keep them alive after its
 * init exits, and a container whose spec names such a path joins it (a
 * pid namespace by its init being forked there). Other namespace paths
 * stay refused (the host refuses them first). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct rv_error;
struct spec_config;

#define AGENT_POD_NS_DIR "/run/runvm/ns"

/* The namespace entry is a join of a published namespace (ipc, uts, pid). */
bool agent_pod_ns_joinable(const char *type, const char *path);
/* Binds /proc/PID/ns/{ipc,uts,pid} at AGENT_POD_NS_DIR/<id>/. */
int agent_pod_publish(pid_t pid, const char *id, struct rv_error **err);
/* Its binds unmounted and removed (the container is gone). */
void agent_pod_unpublish(const char *id);
/* In the container's init, before its user namespace is entered: joins
 * each namespace the spec names by a published path. */
int agent_pod_join(const struct spec_config *c, struct rv_error **err);
/* Around the fork of a container's init: with a published pid namespace
 * in its spec, the agent's children are born there until leave
 * (*ret_restore: the agent's own, -1 when nothing was joined). */
int agent_pod_pid_enter(const struct spec_config *c, int *ret_restore, struct rv_error **err);
void agent_pod_pid_leave(int restore);
