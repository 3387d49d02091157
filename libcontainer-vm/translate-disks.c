/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/translate-disks.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "libcontainer-vm/config.h"
#include "spec/config.h"
#include "spec/mount.h"
#include "vm/channel/disks.h"
#include "vm/vm.h"

static bool rule_is_block(const struct spec_device_rule *r)
{
        return r->type == NULL || strcmp(r->type, "a") == 0 || strcmp(r->type, "b") == 0;
}

/* OCI leaves a wildcard number out; -1 says the same. */
static bool number_matches(bool has, int64_t want, unsigned got)
{
        return !has || want < 0 || (uint64_t) want == got;
}

static bool access_has(const char *access, char c)
{
        return access == NULL || strchr(access, c) != NULL;
}

bool disk_rules_allow_write(const struct spec_device_rule *rules, size_t n, unsigned major, unsigned minor,
                            bool *ret_named)
{
        bool allowed = false, named = false;

        for (size_t i = 0; i < n; i++) {
                const struct spec_device_rule *r = &rules[i];
                if (!rule_is_block(r) || !number_matches(r->has_major, r->major, major) ||
                    !number_matches(r->has_minor, r->minor, minor))
                        continue;
                if (r->has_major && r->major >= 0 && r->has_minor && r->minor >= 0)
                        named = true;
                if (access_has(r->access, 'w'))
                        allowed = r->allow;
        }
        if (ret_named)
                *ret_named = named;
        return allowed;
}

bool disk_rules_allow_all(const struct spec_device_rule *rules, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct spec_device_rule *r = &rules[i];
                if (r->allow && (r->type == NULL || strcmp(r->type, "a") == 0) &&
                    (!r->has_major || r->major < 0) &&
                    (!r->has_minor || r->minor < 0) && access_has(r->access, 'r') &&
                    access_has(r->access, 'w') && access_has(r->access, 'm'))
                        return true;
        }
        return false;
}

/* One disk being planned. */
struct want {
        dev_t dev;
        char *host_path;                /* where it is opened */
        bool in_devices;                /* linux.devices names it */
        bool mount_ro;                  /* a mount of it has `ro` */
};

struct wants {
        struct want *w;
        size_t n;
        dev_t *mount_dev;               /* per mount: its block source, or 0 */
};

static void wants_clear(struct wants *ws)
{
        for (size_t i = 0; i < ws->n; i++)
                free(ws->w[i].host_path);
        free(ws->w);
        free(ws->mount_dev);
}

static struct want *want_for(struct wants *ws, dev_t dev, struct rv_error **err)
{
        for (size_t i = 0; i < ws->n; i++)
                if (ws->w[i].dev == dev)
                        return &ws->w[i];
        if (ws->n == VM_MAX_DISKS) {
                rv_error_setx(err, E2BIG, "more than %d block devices for one VM", VM_MAX_DISKS);
                return NULL;
        }
        struct want *n = realloc(ws->w, (ws->n + 1) * sizeof(*n));
        if (n == NULL) {
                rv_error_set(err, ENOMEM, "block devices");
                return NULL;
        }
        ws->w = n;
        n[ws->n] = (struct want) { .dev = dev };
        return &n[ws->n++];
}

/* The host's node of major:minor, from sysfs (the kernel's name for it,
 * under the caller's /dev). */
