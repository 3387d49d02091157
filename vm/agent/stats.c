/* SPDX-License-Identifier: Apache-2.0 */
/* runc's `events --stats` data object from a cgroup v2 directory and
 * /proc/net/dev, with runc's v2 conversions (libcontainer/cgroups/fs2):
 * microseconds become nanoseconds, "max" is 2^64-1, swap is reported as
 * memory + swap like cgroup v1 did, zero fields runc omits are omitted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "spec/json.h"
#include "vm/agent/cgroup.h"

static char *cg_read(const struct agent_cgroup *cg, const char *file)
{
        char *buf = NULL;

        if (rv_read_file_at(cg->fd, file, 1 << 20, &buf, NULL, NULL) < 0)
                return NULL;
        return buf;
}

/* A single-value file; "max" is UINT64_MAX; missing is 0. */
static uint64_t cg_u64(const struct agent_cgroup *cg, const char *file)
{
        _cleanup_free_ char *s = cg_read(cg, file);

        if (s == NULL)
                return 0;
        if (strncmp(s, "max", 3) == 0)
                return UINT64_MAX;
        return strtoull(s, NULL, 10);
}

static uint64_t key_of(const char *text, const char *key)
{
        size_t klen = strlen(key);

        for (const char *l = text; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
                        return strtoull(l + klen + 1, NULL, 10);
        return 0;
}

static void put(struct json_writer *w, const char *key, uint64_t v)
{
        json_write_key(w, key);
        json_write_uint64(w, v);
}

/* runc's `json:",omitempty"` */
static void put_nz(struct json_writer *w, const char *key, uint64_t v)
{
        if (v != 0)
                put(w, key, v);
}

static void write_cpu(const struct agent_cgroup *cg, struct json_writer *w)
{
        _cleanup_free_ char *st = cg_read(cg, "cpu.stat");
        const char *s = st != NULL ? st : "";

        json_write_key(w, "cpu");
        json_write_object_begin(w);
        json_write_key(w, "usage");
        json_write_object_begin(w);
        put_nz(w, "total", key_of(s, "usage_usec") * 1000);
        put(w, "kernel", key_of(s, "system_usec") * 1000);
        put(w, "user", key_of(s, "user_usec") * 1000);
        json_write_object_end(w);
        json_write_key(w, "throttling");
        json_write_object_begin(w);
        put_nz(w, "periods", key_of(s, "nr_periods"));
        put_nz(w, "throttledPeriods", key_of(s, "nr_throttled"));
        put_nz(w, "throttledTime", key_of(s, "throttled_usec") * 1000);
        json_write_object_end(w);
        json_write_object_end(w);
}

static void write_mem_entry(struct json_writer *w, const char *key, uint64_t limit, uint64_t usage, uint64_t max,
                            uint64_t failcnt)
{
        json_write_key(w, key);
        json_write_object_begin(w);
        put(w, "limit", limit);
        put_nz(w, "usage", usage);
        put_nz(w, "max", max);
        put(w, "failcnt", failcnt);
        json_write_object_end(w);
}

static void write_memory(const struct agent_cgroup *cg, struct json_writer *w)
{
        _cleanup_free_ char *stat = cg_read(cg, "memory.stat"), *events = cg_read(cg, "memory.events");
        _cleanup_free_ char *swap_events = cg_read(cg, "memory.swap.events");
        uint64_t usage = cg_u64(cg, "memory.current"), limit = cg_u64(cg, "memory.max");
        uint64_t swap_usage = cg_u64(cg, "memory.swap.current"), swap_limit = cg_u64(cg, "memory.swap.max");

        json_write_key(w, "memory");
        json_write_object_begin(w);
        put_nz(w, "cache", stat != NULL ? key_of(stat, "file") : 0);
        write_mem_entry(w, "usage", limit, usage, cg_u64(cg, "memory.peak"),
                        events != NULL ? key_of(events, "max") : 0);
        /* v1 reported memory + swap: runc keeps that meaning. */
        if (swap_limit != UINT64_MAX)
                swap_limit = limit == UINT64_MAX ? UINT64_MAX : swap_limit + limit;
        write_mem_entry(w, "swap", swap_limit, swap_usage + usage, 0,
                        swap_events != NULL ? key_of(swap_events, "max") : 0);
        if (stat != NULL) {
                char *save = NULL;

                json_write_key(w, "raw");
                json_write_object_begin(w);
                for (char *l = strtok_r(stat, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
                        char *sp = strchr(l, ' ');
                        if (sp == NULL)
                                continue;
                        *sp = '\0';
                        put(w, l, strtoull(sp + 1, NULL, 10));
                }
                json_write_object_end(w);
        }
        json_write_object_end(w);
}

static void write_pids(const struct agent_cgroup *cg, struct json_writer *w)
{
        json_write_key(w, "pids");
        json_write_object_begin(w);
        put_nz(w, "current", cg_u64(cg, "pids.current"));
        put_nz(w, "limit", cg_u64(cg, "pids.max"));
        json_write_object_end(w);
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static void write_blkio_list(struct json_writer *w, const char *io, const char *name, const char *rkey,
                             const char *wkey)
{
        bool any = false;

        for (const char *l = io; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                unsigned long long major, minor;
                const char *keys[2] = { rkey, wkey }, *ops[2] = { "Read", "Write" };

                if (sscanf(l, "%llu:%llu", &major, &minor) != 2)
                        continue;
                for (int i = 0; i < 2; i++) {
                        char pat[16];
                        const char *p, *end = strchr(l, '\n');
                        snprintf(pat, sizeof(pat), " %s=", keys[i]);
                        p = strstr(l, pat);
                        if (p == NULL || (end != NULL && p > end))
                                continue;
                        if (!any) {
                                json_write_key(w, name);
                                json_write_array_begin(w);
                                any = true;
                        }
                        json_write_object_begin(w);
                        put_nz(w, "major", major);
                        put_nz(w, "minor", minor);
                        json_write_key(w, "op");
                        json_write_string(w, ops[i]);
                        put_nz(w, "value", strtoull(p + strlen(pat), NULL, 10));
                        json_write_object_end(w);
                }
        }
        if (any)
                json_write_array_end(w);
}

static void write_blkio(const struct agent_cgroup *cg, struct json_writer *w)
{
        _cleanup_free_ char *io = cg_read(cg, "io.stat");

        json_write_key(w, "blkio");
        json_write_object_begin(w);
        if (io != NULL) {
                write_blkio_list(w, io, "ioServiceBytesRecursive", "rbytes", "wbytes");
                write_blkio_list(w, io, "ioServicedRecursive", "rios", "wios");
        }
        json_write_object_end(w);
}

/* hugepages-2048kB -> "2MB", as runc names the sizes. */
static void page_size_name(const char *dir, char *buf, size_t len)
{
        unsigned long long kb = strtoull(dir + strlen("hugepages-"), NULL, 10);

        if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
                snprintf(buf, len, "%lluGB", kb / (1024 * 1024));
        else if (kb >= 1024 && kb % 1024 == 0)
                snprintf(buf, len, "%lluMB", kb / 1024);
        else
                snprintf(buf, len, "%lluKB", kb);
}

static void write_hugetlb(const struct agent_cgroup *cg, struct json_writer *w)
{
        _cleanup_closedir_ DIR *d = opendir("/sys/kernel/mm/hugepages");
        struct dirent *de;

        json_write_key(w, "hugetlb");
        json_write_object_begin(w);
        while (d != NULL && (de = readdir(d)) != NULL) {
                char size[32], file[96];
                _cleanup_free_ char *events = NULL;

                if (strncmp(de->d_name, "hugepages-", 10) != 0)
                        continue;
                page_size_name(de->d_name, size, sizeof(size));
                snprintf(file, sizeof(file), "hugetlb.%s.current", size);
                if (faccessat(cg->fd, file, F_OK, 0) < 0)
                        continue;
                json_write_key(w, size);
                json_write_object_begin(w);
                put_nz(w, "usage", cg_u64(cg, file));
                snprintf(file, sizeof(file), "hugetlb.%s.events", size);
                events = cg_read(cg, file);
                put(w, "failcnt", events != NULL ? key_of(events, "max") : 0);
                json_write_object_end(w);
        }
        json_write_object_end(w);
}

/* The interfaces of init's network namespace (the VM's, or a pool VM's
 * spare one), from the container's point of view already (runc swaps the
 * host veth's). */
static void write_network(pid_t init, struct json_writer *w)
{
        _cleanup_free_ char *dev = NULL;
        char *save = NULL, path[64];
        int line = 0;

        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int) init);
        json_write_key(w, "network_interfaces");
        json_write_array_begin(w);
        if (init > 0 && rv_read_file_at(AT_FDCWD, path, 1 << 20, &dev, NULL, NULL) == 0) {
                for (char *l = strtok_r(dev, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
                        unsigned long long v[16];
                        char *colon;

                        if (line++ < 2 || (colon = strchr(l, ':')) == NULL)
                                continue;
                        *colon = '\0';
                        while (*l == ' ')
                                l++;
                        if (strcmp(l, "lo") == 0)
                                continue;
                        if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                                   "%llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
                                   &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16)
                                continue;
                        json_write_object_begin(w);
                        json_write_key(w, "name");
                        json_write_string(w, l);
                        put(w, "rx_bytes", v[0]);
                        put(w, "rx_packets", v[1]);
                        put(w, "rx_errors", v[2]);
                        put(w, "rx_dropped", v[3]);
                        put(w, "tx_bytes", v[8]);
                        put(w, "tx_packets", v[9]);
                        put(w, "tx_errors", v[10]);
                        put(w, "tx_dropped", v[11]);
                        json_write_object_end(w);
                }
        }
        json_write_array_end(w);
}

int agent_cgroup_stats(const struct agent_cgroup *cg, pid_t init, struct json_writer *w, struct rv_error **err)
{
        if (faccessat(cg->fd, "cgroup.procs", F_OK, 0) < 0)
                return rv_error_set(err, errno, "cgroup `%s`", cg->name ? cg->name : "");
        json_write_object_begin(w);
        write_cpu(cg, w);
        write_memory(cg, w);
        write_pids(cg, w);
        write_blkio(cg, w);
        write_hugetlb(cg, w);
        write_network(init, w);
        json_write_object_end(w);
        return 0;
}
