/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/mountpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"

static int open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Makes each missing component of path (relative to the rootfs); the
 * last one a file unless dir. */
static int make_path(int rootfd, const char *dest, bool dir, struct rv_error **err)
{
        _cleanup_free_ char *path = strdup(dest);

        if (path == NULL)
                return rv_error_set(err, ENOMEM, "mount point");
        for (char *p = path; *p;) {
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                char *end = strchrnul(p, '/');
                bool last = *end == '\0' || end[strspn(end, "/")] == '\0';
                char saved = *end;
                *end = '\0';
                _cleanup_close_ int fd = open_in_root(rootfd, path, O_PATH);
                if (fd < 0 && errno == ENOENT) {
                        char *slash = strrchr(path, '/');
                        _cleanup_close_ int parent = -EBADF;
                        const char *name = slash ? slash + 1 : path;
                        if (slash && slash != path) {
                                *slash = '\0';
                                parent = open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
                                *slash = '/';
                        } else {
                                parent = open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
                        }
                        if (parent < 0)
                                return rv_error_set(err, errno, "mount point `%s`", dest);
                        int r;
                        if (last && !dir) {
                                r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (r >= 0)
                                        close(r);
                        } else {
                                r = mkdirat(parent, name, 0755);
                        }
                        if (r < 0 && errno != EEXIST)
                                return rv_error_set(err, errno, "make mount point `%s` in the read-only rootfs", dest);
                } else if (fd < 0) {
                        return rv_error_set(err, errno, "mount point `%s`", dest);
                }
                *end = saved;
                p = end;
        }
        return 0;
}

/* A destination inside an earlier mount is made in that mount, in the guest. */
static bool under_earlier_mount(const struct spec_config *c, size_t i)
{
        const char *d = c->mounts[i].destination;

        for (size_t j = 0; j < i; j++) {
                const char *e = c->mounts[j].destination;
                size_t n = strlen(e);
                while (n > 0 && e[n - 1] == '/')
                        n--;
                if (n > 0 && strncmp(d, e, n) == 0 && d[n] == '/')
                        return true;
        }
        return false;
}

int mountpoints_prepare(int rootfd, const struct spec_config *c,
                        bool (*is_dir)(size_t i, const void *data), const void *data,
                        struct rv_error **err)
{
        for (size_t i = 0; i < c->n_mounts; i++) {
                const char *d = c->mounts[i].destination;
                if (d == NULL || d[strspn(d, "/")] == '\0' || under_earlier_mount(c, i))
                        continue;
                if (make_path(rootfd, d, is_dir(i, data), err) < 0)
                        return rv_error_wrap(err, "`mounts[%zu]`", i);
        }
        /* runc makes a missing cwd before the rootfs becomes read-only. */
        if (c->has_process && c->process.cwd && make_path(rootfd, c->process.cwd, true, err) < 0)
                return rv_error_wrap(err, "`process.cwd`");
        return 0;
}
