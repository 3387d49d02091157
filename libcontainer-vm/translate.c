/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/translate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "libcontainer-vm/base/cleanup.h"
#include "libcontainer-vm/base/error.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/mountpoint.h"
#include "libcontainer-vm/translate-check.h"
#include "spec/config.h"

#define MIB (1024ll * 1024ll)
#define MIN_VM_MEMORY_MIB 128u

static bool mount_is_bind(const struct spec_mount *m)
{
        if (m->type && strcmp(m->type, "bind") == 0)
                return true;
        for (char **o = m->options; o && *o; o++)
                if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
                        return true;
        return false;
}

static bool mount_is_readonly(const struct spec_mount *m)
{
        bool ro = false;
        for (char **o = m->options; o && *o; o++) {
                if (strcmp(*o, "ro") == 0 || strcmp(*o, "rro") == 0)
                        ro = true;
                else if (strcmp(*o, "rw") == 0)
                        ro = false;
        }
        return ro;
}

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

static int plan_mounts(struct spec_config *c, const char *bundle, struct vm_plan *p,
                       struct rv_error **err)
{
        for (size_t i = 0; i < c->n_mounts; i++) {
                struct spec_mount *m = &c->mounts[i];
                _cleanup_free_ char *src = NULL;
                struct stat st;
                char *guest = NULL, *name = NULL;

                if (!mount_is_bind(m))
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
                        return rv_error_setx(err, ENOTSUP, "`mounts[%zu]`: bind mount of block device `%s` "
                                            "is not supported yet", i, src);
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return rv_error_setx(err, ENOTSUP, "`mounts[%zu]`: bind source `%s` is a %s: only "
                                            "files and directories can be shared into a VM", i, src,
                                            S_ISSOCK(st.st_mode) ? "socket" : S_ISCHR(st.st_mode) ? "character device"
                                            : S_ISFIFO(st.st_mode) ? "fifo" : "special file");
                if (asprintf(&name, "mounts/%zu", i) < 0 ||
                    asprintf(&guest, GUEST_SHARED_DIR "/mounts/%zu", i) < 0) {
                        free(name);
                        return rv_error_set(err, ENOMEM, "mounts");
                }
                free(m->source);
                m->source = guest;
                if (add_share(p, TAKE_PTR(src), name, S_ISDIR(st.st_mode), mount_is_readonly(m),
                              mount_is_recursive(m), TAKE_FD(fd), err) < 0)
                        return -1;
        }
        return 0;
}

static bool mountpoint_is_dir(size_t i, const void *data)
{
        const struct vm_plan *p = data;
        char name[32];

        snprintf(name, sizeof(name), "mounts/%zu", i);
        for (size_t s = 0; s < p->n_shares; s++)
                if (strcmp(p->shares[s].name, name) == 0)
                        return p->shares[s].is_dir;
        return true;
}

static int plan_namespaces(const struct spec_config *c, struct vm_plan *p, struct rv_error **err)
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
        if (net->path && *net->path) {
                p->netns_path = strdup(net->path);
                if (p->netns_path == NULL)
                        return rv_error_set(err, ENOMEM, "network namespace");
        }
        for (size_t i = 0; i < c->linux_.n_namespaces; i++) {
                const struct spec_namespace *ns = &c->linux_.namespaces[i];
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

static int plan_sizes(const struct spec_config *c, const struct runvm_config *cfg, struct vm_plan *p,
                      struct rv_error **err)
{
        const struct spec_memory *mem = &c->linux_.resources.memory;
        const struct spec_cpu *cpu = &c->linux_.resources.cpu;
        uint64_t host = host_memory_mib();

        p->memory_mib = cfg->default_memory_mib;
        if (mem->has_limit && mem->limit > 0) {
                /* In MiB, rounded up, without overflow near INT64_MAX. */
                uint64_t mib = (uint64_t) mem->limit / MIB + ((uint64_t) mem->limit % MIB != 0);
                mib += cfg->base_memory_mib;
                if (mib > host || mib > UINT32_MAX)
                        return rv_error_setx(err, ENOMEM, "`linux.resources.memory.limit`: %lld bytes needs a "
                                             "%llu MiB VM; the host has only %llu MiB", (long long) mem->limit,
                                             (unsigned long long) mib, (unsigned long long) host);
                p->memory_mib = (unsigned) mib;
        }
        if (p->memory_mib < MIN_VM_MEMORY_MIB)
                p->memory_mib = MIN_VM_MEMORY_MIB;
        /* More vCPUs than max_vcpus (the host's CPUs) cannot run a quota
         * faster: clamped, never wrapped. */
        unsigned max = cfg->max_vcpus > 0 ? cfg->max_vcpus : 1;
        p->vcpus = 1;
        if (cpu->has_quota && cpu->quota > 0) {
                uint64_t period = cpu->has_period && cpu->period > 0 ? cpu->period : 100000;
                uint64_t n = (uint64_t) cpu->quota / period + ((uint64_t) cpu->quota % period != 0);
                p->vcpus = n > max ? max : n < 1 ? 1 : (unsigned) n;
        }
        if (p->vcpus > max)
                p->vcpus = max;
        return 0;
}

int translate_spec(struct spec_config *c, const char *bundle, const struct runvm_config *cfg,
                   struct vm_plan *ret, struct rv_error **err)
{
        struct vm_plan p = { 0 };

        /* Character devices and fifos are made in the guest from the
         * guest's drivers; a block device would need its host disk. */
        for (size_t i = 0; i < c->linux_.n_devices; i++) {
                if (strcmp(c->linux_.devices[i].type, "b") == 0) {
                        vm_plan_clear(&p);
                        return rv_error_setx(err, ENOTSUP, "`linux.devices[%zu]`: block device `%s` cannot "
                                             "be passed to the VM yet", i, c->linux_.devices[i].path);
                }
        }
        if (translate_check_host(c, bundle, err) < 0 || plan_namespaces(c, &p, err) < 0 ||
            plan_sizes(c, cfg, &p, err) < 0 || plan_rootfs(c, bundle, &p, err) < 0 ||
            plan_mounts(c, bundle, &p, err) < 0 || translate_check_guest_spec(c, err) < 0 ||
            (c->root.readonly &&
             mountpoints_prepare(p.shares[0].fd, c, mountpoint_is_dir, &p, err) < 0)) {
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
        free(p->rootfs);
        free(p->netns_path);
        memset(p, 0, sizeof(*p));
}
