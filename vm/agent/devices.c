/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "libcontainer-vm/base/cleanup.h"
#include "libcontainer-vm/base/error.h"

struct default_device {
        const char *name;
        unsigned major, minor;
};

static const struct default_device default_devices[] = {
        { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct { const char *name, *target; } default_links[] = {
        { "fd", "/proc/self/fd" },
        { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
        { "ptmx", "pts/ptmx" },
};

/* mknod is refused on some filesystems (a /dev on virtio-fs): bind the
 * guest's own node over an empty file instead, as runc does in a user
 * namespace. */
static int device_bind(int devfd, const struct default_device *d, struct rv_error **err)
{
        _cleanup_close_ int fd = -EBADF;
        char src[64], dst[64];

        fd = openat(devfd, d->name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0)
                return rv_error_set(err, errno, "create `/dev/%s`", d->name);
        close(TAKE_FD(fd));
        fd = openat(devfd, d->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open `/dev/%s`", d->name);
        snprintf(src, sizeof(src), "/dev/%s", d->name);
        snprintf(dst, sizeof(dst), "/proc/self/fd/%d", fd);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return rv_error_set(err, errno, "bind `/dev/%s`", d->name);
        return 0;
}

int agent_devices_create_default(int devfd, struct rv_error **err)
{
        struct statvfs sv;
        /* A /dev that is not its own mount lives on the virtio-fs share,
         * which is nodev: nodes made there would not open. */
        bool nodev = fstatvfs(devfd, &sv) == 0 && (sv.f_flag & ST_NODEV);

        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                const struct default_device *d = &default_devices[i];

                if (unlinkat(devfd, d->name, 0) < 0 && errno != ENOENT)
                        return rv_error_set(err, errno, "remove `/dev/%s`", d->name);
                if (nodev) {
                        if (device_bind(devfd, d, err) < 0)
                                return -1;
                        continue;
                }
                if (mknodat(devfd, d->name, S_IFCHR | 0666, makedev(d->major, d->minor)) == 0) {
                        if (fchmodat(devfd, d->name, 0666, 0) < 0)
                                return rv_error_set(err, errno, "chmod `/dev/%s`", d->name);
                        if (fchownat(devfd, d->name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
                                return rv_error_set(err, errno, "chown `/dev/%s`", d->name);
                        continue;
                }
                if (errno != EPERM && errno != EACCES && errno != EOPNOTSUPP && errno != EROFS)
                        return rv_error_set(err, errno, "mknod `/dev/%s`", d->name);
                if (device_bind(devfd, d, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(default_links); i++) {
                const char *name = default_links[i].name;

                if (symlinkat(default_links[i].target, devfd, name) == 0)
                        continue;
                if (errno != EEXIST)
                        return rv_error_set(err, errno, "symlink `/dev/%s`", name);
                /* runc replaces an existing /dev/ptmx and keeps the others. */
                if (i + 1 == ARRAY_SIZE(default_links)) {
                        if (unlinkat(devfd, name, 0) < 0 ||
                            symlinkat(default_links[i].target, devfd, name) < 0)
                                return rv_error_set(err, errno, "symlink `/dev/%s`", name);
                }
        }
        return 0;
}
