/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/translate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/mountpoint.h"
#include "libcontainer-vm/pod-size.h"
#include "libcontainer-vm/share-layout.h"
#include "libcontainer-vm/sizing.h"
#include "libcontainer-vm/translate-check.h"
#include "libcontainer-vm/translate-disks.h"
#include "libcontainer-vm/translate-shm.h"
#include "spec/config.h"
#include "spec/mount.h"

#define MIB (1024ll * 1024ll)

/* Shares whose natural place is taken live here ("mounts/3" style). */
#define FALLBACK_DIR ".runvm-mounts"

/* runc: "rbind" recurses, a plain "bind" (option or type) does not. */
static bool mount_is_recursive(const struct spec_mount *m)
{
        for (char **o = m->options; o && *o; o++)
                if (strcmp(*o, "rbind") == 0)
                        return true;
        return false;
}

static char *bundle_path(const char *bundle, const char *path)
{
        char *out = NULL;
        if (path[0] == '/')
                return strdup(path);
        if (asprintf(&out, "%s/%s", bundle, path) < 0)
                return NULL;
        return out;
}

/* Takes source, name and fd (also on failure). */
static int add_share(struct vm_plan *p, char *source, char *name, bool is_dir, bool readonly,
                     bool recursive, int fd, struct rv_error **err)
{
        struct vm_share *n = realloc(p->shares, (p->n_shares + 1) * sizeof(*n));
        if (n == NULL) {
                free(source);
                free(name);
                close(fd);
                return rv_error_set(err, ENOMEM, "plan shares");
        }
        p->shares = n;
        p->shares[p->n_shares++] = (struct vm_share) {
                .source = source, .name = name, .is_dir = is_dir, .readonly = readonly,
                .recursive = recursive, .fd = fd,
        };
        return 0;
}

/* The one resolution of a share's path: later steps use the fd. */
static int open_source(const char *path, struct stat *ret_st)
{
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -1;
        if (fstat(fd, ret_st) < 0) {
                int saved = errno;
                close(fd);
                errno = saved;
                return -1;
        }
        return fd;
}

static int plan_rootfs(struct spec_config *c, const char *bundle, struct vm_plan *p,
                       struct rv_error **err)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (!c->has_root || c->root.path == NULL)
                return rv_error_setx(err, EINVAL, "`root.path`: required");
        path = bundle_path(bundle, c->root.path);
        if (path == NULL)
                return rv_error_set(err, ENOMEM, "rootfs");
        p->rootfs = realpath(path, NULL);
        if (p->rootfs == NULL)
                return rv_error_set(err, errno, "rootfs `%s`", path);
        _cleanup_close_ int fd = open_source(p->rootfs, &st);
        if (fd < 0)
                return rv_error_set(err, errno, "rootfs `%s`", path);
        if (!S_ISDIR(st.st_mode))
                return rv_error_set(err, ENOTDIR, "rootfs `%s`", path);
        char *guest = strdup(GUEST_SHARED_DIR "/rootfs");
        char *src = strdup(p->rootfs), *name = strdup("rootfs");
        if (!guest || !src || !name) {
                free(guest); free(src); free(name);
                return rv_error_set(err, ENOMEM, "rootfs");
        }
        free(c->root.path);
        c->root.path = guest;
        /* root.readonly: the guest gets the rootfs read-only from the host
         * too (a guest kernel cannot write it); mount points are made here. */
        return add_share(p, src, name, true, c->root.readonly, true, TAKE_FD(fd), err);
}

/* Is the share laid out at `inner` (source inner_src) exactly what the
 * share at `outer` (source outer_src) holds there? Then nesting it shows
 * the same files; otherwise it would hide or create host files. */
static bool nests(const char *outer, const char *outer_src, const char *inner, const char *inner_src)
{
        _cleanup_free_ char *o = realpath(outer_src, NULL), *i = realpath(inner_src, NULL), *want = NULL;
        size_t n = strlen(outer);

        if (o == NULL || i == NULL || asprintf(&want, "%s%s", o, inner + n) < 0)
                return false;
        return strcmp(want, i) == 0;
}

