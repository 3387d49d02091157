/* SPDX-License-Identifier: Apache-2.0 */
/* A guest OOM kill of the container's process, reflected where host
 * tools (conmon, containerd, podman) look for one (cgroup-oom.c says how
 * on v1 and v2). */
#pragma once

struct rv_error;

/* dirs: the container's host cgroup dirs (state's cgroup_dirs); bundle:
 * the bundle path (v1 only). */
int host_cgroup_reflect_oom(char *const *dirs, const char *bundle, struct rv_error **err);
