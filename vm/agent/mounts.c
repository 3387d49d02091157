/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "spec/config.h"
#include "vm/agent/devices.h"

struct flag_name {
        const char *name;
        bool clear;
        unsigned long flag;
};

/* runc's libcontainer/specconv mountFlags. */
static const struct flag_name mount_flags[] = {
        { "async", true, MS_SYNCHRONOUS },
        { "atime", true, MS_NOATIME },
        { "bind", false, MS_BIND },
        { "defaults", false, 0 },
        { "dev", true, MS_NODEV },
        { "diratime", true, MS_NODIRATIME },
        { "dirsync", false, MS_DIRSYNC },
        { "exec", true, MS_NOEXEC },
        { "mand", false, MS_MANDLOCK },
        { "noatime", false, MS_NOATIME },
        { "nodev", false, MS_NODEV },
        { "nodiratime", false, MS_NODIRATIME },
        { "noexec", false, MS_NOEXEC },
        { "nomand", true, MS_MANDLOCK },
        { "norelatime", true, MS_RELATIME },
        { "nostrictatime", true, MS_STRICTATIME },
        { "nosuid", false, MS_NOSUID },
        { "rbind", false, MS_BIND | MS_REC },
        { "relatime", false, MS_RELATIME },
        { "remount", false, MS_REMOUNT },
        { "ro", false, MS_RDONLY },
        { "rw", true, MS_RDONLY },
        { "strictatime", false, MS_STRICTATIME },
        { "suid", true, MS_NOSUID },
        { "sync", false, MS_SYNCHRONOUS },
};

