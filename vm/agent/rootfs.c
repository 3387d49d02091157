/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "spec/config.h"
#include "vm/agent/devices.h"
#include "vm/agent/mount-opts.h"
#include "vm/agent/mounts.h"
#include "vm/agent/rootpath.h"
#include "vm/agent/timing.h"
#include "vm/agent/userns.h"


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

int agent_rootfs_prepare(const struct spec_config *c, struct agent_timer *timer, struct rv_error **err)
{
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int rootfd = -EBADF, devfd = -EBADF, oldroot = -EBADF;
        const char *root = c->root.path;
        unsigned long prop;

        if (root == NULL || root[0] != '/')
                return rv_error_setx(err, EINVAL, "root.path `%s` is not an absolute guest path",
                                    root ? root : "");
        prop = agent_rootfs_propagation(c, err);
        if (prop == 0)
                return -1;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return rv_error_set(err, errno, "set the propagation of `/`");
        /* pivot_root refuses a new root whose parent mount is shared, and
         * the rootfs bind must not propagate out. After a recursive slave,
         * private or unbindable `/` (rslave is the default) no mount here
         * is shared: the parent need not be found (reading mountinfo costs
         * ~20 ms under TCG). */
        if (!(prop & MS_REC) || (prop & MS_SHARED)) {
                if (agent_mount_parent_point(root, &parent, err) < 0)
                        return -1;
                if (mount(NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
                        return rv_error_set(err, errno, "make `%s` private", parent);
        }
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return rv_error_set(err, errno, "bind the rootfs `%s`", root);
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return rv_error_set(err, errno, "open the rootfs `%s`", root);

        agent_timer_step(timer, "rootfs bound");
        for (size_t i = 0; i < c->n_mounts; i++)
                if (agent_mount_one(rootfd, &c->mounts[i], err) < 0)
                        return -1;
        agent_timer_step(timer, "mounts");

        if (!agent_dev_is_bind_mounted(c)) {
                devfd = agent_path_open_in_root(rootfd, "/dev", true, true, err);
                if (devfd < 0)
                        return -1;
                if (agent_devices_create_default(devfd, err) < 0)
                        return rv_error_wrap(err, "default devices");
                if (agent_devices_create_spec(rootfd, c, err) < 0)
                        return -1;
                agent_timer_step(timer, "devices");
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
        agent_timer_step(timer, "pivot_root");
        return 0;
}

static int readonly_path(const char *path, struct rv_error **err)
{
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
                if (errno == ENOENT)
                        return 0;
                return rv_error_set(err, errno, "bind readonly path `%s`", path);
        }
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | agent_mount_statvfs_flags(path), NULL) < 0)
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

static bool sysctl_is_net(const char *key)
{
        return strncmp(key, "net.", 4) == 0 || strncmp(key, "net/", 4) == 0;
}

int agent_rootfs_net_sysctls(const struct spec_config *c, struct rv_error **err)
{
        if (!agent_ns_has(c, "user"))
                return 0;
        for (size_t i = 0; i < c->linux_.n_sysctl; i++)
                if (sysctl_is_net(c->linux_.sysctl[i].key) &&
                    sysctl_write(c->linux_.sysctl[i].key, c->linux_.sysctl[i].value, err) < 0)
                        return -1;
        return 0;
}

int agent_rootfs_finalize(const struct spec_config *c, struct agent_timer *timer, struct rv_error **err)
{
        bool userns = agent_ns_has(c, "user");

        for (size_t i = 0; i < c->linux_.n_sysctl; i++)
                if (!(userns && sysctl_is_net(c->linux_.sysctl[i].key)) &&
                    sysctl_write(c->linux_.sysctl[i].key, c->linux_.sysctl[i].value, err) < 0)
                        return -1;
        agent_timer_step(timer, "sysctls");
        for (char **p = c->linux_.readonly_paths; p != NULL && *p != NULL; p++)
                if (readonly_path(*p, err) < 0)
                        return -1;
        agent_timer_step(timer, "readonly paths");
        for (char **p = c->linux_.masked_paths; p != NULL && *p != NULL; p++)
                if (mask_path(*p, err) < 0)
                        return -1;
        agent_timer_step(timer, "masked paths");
        for (size_t i = 0; i < c->n_mounts; i++)
                if (agent_mount_remount_delayed_ro(&c->mounts[i], err) < 0)
                        return -1;
        if (c->root.readonly &&
            mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | agent_mount_statvfs_flags("/"), NULL) < 0 &&
            mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
                return rv_error_set(err, errno, "remount `/` read-only");
        agent_timer_step(timer, "read-only remounts");
        return 0;
}
