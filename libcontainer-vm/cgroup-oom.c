/* SPDX-License-Identifier: Apache-2.0 */
/* A guest OOM kill, told where host tools look for one. The guest's
 * memory.events is not the host's: conmon (podman's OOMKilled), containerd
 * and `podman stats` read the container's host cgroup, which saw nothing
 * (the guest's kernel killed, not the host's).
 * - cgroup v2: a real OOM kill in a child cgroup (runvm-oom, memory.max 0)
 *   of a throw-away process; v2 counts a child's events in its ancestors'
 *   memory.events (oom, oom_kill) and notifies their watchers.
 * - cgroup v1 has no such propagation (memory.oom_control notifies only
 *   the memcg that ran out), and an OOM in the container's own memcg would
 *   be at QEMU's risk: the bundle gets the `oom` file conmon itself makes
 *   in its working directory (the bundle) when the cgroup reports one,
 *   which is what podman reads. */
#include "libcontainer-vm/cgroup-oom.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"

#define OOM_CHILD "runvm-oom"
#define OOM_WAIT_MS 2000

static int write_file(const char *path, const char *value)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return rv_write_all(fd, value, strlen(value));
}

/* In the child: join the cgroup and touch memory until the kernel kills
 * it. _exit(3) only when it survived (no memory controller). */
static _Noreturn void oom_child(const char *procs)
{
        if (write_file(procs, "0") < 0)
                _exit(2);
        for (int i = 0; i < 64; i++) {
                size_t len = 1 << 20;
                char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        _exit(3);
                memset(p, 1, len);
        }
        _exit(3);
}

static int reflect_v2(const char *dir, struct rv_error **err)
{
        char sub[4096], file[4200];
        int status = 0;

        snprintf(sub, sizeof(sub), "%s/" OOM_CHILD, dir);
        if (mkdir(sub, 0700) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "reflect the OOM: mkdir `%s`", sub);
        snprintf(file, sizeof(file), "%s/memory.max", sub);
        int r = write_file(file, "0");
        snprintf(file, sizeof(file), "%s/memory.swap.max", sub);
        write_file(file, "0");
        snprintf(file, sizeof(file), "%s/cgroup.procs", sub);
        pid_t pid = r < 0 ? -1 : fork();
        if (pid == 0)
                oom_child(file);
        if (pid > 0) {
                _cleanup_close_ int pidfd = rv_pidfd_open(pid);
                if (pidfd < 0 || rv_pidfd_wait(pidfd, OOM_WAIT_MS) < 0)
                        kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        int saved = r < 0 ? -r : pid < 0 ? errno : 0;
        for (int tries = 0; rmdir(sub) < 0 && errno == EBUSY && tries < 50; tries++)
                usleep(10000);
        if (saved != 0)
                return rv_error_set(err, saved, "reflect the OOM in `%s`", sub);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
                return rv_error_setx(err, EIO, "reflect the OOM in `%s`: the kernel did not OOM-kill", sub);
        return 0;
}

static int reflect_bundle(const char *bundle, struct rv_error **err)
{
        _cleanup_close_ int dfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rv_error_set(err, errno, "reflect the OOM: bundle `%s`", bundle);
        _cleanup_close_ int fd = openat(dfd, "oom", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return rv_error_set(err, errno, "reflect the OOM: `%s/oom`", bundle);
        return 0;
}

int host_cgroup_reflect_oom(char *const *dirs, const char *bundle, struct rv_error **err)
{
        char path[4200];

        for (size_t i = 0; dirs && dirs[i]; i++) {
                snprintf(path, sizeof(path), "%s/memory.events", dirs[i]);
                if (access(path, F_OK) == 0)
                        return reflect_v2(dirs[i], err);
        }
        for (size_t i = 0; dirs && dirs[i]; i++) {
                snprintf(path, sizeof(path), "%s/memory.oom_control", dirs[i]);
                if (access(path, F_OK) == 0)
                        return bundle ? reflect_bundle(bundle, err) : 0;
        }
        return 0;
}
