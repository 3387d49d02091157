/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/rootpath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"


static int openat2_in_root(int rootfd, const char *rel, int flags)
{
        struct open_how how = {
                .flags = (uint64_t) flags | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };

        return (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

int agent_path_open_in_root(int rootfd, const char *path, bool create, bool dir,
                            struct rv_error **err)
{
        _cleanup_free_ char *copy = strdup(path);
        char *p, *slash;
        int fd;

        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "open `%s`", path);
        p = copy;
        while (*p == '/')
                p++;
        if (*p == '\0') {
                fd = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
                if (fd < 0)
                        return rv_error_set(err, errno, "open `/`");
                return fd;
        }
        fd = openat2_in_root(rootfd, p, O_PATH);
        if (fd >= 0 || errno != ENOENT || !create) {
                if (fd < 0)
                        return rv_error_set(err, errno, "open `%s`", path);
                return fd;
        }
        /* Create the missing components one by one; each parent is
         * resolved inside the root first, so symlinks cannot lead out. */
        slash = p;
        for (;;) {
                _cleanup_close_ int parent = -EBADF;
                char *name;
                bool last;

                slash = strchr(slash, '/');
                last = slash == NULL;
                if (!last)
                        *slash = '\0';
                fd = openat2_in_root(rootfd, p, O_PATH);
                if (fd >= 0) {
                        if (last)
                                return fd;
                        close(fd);
                        *slash++ = '/';
                        continue;
                }
                if (errno != ENOENT)
                        return rv_error_set(err, errno, "open `%s`", path);
                name = strrchr(p, '/');
                if (name != NULL) {
                        *name = '\0';
                        parent = openat2_in_root(rootfd, p, O_PATH | O_DIRECTORY);
                        *name++ = '/';
                } else {
                        parent = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
                        name = p;
                }
                if (parent < 0)
                        return rv_error_set(err, errno, "open the parent of `%s`", path);
                if (last && !dir) {
                        fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (fd < 0 && errno != EEXIST)
                                return rv_error_set(err, errno, "create `%s`", path);
                        if (fd >= 0)
                                close(fd);
                } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                        return rv_error_set(err, errno, "mkdir `%s`", path);
                }
                fd = openat2_in_root(rootfd, p, O_PATH);
                if (fd < 0)
                        return rv_error_set(err, errno, "open `%s`", path);
                if (last)
                        return fd;
                close(fd);
                *slash++ = '/';
        }
}
