/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "spec/mount.h"
#include "vm/agent/mount-opts.h"
#include "vm/agent/rootpath.h"


static void fd_path(char buf[64], int fd)
{
        snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/* The longest mount point containing path, from mountinfo. */
int agent_mount_parent_point(const char *path, char **ret, struct rv_error **err)
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

unsigned long agent_mount_statvfs_flags(const char *path)
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
                remount |= agent_mount_statvfs_flags(source) & MS_NODEV;
                if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | remount, NULL) < 0 &&
                    (errno != EPERM ||
                     mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | remount | agent_mount_statvfs_flags(source), NULL) < 0))
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
static bool ro_delayed(const struct spec_mount *m, const char *type)
{
        return strcmp(type, "tmpfs") == 0 || spec_mount_destination_is(m, "/dev");
}

int agent_mount_remount_delayed_ro(const struct spec_mount *m, struct rv_error **err)
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

/* A cgroup2 mount made from the VM's own cgroup namespace (a container
 * without one) sets the hierarchy's options: without nsdelegate it would
 * take the agent's away, for every container of the VM. In a container's
 * cgroup namespace the kernel ignores them. */
static int keep_nsdelegate(struct agent_mount_opts *o, struct rv_error **err)
{
        char *data;

        if (o->data != NULL && strstr(o->data, "nsdelegate") != NULL)
                return 0;
        if (asprintf(&data, "nsdelegate%s%s", o->data ? "," : "", o->data ? o->data : "") < 0)
                return rv_error_set(err, ENOMEM, "cgroup2 mount options");
        free(o->data);
        o->data = data;
        return 0;
}

int agent_mount_one(int rootfd, const struct spec_mount *m, struct rv_error **err)
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
        if ((strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) && !(o.flags & MS_BIND) &&
            keep_nsdelegate(&o, err) < 0) {
                agent_mount_opts_clear(&o);
                return -1;
        }
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
