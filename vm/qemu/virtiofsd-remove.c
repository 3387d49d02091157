/* SPDX-License-Identifier: Apache-2.0 */
/* Taking a part of the running export away (a pod member whose
 * container ended, docs/ARCHITECTURE.md "Pods"): its trees are unmounted
 * in virtiofsd's mount namespace and the mount points removed, so a
 * long-lived pod does not pile up mounts. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/error.h"
#include "vm/qemu/virtiofsd.h"

#define MAX_POINTS 256

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

/* The mount points at or below /prefix in the mountinfo read from fd
 * (virtiofsd's: paths relative to its root, the shared dir). */
static size_t points_under(int fd, const char *prefix, char **ret, size_t max)
{
        FILE *f = fdopen(dup(fd), "re");
        size_t n = 0, plen = strlen(prefix);
        char *line = NULL;
        size_t cap = 0;

        if (f == NULL)
                return 0;
        while (getline(&line, &cap, f) > 0) {
                char *save = NULL, *tok = strtok_r(line, " ", &save);
                for (int i = 0; tok && i < 4; i++)
                        tok = strtok_r(NULL, " ", &save);
                if (tok == NULL || tok[0] != '/')
                        continue;
                unescape(tok);
                if (strncmp(tok + 1, prefix, plen) == 0 && (tok[1 + plen] == '\0' || tok[1 + plen] == '/') &&
                    n < max)
                        ret[n++] = strdup(tok);
        }
        free(line);
        fclose(f);
        return n;
}

static int deeper_first(const void *a, const void *b)
{
        size_t la = strlen(*(char *const *) a), lb = strlen(*(char *const *) b);
        return (la < lb) - (la > lb);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* In the child, in virtiofsd's mount namespace. before/after: two opens
 * of its mountinfo, made in the monitor's namespace (there is no /proc
 * in virtiofsd's view). */
static int unmount_all(const char *prefix, int before, int after, char *msg, size_t size)
{
        char *points[MAX_POINTS];
        char top[4096];
        size_t n = points_under(before, prefix, points, MAX_POINTS);

        qsort(points, n, sizeof(points[0]), deeper_first);
        for (size_t i = 0; i < n; i++) {
                /* EINVAL: already gone with a parent detached before it. */
                if (umount2(points[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) {
                        snprintf(msg, size, "unmount `%s`: %s", points[i], strerror(errno));
                        return -1;
                }
                free(points[i]);
        }
        n = points_under(after, prefix, points, MAX_POINTS);
        for (size_t i = 0; i < n; i++)
                free(points[i]);
        if (n > 0) {
                snprintf(msg, size, "%zu mounts are left below `%s`", n, prefix);
                return -1;
        }
        /* Only the mount points are left, in virtiofsd's own tmpfs
         * (FTW_MOUNT: never below another filesystem). */
        snprintf(top, sizeof(top), "/%s", prefix);
        if (nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT) {
                snprintf(msg, size, "remove `%.200s`: %s", top, strerror(errno));
                return -1;
        }
        return 0;
}

int virtiofsd_remove_running(struct virtiofsd *v, const char *prefix, struct rv_error **err)
{
        char path[64], msg[512] = "";
        int pipefd[2], before, after;
        pid_t pid;

        if (v->pidfd < 0 || v->pid <= 0)
                return 0;       /* gone: its namespace with it */
        if (prefix[0] == '\0' || prefix[0] == '/' || strstr(prefix, "..") != NULL)
                return rv_error_setx(err, EINVAL, "unshare `%s`: not a part of the export", prefix);
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int) v->pid);
        before = open(path, O_RDONLY | O_CLOEXEC);
        after = open(path, O_RDONLY | O_CLOEXEC);
        if (before < 0 || after < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
                int e = errno;
                if (before >= 0)
                        close(before);
                if (after >= 0)
                        close(after);
                return rv_error_set(err, e, "unshare `%s`: virtiofsd's mounts", prefix);
        }
        pid = fork();
        if (pid == 0) {
                close(pipefd[0]);
                if (setns(v->pidfd, CLONE_NEWNS) < 0)
                        snprintf(msg, sizeof(msg), "enter virtiofsd's mount namespace: %s", strerror(errno));
                else if (unmount_all(prefix, before, after, msg, sizeof(msg)) == 0)
                        _exit(0);
                if (write(pipefd[1], msg, strlen(msg)) < 0)
                        _exit(2);
                _exit(1);
        }
        int e = errno;
        close(before);
        close(after);
        close(pipefd[1]);
        if (pid < 0) {
                close(pipefd[0]);
                return rv_error_set(err, e, "unshare `%s`: fork", prefix);
        }
        if (virtiofsd_helper_wait(pid, pipefd[0], msg, sizeof(msg)) == 0)
                return 0;
        return rv_error_setx(err, EIO, "take `%s` out of the running VM's export: %s", prefix,
                             msg[0] ? msg : "the helper failed");
}