static const struct flag_name propagation_flags[] = {
        { "private", false, MS_PRIVATE },
        { "rprivate", false, MS_PRIVATE | MS_REC },
        { "shared", false, MS_SHARED },
        { "rshared", false, MS_SHARED | MS_REC },
        { "slave", false, MS_SLAVE },
        { "rslave", false, MS_SLAVE | MS_REC },
        { "unbindable", false, MS_UNBINDABLE },
        { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

/* runc's recAttrFlags: applied with mount_setattr(AT_RECURSIVE). */
static const struct flag_name recursive_attrs[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },
        { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },
        { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },
        { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },
        { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rrelatime", false, MOUNT_ATTR_RELATIME },
        { "rnorelatime", true, MOUNT_ATTR__ATIME },
        { "rnoatime", false, MOUNT_ATTR_NOATIME },
        { "ratime", true, MOUNT_ATTR__ATIME },
        { "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", true, MOUNT_ATTR__ATIME },
};

static const struct flag_name *flag_lookup(const struct flag_name *table, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(table[i].name, name) == 0)
                        return &table[i];
        return NULL;
}

void agent_mount_opts_clear(struct agent_mount_opts *o)
{
        free(o->data);
        o->data = NULL;
}

int agent_mount_opts_parse(char *const *options, struct agent_mount_opts *ret, struct rv_error **err)
{
        struct agent_mount_opts o = { 0 };
        _cleanup_free_ char *data = NULL;
        size_t data_len = 0;

        for (char *const *p = options; p != NULL && *p != NULL; p++) {
                const struct flag_name *f = flag_lookup(mount_flags, ARRAY_SIZE(mount_flags), *p);

                if (f != NULL) {
                        if (f->clear)
                                o.flags &= ~f->flag;
                        else
                                o.flags |= f->flag;
                        continue;
                }
                f = flag_lookup(recursive_attrs, ARRAY_SIZE(recursive_attrs), *p);
                if (f != NULL) {
                        if (f->clear)
                                o.attr_clr |= f->flag;
                        else
                                o.attr_set |= f->flag;
                        /* An atime mode replaces the whole atime field. */
                        if (!f->clear && (f->flag == MOUNT_ATTR_RELATIME || (f->flag & MOUNT_ATTR__ATIME)))
                                o.attr_clr |= MOUNT_ATTR__ATIME;
                        continue;
                }
                if (strcmp(*p, "tmpcopyup") == 0) {
                        o.tmpcopyup = true;
                        continue;
                }
                f = flag_lookup(propagation_flags, ARRAY_SIZE(propagation_flags), *p);
                if (f != NULL) {
                        if (o.n_propagation == ARRAY_SIZE(o.propagation))
                                return rv_error_setx(err, EINVAL, "too many propagation options");
                        o.propagation[o.n_propagation++] = f->flag;
                        continue;
                }
                size_t len = strlen(*p);
                char *nd = realloc(data, data_len + len + 2);
                if (nd == NULL)
                        return rv_error_set(err, ENOMEM, "mount options");
                data = nd;
                if (data_len > 0)
                        data[data_len++] = ',';
                memcpy(data + data_len, *p, len + 1);
                data_len += len;
        }
        o.data = TAKE_PTR(data);
        *ret = o;
        return 0;
}

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

static void fd_path(char buf[64], int fd)
{
        snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/* The longest mount point containing path, from mountinfo. */
static int parent_mount_point(const char *path, char **ret, struct rv_error **err)
{
        _cleanup_free_ char *info = NULL, *best = NULL;
        size_t best_len = 0;
        char *line, *save = NULL;

        if (rv_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &info, NULL, err) < 0)
                return -1;
        for (line = strtok_r(info, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                char mp[4096];
                size_t len;

                /* id parent major:minor root mountpoint ... */
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                len = strlen(mp);
                if (strncmp(path, mp, len) != 0)
                        continue;
                if (!(len == 1 || path[len] == '/' || path[len] == '\0'))
                        continue;
                if (best != NULL && len < best_len)
                        continue;
                free(best);
                best = strdup(mp);
                if (best == NULL)
                        return rv_error_set(err, ENOMEM, "mountinfo");
                best_len = len;
        }
        if (best == NULL)
                return rv_error_setx(err, ENOENT, "no mount holds `%s`", path);
        *ret = TAKE_PTR(best);
        return 0;
}

/* Propagation and recursive attributes, on the new mount. */
static int apply_after_mount(int rootfd, const char *dest, const struct agent_mount_opts *o,
                             struct rv_error **err)
{
        _cleanup_close_ int fd = -EBADF;
        char target[64];

        if (o->n_propagation == 0 && o->attr_set == 0 && o->attr_clr == 0)
                return 0;
        fd = agent_path_open_in_root(rootfd, dest, false, false, err);
        if (fd < 0)
                return -1;
        fd_path(target, fd);
        if (o->attr_set != 0 || o->attr_clr != 0) {
                struct mount_attr attr = { .attr_set = o->attr_set, .attr_clr = o->attr_clr };

                if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE,
                            &attr, sizeof(attr)) < 0)
                        return rv_error_set(err, errno, "set recursive mount attributes");
        }
        for (size_t i = 0; i < o->n_propagation; i++)
                if (mount(NULL, target, NULL, o->propagation[i], NULL) < 0)
                        return rv_error_set(err, errno, "set the propagation of `%s`", dest);
        return 0;
}

static unsigned long statvfs_flags(const char *path)
{
        struct statvfs sv;
        unsigned long flags = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                flags |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                flags |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                flags |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                flags |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                flags |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                flags |= MS_RELATIME;
        return flags;
}

static int mount_bind(int rootfd, const struct spec_mount *m, const struct agent_mount_opts *o,
                      struct rv_error **err)
{
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        char source[64], target[64];
        unsigned long remount = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        struct stat st;

        if (m->source == NULL)
                return rv_error_setx(err, EINVAL, "bind mount without a source");
        src = open(m->source, O_PATH | O_CLOEXEC);
        if (src < 0 || fstat(src, &st) < 0)
                return rv_error_set(err, errno, "open the source `%s`", m->source);
        dst = agent_path_open_in_root(rootfd, m->destination, true, S_ISDIR(st.st_mode), err);
        if (dst < 0)
                return -1;
        fd_path(source, src);
        fd_path(target, dst);
        if (mount(source, target, NULL, MS_BIND | (o->flags & MS_REC), NULL) < 0)
                return rv_error_set(err, errno, "bind `%s`", m->source);
        if (remount != 0) {
                /* The new mount is on top of the fd we hold: reopen. */
                close(TAKE_FD(dst));
                dst = agent_path_open_in_root(rootfd, m->destination, false, false, err);
                if (dst < 0)
                        return -1;
                fd_path(target, dst);
                /* Binds come from the nodev virtio-fs share: keep nodev
                 * (host device nodes never act as devices). In a user
                 * namespace the source's nosuid/nodev/noexec/atime flags
                 * are locked: keep them when the kernel insists. */
                remount |= statvfs_flags(source) & MS_NODEV;
                if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | remount, NULL) < 0 &&
                    (errno != EPERM ||
                     mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | remount | statvfs_flags(source), NULL) < 0))
                        return rv_error_set(err, errno, "remount with options");
        }
        return 0;
}

