/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/ram.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/config.h"
#include "spec/mount.h"
#include "vm/agent/cgroup.h"

#define FIRMWARE_MAP "/sys/firmware/memmap"
#define MEMORY_SYSFS "/sys/devices/system/memory"
/* The parent's memory.high lets the containers take what is free down to
 * this much, which covers what the kernel allocates outside their cgroups
 * and a fast allocator's overshoot before the kernel throttles it; blocks
 * are added while less than twice this is free (a guest booted with
 * 256 MiB has more than that free when its first container starts: no
 * block is added on the way). */
#define FREE_LOW ((uint64_t) 64 << 20)

static int read_u64(const char *path, int base, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        char *end;

        if (rv_read_file_at(AT_FDCWD, path, 64, &text, NULL, NULL) < 0)
                return -1;
        errno = 0;
        *ret = strtoull(text, &end, base);
        return errno || end == text ? -1 : 0;
}

static bool block_present(const struct agent_ram *r, uint64_t addr)
{
        char path[128];
        snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%" PRIu64, addr / r->block_bytes);
        return access(path, F_OK) == 0;
}

static int cmp_u64(const void *x, const void *y)
{
        uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;
        return a < b ? -1 : a > b;
}

static int push_block(struct agent_ram *r, size_t *cap, uint64_t addr, struct rv_error **err)
{
        if (r->n_blocks == *cap) {
                size_t n = *cap ? 2 * *cap : 16;
                uint64_t *v = realloc(r->blocks, n * sizeof(*v));
                if (v == NULL)
                        return rv_error_set(err, ENOMEM, "RAM blocks");
                r->blocks = v;
                *cap = n;
        }
        r->blocks[r->n_blocks++] = addr;
        return 0;
}

/* The whole blocks of one "System RAM" entry of the firmware map that the
 * kernel has no memory block device for. */
static int range_blocks(struct agent_ram *r, size_t *cap, const char *entry, struct rv_error **err)
{
        _cleanup_free_ char *type = NULL;
        char path[sizeof(FIRMWARE_MAP) + 256 + 8];
        uint64_t start, end;

        snprintf(path, sizeof(path), FIRMWARE_MAP "/%s/type", entry);
        if (rv_read_file_at(AT_FDCWD, path, 64, &type, NULL, NULL) < 0 || strcmp(type, "System RAM\n") != 0)
                return 0;
        snprintf(path, sizeof(path), FIRMWARE_MAP "/%s/start", entry);
        if (read_u64(path, 16, &start) < 0)
                return 0;
        snprintf(path, sizeof(path), FIRMWARE_MAP "/%s/end", entry);
        if (read_u64(path, 16, &end) < 0 || end == UINT64_MAX)
                return 0;
        /* end is inclusive; a block partly outside the entry is not RAM. */
        uint64_t first = (start + r->block_bytes - 1) / r->block_bytes * r->block_bytes;
        uint64_t last = (end + 1) / r->block_bytes * r->block_bytes;
        for (uint64_t a = first; a < last; a += r->block_bytes)
                if (!block_present(r, a) && push_block(r, cap, a, err) < 0)
                        return -1;
        return 0;
}

uint64_t agent_ram_pending_bytes(const struct agent_ram *r)
{
        return (uint64_t) (r->n_blocks - r->next) * r->block_bytes;
}

/* The kernel sizes these at boot by the RAM it has (threads-max: 8 kernel
 * stacks' worth of RAM per thread; the user namespace counts and PID 1's
 * RLIMIT_NPROC and RLIMIT_SIGPENDING: half of threads-max; file-max: a
 * tenth of the KiB; the socket memory bounds: fractions of it): scaled to
 * the whole VM, they are what a kernel booted with all of it has. */
static const char *const scaled_sysctls[] = {
        "kernel/threads-max", "fs/file-max", "net/ipv4/tcp_mem", "net/ipv4/udp_mem",
        "user/max_user_namespaces", "user/max_pid_namespaces", "user/max_uts_namespaces",
        "user/max_ipc_namespaces", "user/max_net_namespaces", "user/max_mnt_namespaces",
        "user/max_cgroup_namespaces", "user/max_time_namespaces",
};

