/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/cgroup-limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/cgroup-v2.h"
#include "spec/config.h"
#include "spec/json.h"

#define MIB (1024ull * 1024ull)

void host_cgroup_limits_from(const struct spec_resources *r, unsigned vm_memory_mib, unsigned overhead_mib,
                             unsigned vcpus, struct host_cgroup_limits *ret)
{
        const struct spec_cpu *cpu = &r->cpu;

        *ret = (struct host_cgroup_limits) { 0 };
        if (vm_memory_mib > 0 && r->memory.has_limit && r->memory.limit > 0)
                ret->memory_bytes = ((uint64_t) vm_memory_mib + overhead_mib) * MIB;
        if (cpu->has_quota && cpu->quota != 0) {
                ret->has_cpu_quota = true;
                ret->cpu_quota = cpu->quota > 0 ? cpu->quota : -1;
        }
        if (cpu->has_period && cpu->period > 0) {
                ret->has_cpu_quota = true;
                ret->cpu_period = cpu->period;
                if (!(cpu->has_quota && cpu->quota != 0))
                        ret->cpu_quota = 0;     /* period alone: the quota stays */
        }
        if (cpu->has_shares && cpu->shares > 0)
                ret->cpu_shares = cpu->shares;
        if (cpu->cpus && cpu->cpus[0])
                ret->cpus = cpu->cpus;
        if (cpu->mems && cpu->mems[0])
                ret->mems = cpu->mems;
        if (r->has_pids && r->pids_limit != 0) {
                int64_t need = HOST_CGROUP_VM_PIDS + (int64_t) vcpus;
                ret->pids_max = r->pids_limit < 0 ? -1 : r->pids_limit < need ? need : r->pids_limit;
        }
        if (r->block_io.has_weight && r->block_io.weight > 0)
                ret->blkio_weight = r->block_io.weight;
}

static bool has_file(const char *dir, const char *file)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        return access(path, F_OK) == 0;
}

static int write_file(const char *dir, const char *file, const char *value, struct rv_error **err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || rv_write_all(fd, value, strlen(value)) < 0)
                return rv_error_set(err, errno, "host cgroup: write `%s` to `%s`", value, path);
        return 0;
}

static int write_u64(const char *dir, const char *file, uint64_t v, struct rv_error **err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return write_file(dir, file, buf, err);
}

static int write_i64_max(const char *dir, const char *file, int64_t v, const char *unlimited,
                         struct rv_error **err)
{
        char buf[32];
        if (v < 0)
                return write_file(dir, file, unlimited, err);
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return write_file(dir, file, buf, err);
}

/* v1's cfs files: a new period meeting the old quota may be refused (a
 * parent's bandwidth), so an unlimited quota goes first, a limited one
 * after the period (runc's order). */
static int apply_cpu_v1(const char *dir, const struct host_cgroup_limits *l, struct rv_error **err)
{
        if (l->has_cpu_quota) {
                if (l->cpu_quota < 0 && write_file(dir, "cpu.cfs_quota_us", "-1", err) < 0)
                        return -1;
                if (l->cpu_period > 0 && write_u64(dir, "cpu.cfs_period_us", l->cpu_period, err) < 0)
                        return -1;
                if (l->cpu_quota > 0 && write_i64_max(dir, "cpu.cfs_quota_us", l->cpu_quota, "-1", err) < 0)
                        return -1;
        }
        if (l->cpu_shares > 0 && write_u64(dir, "cpu.shares", l->cpu_shares, err) < 0)
                return -1;
        return 0;
}

/* cpu.max is "QUOTA PERIOD"; a period alone keeps the current quota. */
static int apply_cpu_v2(const char *dir, const struct host_cgroup_limits *l, struct rv_error **err)
{
        if (l->has_cpu_quota) {
                char cur[64] = "max", buf[96], path[4096];
                uint64_t period = l->cpu_period;

                snprintf(path, sizeof(path), "%s/cpu.max", dir);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                uint64_t cur_period = 100000;
                if (f != NULL && fscanf(f, "%63s %" SCNu64, cur, &cur_period) < 1)
                        snprintf(cur, sizeof(cur), "max");
                if (period == 0)
                        period = cur_period;
                if (l->cpu_quota > 0)
                        snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, l->cpu_quota, period);
                else if (l->cpu_quota < 0)
                        snprintf(buf, sizeof(buf), "max %" PRIu64, period);
                else
                        snprintf(buf, sizeof(buf), "%s %" PRIu64, cur, period);
                if (write_file(dir, "cpu.max", buf, err) < 0)
                        return -1;
        }
        if (l->cpu_shares > 0 &&
            write_u64(dir, "cpu.weight", spec_cpu_shares_to_weight(l->cpu_shares), err) < 0)
                return -1;
        return 0;
}