/* Copies the tree under the directory sfd into the directory dfd:
 * directories, files, symlinks, fifos and device nodes with their mode,
 * owner and times (runc's fileutils.CopyDirectory). */
static int copy_tree(int sfd, int dfd, int depth, struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int dup_fd;

        if (depth > 64)
                return rv_error_setx(err, ELOOP, "tmpcopyup: tree too deep");
        dup_fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup_fd < 0)
                return rv_error_set(err, errno, "tmpcopyup: open directory");
        d = fdopendir(dup_fd);
        if (d == NULL) {
                close(dup_fd);
                return rv_error_set(err, errno, "tmpcopyup: read directory");
        }
        while ((errno = 0, de = readdir(d)) != NULL) {
                struct stat st;
                const char *n = de->d_name;
                int r = 0;

                if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
                        continue;
                if (fstatat(sfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return rv_error_set(err, errno, "tmpcopyup: stat `%s`", n);
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int s2 = -EBADF, d2 = -EBADF;
                        if (mkdirat(dfd, n, st.st_mode & 07777) < 0)
                                return rv_error_set(err, errno, "tmpcopyup: mkdir `%s`", n);
                        s2 = openat(sfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s2 < 0 || d2 < 0)
                                return rv_error_set(err, errno, "tmpcopyup: open `%s`", n);
                        if (copy_tree(s2, d2, depth + 1, err) < 0)
                                return -1;
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int in = openat(sfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int out = -EBADF;
                        char buf[65536];
                        ssize_t k;

                        if (in < 0)
                                return rv_error_set(err, errno, "tmpcopyup: open `%s`", n);
                        out = openat(dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
                        if (out < 0)
                                return rv_error_set(err, errno, "tmpcopyup: create `%s`", n);
                        while ((k = read(in, buf, sizeof(buf))) > 0)
                                if (rv_write_all(out, buf, (size_t) k) < 0)
                                        return rv_error_set(err, errno, "tmpcopyup: write `%s`", n);
                        if (k < 0)
                                return rv_error_set(err, errno, "tmpcopyup: read `%s`", n);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t k = readlinkat(sfd, n, target, sizeof(target) - 1);
                        if (k < 0)
                                return rv_error_set(err, errno, "tmpcopyup: readlink `%s`", n);
                        target[k] = '\0';
                        if (symlinkat(target, dfd, n) < 0)
                                return rv_error_set(err, errno, "tmpcopyup: symlink `%s`", n);
                } else {
                        r = mknodat(dfd, n, st.st_mode, st.st_rdev);
                        if (r < 0)
                                return rv_error_set(err, errno, "tmpcopyup: mknod `%s`", n);
                }
                if (fchownat(dfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
                        return rv_error_set(err, errno, "tmpcopyup: chown `%s`", n);
                if (!S_ISLNK(st.st_mode) && fchmodat(dfd, n, st.st_mode & 07777, 0) < 0)
                        return rv_error_set(err, errno, "tmpcopyup: chmod `%s`", n);
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                (void) utimensat(dfd, n, ts, AT_SYMLINK_NOFOLLOW);
        }
        if (errno != 0)
                return rv_error_set(err, errno, "tmpcopyup: read directory");
        return 0;
}

/* runc's tmpcopyup: the tmpfs is mounted on a scratch directory, the
 * destination's contents are copied into it, and it is moved onto the
 * destination. dst: the destination, opened in the rootfs (O_PATH). */
static int mount_tmpcopyup(int dst, const struct spec_mount *m, const struct agent_mount_opts *o,
                           struct rv_error **err)
{
        char scratch[] = "/run/runvm/tmpcopyup.XXXXXX", target[64];
        _cleanup_close_ int sfd = -EBADF, tfd = -EBADF;
        int r = -1;

        if (rv_mkdir_p("/run/runvm", 0700, err) < 0)
                return -1;
        if (mkdtemp(scratch) == NULL)
                return rv_error_set(err, errno, "tmpcopyup: scratch directory");
        if (mount(m->source != NULL ? m->source : "tmpfs", scratch, "tmpfs", o->flags & ~(MS_REMOUNT | MS_RDONLY),
                  o->data) < 0) {
                rv_error_set(err, errno, "mount tmpfs");
                goto out;
        }
        fd_path(target, dst);
        sfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0 || tfd < 0) {
                rv_error_set(err, errno, "tmpcopyup: open");
                goto unmount;
        }
        if (copy_tree(sfd, tfd, 0, err) < 0)
                goto unmount;
        if ((o->flags & MS_RDONLY) &&
            mount(NULL, scratch, NULL, MS_REMOUNT | (o->flags & ~MS_REMOUNT), o->data) < 0) {
                rv_error_set(err, errno, "tmpcopyup: remount read-only");
                goto unmount;
        }
        if (mount(scratch, target, NULL, MS_MOVE, NULL) < 0) {
                rv_error_set(err, errno, "tmpcopyup: move the tmpfs");
                goto unmount;
        }
        r = 0;
        goto out;
unmount:
        umount2(scratch, MNT_DETACH);
out:
        rmdir(scratch);
        return r;
}

/* runc mounts every tmpfs, and /dev, read-write first: the devices and
 * submounts under them need it. agent_rootfs_finalize makes them
 * read-only afterwards. */
static bool is_dev(const char *dest)
{
        while (*dest == '/')
                dest++;
        if (strncmp(dest, "dev", 3) != 0)
                return false;
        for (dest += 3; *dest == '/'; dest++)
                ;
        return *dest == '\0';
}

static bool ro_delayed(const struct spec_mount *m, const char *type)
{
        return strcmp(type, "tmpfs") == 0 || (m->destination != NULL && is_dev(m->destination));
}

static int remount_delayed_ro(const struct spec_mount *m, struct rv_error **err)
{
        struct agent_mount_opts o = { 0 };
        const char *type = m->type != NULL ? m->type : "none";
        int r = 0;

        if (agent_mount_opts_parse(m->options, &o, err) < 0)
                return -1;
        if ((o.flags & MS_RDONLY) && !(o.flags & MS_BIND) && strcmp(type, "bind") != 0 &&
            strcmp(type, "rbind") != 0 && !o.tmpcopyup && ro_delayed(m, type) &&
            mount("", m->destination, "", (o.flags & ~(MS_REC | MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)) |
                  MS_REMOUNT | MS_RDONLY, "") < 0)
                r = rv_error_set(err, errno, "remount `%s` read-only", m->destination);
        agent_mount_opts_clear(&o);
        return r;
}

/* runc refuses to mount proc or sysfs through a symlink (or on a file):
 * the destination must be an ordinary directory, or not exist yet. */
static int check_ordinary_dir(int rootfd, const char *type, const char *dest, struct rv_error **err)
{
        _cleanup_free_ char *copy = strdup(dest);
        _cleanup_close_ int parent = -EBADF;
        const char *name;
        char *slash;
        struct stat st;

        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "mount `%s`", dest);
        while ((slash = strrchr(copy, '/')) != NULL && slash[1] == '\0' && slash != copy)
                *slash = '\0';
        slash = strrchr(copy, '/');
        name = slash + 1;
        *slash = '\0';
        if (name[0] == '\0')
                return 0;
        parent = agent_path_open_in_root(rootfd, copy[0] != '\0' ? copy : "/", false, true, err);
        if (parent < 0) {
                if ((*err)->status != ENOENT)
                        return -1;
                rv_error_release(err);
                return 0;
        }
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : rv_error_set(err, errno, "stat `%s`", dest);
        if (!S_ISDIR(st.st_mode))
                return rv_error_setx(err, ENOTDIR, "filesystem \"%s\" must be mounted on ordinary directory", type);
        return 0;
}

static int mount_one(int rootfd, const struct spec_mount *m, struct rv_error **err)
{
        struct agent_mount_opts o = { 0 };
        const char *type = m->type != NULL ? m->type : "none";
        _cleanup_close_ int dst = -EBADF;
        char target[64];
        int r = -1;

        if (m->destination == NULL || m->destination[0] != '/')
                return rv_error_setx(err, EINVAL, "destination `%s` is not absolute",
                                    m->destination ? m->destination : "");
        if ((strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0) &&
            check_ordinary_dir(rootfd, type, m->destination, err) < 0)
                return rv_error_wrap(err, "error mounting \"%s\" to rootfs at \"%s\"", type, m->destination);
        if (agent_mount_opts_parse(m->options, &o, err) < 0)
                return -1;
        if ((o.flags & MS_BIND) || strcmp(type, "bind") == 0 || strcmp(type, "rbind") == 0) {
                if (strcmp(type, "rbind") == 0)
                        o.flags |= MS_REC;
                r = mount_bind(rootfd, m, &o, err);
        } else {
                /* runc mounts cgroup2 for "cgroup" on a v2 host; the guest
                 * is cgroup v2 only. */
                if (strcmp(type, "cgroup") == 0)
                        type = "cgroup2";
                dst = agent_path_open_in_root(rootfd, m->destination, true, true, err);
                if (dst >= 0 && o.tmpcopyup && strcmp(type, "tmpfs") == 0) {
                        r = mount_tmpcopyup(dst, m, &o, err);
                } else if (dst >= 0) {
                        fd_path(target, dst);
                        r = mount(m->source != NULL ? m->source : type, target, type,
                                  o.flags & ~(MS_REMOUNT | (ro_delayed(m, type) ? MS_RDONLY : 0)), o.data);
                        if (r < 0 && (errno == EPERM || errno == EBUSY) &&
                            (strcmp(type, "sysfs") == 0 || strcmp(type, "cgroup2") == 0)) {
                                /* In a user namespace that owns neither the
                                 * network nor the cgroup namespace: bind the
                                 * agent's instead, as runc does. */
                                struct spec_mount b = *m;
                                b.source = (char *) (strcmp(type, "sysfs") == 0 ? "/sys" : "/sys/fs/cgroup");
                                o.flags |= MS_BIND | MS_REC;
                                r = mount_bind(rootfd, &b, &o, err);
                        } else if (r < 0) {
                                rv_error_set(err, errno, "mount %s", type);
                        }
                }
        }
        if (r == 0)
                r = apply_after_mount(rootfd, m->destination, &o, err);
        agent_mount_opts_clear(&o);
        if (r < 0)
                return rv_error_wrap(err, "mount `%s`", m->destination);
        return 0;
}

static unsigned long root_propagation(const struct spec_config *c, struct rv_error **err)
{
        const char *name = c->linux_.rootfs_propagation;
        const struct flag_name *f;

        if (name == NULL || name[0] == '\0')
                return MS_SLAVE | MS_REC;
        f = flag_lookup(propagation_flags, ARRAY_SIZE(propagation_flags), name);
        if (f == NULL) {
                rv_error_setx(err, EINVAL, "unknown rootfsPropagation `%s`", name);
                return 0;
        }
        return f->flag;
}

bool agent_dev_is_bind_mounted(const struct spec_config *c)
{
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct spec_mount *m = &c->mounts[i];
                if (m->destination == NULL || strcmp(m->destination, "/dev") != 0)
                        continue;
                if (m->type != NULL && (strcmp(m->type, "bind") == 0 || strcmp(m->type, "rbind") == 0))
                        return true;
                for (char **o = m->options; o != NULL && *o != NULL; o++)
                        if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
                                return true;
        }
        return false;
}

int agent_rootfs_prepare(const struct spec_config *c, struct rv_error **err)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int rootfd = -EBADF, devfd = -EBADF, oldroot = -EBADF;
        const char *root = c->root.path;
        unsigned long prop;

        if (root == NULL || root[0] != '/')
                return rv_error_setx(err, EINVAL, "root.path `%s` is not an absolute guest path",
                                    root ? root : "");
        prop = root_propagation(c, err);
        if (prop == 0)
                return -1;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return rv_error_set(err, errno, "set the propagation of `/`");
        /* pivot_root refuses a new root whose parent mount is shared. */
        if (parent_mount_point(root, &parent, err) < 0)
                return -1;
        if (mount(NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
                return rv_error_set(err, errno, "make `%s` private", parent);
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return rv_error_set(err, errno, "bind the rootfs `%s`", root);
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return rv_error_set(err, errno, "open the rootfs `%s`", root);

        for (size_t i = 0; i < c->n_mounts; i++)
                if (mount_one(rootfd, &c->mounts[i], err) < 0)
                        return -1;

        if (!agent_dev_is_bind_mounted(c)) {
                devfd = agent_path_open_in_root(rootfd, "/dev", true, true, err);
                if (devfd < 0)
                        return -1;
                if (agent_devices_create_default(devfd, err) < 0)
                        return rv_error_wrap(err, "default devices");
                if (agent_devices_create_spec(rootfd, c, err) < 0)
                        return -1;
        }

        oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return rv_error_set(err, errno, "open `/`");
        if (fchdir(rootfd) < 0)
                return rv_error_set(err, errno, "chdir into the rootfs");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return rv_error_set(err, errno, "pivot_root");
        /* The old root is now stacked on the new one; detach it without
         * its unmount propagating anywhere. From the old root's own
         * directory, as runc does: "." in the new root's would make the
         * container's mounts slaves too, losing their propagation. */
        if (fchdir(oldroot) < 0)
                return rv_error_set(err, errno, "chdir into the old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return rv_error_set(err, errno, "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return rv_error_set(err, errno, "unmount the old root");
        if (chdir("/") < 0)
                return rv_error_set(err, errno, "chdir `/`");
        if (c->linux_.rootfs_propagation != NULL && c->linux_.rootfs_propagation[0] != '\0' &&
            mount(NULL, "/", NULL, prop, NULL) < 0)
                return rv_error_set(err, errno, "set the propagation of the container's `/`");
        return 0;
}

static int readonly_path(const char *path, struct rv_error **err)
{
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
                if (errno == ENOENT)
                        return 0;
                return rv_error_set(err, errno, "bind readonly path `%s`", path);
        }
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | statvfs_flags(path), NULL) < 0)
                return rv_error_set(err, errno, "remount readonly path `%s`", path);
        return 0;
}