static void scale_sysctl(const char *name, uint64_t num, uint64_t den)
{
        _cleanup_free_ char *text = NULL;
        char path[128], out[256];
        size_t n = 0;
        char *p, *end;

        snprintf(path, sizeof(path), "/proc/sys/%s", name);
        if (rv_read_file_at(AT_FDCWD, path, 256, &text, NULL, NULL) < 0)
                return;
        for (p = text;; p = end) {
                errno = 0;
                unsigned long long v = strtoull(p, &end, 10);
                if (end == p || errno)
                        break;
                n += (size_t) snprintf(out + n, sizeof(out) - n, "%s%llu", n ? " " : "",
                                       (unsigned long long) ((unsigned __int128) v * num / den));
                if (n >= sizeof(out))
                        return;
        }
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (n == 0 || fd < 0 || write(fd, out, n) < 0)
                rv_debug("RAM: %s not scaled: %s", name, strerror(errno));
}

static void scale_limits(const struct agent_ram *r)
{
        struct sysinfo si;
        uint64_t now, whole;
        struct rlimit rl;
        static const int rlimits[] = { RLIMIT_NPROC, RLIMIT_SIGPENDING };

        if (sysinfo(&si) < 0 || si.totalram == 0)
                return;
        now = (uint64_t) si.totalram * si.mem_unit;
        whole = now + agent_ram_pending_bytes(r);
        for (size_t i = 0; i < sizeof(scaled_sysctls) / sizeof(scaled_sysctls[0]); i++)
                scale_sysctl(scaled_sysctls[i], whole, now);
        for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++)
                if (getrlimit(rlimits[i], &rl) == 0 && rl.rlim_max != RLIM_INFINITY) {
                        rl.rlim_cur = (rlim_t) ((unsigned __int128) rl.rlim_cur * whole / now);
                        rl.rlim_max = (rlim_t) ((unsigned __int128) rl.rlim_max * whole / now);
                        if (setrlimit(rlimits[i], &rl) < 0)
                                rv_debug("RAM: rlimit %d not scaled: %s", rlimits[i], strerror(errno));
                }
}

/* Where the boot loader put the initramfs: x86 boot_params, the setup
 * header's ramdisk_image (0x218) and ramdisk_size (0x21c), their upper
 * halves at 0x0c0 and 0x0c4 (PVH boot fills them from the start info). */
static int initramfs_range(uint64_t *addr, uint64_t *bytes)
{
        _cleanup_close_ int fd = open("/sys/kernel/boot_params/data", O_RDONLY | O_CLOEXEC);
        unsigned char bp[0x220];
        uint32_t lo_addr, lo_size, hi_addr, hi_size;

        if (fd < 0 || rv_read_all(fd, bp, sizeof(bp)) != (ssize_t) sizeof(bp))
                return -1;
        memcpy(&lo_addr, bp + 0x218, 4);
        memcpy(&lo_size, bp + 0x21c, 4);
        memcpy(&hi_addr, bp + 0x0c0, 4);
        memcpy(&hi_size, bp + 0x0c4, 4);
        *addr = (uint64_t) hi_addr << 32 | lo_addr;
        *bytes = (uint64_t) hi_size << 32 | lo_size;
        return *bytes > 0 ? 0 : -1;
}

static bool pending(const struct agent_ram *r, uint64_t start, uint64_t end)
{
        for (uint64_t a = start - start % r->block_bytes; a < end; a += r->block_bytes)
                if (bsearch(&a, r->blocks, r->n_blocks, sizeof(*r->blocks), cmp_u64) == NULL)
                        return false;
        return true;
}

/* Only where no page of it is the kernel's: the host's copy of RAM the
 * kernel has may be anything the kernel put there since. */