static char *host_node(unsigned major, unsigned minor)
{
        char path[64], *text = NULL, *node = NULL;
        size_t len;
        struct rv_error *tmp_err = NULL;

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
        if (rv_read_file_at(AT_FDCWD, path, 64 << 10, &text, &len, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                return NULL;
        }
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                if (strncmp(line, "DEVNAME=", 8) == 0 && strchr(line + 8, '/') == NULL && line[8] != '.' &&
                    asprintf(&node, "/dev/%s", line + 8) < 0)
                        node = NULL;
        free(text);
        return node;
}

/* A mount's source is a block device: its number. */
static bool mount_block_source(const struct spec_mount *m, dev_t *ret)
{
        struct stat st;

        if (m->source == NULL || m->source[0] != '/' || stat(m->source, &st) < 0 || !S_ISBLK(st.st_mode))
                return false;
        *ret = st.st_rdev;
        return true;
}

static int collect(struct spec_config *c, bool host_devices, struct wants *ws, struct rv_error **err)
{
        struct spec_linux *l = &c->linux_;

        for (size_t i = 0; i < l->n_devices; i++) {
                const struct spec_device *d = &l->devices[i];
                if (d->type == NULL || strcmp(d->type, "b") != 0 || !host_devices)
                        continue;
                if (d->major < 0 || d->minor < 0 || d->major > 4095 || d->minor > 0xfffff)
                        return rv_error_setx(err, EINVAL, "`linux.devices[%zu]`: `%s` has no valid "
                                             "major:minor", i, d->path);
                struct want *w = want_for(ws, makedev((unsigned) d->major, (unsigned) d->minor), err);
                if (w == NULL)
                        return -1;
                w->in_devices = true;
                if (w->host_path == NULL &&
                    (w->host_path = host_node((unsigned) d->major, (unsigned) d->minor)) == NULL)
                        return rv_error_setx(err, ENODEV, "`linux.devices[%zu]`: `%s`: the host has no "
                                             "block device %lld:%lld", i, d->path, (long long) d->major,
                                             (long long) d->minor);
        }
        if (c->n_mounts && (ws->mount_dev = calloc(c->n_mounts, sizeof(dev_t))) == NULL)
                return rv_error_set(err, ENOMEM, "block devices");
        for (size_t i = 0; i < c->n_mounts; i++) {
                const struct spec_mount *m = &c->mounts[i];
                dev_t dev;
                if (!mount_block_source(m, &dev))
                        continue;
                ws->mount_dev[i] = dev;
                struct want *w = want_for(ws, dev, err);
                if (w == NULL)
                        return -1;
                if (spec_mount_is_readonly(m))
                        w->mount_ro = true;
                /* The path the spec gave wins over sysfs's name for it. */
                free(w->host_path);
                if ((w->host_path = strdup(m->source)) == NULL)
                        return rv_error_set(err, ENOMEM, "block devices");
        }
        return 0;
}

/* Opened once: read-only first (BLKROGET needs an fd), then, for a
 * writable disk, reopened through the fd (not the path) for writing. */
static int open_disk(const struct want *w, const struct spec_config *c, struct vm_disk *ret,
                     struct rv_error **err)
{
        const struct spec_resources *res = &c->linux_.resources;
        _cleanup_close_ int fd = open(w->host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *id = malloc(DISK_SERIAL_MAX + 1);
        struct stat st;
        int host_ro = 0;
        bool named = false;

        if (id == NULL)
                return rv_error_set(err, ENOMEM, "block devices");
        if (fd < 0 || fstat(fd, &st) < 0)
                return rv_error_set(err, errno, "block device `%s`", w->host_path);
        if (!S_ISBLK(st.st_mode) || st.st_rdev != w->dev)
                return rv_error_setx(err, ENODEV, "block device `%s`: no longer block device %u:%u",
                                     w->host_path, major(w->dev), minor(w->dev));
        if (ioctl(fd, BLKROGET, &host_ro) < 0)
                return rv_error_set(err, errno, "block device `%s`: BLKROGET", w->host_path);
        bool may_write = disk_rules_allow_write(res->devices, res->n_devices, major(w->dev), minor(w->dev),
                                                &named);
        bool rule_ro = (w->in_devices || named) && !may_write;
        bool ro = w->mount_ro || rule_ro || host_ro;
        rv_debug("block device `%s` (%u:%u): %s%s%s%s", w->host_path, major(w->dev), minor(w->dev),
                 ro ? "read-only:" : "writable", w->mount_ro ? " mount ro" : "",
                 rule_ro ? " device rule without w" : "", host_ro ? " host device read-only" : "");
        if (!ro) {
                char self[64];
                snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
                int rw = open(self, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (rw < 0)
                        return rv_error_set(err, errno, "block device `%s`: open for writing", w->host_path);
                close(fd);
                fd = rw;
        }
        /* QEMU's fdset match is on the access mode only; no O_NONBLOCK. */
        if (fcntl(fd, F_SETFL, 0) < 0)
                return rv_error_set(err, errno, "block device `%s`", w->host_path);
        disk_serial(id, DISK_SERIAL_MAX + 1, major(w->dev), minor(w->dev));
        char *source = strdup(w->host_path);
        if (source == NULL)
                return rv_error_set(err, ENOMEM, "block devices");
        *ret = (struct vm_disk) { .id = TAKE_PTR(id), .source = source, .fd = TAKE_FD(fd), .is_block = true,
                                  .readonly = ro };
        return 0;
}

static int add_option(struct spec_mount *m, const char *opt)
{
        size_t n = 0;
        for (char **o = m->options; o && *o; o++) {
                if (strcmp(*o, opt) == 0)
                        return 0;
                n++;
        }
        char **v = realloc(m->options, (n + 2) * sizeof(*v));
        if (v == NULL)
                return -1;
        m->options = v;
        if ((v[n] = strdup(opt)) == NULL)
                return -1;
        v[n + 1] = NULL;
        return 0;
}

/* A read-only disk is mounted read-only, and a journal that needs replay
 * is not replayed (it could not be written): the guest sees the
 * filesystem as the last checkpoint left it. */
static int rewrite_mount(struct spec_mount *m, const struct vm_disk *d, struct rv_error **err)
{
        char *guest = NULL;

        if (asprintf(&guest, GUEST_DISKS_DIR "/%s", d->id) < 0)
                return rv_error_set(err, ENOMEM, "block mounts");
        free(m->source);
        m->source = guest;
        if (!d->readonly || spec_mount_is_bind(m))
                return 0;
        if (add_option(m, "ro") < 0 ||
            (m->type && strcmp(m->type, "xfs") == 0 && add_option(m, "norecovery") < 0) ||
            (m->type && (strcmp(m->type, "ext4") == 0 || strcmp(m->type, "ext3") == 0) &&
             add_option(m, "noload") < 0))
                return rv_error_set(err, ENOMEM, "block mounts");
        return 0;
}

/* privileged_host_devices = false: the host's block devices a
 * --privileged container lists are not the container's. */
static void drop_block_devices(struct spec_linux *l)
{
        size_t k = 0, dropped = 0;

        for (size_t i = 0; i < l->n_devices; i++) {
                struct spec_device *d = &l->devices[i];
                if (d->type && strcmp(d->type, "b") == 0) {
                        free(d->path);
                        free(d->type);
                        dropped++;
                        continue;
                }
                l->devices[k++] = *d;
        }
        l->n_devices = k;
        if (dropped)
                rv_debug("linux.devices: %zu host block devices not given to a VM whose rules allow every "
                         "device (privileged_host_devices = false)", dropped);
}

int translate_disks(struct spec_config *c, const struct runvm_config *cfg, struct vm_disk **ret_disks,
                    size_t *ret_n, struct rv_error **err)
{
        struct vm_disk **disks = ret_disks;
        size_t *n_disks = ret_n;
        struct spec_resources *res = &c->linux_.resources;
        struct wants ws = { 0 };
        bool host_devices = cfg->privileged_host_devices || !disk_rules_allow_all(res->devices, res->n_devices);
        int r = collect(c, host_devices, &ws, err);

        if (r == 0 && !host_devices)
                drop_block_devices(&c->linux_);
        if (r == 0 && ws.n > 0 && (*disks = calloc(ws.n, sizeof(**disks))) == NULL)
                r = rv_error_set(err, ENOMEM, "block devices");
        for (size_t i = 0; r == 0 && i < ws.n; i++) {
                r = open_disk(&ws.w[i], c, &(*disks)[i], err);
                if (r == 0)
                        (*n_disks)++;
        }
        for (size_t i = 0; r == 0 && ws.mount_dev && i < c->n_mounts; i++) {
                for (size_t k = 0; ws.mount_dev[i] && k < *n_disks; k++)
                        if (ws.w[k].dev == ws.mount_dev[i] &&
                            (r = rewrite_mount(&c->mounts[i], &(*disks)[k], err)) < 0)
                                rv_error_wrap(err, "`mounts[%zu]`", i);
        }
        wants_clear(&ws);
        return r;
}
