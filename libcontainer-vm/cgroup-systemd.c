/* SPDX-License-Identifier: Apache-2.0 */
/* --systemd-cgroup: linux.cgroupsPath "slice:prefix:name" names a
 * transient scope "prefix-name.scope" in "slice", which systemd makes
 * (org.freedesktop.systemd1.Manager.StartTransientUnit over D-Bus, called
 * with busctl, systemd's own client) with the monitor's pid in it and
 * Delegate=yes, as runc's systemd driver does. The scope's cgroup dirs
 * (cgroup.c finds them in /proc/self/cgroup) are then where the limits
 * go (cgroup-limits.c); systemd removes the scope when its last process
 * is gone. StartTransientUnit returns once the job is queued; the pid is
 * moved when the job runs, so the caller waits for it (below). */
#include "libcontainer-vm/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "base/spawn.h"

#define SYSTEMD_RUN_DIR "/run/systemd/system"
#define BUSCTL "/usr/bin/busctl"
#define BUSCTL_TIMEOUT_MS 30000

bool host_cgroup_systemd_running(void)
{
        struct stat st;
        /* sd_booted(3)'s test. */
        return lstat(SYSTEMD_RUN_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

int host_cgroup_systemd_unit(const char *cgroups_path, const char *id, char **ret_slice, char **ret_unit,
                             struct rv_error **err)
{
        _cleanup_free_ char *copy = strdup(cgroups_path && *cgroups_path ? cgroups_path : "");
        char *slice, *prefix, *name, *c2;

        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "systemd cgroup");
        if (copy[0] == '\0') {
                /* runc's default for a config without cgroupsPath. */
                if (asprintf(ret_slice, "system.slice") < 0 || asprintf(ret_unit, "runvm-%s.scope", id) < 0)
                        return rv_error_set(err, ENOMEM, "systemd cgroup");
                return 0;
        }
        slice = copy;
        c2 = strchr(copy, ':');
        if (c2 == NULL || strchr(c2 + 1, ':') == NULL || strchr(strchr(c2 + 1, ':') + 1, ':') != NULL)
                return rv_error_setx(err, EINVAL, "`linux.cgroupsPath` `%s`: expected slice:prefix:name with "
                                     "--systemd-cgroup", cgroups_path);
        *c2 = '\0';
        prefix = c2 + 1;
        name = strchr(prefix, ':');
        *name++ = '\0';
        if (name[0] == '\0' || strchr(name, '/') || strchr(prefix, '/') || strchr(slice, '/'))
                return rv_error_setx(err, EINVAL, "`linux.cgroupsPath` `%s`: expected slice:prefix:name "
                                     "(no `/`, a name)", cgroups_path);
        if (strlen(name) > 6 && strcmp(name + strlen(name) - 6, ".slice") == 0)
                return rv_error_setx(err, ENOTSUP, "`linux.cgroupsPath` `%s`: a container in a slice of "
                                     "its own is not supported; name a scope", cgroups_path);
        if (asprintf(ret_slice, "%s", slice[0] ? slice : "system.slice") < 0 ||
            asprintf(ret_unit, "%s%s%s.scope", prefix, prefix[0] ? "-" : "", name) < 0)
                return rv_error_set(err, ENOMEM, "systemd cgroup");
        return 0;
}

static int start_scope(const char *slice, const char *unit, pid_t pid, struct rv_error **err)
{
        char pidbuf[32];
        snprintf(pidbuf, sizeof(pidbuf), "%d", (int) pid);
        /* StartTransientUnit(name, mode, properties a(sv), aux a(sa(sv))). */
        char *const argv[] = {
                BUSCTL, "--system", "--quiet", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager", "StartTransientUnit", "ssa(sv)a(sa(sv))",
                (char *) unit, "fail", "4",
                "PIDs", "au", "1", pidbuf,
                "Slice", "s", (char *) slice,
                "Delegate", "b", "true",
                "Description", "s", "runvm container",
                "0", NULL,
        };
        _cleanup_close_ int errfd = memfd_create("busctl-stderr", MFD_CLOEXEC);
        struct rv_spawn s = { .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = errfd };
        pid_t child;
        int pidfd = -1;

        if (errfd < 0)
                return rv_error_set(err, errno, "systemd scope `%s`", unit);
        if (rv_spawn_start(&s, &child, &pidfd, err) < 0)
                return rv_error_wrap(err, "systemd scope `%s`: run " BUSCTL, unit);
        int status = rv_spawn_wait(child, pidfd, BUSCTL_TIMEOUT_MS);
        if (status == -ETIMEDOUT)
                rv_spawn_kill(child, &pidfd);
        if (pidfd >= 0)
                close(pidfd);
        if (status == 0)
                return 0;
        char msg[512] = "";
        ssize_t n = pread(errfd, msg, sizeof(msg) - 1, 0);
        msg[n > 0 ? n : 0] = '\0';
        msg[strcspn(msg, "\n")] = '\0';
        return rv_error_setx(err, EIO, "systemd scope `%s` in `%s`: StartTransientUnit failed: %s", unit, slice,
                             msg[0] ? msg : status == -ETIMEDOUT ? "timed out" : "busctl failed");
}

/* The job moves the process; until then /proc/self/cgroup is the old. */
static int wait_moved(const char *unit, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + BUSCTL_TIMEOUT_MS;

        for (;;) {
                _cleanup_free_ char *text = NULL;
                struct rv_error *tmp_err = NULL;
                size_t len;
                if (rv_read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, &len, &tmp_err) == 0 &&
                    strstr(text, unit) != NULL)
                        return 0;
                rv_error_release(&tmp_err);
                if (rv_now_ms() >= deadline)
                        return rv_error_setx(err, ETIMEDOUT, "systemd scope `%s`: this process was not moved "
                                             "into it", unit);
                usleep(20000);
        }
}

int host_cgroup_systemd_enter(const char *cgroups_path, const char *id, pid_t pid, char **ret_unit,
                              struct rv_error **err)
{
        _cleanup_free_ char *slice = NULL, *unit = NULL;

        if (host_cgroup_systemd_unit(cgroups_path, id, &slice, &unit, err) < 0)
                return -1;
        if (!host_cgroup_systemd_running())
                return rv_error_setx(err, ENOTSUP, "--systemd-cgroup: systemd is not running on this host "
                                     "(no " SYSTEMD_RUN_DIR "): cannot make scope `%s`; use cgroupfs "
                                     "paths (without --systemd-cgroup)", unit);
        if (access(BUSCTL, X_OK) < 0)
                return rv_error_set(err, errno, "--systemd-cgroup: `" BUSCTL "`");
        /* systemd reads PIDs in its (the host's) pid namespace; the caller
         * may already be in one of its own. */
        pid_t host = rv_proc_self_pid();
        if (start_scope(slice, unit, host > 0 && pid == getpid() ? host : pid, err) < 0 ||
            wait_moved(unit, err) < 0)
                return -1;
        *ret_unit = TAKE_PTR(unit);
        return 0;
}
