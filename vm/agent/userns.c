/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/agent/pod.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

bool agent_ns_has(const struct spec_config *c, const char *type)
{
        return spec_config_namespace(c, type) != NULL;
}

int agent_ns_clone_flags(const struct spec_config *c, unsigned long *ret_flags, struct rv_error **err)
{
        const struct spec_linux *l = &c->linux_;
        unsigned long flags = 0;
        bool joined_uts = false;

        for (size_t i = 0; i < l->n_namespaces; i++) {
                const struct spec_namespace *ns = &l->namespaces[i];
                const char *t = ns->type != NULL ? ns->type : "";

                if (ns->path != NULL && ns->path[0] != '\0') {
                        /* A pod's namespace, joined by the child (pod.h). */
                        if (agent_pod_ns_joinable(t, ns->path)) {
                                joined_uts |= strcmp(t, "uts") == 0;
                                continue;
                        }
                        return rv_error_setx(err, EINVAL,
                                             "`%s` namespace: joining namespaces by path is not supported", t);
                }
                if (strcmp(t, "pid") == 0)
                        flags |= CLONE_NEWPID;
                else if (strcmp(t, "mount") == 0)
                        flags |= CLONE_NEWNS;
                else if (strcmp(t, "uts") == 0)
                        flags |= CLONE_NEWUTS;
                else if (strcmp(t, "ipc") == 0)
                        flags |= CLONE_NEWIPC;
                else if (strcmp(t, "user") == 0)
                        flags |= CLONE_NEWUSER;
                else if (strcmp(t, "network") == 0 || strcmp(t, "cgroup") == 0 || strcmp(t, "time") == 0)
                        continue;       /* network: the VM's; cgroup, time: unshared by the child */
                else
                        return rv_error_setx(err, EINVAL, "unknown namespace type `%s`", t);
        }
        if (!(flags & CLONE_NEWNS))
                return rv_error_setx(err, EINVAL, "a mount namespace is required");
        if ((c->hostname != NULL || c->domainname != NULL) && !(flags & CLONE_NEWUTS) && !joined_uts)
                return rv_error_setx(err, EINVAL, "unable to set hostname without a private UTS namespace");
        if (flags & CLONE_NEWUSER) {
                if (l->n_uid_mappings == 0)
                        return rv_error_setx(err, EINVAL, "user namespaces enabled, but no uid mappings found");
                if (l->n_gid_mappings == 0)
                        return rv_error_setx(err, EINVAL, "user namespaces enabled, but no gid mappings found");
        } else if (l->n_uid_mappings > 0 || l->n_gid_mappings > 0) {
                return rv_error_setx(err, EINVAL, "uid/gid mappings requires a user namespace");
        }
        for (size_t i = 0; i < l->n_other; i++)
                if (strcmp(l->other[i].key, "timeOffsets") == 0 && !agent_ns_has(c, "time"))
                        return rv_error_setx(err, EINVAL, "time offsets specified without a time namespace");
        *ret_flags = flags;
        return 0;
}

static int write_map(pid_t pid, const char *file, const struct spec_id_mapping *m, size_t n,
                     struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        char path[64];
        size_t len = 0;

        text = malloc(n * 36 + 1);
        if (text == NULL)
                return rv_error_set(err, ENOMEM, "%s", file);
        for (size_t i = 0; i < n; i++)
                len += (size_t) sprintf(text + len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open %s", file);
        /* One write: the kernel takes the whole map at once or not at all. */
        if (write(fd, text, len) != (ssize_t) len)
                return rv_error_set(err, errno, "write %s", file);
        return 0;
}

int agent_ns_after_clone(pid_t pid, const struct spec_config *c, int start_wfd, struct rv_error **err)
{
        const struct spec_linux *l = &c->linux_;
        char go = 'n';

        if (agent_ns_has(c, "user")) {
                if (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err) < 0 ||
                    write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err) < 0)
                        return rv_error_wrap(err, "user namespace");
        }
        if (rv_write_all(start_wfd, &go, 1) < 0)
                return rv_error_set(err, errno, "release the container's init");
        return 0;
}

