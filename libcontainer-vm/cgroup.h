/* SPDX-License-Identifier: Apache-2.0 */
/* The container's cgroup on the host: the monitor, QEMU and virtiofsd live
 * in linux.cgroupsPath (cgroupfs driver, v1 hierarchies or v2), so callers
 * reading /proc/PID/cgroup find the container's processes there. The
 * guest enforces the container's limits; the host cgroup carries them
 * mapped to what the VM needs (cgroup-limits.h). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct rv_error;
struct host_cgroup_limits;

/* Makes the cgroup in every hierarchy (systemd: has systemd make the
 * scope, see below), writes the limits (NULL: none)
 * and moves pid into it (cgroupfs: 0 moves nothing, for a caller that
 * moves its processes later). *ret_dirs gets the directories made
 * (NULL-terminated), for removal. An empty path means a cgroup named id,
 * relative to this process's own, as runc makes one for a config without
 * cgroupsPath. */
int host_cgroup_enter(const char *cgroups_path, const char *id, bool systemd, pid_t pid,
                      const struct host_cgroup_limits *limits, char ***ret_dirs, struct rv_error **err);
/* Removes the directories (after their processes are gone); missing is
 * success; a busy one is retried for a moment. */
int host_cgroup_remove(char *const *dirs, struct rv_error **err);

/* --systemd-cgroup (cgroup-systemd.c): cgroupsPath "slice:prefix:name"
 * (empty: system.slice, runvm-ID.scope) is a transient scope systemd
 * makes with pid in it; *ret_unit its name (what the scope's dirs in
 * /proc/self/cgroup contain). A clear error when systemd is not running. */
bool host_cgroup_systemd_running(void);
int host_cgroup_systemd_unit(const char *cgroups_path, const char *id, char **ret_slice, char **ret_unit,
                             struct rv_error **err);
int host_cgroup_systemd_enter(const char *cgroups_path, const char *id, pid_t pid, char **ret_unit,
                              struct rv_error **err);
