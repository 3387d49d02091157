/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/cgroup-v2.h"
#include "spec/config.h"
#include "vm/agent/devices-bpf.h"

#define FILE_MAX (1 << 20)              /* cgroup files are small; cgroup.procs may not be */

/* Every controller dir offers, enabled for its children. */
static int enable_in(const char *dir, struct rv_error **err)
{
        _cleanup_free_ char *avail = NULL, *enabled = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        char *save = NULL;

        dfd = open(dir, O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rv_error_set(err, errno, "cgroup v2 at %s", dir);
        if (rv_read_file_at(dfd, "cgroup.controllers", FILE_MAX, &avail, NULL, err) < 0)
                return rv_error_wrap(err, "cgroup v2 at %s", dir);
        if (rv_read_file_at(dfd, "cgroup.subtree_control", FILE_MAX, &enabled, NULL, err) < 0)
                return -1;
        fd = openat(dfd, "cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open %s/cgroup.subtree_control", dir);
        for (char *c = strtok_r(avail, " \n", &save); c != NULL; c = strtok_r(NULL, " \n", &save)) {
                char op[64];
                int n = snprintf(op, sizeof(op), "+%s", c);

                if (n < 0 || (size_t) n >= sizeof(op))
                        continue;
                /* One write per controller: a refused one leaves the rest. */
                if (write(fd, op, (size_t) n) < 0)
                        rv_warn("cgroup: cannot enable the `%s` controller in %s: %s", c, dir, strerror(errno));
        }
        return 0;
}

int agent_cgroup_enable_controllers(struct rv_error **err)
{
        if (enable_in(AGENT_CGROUP_ROOT, err) < 0)
                return -1;
        if (mkdir(AGENT_CGROUP_CONTAINERS, 0755) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "create cgroup " AGENT_CGROUP_CONTAINERS);
        return enable_in(AGENT_CGROUP_CONTAINERS, err);
}

int agent_cgroup_create(const char *name, struct agent_cgroup *ret, struct rv_error **err)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int root = -EBADF;

        ret->name = NULL;
        ret->fd = ret->bpf_fd = -1;
        if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return rv_error_setx(err, EINVAL, "cgroup name `%s` is not a single path component", name);
        root = open(AGENT_CGROUP_CONTAINERS, O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return rv_error_set(err, errno, "open " AGENT_CGROUP_CONTAINERS);
        if (mkdirat(root, name, 0755) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "create cgroup `%s`", name);
        fd = openat(root, name, O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open cgroup `%s`", name);
        copy = strdup(name);
        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "cgroup");
        ret->name = TAKE_PTR(copy);
        ret->fd = TAKE_FD(fd);
        return 0;
}

void agent_cgroup_destroy(struct agent_cgroup *cg)
{
        if (cg->bpf_fd >= 0)
                close(cg->bpf_fd);
        if (cg->fd >= 0)
                close(cg->fd);
        if (cg->name != NULL) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, AGENT_CGROUP_CONTAINERS "/%s", cg->name) >= 0 && rmdir(path) < 0 && errno != ENOENT)
                        rv_debug("cgroup `%s` not removed: %s", cg->name, strerror(errno));
        }
        free(cg->name);
        cg->name = NULL;
        cg->fd = cg->bpf_fd = -1;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The kernel's struct clone_args (linux/sched.h conflicts with glibc's). */
struct clone3_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

pid_t agent_cgroup_clone(const struct agent_cgroup *cg, uint64_t flags, struct rv_error **err)
{
        struct clone3_args args = { .flags = flags, .exit_signal = SIGCHLD };
        long pid;

        if (cg->fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t) cg->fd;
        }
        pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0) {
                if (errno == ENOSYS || errno == E2BIG)
                        return rv_error_setx(err, EOPNOTSUPP, "clone3 into a cgroup: not supported by the guest "
                                             "kernel (5.7 or later needed)");
                return rv_error_set(err, errno, "clone into cgroup `%s`", cg->name ? cg->name : "/");
        }
        return (pid_t) pid;
}

static bool cg_exists(const struct agent_cgroup *cg, const char *file)
{
        return faccessat(cg->fd, file, F_OK, 0) == 0;
}