enum { F_MEMORY = 1, F_CPU = 2, F_CPUSET = 4, F_PIDS = 8, F_IO = 16 };

/* One hierarchy (or the unified one): what it has files for; *found
 * collects which controllers took a value. */
static int apply_dir(const char *dir, const struct host_cgroup_limits *l, unsigned *found,
                     struct rv_error **err)
{
        bool v2 = has_file(dir, "cgroup.controllers");

        if (l->memory_bytes > 0) {
                const char *file = v2 ? "memory.max" : "memory.limit_in_bytes";
                if (has_file(dir, file)) {
                        *found |= F_MEMORY;
                        if (write_u64(dir, file, l->memory_bytes, err) < 0)
                                return -1;
                }
        }
        if ((l->has_cpu_quota || l->cpu_shares > 0) && has_file(dir, v2 ? "cpu.max" : "cpu.cfs_quota_us")) {
                *found |= F_CPU;
                if ((v2 ? apply_cpu_v2 : apply_cpu_v1)(dir, l, err) < 0)
                        return -1;
        }
        if ((l->cpus || l->mems) && has_file(dir, "cpuset.cpus")) {
                *found |= F_CPUSET;
                if ((l->cpus && write_file(dir, "cpuset.cpus", l->cpus, err) < 0) ||
                    (l->mems && write_file(dir, "cpuset.mems", l->mems, err) < 0))
                        return -1;
        }
        if (l->pids_max != 0 && has_file(dir, "pids.max")) {
                *found |= F_PIDS;
                if (write_i64_max(dir, "pids.max", l->pids_max, "max", err) < 0)
                        return -1;
        }
        if (l->blkio_weight > 0) {
                /* BFQ takes the blkio range as is; v2's io.weight is
                 * 1-10000. Without a weighing scheduler: nothing to write. */
                const char *file = has_file(dir, "blkio.weight") ? "blkio.weight"
                                   : has_file(dir, "blkio.bfq.weight") ? "blkio.bfq.weight"
                                   : has_file(dir, "io.bfq.weight") ? "io.bfq.weight"
                                   : v2 && has_file(dir, "io.weight") ? "io.weight" : NULL;
                uint64_t w = file && strcmp(file, "io.weight") == 0 ? spec_blkio_to_io_weight(l->blkio_weight)
                                                                    : l->blkio_weight;
                if (file != NULL) {
                        *found |= F_IO;
                        if (write_u64(dir, file, w, err) < 0)
                                return -1;
                }
        }
        return 0;
}

int host_cgroup_apply_dir(const char *dir, const struct host_cgroup_limits *l, unsigned *found,
                          struct rv_error **err)
{
        return apply_dir(dir, l, found, err);
}

void host_cgroup_warn_missing(const struct host_cgroup_limits *l, unsigned found)
{
        if (l->memory_bytes > 0 && !(found & F_MEMORY))
                rv_warn("host cgroup: no memory controller: the host does not bound the VM's memory");
        if ((l->has_cpu_quota || l->cpu_shares > 0) && !(found & F_CPU))
                rv_warn("host cgroup: no cpu controller: the host does not bound the VM's CPU time");
        if ((l->cpus || l->mems) && !(found & F_CPUSET))
                rv_warn("host cgroup: no cpuset controller: the vCPU threads are pinned, QEMU's others are not");
        if (l->pids_max != 0 && !(found & F_PIDS))
                rv_warn("host cgroup: no pids controller");
}

int host_cgroup_apply(char *const *dirs, const struct host_cgroup_limits *l, struct rv_error **err)
{
        unsigned found = 0;

        if (dirs == NULL)
                return 0;
        for (size_t i = 0; dirs[i]; i++)
                if (apply_dir(dirs[i], l, &found, err) < 0)
                        return -1;
        host_cgroup_warn_missing(l, found);
        return 0;
}

int host_cgroup_update(char *const *dirs, const char *resources_json, unsigned vcpus, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        struct spec_resources r = { 0 };
        struct host_cgroup_limits l;
        int ret;

        if (dirs == NULL)
                return 0;
        if (json_parse(resources_json, strlen(resources_json), &v, err) < 0 ||
            spec_resources_from_json(v, "resources", &r, err) < 0)
                return rv_error_wrap(err, "update the host cgroup");
        host_cgroup_limits_from(&r, 0, 0, vcpus, &l);
        ret = host_cgroup_apply(dirs, &l, err);
        spec_resources_clear(&r);
        return ret < 0 ? rv_error_wrap(err, "update the host cgroup") : 0;
}
