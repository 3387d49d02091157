/* SPDX-License-Identifier: Apache-2.0 */
/* A guest OOM kill of the container's process, told to conmon-based
 * callers (podman's OOMKilled) through the bundle's `oom` file
 * (cgroup-oom.c says why not through the host cgroup). */
#pragma once

struct rv_error;

int host_cgroup_reflect_oom(const char *bundle, struct rv_error **err);
