/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/pod.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/config.h"

static const struct {
        const char *type;       /* the spec's word */
        const char *proc;       /* /proc/PID/ns/<proc> */
        int flag;
} kinds[] = {
        { "ipc", "ipc", CLONE_NEWIPC },
        { "uts", "uts", CLONE_NEWUTS },
        { "pid", "pid", CLONE_NEWPID },
};

static int kind_of(const char *type)
{
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (type != NULL && strcmp(type, kinds[i].type) == 0)
                        return (int) i;
        return -1;
}

bool agent_pod_ns_joinable(const char *type, const char *path)
{
        size_t n = strlen(AGENT_POD_NS_DIR);

        /* No "..": the path stays among the published binds. */
        return kind_of(type) >= 0 && path != NULL && strncmp(path, AGENT_POD_NS_DIR "/", n + 1) == 0 &&
               strstr(path, "/..") == NULL;
}

int agent_pod_publish(pid_t pid, const char *id, struct rv_error **err)
{
        char dir[256], src[64], dst[300];

        if (snprintf(dir, sizeof(dir), "%s/%s", AGENT_POD_NS_DIR, id) >= (int) sizeof(dir))
                return rv_error_setx(err, ENAMETOOLONG, "publish the namespaces of `%s`", id);
        if (rv_mkdir_p(dir, 0700, err) < 0)
                return rv_error_wrap(err, "publish the namespaces of `%s`", id);
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int) pid, kinds[i].proc);
                snprintf(dst, sizeof(dst), "%s/%s", dir, kinds[i].type);
                _cleanup_close_ int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (fd < 0)
                        return rv_error_set(err, errno, "create `%s`", dst);
                if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                        return rv_error_set(err, errno, "bind `%s` on `%s`", src, dst);
        }
        return 0;
}

int agent_pod_join(const struct spec_config *c, struct rv_error **err)
{
        const struct spec_linux *l = &c->linux_;

        for (size_t i = 0; i < l->n_namespaces; i++) {
                const struct spec_namespace *ns = &l->namespaces[i];
                int k;

                if (ns->path == NULL || ns->path[0] == '\0' || !agent_pod_ns_joinable(ns->type, ns->path))
                        continue;
                k = kind_of(ns->type);
                /* The agent put the init there when it forked it. */
                if (kinds[k].flag == CLONE_NEWPID)
                        continue;
                _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return rv_error_set(err, errno, "`linux.namespaces[%zu]`: open `%s`", i, ns->path);
                if (setns(fd, kinds[k].flag) < 0)
                        return rv_error_set(err, errno, "`linux.namespaces[%zu]`: join the %s namespace `%s`", i,
                                            ns->type, ns->path);
        }
        return 0;
}

int agent_pod_pid_enter(const struct spec_config *c, int *ret_restore, struct rv_error **err)
{
        const struct spec_namespace *ns = spec_config_namespace(c, "pid");

        *ret_restore = -1;
        if (ns == NULL || ns->path == NULL || ns->path[0] == '\0' || !agent_pod_ns_joinable(ns->type, ns->path))
                return 0;
        _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "`pid` namespace: open `%s`", ns->path);
        int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own < 0)
                return rv_error_set(err, errno, "open the agent's pid namespace");
        if (setns(fd, CLONE_NEWPID) < 0) {
                rv_error_set(err, errno, "`pid` namespace: join `%s`", ns->path);
                close(own);
                return -1;
        }
        *ret_restore = own;
        return 0;
}

void agent_pod_pid_leave(int restore)
{
        if (restore < 0)
                return;
        /* Back to its own: a failure would put every later container in
         * the pod's namespace, so it is loud. */
        if (setns(restore, CLONE_NEWPID) < 0)
                rv_log(RV_LOG_ERROR, "return to the agent's pid namespace: %s", strerror(errno));
        close(restore);
}

void agent_pod_unpublish(const char *id)
{
        char dir[256], path[300];

        if (snprintf(dir, sizeof(dir), "%s/%s", AGENT_POD_NS_DIR, id) >= (int) sizeof(dir))
                return;
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, kinds[i].type);
                if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                        rv_log(RV_LOG_WARNING, "unpublish `%s`: %s", path, strerror(errno));
                unlink(path);
        }
        rmdir(dir);
}
