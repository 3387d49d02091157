/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pool-member.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/proc.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/monitor-options.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/translate.h"
#include "spec/config.h"

#define WAIT_VM_MS 10000

int pool_member_prepare(struct pool_member *pm, const struct monitor_options *o, const char *sandbox,
                        struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *s = NULL;
        struct state_dir dir = STATE_DIR_INIT;

        if (state_dir_open(o->ctx->root, sandbox, false, &dir, err) < 0)
                return rv_error_wrap(err, "warm pool VM `%s`", sandbox);
        int r = state_load(dir.dirfd, &s, err);
        state_dir_close(&dir);
        if (r < 0)
                return rv_error_wrap(err, "warm pool VM `%s`", sandbox);
        pm->host_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        pm->vm_pid = s->monitor_pid;
        pm->vm_start_time = s->monitor_start_time;
        if (pm->host_proc < 0 || !container_state_monitor_alive(s))
                return rv_error_setx(err, ESRCH, "warm pool VM `%s` is gone", sandbox);
        return monitor_ns_prepare(&pm->ns, o->plan, err);
}

int pool_member_join_cgroup(const struct monitor_options *o, struct rv_error **err)
{
        for (char *const *d = o->state->cgroup_dirs; d && *d; d++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/cgroup.procs", *d) < 0)
                        return rv_error_set(err, ENOMEM, "cgroup");
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        return rv_error_set(err, errno, "enter the host cgroup `%s`", *d);
        }
        return 0;
}

int pool_member_enter_view(struct pool_member *pm, const struct monitor_options *o, struct rv_error **err)
{
        const char *hostname = o->guest_spec->hostname;
        _cleanup_free_ char *staging = NULL;

        /* Its ipc and uts namespaces are the pool monitor's (the VM's,
         * which nothing else shares), its network namespace too unless the
         * engine made one (pool-nic.h); mount and cgroup are its own. */
        if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0)
                return rv_error_set(err, errno, "unshare the monitor's namespaces");
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return rv_error_set(err, errno, "make the monitor's mounts slaves of the host's");
        if (hostname && *hostname && sethostname(hostname, strlen(hostname)) < 0)
                return rv_error_set(err, errno, "set the monitor's hostname");
        if (asprintf(&staging, "%s/shared", o->dir->path) < 0)
                return rv_error_set(err, ENOMEM, "the container's view");
        if (mkdir(staging, 0700) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "mkdir `%s`", staging);
        return monitor_ns_enter_view(&pm->ns, o->plan, o->guest_spec, o->dir->path, err);
}

/* Field 22 of /proc/PID/stat (after the command's closing paren). */
static bool pool_vm_running(const struct pool_member *pm)
{
        char path[32], buf[1024];
        snprintf(path, sizeof(path), "%d/stat", (int) pm->vm_pid);
        _cleanup_close_ int fd = openat(pm->host_proc, path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        char state = p && p[1] == ' ' ? p[2] : 'X';
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        return p && state != 'Z' && state != 'X' && strtoull(p + 1, NULL, 10) == pm->vm_start_time;
}

void pool_member_wait_vm(struct pool_member *pm)
{
        int64_t deadline = rv_now_ms() + WAIT_VM_MS;

        if (pm->host_proc < 0)
                return;
        /* 1 ms: the container's run waits on this (the VM's kill takes
         * tens of ms), and a read of /proc/PID/stat costs ~20 us. */
        while (pool_vm_running(pm) && rv_now_ms() < deadline) {
                struct timespec ts = { 0, 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}