static int mask_path(const char *path, struct rv_error **err)
{
        if (mount("/dev/null", path, NULL, MS_BIND, NULL) == 0)
                return 0;
        if (errno == ENOENT)
                return 0;
        if (errno == ENOTDIR) {
                if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) == 0)
                        return 0;
        }
        return rv_error_set(err, errno, "mask path `%s`", path);
}

static int sysctl_write(const char *key, const char *value, struct rv_error **err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (strstr(key, "..") != NULL || key[0] == '/' || key[0] == '.')
                return rv_error_setx(err, EINVAL, "invalid sysctl `%s`", key);
        if (asprintf(&path, "/proc/sys/%s", key) < 0)
                return rv_error_set(err, ENOMEM, "sysctl `%s`", key);
        for (char *p = path + strlen("/proc/sys/"); *p != '\0'; p++)
                if (*p == '.')
                        *p = '/';
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "sysctl `%s`", key);
        r = rv_write_all(fd, value, strlen(value));
        if (r < 0)
                return rv_error_set(err, -r, "sysctl `%s`", key);
        return 0;
}

int agent_rootfs_finalize(const struct spec_config *c, struct rv_error **err)
{
        for (size_t i = 0; i < c->linux_.n_sysctl; i++)
                if (sysctl_write(c->linux_.sysctl[i].key, c->linux_.sysctl[i].value, err) < 0)
                        return -1;
        for (char **p = c->linux_.readonly_paths; p != NULL && *p != NULL; p++)
                if (readonly_path(*p, err) < 0)
                        return -1;
        for (char **p = c->linux_.masked_paths; p != NULL && *p != NULL; p++)
                if (mask_path(*p, err) < 0)
                        return -1;
        for (size_t i = 0; i < c->n_mounts; i++)
                if (remount_delayed_ro(&c->mounts[i], err) < 0)
                        return -1;
        if (c->root.readonly &&
            mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | statvfs_flags("/"), NULL) < 0 &&
            mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
                return rv_error_set(err, errno, "remount `/` read-only");
        return 0;
}
