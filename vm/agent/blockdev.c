/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/blockdev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/config.h"
#include "spec/mount.h"
#include "vm/agent/blockdev-slot.h"
#include "vm/agent/mount-opts.h"
#include "vm/channel/disks.h"

/* virtio-blk probes at boot; a module-loaded driver a little later; a
 * disk hot-plugged for a pod member once the guest's pciehp saw its slot
 * (about a second after QEMU's device_add, more under a loaded TCG). */
#define DISK_WAIT_MS 10000
#define MAX_GUEST_DISKS 64
#define STAGING_DIR "/run/runvm/blk"
#define DISKS_FILE "disks"

struct disk {
        unsigned host_major, host_minor;        /* from the serial */
        dev_t guest;
        char serial[DISK_SERIAL_MAX + 1];
};

struct disks {
        struct disk d[MAX_GUEST_DISKS];
        size_t n;
};

static void scan(struct disks *ds)
{
        _cleanup_closedir_ DIR *dir = opendir("/sys/block");
        struct dirent *e;

        ds->n = 0;
        while (dir && (e = readdir(dir)) != NULL && ds->n < MAX_GUEST_DISKS) {
                char path[PATH_MAX], serial[64], dev[32];
                unsigned maj, min, gmaj, gmin;
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
                if (rv_read_line(path, serial, sizeof(serial)) < 0 || !disk_serial_parse(serial, &maj, &min))
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/dev", e->d_name);
                if (rv_read_line(path, dev, sizeof(dev)) < 0 || sscanf(dev, "%u:%u", &gmaj, &gmin) != 2)
                        continue;
                struct disk *d = &ds->d[ds->n++];
                *d = (struct disk) { .host_major = maj, .host_minor = min, .guest = makedev(gmaj, gmin) };
                snprintf(d->serial, sizeof(d->serial), "%.20s", serial);
        }
}

static const struct disk *find_host(const struct disks *ds, unsigned major, unsigned minor)
{
        for (size_t i = 0; i < ds->n; i++)
                if (ds->d[i].host_major == major && ds->d[i].host_minor == minor)
                        return &ds->d[i];
        return NULL;
}

static const struct disk *find_serial(const struct disks *ds, const char *serial)
{
        for (size_t i = 0; i < ds->n; i++)
                if (strcmp(ds->d[i].serial, serial) == 0)
                        return &ds->d[i];
        return NULL;
}

static const char *disk_source(const struct spec_mount *m)
{
        const char *prefix = GUEST_DISKS_DIR "/";
        return m->source && strncmp(m->source, prefix, strlen(prefix)) == 0 ? m->source + strlen(prefix) : NULL;
}

static bool is_block_device(const struct spec_device *d)
{
        return d->type && strcmp(d->type, "b") == 0;
}

/* Every disk the spec names is there (or the deadline passed). */
static bool all_present(const struct spec_config *c, const struct disks *ds)
{
        for (size_t i = 0; i < c->linux_.n_devices; i++) {
                const struct spec_device *d = &c->linux_.devices[i];
                if (is_block_device(d) && !find_host(ds, (unsigned) d->major, (unsigned) d->minor))
                        return false;
        }
        for (size_t i = 0; i < c->n_mounts; i++)
                if (disk_source(&c->mounts[i]) && !find_serial(ds, disk_source(&c->mounts[i])))
                        return false;
        return true;
}

static bool needs_disks(const struct spec_config *c)
{
        for (size_t i = 0; i < c->linux_.n_devices; i++)
                if (is_block_device(&c->linux_.devices[i]))
                        return true;
        for (size_t i = 0; i < c->n_mounts; i++)
                if (disk_source(&c->mounts[i]))
                        return true;
        return false;
}

/* The nodes live on a tmpfs of their own: /run is nodev, and a node
 * there could neither be opened nor mounted from. */
static int make_nodes(const struct disks *ds, struct rv_error **err)
{
        struct stat st, run;

        /* 0755: a container in a user namespace binds nodes from here. */
        if (rv_mkdir_p(GUEST_DISKS_DIR, 0755, err) < 0)
                return -1;
        if (stat(GUEST_DISKS_DIR, &st) < 0 || stat("/run", &run) < 0)
                return rv_error_set(err, errno, "stat `%s`", GUEST_DISKS_DIR);
        if (st.st_dev == run.st_dev &&
            mount("runvm-disks", GUEST_DISKS_DIR, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
                return rv_error_set(err, errno, "mount `%s`", GUEST_DISKS_DIR);
        for (size_t i = 0; i < ds->n; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), GUEST_DISKS_DIR "/%s", ds->d[i].serial);
                if (unlink(path) < 0 && errno != ENOENT)
                        return rv_error_set(err, errno, "remove `%s`", path);
                if (mknod(path, S_IFBLK | 0600, ds->d[i].guest) < 0)
                        return rv_error_set(err, errno, "mknod `%s`", path);
        }
        return 0;
}

