/* SPDX-License-Identifier: Apache-2.0 */
/* The container's cgroup on the host: the monitor, QEMU and virtiofsd live
 * in linux.cgroupsPath (cgroupfs driver, v1 hierarchies or v2), so callers
 * reading /proc/PID/cgroup find the container's processes there. Limits
 * are the guest's business; the host cgroup is for placement and
 * accounting. */
#pragma once

#include <sys/types.h>

struct rv_error;

/* Makes the cgroup in every hierarchy and moves pid into it. *ret_dirs
 * gets the directories made (NULL-terminated), for removal. An empty path
 * means a cgroup named id, relative to this process's own, as runc makes
 * one for a config without cgroupsPath. */
int host_cgroup_enter(const char *cgroups_path, const char *id, pid_t pid, char ***ret_dirs,
                      struct rv_error **err);
/* Removes the directories (after their processes are gone); missing is
 * success; a busy one is retried for a moment. */
int host_cgroup_remove(char *const *dirs, struct rv_error **err);