static void find_moved_initrd(struct agent_ram *r)
{
        uint64_t addr, bytes;

        /* Physical addresses have at most 52 bits on x86-64. */
        if (initramfs_range(&addr, &bytes) < 0 || addr == 0 || addr >> 52 != 0 || bytes >> 52 != 0)
                return;
        if (pending(r, addr, addr + bytes))
                r->initrd_moved_from = addr;
}

#define REPORTING_ORDER_PARAM "/sys/module/page_reporting/parameters/page_reporting_order"

void agent_ram_report_order(int cmdline_order)
{
        int order = cmdline_order >= 0 ? cmdline_order : AGENT_RAM_REPORTING_ORDER;
        _cleanup_close_ int fd = open(REPORTING_ORDER_PARAM, O_WRONLY | O_CLOEXEC);
        char text[16];
        int n = snprintf(text, sizeof(text), "%d", order);

        if (fd < 0 && errno == ENOENT)
                return;         /* no free page reporting in this kernel */
        if (fd < 0 || write(fd, text, (size_t) n) < 0)
                rv_warn("RAM: free page reporting order %d not set: %s", order, strerror(errno));
}

int agent_ram_init(struct agent_ram *r, struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *e;
        size_t cap = 0;

        *r = (struct agent_ram) AGENT_RAM_INIT;
        if (read_u64(MEMORY_SYSFS "/block_size_bytes", 16, &r->block_bytes) < 0 || r->block_bytes == 0)
                return 0;       /* no memory hot-plug in this kernel */
        d = opendir(FIRMWARE_MAP);
        if (d == NULL)
                return 0;
        while ((e = readdir(d)) != NULL)
                if (e->d_name[0] != '.' && range_blocks(r, &cap, e->d_name, err) < 0)
                        return -1;
        if (r->n_blocks == 0)
                return 0;
        qsort(r->blocks, r->n_blocks, sizeof(*r->blocks), cmp_u64);
        if (access(MEMORY_SYSFS "/probe", W_OK) < 0) {
                r->unreachable_mib = r->n_blocks * (r->block_bytes >> 20);
                r->n_blocks = 0;
                return 0;
        }
        find_moved_initrd(r);
        scale_limits(r);
        return 0;
}