static int map_devices(struct spec_config *c, const struct disks *ds, struct rv_error **err)
{
        for (size_t i = 0; i < c->linux_.n_devices; i++) {
                struct spec_device *d = &c->linux_.devices[i];
                if (!is_block_device(d))
                        continue;
                const struct disk *k = find_host(ds, (unsigned) d->major, (unsigned) d->minor);
                if (k == NULL)
                        return rv_error_setx(err, ENODEV, "`linux.devices[%zu]`: `%s` (%lld:%lld): its disk is "
                                             "not in the VM", i, d->path, (long long) d->major, (long long) d->minor);
                d->major = major(k->guest);
                d->minor = minor(k->guest);
        }
        return 0;
}

static bool number_matches(bool has, int64_t want, unsigned got)
{
        return !has || want < 0 || (uint64_t) want == got;
}

static int push_rule(struct spec_device_rule **v, size_t *n, const struct spec_device_rule *r, const char *type,
                     bool has_numbers, unsigned major, unsigned minor)
{
        struct spec_device_rule *nv = realloc(*v, (*n + 1) * sizeof(*nv));
        if (nv == NULL)
                return -1;
        *v = nv;
        struct spec_device_rule *o = &nv[(*n)++];
        *o = (struct spec_device_rule) { .allow = r->allow };
        if (has_numbers) {
                o->has_major = o->has_minor = true;
                o->major = major;
                o->minor = minor;
        } else {
                o->has_major = r->has_major;
                o->major = r->major;
                o->has_minor = r->has_minor;
                o->minor = r->minor;
        }
        o->type = type ? strdup(type) : NULL;
        o->access = r->access ? strdup(r->access) : NULL;
        return (type && !o->type) || (r->access && !o->access) ? -1 : 0;
}

/* A rule naming block numbers meant the host's devices: it becomes one
 * rule per disk it matches, with the disk's guest numbers, in place (the
 * last matching rule still decides). What matches no disk matches
 * nothing in the guest either and goes; a guest number it happens to
 * share is another device. Rules for character devices, and those for
 * every block device, stay as they are. */
static int map_rules(struct spec_resources *res, const struct disks *ds, struct rv_error **err)
{
        struct spec_device_rule *v = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; r == 0 && i < res->n_devices; i++) {
                const struct spec_device_rule *x = &res->devices[i];
                bool any = x->type == NULL || strcmp(x->type, "a") == 0;
                bool block = any || strcmp(x->type, "b") == 0;
                bool numbered = (x->has_major && x->major >= 0) || (x->has_minor && x->minor >= 0);
                if (!block || !numbered) {
                        r = push_rule(&v, &n, x, x->type, false, 0, 0);
                        continue;
                }
                if (any)        /* its character half */
                        r = push_rule(&v, &n, x, "c", false, 0, 0);
                for (size_t k = 0; r == 0 && k < ds->n; k++)
                        if (number_matches(x->has_major, x->major, ds->d[k].host_major) &&
                            number_matches(x->has_minor, x->minor, ds->d[k].host_minor))
                                r = push_rule(&v, &n, x, "b", true, major(ds->d[k].guest), minor(ds->d[k].guest));
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++) {
                        free(v[i].type);
                        free(v[i].access);
                }
                free(v);
                return rv_error_set(err, ENOMEM, "device rules");
        }
        for (size_t i = 0; i < res->n_devices; i++) {
                free(res->devices[i].type);
                free(res->devices[i].access);
        }
        free(res->devices);
        res->devices = v;
        res->n_devices = n;
        return 0;
}

/* Per-mount flags a bind of the staged filesystem keeps; the rest were
 * the filesystem's and were given to it. */
static bool bind_keeps(const char *opt)
{
        static const char *const keep[] = {
                "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "atime",
                "relatime", "norelatime", "strictatime", "nostrictatime", "nodiratime", "diratime",
                "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
        };
        for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
                if (strcmp(keep[i], opt) == 0)
                        return true;
        return false;
}

static int stage_mount(struct spec_mount *m, const char *id, size_t idx, struct rv_error **err)
{
        _cleanup_(agent_mount_opts_clear) struct agent_mount_opts o = { 0 };
        _cleanup_free_ char *staging = NULL;
        _cleanup_strv_ char **opts = NULL;
        size_t n = 0;

        if (asprintf(&staging, STAGING_DIR "/%s/%zu", id, idx) < 0)
                return rv_error_set(err, ENOMEM, "block mount");
        if (agent_mount_opts_parse(m->options, &o, err) < 0)
                return rv_error_wrap(err, "`mounts[%zu]`", idx);
        if (rv_mkdir_p(staging, 0700, err) < 0)
                return -1;
        unsigned long flags = o.flags & ~(unsigned long) (MS_BIND | MS_REC | MS_REMOUNT);
        if (mount(m->source, staging, m->type, flags, o.data) < 0)
                return rv_error_set(err, errno, "`mounts[%zu]`: mount %s `%s` on `%s`", idx,
                                    m->type ? m->type : "(no type)", m->source, m->destination);
        for (char **p = m->options; p && *p; p++)
                n++;
        opts = calloc(n + 2, sizeof(char *));
        if (opts == NULL)
                return rv_error_set(err, ENOMEM, "block mount");
        size_t k = 0;
        if ((opts[k++] = strdup("bind")) == NULL)
                return rv_error_set(err, ENOMEM, "block mount");
        for (char **p = m->options; p && *p; p++)
                if (bind_keeps(*p) && (opts[k++] = strdup(*p)) == NULL)
                        return rv_error_set(err, ENOMEM, "block mount");
        char *type = strdup("bind");
        if (type == NULL)
                return rv_error_set(err, ENOMEM, "block mount");
        free(m->type);
        m->type = type;
        free(m->source);
        m->source = TAKE_PTR(staging);
        rv_strv_free(m->options);
        m->options = TAKE_PTR(opts);
        return 0;
}