/* linux.timeOffsets {"monotonic": {"secs","nanosecs"}, "boottime": ...}
 * into /proc/self/timens_offsets. */
static int write_time_offsets(const struct spec_config *c, struct rv_error **err)
{
        const struct spec_linux *l = &c->linux_;
        const char *raw = NULL;
        struct json_value *v = NULL;
        char text[256];
        size_t len = 0;
        int r = -1;

        for (size_t i = 0; i < l->n_other; i++)
                if (strcmp(l->other[i].key, "timeOffsets") == 0)
                        raw = l->other[i].value;
        if (raw == NULL)
                return 0;
        if (json_parse(raw, strlen(raw), &v, err) < 0)
                return rv_error_wrap(err, "`linux.timeOffsets`");
        if (!json_is_object(v)) {
                rv_error_setx(err, EINVAL, "`linux.timeOffsets`: expected an object");
                goto out;
        }
        for (size_t i = 0; i < json_object_size(v); i++) {
                const char *clock = json_object_key(v, i);
                const struct json_value *o = json_object_value(v, i);
                int64_t secs = 0;
                uint32_t nsecs = 0;
                char path[96];

                if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0) {
                        rv_error_setx(err, EINVAL, "`linux.timeOffsets.%s`: unknown clock", clock);
                        goto out;
                }
                snprintf(path, sizeof(path), "linux.timeOffsets.%s.secs", clock);
                if (json_get(o, "secs") != NULL && json_read_int64(json_get(o, "secs"), path, &secs, err) < 0)
                        goto out;
                snprintf(path, sizeof(path), "linux.timeOffsets.%s.nanosecs", clock);
                if (json_get(o, "nanosecs") != NULL &&
                    json_read_uint32(json_get(o, "nanosecs"), path, &nsecs, err) < 0)
                        goto out;
                len += (size_t) snprintf(text + len, sizeof(text) - len, "%s %lld %u\n", clock,
                                         (long long) secs, nsecs);
        }
        if (len > 0) {
                _cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, text, len) != (ssize_t) len) {
                        rv_error_set(err, errno, "write time namespace offsets");
                        goto out;
                }
        }
        r = 0;
out:
        json_value_free(v);
        return r;
}

int agent_ns_child_enter(const struct spec_config *c, int start_rfd, struct rv_error **err)
{
        char go;
        ssize_t n;

        do
                n = read(start_rfd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return rv_error_setx(err, ECANCELED, "the agent gave up on this container");
        if (agent_pod_join(c, err) < 0)
                return -1;
        if (agent_ns_has(c, "user")) {
                /* Root of the new user namespace (0 must be mapped). */
                if (setresgid(0, 0, 0) < 0)
                        return rv_error_set(err, errno, "user namespace: setresgid 0 (is gid 0 mapped?)");
                if (setresuid(0, 0, 0) < 0)
                        return rv_error_set(err, errno, "user namespace: setresuid 0 (is uid 0 mapped?)");
                if (setgroups(0, NULL) < 0)
                        return rv_error_set(err, errno, "user namespace: setgroups");
                /* The uid change made the process non-dumpable, which gives
                 * its /proc files to the real root (unmapped here): the
                 * time offsets below could not be written. execve sets
                 * dumpability again anyway. */
                if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                        return rv_error_set(err, errno, "user namespace: set dumpable");
        }
        if (agent_ns_has(c, "cgroup") && unshare(CLONE_NEWCGROUP) < 0)
                return rv_error_set(err, errno, "unshare the cgroup namespace");
        if (agent_ns_has(c, "time")) {
                if (unshare(CLONE_NEWTIME) < 0)
                        return rv_error_set(err, errno, "unshare the time namespace");
                if (write_time_offsets(c, err) < 0)
                        return -1;
                /* unshare moved only the children; execve does not move
                 * the caller either (6.1): join it, the init is still
                 * single-threaded. */
                _cleanup_close_ int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
                if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
                        return rv_error_set(err, errno, "enter the time namespace");
        }
        return 0;
}
