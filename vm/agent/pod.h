/* SPDX-License-Identifier: Apache-2.0 */
/* Containers of one pod in one VM (docs/ARCHITECTURE.md, "Pods"): every
 * container's ipc and uts namespaces are published as nsfs binds at
 * AGENT_POD_NS_DIR/<id>/{ipc,uts}, which keep them alive after its init
 * exits, and a container whose spec names such a path joins it. Other
 * namespace paths stay refused (the host refuses them first). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct rv_error;
struct spec_config;

#define AGENT_POD_NS_DIR "/run/runvm/ns"

/* The namespace entry is a join of a published namespace (ipc or uts). */
bool agent_pod_ns_joinable(const char *type, const char *path);
/* Binds /proc/PID/ns/{ipc,uts} at AGENT_POD_NS_DIR/<id>/. */
int agent_pod_publish(pid_t pid, const char *id, struct rv_error **err);
/* In the container's init, before its user namespace is entered: joins
 * each namespace the spec names by a published path. */
int agent_pod_join(const struct spec_config *c, struct rv_error **err);