static bool has_option(char *const *options, const char *prefix)
{
        for (size_t i = 0; options != NULL && options[i] != NULL; i++)
                if (strncmp(options[i], prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

/* size=N%: N, else 0. */
static unsigned long size_percent(const char *option)
{
        char *end;
        unsigned long pct;

        if (strncmp(option, "size=", 5) != 0)
                return 0;
        pct = strtoul(option + 5, &end, 10);
        return end != option + 5 && strcmp(end, "%") == 0 && pct <= 100 ? pct : 0;
}

static bool is_size_percent(const char *option)
{
        return size_percent(option) > 0;
}

int agent_ram_fit_tmpfs(const struct agent_ram *r, struct spec_config *spec, struct rv_error **err)
{
        struct sysinfo si;
        uint64_t whole;

        if (agent_ram_pending_bytes(r) == 0)
                return 0;
        if (sysinfo(&si) < 0)
                return rv_error_set(err, errno, "sysinfo");
        whole = (uint64_t) si.totalram * si.mem_unit + agent_ram_pending_bytes(r);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                struct spec_mount *m = &spec->mounts[i];
                unsigned long pct = 50;
                char size[48], inodes[48];
                const char *add[3] = { NULL };
                size_t n = 0;

                if (m->type == NULL || strcmp(m->type, "tmpfs") != 0)
                        continue;
                /* Sized by the RAM: no size at all (half), or a share of
                 * it; a size of its own keeps the kernel's inode count. */
                if (has_option(m->options, "size=") || has_option(m->options, "nr_blocks=")) {
                        pct = 0;
                        for (size_t j = 0; m->options[j] != NULL; j++)
                                if (size_percent(m->options[j]) > 0)
                                        pct = size_percent(m->options[j]);
                        if (pct == 0)
                                continue;
                }
                snprintf(size, sizeof(size), "size=%" PRIu64 "k", whole / 100 * pct / 1024);
                add[n++] = size;
                if (!has_option(m->options, "nr_inodes=")) {
                        snprintf(inodes, sizeof(inodes), "nr_inodes=%" PRIu64, whole / 2 / (uint64_t) getpagesize());
                        add[n++] = inodes;
                }
                if (spec_mount_replace(m, m->type, m->source ? m->source : "tmpfs", is_size_percent, add) < 0)
                        return rv_error_set(err, ENOMEM, "`mounts[%zu]`", i);
        }
        return 0;
}

static int meminfo_free(uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        const char *p;
        unsigned long long kib;

        if (rv_read_file_at(AT_FDCWD, "/proc/meminfo", 1 << 16, &text, NULL, NULL) < 0)
                return -1;
        p = strstr(text, "MemFree:");
        if (p == NULL || sscanf(p, "MemFree: %llu kB", &kib) != 1)
                return -1;
        *ret = (uint64_t) kib << 10;
        return 0;
}

static int add_block(const struct agent_ram *r, uint64_t addr)
{
        _cleanup_close_ int fd = open(MEMORY_SYSFS "/probe", O_WRONLY | O_CLOEXEC);
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);

        if (fd < 0 || write(fd, buf, (size_t) n) < 0) {
                /* Added already (by someone else): it counts as added. */
                if (errno == EEXIST || block_present(r, addr))
                        return 0;
                rv_warn("RAM: cannot add the block at 0x%" PRIx64 ": %s; the VM keeps what it has",
                        addr, strerror(errno));
                return -1;
        }
        return 0;
}

static void set_high(const char *value)
{
        _cleanup_close_ int fd = open(AGENT_CGROUP_CONTAINERS "/memory.high", O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, value, strlen(value)) < 0)
                rv_warn("RAM: cannot set the containers' memory.high to %s: %s", value, strerror(errno));
}

static void balance(struct agent *a, struct agent_ram *r)
{
        uint64_t free = 0, used = 0;
        char high[32];

        while (r->next < r->n_blocks) {
                if (meminfo_free(&free) < 0 || free >= 2 * FREE_LOW)
                        break;
                if (add_block(r, r->blocks[r->next]) < 0)
                        r->next = r->n_blocks;
                else
                        r->next++;
        }
        if (r->next >= r->n_blocks || meminfo_free(&free) < 0 ||
            read_u64(AGENT_CGROUP_CONTAINERS "/memory.current", 10, &used) < 0) {
                /* All added, or nothing more can be known: no mark left
                 * to throttle the containers with. */
                set_high("max");
                r->next = r->n_blocks;
                agent_watch_close(a, &r->events);
                return;
        }
        snprintf(high, sizeof(high), "%" PRIu64, used + (free > FREE_LOW ? free - FREE_LOW : 0));
        set_high(high);
}

static void events_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        struct agent_ram *r = agent_container_of(w, struct agent_ram, events);
        char buf[512];

        /* Read to the end: kernfs reports the next change only then. */
        if (pread(w->fd, buf, sizeof(buf), 0) < 0)
                rv_debug("RAM: read memory.events: %s", strerror(errno));
        balance(a, r);
}

void agent_ram_watch(struct agent *a, struct agent_ram *r)
{
        if (r->next >= r->n_blocks || r->events.fd >= 0)
                return;
        r->events = (struct agent_watch) { .fd = open(AGENT_CGROUP_CONTAINERS "/memory.events", O_RDONLY | O_CLOEXEC),
                                           .handler = events_handler };
        if (r->events.fd < 0) {
                rv_warn("RAM: watch the containers' memory.events: %s: all the RAM is added now",
                        strerror(errno));
                r->events.fd = -1;
                while (r->next < r->n_blocks && add_block(r, r->blocks[r->next]) == 0)
                        r->next++;
                r->next = r->n_blocks;
                return;
        }
        agent_watch_set(a, &r->events, EPOLLPRI);
        balance(a, r);
}
