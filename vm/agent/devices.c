/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/devices.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"
#include "vm/agent/rootpath.h"
#include "vm/channel/disks.h"

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

static int bind_onto(const char *src, int dstfd, const char *what, struct rv_error **err)
{
        char dst[64];

        snprintf(dst, sizeof(dst), "/proc/self/fd/%d", dstfd);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return rv_error_set(err, errno, "bind `%s` onto `%s`", src, what);
        return 0;
}

/* A block device's guest node (blockdev.c made one per disk), to bind
 * where mknod is refused. */
static int disk_node(dev_t dev, char *buf, size_t size)
{
        _cleanup_closedir_ DIR *dir = opendir(GUEST_DISKS_DIR);
        struct dirent *e;
        struct stat st;

        while (dir && (e = readdir(dir)) != NULL) {
                snprintf(buf, size, GUEST_DISKS_DIR "/%s", e->d_name);
                if (e->d_name[0] != '.' && lstat(buf, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev)
                        return 0;
        }
        return -1;
}

static int device_create(int rootfd, const struct spec_device *d, size_t idx, struct rv_error **err)
{
        _cleanup_close_ int parent = -EBADF, node = -EBADF;
        _cleanup_free_ char *dir = NULL;
        const char *name, *slash;
        mode_t type, mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;

        if (d->path == NULL || d->path[0] != '/')
                return rv_error_setx(err, EINVAL, "`linux.devices[%zu].path`: must be absolute", idx);
        if (d->type == NULL)
                return rv_error_setx(err, EINVAL, "`linux.devices[%zu].type`: missing", idx);
        if (strcmp(d->type, "c") == 0 || strcmp(d->type, "u") == 0)
                type = S_IFCHR;
        else if (strcmp(d->type, "b") == 0)
                type = S_IFBLK;
        else if (strcmp(d->type, "p") == 0)
                type = S_IFIFO;
        else
                return rv_error_setx(err, EINVAL, "`linux.devices[%zu].type`: unknown device type `%s`", idx, d->type);
        slash = strrchr(d->path, '/');
        name = slash + 1;
        if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return rv_error_setx(err, EINVAL, "`linux.devices[%zu].path`: `%s` is not a file path", idx, d->path);
        dir = strndup(d->path, (size_t) (slash - d->path));
        if (dir == NULL)
                return rv_error_set(err, ENOMEM, "device `%s`", d->path);
        parent = agent_path_open_in_root(rootfd, dir[0] != '\0' ? dir : "/", true, true, err);
        if (parent < 0)
                return rv_error_wrap(err, "device `%s`", d->path);
        /* The O_PATH fd cannot be used with mknodat: reopen it. */
        {
                char p[64];
                snprintf(p, sizeof(p), "/proc/self/fd/%d", parent);
                int real = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (real < 0)
                        return rv_error_set(err, errno, "device `%s`: open its directory", d->path);
                close(parent);
                parent = real;
        }
        if (mknodat(parent, name, type | mode,
                    type == S_IFIFO ? 0 : makedev((unsigned) d->major, (unsigned) d->minor)) < 0) {
                if (errno == EEXIST)
                        return 0;       /* runc keeps an existing node */
                if (errno != EPERM || type == S_IFIFO)
                        return rv_error_set(err, errno, "mknod `%s`", d->path);
                /* A user namespace: bind the guest's node of that path
                 * (a disk's node for a block device). */
                char disk[PATH_MAX];
                const char *src = d->path;
                if (type == S_IFBLK) {
                        if (disk_node(makedev((unsigned) d->major, (unsigned) d->minor), disk, sizeof(disk)) < 0)
                                return rv_error_setx(err, ENODEV, "`linux.devices[%zu]`: `%s`: no disk "
                                                     "%lld:%lld in the VM", idx, d->path,
                                                     (long long) d->major, (long long) d->minor);
                        src = disk;
                }
                node = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (node < 0)
                        return rv_error_set(err, errno, "create `%s`", d->path);
                close(TAKE_FD(node));
                node = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (node < 0)
                        return rv_error_set(err, errno, "open `%s`", d->path);
                return bind_onto(src, node, d->path, err);
        }
        if (fchmodat(parent, name, mode, 0) < 0)
                return rv_error_set(err, errno, "chmod `%s`", d->path);
        if (fchownat(parent, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
                return rv_error_set(err, errno, "chown `%s`", d->path);
        return 0;
}

int agent_devices_create_spec(int rootfd, const struct spec_config *c, struct rv_error **err)
{
        for (size_t i = 0; i < c->linux_.n_devices; i++)
                if (device_create(rootfd, &c->linux_.devices[i], i, err) < 0)
                        return -1;
        return 0;
}

int agent_devices_bind_console(int devfd, const char *console, struct rv_error **err)
{
        _cleanup_close_ int fd = -EBADF;

        if (chmod(console, 0600) < 0)
                return rv_error_set(err, errno, "chmod the console `%s`", console);
        if (unlinkat(devfd, "console", 0) < 0 && errno != ENOENT)
                return rv_error_set(err, errno, "remove `/dev/console`");
        fd = openat(devfd, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (fd < 0)
                return rv_error_set(err, errno, "create `/dev/console`");
        close(TAKE_FD(fd));
        fd = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open `/dev/console`");
        return bind_onto(console, fd, "/dev/console", err);
}