static int cg_write(const struct agent_cgroup *cg, const char *file, const char *value, struct rv_error **err)
{
        _cleanup_close_ int fd = openat(cg->fd, file, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0) {
                if (errno == ENOENT)
                        return rv_error_setx(err, EOPNOTSUPP, "cgroup `%s`: not supported by the guest kernel "
                                             "(no such file)", file);
                return rv_error_set(err, errno, "open cgroup `%s`", file);
        }
        do
                n = write(fd, value, strlen(value));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return rv_error_set(err, errno, "write `%s` to cgroup `%s`", value, file);
        return 0;
}

static int cg_writef(const struct agent_cgroup *cg, const char *file, struct rv_error **err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int cg_writef(const struct agent_cgroup *cg, const char *file, struct rv_error **err, const char *fmt, ...)
{
        char buf[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(buf))
                return rv_error_setx(err, E2BIG, "cgroup `%s`: value too long", file);
        return cg_write(cg, file, buf, err);
}

/* runc's numToStr: 0 is "leave alone", -1 (or below) is "max". */
static const char *num_to_str(int64_t v, char buf[32])
{
        if (v == 0)
                return NULL;
        if (v < 0)
                return "max";
        snprintf(buf, 32, "%" PRId64, v);
        return buf;
}

/* runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory +
 * swap, v2's memory.swap.max is swap alone. */
static int convert_swap(int64_t swap, int64_t memory, int64_t *ret, struct rv_error **err)
{
        if (memory == -1 && swap == 0) {
                *ret = -1;
                return 0;
        }
        if (swap == -1 || swap == 0) {
                *ret = swap;
                return 0;
        }
        if (memory == 0 || memory == -1)
                return rv_error_setx(err, EINVAL, "unable to set swap limit without memory limit");
        if (memory < 0)
                return rv_error_setx(err, EINVAL, "invalid memory value: %" PRId64, memory);
        if (swap < memory)
                return rv_error_setx(err, EINVAL, "memory+swap limit should be >= memory limit");
        *ret = swap - memory;
        return 0;
}

static int apply_memory(struct agent_cgroup *cg, const struct spec_memory *m, struct rv_error **err)
{
        int64_t memory = m->has_limit ? m->limit : 0, swap = 0;
        char buf[32];
        const char *s;

        if (m->has_limit || m->has_swap) {
                if (convert_swap(m->has_swap ? m->swap : 0, memory, &swap, err) < 0)
                        return -1;
                s = num_to_str(swap, buf);
                if (s == NULL && swap == 0 && m->has_swap && m->swap > 0)
                        s = "0";        /* swap == memory: no swap at all */
                if (s != NULL && cg_write(cg, "memory.swap.max", s, err) < 0) {
                        /* Without swap accounting "max" is what it is anyway. */
                        if (!(strcmp(s, "max") == 0 && !cg_exists(cg, "memory.swap.max")))
                                return -1;
                        rv_error_release(err);
                }
                s = num_to_str(memory, buf);
                if (s != NULL && cg_write(cg, "memory.max", s, err) < 0)
                        return -1;
        }
        if (m->has_reservation && (s = num_to_str(m->reservation, buf)) != NULL &&
            cg_write(cg, "memory.low", s, err) < 0)
                return -1;
        /* kernel, kernelTCP, swappiness and disableOOMKiller have no v2
         * file: runc and crun ignore them on v2, and so does the guest. */
        if (m->has_kernel || m->has_kernel_tcp || m->has_swappiness || m->has_disable_oom_killer)
                rv_debug("cgroup v2: memory kernel/kernelTCP/swappiness/disableOOMKiller ignored");
        return 0;
}

static int apply_cpu(struct agent_cgroup *cg, const struct spec_cpu *c, struct rv_error **err)
{
        if ((c->has_realtime_runtime && c->realtime_runtime != 0) ||
            (c->has_realtime_period && c->realtime_period != 0))
                return rv_error_setx(err, EOPNOTSUPP, "`cpu.realtimeRuntime`/`realtimePeriod`: cgroup v2 "
                                     "has no realtime scheduling limits");
        if (c->has_shares && c->shares != 0 &&
            cg_writef(cg, "cpu.weight", err, "%" PRIu64, spec_cpu_shares_to_weight(c->shares)) < 0)
                return -1;
        if (c->has_idle && cg_writef(cg, "cpu.idle", err, "%" PRId64, c->idle) < 0)
                return -1;
        if ((c->has_quota && c->quota != 0) || (c->has_period && c->period != 0)) {
                char v[64] = "max";
                size_t n;

                if (c->has_quota && c->quota > 0)
                        snprintf(v, sizeof(v), "%" PRId64, c->quota);
                n = strlen(v);
                if (c->has_period && c->period != 0)
                        snprintf(v + n, sizeof(v) - n, " %" PRIu64, c->period);
                if (cg_write(cg, "cpu.max", v, err) < 0)
                        return -1;
        }
        if (c->has_burst && cg_writef(cg, "cpu.max.burst", err, "%" PRIu64, c->burst) < 0)
                return -1;
        if (c->cpus != NULL && c->cpus[0] != '\0' && cg_write(cg, "cpuset.cpus", c->cpus, err) < 0)
                return -1;
        if (c->mems != NULL && c->mems[0] != '\0' && cg_write(cg, "cpuset.mems", c->mems, err) < 0)
                return -1;
        return 0;
}

static int apply_throttle(struct agent_cgroup *cg, const struct spec_throttle_device *t, size_t n,
                          const char *key, struct rv_error **err)
{
        for (size_t i = 0; i < n; i++) {
                int r = t[i].rate == 0
                        ? cg_writef(cg, "io.max", err, "%" PRId64 ":%" PRId64 " %s=max", t[i].major, t[i].minor, key)
                        : cg_writef(cg, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i].major,
                                    t[i].minor, key, t[i].rate);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int apply_io(struct agent_cgroup *cg, const struct spec_block_io *b, struct rv_error **err)
{
        bool bfq = cg_exists(cg, "io.bfq.weight");

        if (b->has_weight && b->weight != 0) {
                int r = bfq ? cg_writef(cg, "io.bfq.weight", err, "%u", b->weight)
                            : cg_writef(cg, "io.weight", err, "%" PRIu64, spec_blkio_to_io_weight(b->weight));
                if (r < 0)
                        return -1;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct spec_weight_device *d = &b->weight_device[i];
                int r;

                if (!d->has_weight)
                        continue;
                r = bfq ? cg_writef(cg, "io.bfq.weight", err, "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                                    d->weight)
                        : cg_writef(cg, "io.weight", err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                                    spec_blkio_to_io_weight(d->weight));
                if (r < 0)
                        return -1;
        }
        if (apply_throttle(cg, b->throttle_read_bps_device, b->n_throttle_read_bps_device, "rbps", err) < 0 ||
            apply_throttle(cg, b->throttle_write_bps_device, b->n_throttle_write_bps_device, "wbps", err) < 0 ||
            apply_throttle(cg, b->throttle_read_iops_device, b->n_throttle_read_iops_device, "riops", err) < 0 ||
            apply_throttle(cg, b->throttle_write_iops_device, b->n_throttle_write_iops_device, "wiops", err) < 0)
                return -1;
        return 0;
}

static bool safe_file_name(const char *s)
{
        return s != NULL && s[0] != '\0' && s[0] != '.' && strchr(s, '/') == NULL;
}

static int apply_hugetlb(struct agent_cgroup *cg, const struct spec_hugepage_limit *h, size_t n,
                         struct rv_error **err)
{
        for (size_t i = 0; i < n; i++) {
                char file[128];

                if (!safe_file_name(h[i].page_size))
                        return rv_error_setx(err, EINVAL, "`hugepageLimits[%zu].pageSize`: invalid", i);
                snprintf(file, sizeof(file), "hugetlb.%s.max", h[i].page_size);
                if (!cg_exists(cg, file))
                        return rv_error_setx(err, EOPNOTSUPP, "hugepage size `%s` is not supported by the guest "
                                             "kernel", h[i].page_size);
                if (cg_writef(cg, file, err, "%" PRIu64, h[i].limit) < 0)
                        return -1;
                /* Reservations too, as runc does where the kernel has them. */
                snprintf(file, sizeof(file), "hugetlb.%s.rsvd.max", h[i].page_size);
                if (cg_exists(cg, file) && cg_writef(cg, file, err, "%" PRIu64, h[i].limit) < 0)
                        return -1;
        }
        return 0;
}

int agent_cgroup_apply(struct agent_cgroup *cg, const struct spec_resources *r, struct agent_bpf_cache *progs,
                       struct rv_error **err)
{
        if (!r->has)
                return 0;
        if (r->has_network || r->n_net_priorities > 0)
                return rv_error_setx(err, EOPNOTSUPP, "`linux.resources.network`: net_cls and net_prio do not "
                                     "exist on cgroup v2");
        if (r->n_rdma_raw > 0)
                return rv_error_setx(err, EOPNOTSUPP, "`linux.resources.rdma`: the guest has no RDMA devices");
        if (r->memory.has && apply_memory(cg, &r->memory, err) < 0)
                return rv_error_wrap(err, "memory");
        if (r->cpu.has && apply_cpu(cg, &r->cpu, err) < 0)
                return rv_error_wrap(err, "cpu");
        if (r->has_pids && r->pids_limit != 0) {
                char buf[32];
                if (cg_write(cg, "pids.max", r->pids_limit > 0 ? num_to_str(r->pids_limit, buf) : "max", err) < 0)
                        return rv_error_wrap(err, "pids");
        }
        if (r->block_io.has && apply_io(cg, &r->block_io, err) < 0)
                return rv_error_wrap(err, "blockIO");
        if (apply_hugetlb(cg, r->hugepage_limits, r->n_hugepage_limits, err) < 0)
                return rv_error_wrap(err, "hugepageLimits");
        for (size_t i = 0; i < r->n_unified; i++) {
                const struct spec_string_pair *u = &r->unified[i];

                if (!safe_file_name(u->key))
                        return rv_error_setx(err, EINVAL, "`unified`: `%s` is not a cgroup file name", u->key);
                if (!cg_exists(cg, u->key))
                        return rv_error_setx(err, ENOENT, "unified resource `%s` can't be set: no such file "
                                             "(controller not available in the guest)", u->key);
                if (cg_write(cg, u->key, u->value != NULL ? u->value : "", err) < 0)
                        return rv_error_wrap(err, "unified");
        }
        if (r->n_devices > 0 && agent_devices_bpf_apply(progs, cg->fd, r->devices, r->n_devices, &cg->bpf_fd,
                                                         err) < 0)
                return -1;
        return 0;
}

int agent_cgroup_set_freeze(const struct agent_cgroup *cg, bool frozen, struct rv_error **err)
{
        return cg_write(cg, "cgroup.freeze", frozen ? "1" : "0", err);
}

/* A flat-keyed file: "key value\n" lines. */
static int find_key(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);

        for (const char *l = text; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (strncmp(l, key, klen) == 0 && l[klen] == ' ') {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(l + klen + 1, &end, 10);
                        if (errno != 0 || end == l + klen + 1)
                                return -EINVAL;
                        *ret = v;
                        return 1;
                }
        }
        return 0;
}

int agent_cgroup_read_key(const struct agent_cgroup *cg, const char *file, const char *key, uint64_t *ret,
                          struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        uint64_t v = 0;

        if (rv_read_file_at(cg->fd, file, FILE_MAX, &text, NULL, err) < 0)
                return -1;
        if (find_key(text, key, &v) < 0)
                return rv_error_setx(err, EINVAL, "cgroup `%s`: bad `%s` line", file, key);
        *ret = v;
        return 0;
}

int agent_cgroup_frozen(const struct agent_cgroup *cg, bool *ret, struct rv_error **err)
{
        uint64_t v;

        if (agent_cgroup_read_key(cg, "cgroup.events", "frozen", &v, err) < 0)
                return -1;
        *ret = v != 0;
        return 0;
}

static int cmp_pid(const void *x, const void *y)
{
        pid_t a = *(const pid_t *) x, b = *(const pid_t *) y;
        return (a > b) - (a < b);
}

int agent_cgroup_procs(const struct agent_cgroup *cg, pid_t **ret, size_t *ret_n, struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        char *save = NULL;

        if (rv_read_file_at(cg->fd, "cgroup.procs", 16 << 20, &text, NULL, err) < 0)
                return -1;
        for (char *t = strtok_r(text, "\n", &save); t != NULL; t = strtok_r(NULL, "\n", &save)) {
                char *end;
                long v = strtol(t, &end, 10);

                if (*end != '\0' || v <= 0)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        pid_t *np = realloc(pids, ncap * sizeof(*np));
                        if (np == NULL)
                                return rv_error_set(err, ENOMEM, "cgroup.procs");
                        pids = np;
                        cap = ncap;
                }
                pids[n++] = (pid_t) v;
        }
        if (n > 0)
                qsort(pids, n, sizeof(*pids), cmp_pid);
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}