/* Which disks the container took, for its release: a file beside its
 * staged mounts, one serial a line. */
static int record_disks(const struct spec_config *c, const struct disks *ds, const char *id, struct rv_error **err)
{
        _cleanup_free_ char *dir = NULL, *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (f == NULL || asprintf(&dir, STAGING_DIR "/%s", id) < 0) {
                if (f)
                        fclose(f);
                return rv_error_set(err, ENOMEM, "disks");
        }
        for (size_t i = 0; i < c->linux_.n_devices; i++) {
                const struct spec_device *d = &c->linux_.devices[i];
                const struct disk *k = NULL;
                for (size_t j = 0; is_block_device(d) && j < ds->n; j++)
                        if (ds->d[j].guest == makedev((unsigned) d->major, (unsigned) d->minor))
                                k = &ds->d[j];
                if (k)
                        fprintf(f, "%s\n", k->serial);
        }
        for (size_t i = 0; i < c->n_mounts; i++)
                if (disk_source(&c->mounts[i]))
                        fprintf(f, "%s\n", disk_source(&c->mounts[i]));
        if (fclose(f) != 0)
                return rv_error_set(err, ENOMEM, "disks");
        if (rv_mkdir_p(dir, 0700, err) < 0)
                return -1;
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rv_error_set(err, errno, "open `%s`", dir);
        return rv_write_file_atomic(dfd, DISKS_FILE, text, len, 0600, err);
}

int agent_blockdev_map_rules(struct spec_resources *r, struct rv_error **err)
{
        struct disks ds;

        scan(&ds);
        return map_rules(r, &ds, err);
}

int agent_blockdev_prepare(struct spec_config *c, const char *id, struct rv_error **err)
{
        struct disks ds;

        if (!needs_disks(c))
                return 0;
        int64_t deadline = rv_now_ms() + DISK_WAIT_MS;
        for (scan(&ds); !all_present(c, &ds) && rv_now_ms() < deadline; scan(&ds))
                usleep(20 * 1000);
        if (make_nodes(&ds, err) < 0 || map_devices(c, &ds, err) < 0 ||
            map_rules(&c->linux_.resources, &ds, err) < 0 || record_disks(c, &ds, id, err) < 0)
                return -1;
        for (size_t i = 0; i < c->n_mounts; i++) {
                struct spec_mount *m = &c->mounts[i];
                const char *serial = disk_source(m);
                if (serial == NULL || spec_mount_is_bind(m))
                        continue;
                if (find_serial(&ds, serial) == NULL)
                        return rv_error_setx(err, ENODEV, "`mounts[%zu]`: disk `%s` is not in the VM", i, serial);
                if (stage_mount(m, id, i, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < c->n_mounts; i++)
                if (disk_source(&c->mounts[i]) && !find_serial(&ds, disk_source(&c->mounts[i])))
                        return rv_error_setx(err, ENODEV, "`mounts[%zu]`: disk `%s` is not in the VM", i,
                                             disk_source(&c->mounts[i]));
        return 0;
}

void agent_blockdev_release(const char *id)
{
        char dir[PATH_MAX], path[PATH_MAX + 300];
        struct dirent *e;

        if (snprintf(dir, sizeof(dir), STAGING_DIR "/%s", id) >= (int) sizeof(dir))
                return;
        _cleanup_closedir_ DIR *d = opendir(dir);
        while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.' || strcmp(e->d_name, DISKS_FILE) == 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                /* A plain unmount writes the filesystem back before its
                 * disk leaves the VM; one still busy is only detached. */
                if (umount2(path, 0) < 0 && errno != EINVAL && errno != ENOENT &&
                    umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
                        rv_log(RV_LOG_WARNING, "unmount `%s`: %s", path, strerror(errno));
                rmdir(path);
        }
        /* Then its hot-plugged disks go (a pod member's: the host lets no
         * two containers share one). */
        snprintf(path, sizeof(path), "%s/" DISKS_FILE, dir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct rv_error *tmp_err = NULL;
        if (rv_read_file_at(AT_FDCWD, path, 4096, &text, &len, &tmp_err) == 0) {
                for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                        agent_blockdev_slot_power_off(line);
                unlink(path);
        }
        rv_error_release(&tmp_err);
        rmdir(dir);
}