static bool path_prefix(const char *a, const char *b)
{
        size_t n = strlen(a);
        return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* The share's name: the source's path in its host filesystem (what runc's
 * mountinfo shows as the mount's root), unless that collides with another
 * share; *reuse: an identical share exists under that name. */
static int share_name(const struct vm_plan *p, const char *src, size_t idx, char **ret, bool *reuse,
                      struct rv_error **err)
{
        _cleanup_free_ char *real = realpath(src, NULL), *info = NULL, *root = NULL;
        struct rv_error *tmp_err = NULL;
        size_t len;

        *reuse = false;
        if (real != NULL && rv_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &info, &len, &tmp_err) == 0 &&
            share_layout_root(info, real, &root, &tmp_err) == 0 && root[1] != '\0' &&
            strncmp(root + 1, FALLBACK_DIR "/", strlen(FALLBACK_DIR) + 1) != 0) {
                const char *name = root + 1;
                bool ok = true;
                for (size_t k = 0; ok && k < p->n_shares; k++) {
                        const struct vm_share *sh = &p->shares[k];
                        if (strcmp(sh->name, name) == 0)
                                ok = *reuse = nests(sh->name, sh->source, name, src);
                        else if (path_prefix(sh->name, name))
                                ok = nests(sh->name, sh->source, name, src);
                        else if (path_prefix(name, sh->name))
                                ok = nests(name, src, sh->name, sh->source);
                }
                if (ok) {
                        *ret = strdup(name);
                        return *ret != NULL ? 0 : rv_error_set(err, ENOMEM, "mounts");
                }
                *reuse = false;
        }
        rv_error_release(&tmp_err);
        if (asprintf(ret, FALLBACK_DIR "/%zu", idx) < 0)
                return rv_error_set(err, ENOMEM, "mounts");
        return 0;
}

static int share_depth(const char *name)
{
        int n = 0;
        for (; *name != '\0'; name++)
                n += *name == '/';
        return n;
}

static int share_depth_cmp(const void *a, const void *b)
{
        const struct vm_share *x = a, *y = b;
        int dx = share_depth(x->name), dy = share_depth(y->name);
        return dx != dy ? (dx < dy ? -1 : 1) : strcmp(x->name, y->name);
}

static int plan_mounts(struct spec_config *c, const char *bundle, struct vm_plan *p,
                       struct rv_error **err)
{
        for (size_t i = 0; i < c->n_mounts; i++) {
                struct spec_mount *m = &c->mounts[i];
                _cleanup_free_ char *src = NULL;
                struct stat st;
                char *guest = NULL, *name = NULL;

                if (!spec_mount_is_bind(m))
                        continue;
                if (m->source == NULL)
                        return rv_error_setx(err, EINVAL, "`mounts[%zu].source`: required for a bind mount", i);
                src = bundle_path(bundle, m->source);
                if (src == NULL)
                        return rv_error_set(err, ENOMEM, "mounts");
                _cleanup_close_ int fd = open_source(src, &st);
                if (fd < 0)
                        return rv_error_set(err, errno, "`mounts[%zu]`: bind source `%s`", i, src);
                if (S_ISBLK(st.st_mode))
                        continue;       /* a disk (translate-disks.c) */
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return rv_error_setx(err, ENOTSUP, "`mounts[%zu]`: bind source `%s` is a %s: only "
                                            "files and directories can be shared into a VM", i, src,
                                            S_ISSOCK(st.st_mode) ? "socket" : S_ISCHR(st.st_mode) ? "character device"
                                            : S_ISFIFO(st.st_mode) ? "fifo" : "special file");
                bool reuse = false;
                if (share_name(p, src, i, &name, &reuse, err) < 0)
                        return -1;
                /* bind and rbind of one source export different trees: a
                 * share of its own for the second. */
                for (size_t k = 0; reuse && k < p->n_shares; k++) {
                        if (strcmp(p->shares[k].name, name) != 0 ||
                            p->shares[k].recursive == mount_is_recursive(m))
                                continue;
                        free(name);
                        name = NULL;
                        reuse = false;
                        if (asprintf(&name, FALLBACK_DIR "/%zu", i) < 0)
                                return rv_error_set(err, ENOMEM, "mounts");
                }
                if (asprintf(&guest, GUEST_SHARED_DIR "/%s", name) < 0) {
                        free(name);
                        return rv_error_set(err, ENOMEM, "mounts");
                }
                free(m->source);
                m->source = guest;
                if (reuse) {
                        /* One share for both: read-only only if both are
                         * (the guest makes each mount read-only itself);
                         * recursive if either is. */
                        for (size_t k = 0; k < p->n_shares; k++) {
                                if (strcmp(p->shares[k].name, name) != 0)
                                        continue;
                                if (!spec_mount_is_readonly(m))
                                        p->shares[k].readonly = false;
                                if (mount_is_recursive(m))
                                        p->shares[k].recursive = true;
                        }
                        free(name);
                        continue;
                }
                if (add_share(p, TAKE_PTR(src), name, S_ISDIR(st.st_mode), spec_mount_is_readonly(m),
                              mount_is_recursive(m), TAKE_FD(fd), err) < 0)
                        return -1;
        }
        /* Parents before what is laid out inside them (virtiofsd mounts
         * the shares in order). */
        qsort(p->shares, p->n_shares, sizeof(*p->shares), share_depth_cmp);
        return 0;
}

size_t vm_plan_rootfs_index(const struct vm_plan *p)
{
        for (size_t i = 0; i < p->n_shares; i++)
                if (strcmp(p->shares[i].name, "rootfs") == 0)
                        return i;
        return 0;
}

int vm_plan_share_of(const struct vm_plan *p, const char *guest_source)
{
        const char *prefix = GUEST_SHARED_DIR "/";

        if (guest_source == NULL || strncmp(guest_source, prefix, strlen(prefix)) != 0)
                return -1;
        for (size_t i = 0; i < p->n_shares; i++)
                if (strcmp(p->shares[i].name, guest_source + strlen(prefix)) == 0)
                        return (int) i;
        return -1;
}

struct mountpoint_data {
        const struct vm_plan *plan;
        const struct spec_config *spec;
};

/* A bind mount's mount point is what its share is; anything else is a dir. */
static bool mountpoint_is_dir(size_t i, const void *data)
{
        const struct mountpoint_data *d = data;
        int k = vm_plan_share_of(d->plan, d->spec->mounts[i].source);

        return k < 0 || d->plan->shares[k].is_dir;
}

/* Whether path names pid 1's network namespace, the machine's own:
 * mirroring it would redirect every frame its interfaces receive (the
 * host's uplink among them) into the VM. A namespace the caller happens
 * to be in is not refused: an engine may run the runtime in the
 * container's. Unreadable (a user namespace's view of pid 1) is not the
 * host's, as far as this can tell. */
static bool is_host_netns(const char *path)
{
        struct stat ns, host;

        return stat(path, &ns) == 0 && stat("/proc/1/ns/net", &host) == 0 && ns.st_dev == host.st_dev &&
               ns.st_ino == host.st_ino;
}

static int plan_namespaces(struct spec_config *c, struct vm_plan *p, struct rv_error **err)
{
        const struct spec_namespace *net = spec_config_namespace(c, "network");

        if (net == NULL)
                return rv_error_setx(err, ENOTSUP, "`linux.namespaces`: the host network namespace cannot "
                                    "be shared with a VM; give the container a network namespace");
        /* The guest has its own kernel: sharing the host's pid, ipc or uts
         * namespace cannot be honoured, and silently giving the guest's
         * view would mislead whoever asked for the host's. */
        static const char *const own[] = { "pid", "ipc", "uts" };
        for (size_t i = 0; i < ARRAY_SIZE(own); i++)
                if (spec_config_namespace(c, own[i]) == NULL)
                        return rv_error_setx(err, ENOTSUP, "`linux.namespaces`: the host %s namespace "
                                            "cannot be shared with a VM; give the container a %s namespace",
                                            own[i], own[i]);
        if (net->path && *net->path && is_host_netns(net->path))
                return rv_error_setx(err, ENOTSUP, "`linux.namespaces`: network namespace `%s` is the host's (pid "
                                    "1's): the host network namespace cannot be shared with a VM; give the "
                                    "container a network namespace", net->path);
        if (net->path && *net->path) {
                p->netns_path = strdup(net->path);
                if (p->netns_path == NULL)
                        return rv_error_set(err, ENOMEM, "network namespace");
        }
        for (size_t i = 0; i < c->linux_.n_namespaces; i++) {
                struct spec_namespace *ns = &c->linux_.namespaces[i];
                /* The path is the host's business: the monitor joins it and
                 * mirrors it; in the guest the VM is the namespace. */
                if (strcmp(ns->type, "network") == 0 && ns->path) {
                        free(ns->path);
                        ns->path = NULL;
                }
                if (strcmp(ns->type, "network") != 0 && ns->path && *ns->path)
                        return rv_error_setx(err, ENOTSUP, "`linux.namespaces[%zu]`: joining a %s namespace "
                                            "by path is not supported: each container has its own VM",
                                            i, ns->type);
        }
        return 0;
}

/* Memory the host can back: a guest bigger than the host's RAM cannot
 * even boot (its page tables alone need RAM for all of it). */
static uint64_t host_memory_mib(void)
{
        struct sysinfo si;
        if (sysinfo(&si) < 0)
                return UINT64_MAX;
        return (uint64_t) si.totalram * si.mem_unit / (uint64_t) MIB;
}

/* cpu.cpus is written in the guest as given (sizing.c gives the VM a vCPU
 * for the highest CPU it names); the vCPU threads run on those host CPUs. */
static int plan_sizes(const struct spec_config *c, const struct runvm_config *cfg, struct vm_plan *p,
                      struct rv_error **err)
{
        const char *cpus = c->linux_.resources.cpu.cpus;
        /* A pod's sandbox: the VM is the pod's (pod-size.h); read only. */
        struct spec_config sized = *c;
        struct pod_total pod;

        if (pod_total_from(c, &pod, err) < 0)
                return -1;
        pod_total_apply(&pod, &sized);
        if (vm_size_plan(&sized, cfg, host_memory_mib(), &p->memory_mib, &p->vcpus, err) < 0)
                return -1;
        p->vcpus_follow_accel = vm_size_vcpus_follow_accel(c, cfg);
        if (cpus == NULL || cpus[0] == '\0')
                return 0;
        p->cpus = strdup(cpus);
        return p->cpus != NULL ? 0 : rv_error_set(err, ENOMEM, "cpuset");
}

int translate_spec(struct spec_config *c, const char *bundle, const struct runvm_config *cfg,
                   struct vm_plan *ret, struct rv_error **err)
{
        struct vm_plan p = { 0 };

        /* Character devices and fifos are made in the guest from the
         * guest's drivers; block devices are the host's, as disks. */
        if (translate_check_host(c, bundle, err) < 0 || plan_namespaces(c, &p, err) < 0 ||
            plan_sizes(c, cfg, &p, err) < 0 || plan_rootfs(c, bundle, &p, err) < 0 ||
            translate_shm(c, err) < 0 || plan_mounts(c, bundle, &p, err) < 0 ||
            translate_disks(c, cfg, &p.disks, &p.n_disks, err) < 0 ||
            translate_check_guest_spec(c, err) < 0 ||
            (c->root.readonly &&
             mountpoints_prepare(p.shares[vm_plan_rootfs_index(&p)].fd, c, mountpoint_is_dir,
                                 &(struct mountpoint_data) { &p, c }, err) < 0)) {
                vm_plan_clear(&p);
                return -1;
        }
        *ret = p;
        return 0;
}

void vm_plan_clear(struct vm_plan *p)
{
        for (size_t i = 0; i < p->n_shares; i++) {
                free((char *) p->shares[i].source);
                free((char *) p->shares[i].name);
                if (p->shares[i].fd >= 0)
                        close(p->shares[i].fd);
        }
        free(p->shares);
        for (size_t i = 0; i < p->n_disks; i++) {
                free((char *) p->disks[i].id);
                free((char *) p->disks[i].source);
                if (p->disks[i].fd >= 0)
                        close(p->disks[i].fd);
        }
        free(p->disks);
        free(p->rootfs);
        free(p->netns_path);
        free(p->ipcns_path);
        free(p->utsns_path);
        free(p->cpus);
        memset(p, 0, sizeof(*p));
}
