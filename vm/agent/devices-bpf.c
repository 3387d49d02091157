/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/devices-bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"

/* The program sees a struct bpf_cgroup_dev_ctx in R1; the prologue puts
 * the device type in R2, the requested access in R3, major in R4 and
 * minor in R5. Each rule is one block: a test per constrained field
 * jumping past the block when it does not match, then "return verdict".
 * The blocks are checked in program order, the first match deciding. */
#define R0 0
#define R1 1
#define R2 2
#define R3 3
#define R4 4
#define R5 5

#define MAX_INSNS 4096                  /* the verifier allows more; rules are few */

struct program {
        struct bpf_insn *insns;
        size_t n, cap;
        bool oom;
};

struct dev_rule {
        char type;                      /* 'a', 'c', 'b' */
        int64_t major, minor;           /* -1: any */
        const char *access;
        bool allow;
};

/* runc's AllowedDevices (libcontainer/specconv), crun's default_devices. */
static const struct dev_rule default_rules[] = {
        { 'c', -1, -1, "m", true },     /* mknod of any char device */
        { 'b', -1, -1, "m", true },     /* and any block device */
        { 'c', 1, 3, "rwm", true },     /* /dev/null */
        { 'c', 1, 8, "rwm", true },     /* /dev/random */
        { 'c', 1, 7, "rwm", true },     /* /dev/full */
        { 'c', 5, 0, "rwm", true },     /* /dev/tty */
        { 'c', 1, 5, "rwm", true },     /* /dev/zero */
        { 'c', 1, 9, "rwm", true },     /* /dev/urandom */
        { 'c', 5, 1, "rwm", true },     /* /dev/console */
        { 'c', 136, -1, "rwm", true },  /* /dev/pts/N */
        { 'c', 5, 2, "rwm", true },     /* /dev/ptmx */
        { 'c', 10, 200, "rwm", true },  /* /dev/net/tun */
};

static void emit(struct program *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        if (p->oom)
                return;
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 64;
                struct bpf_insn *n = realloc(p->insns, cap * sizeof(*n));
                if (n == NULL) {
                        p->oom = true;
                        return;
                }
                p->insns = n;
                p->cap = cap;
        }
        p->insns[p->n++] = (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static void emit_prologue(struct program *p)
{
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R2, R1, 0, 0);       /* R2 = access_type */
        emit(p, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);   /* R2 &= 0xffff: type */
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R3, R1, 0, 0);       /* R3 = access_type */
        emit(p, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);       /* R3 >>= 16: access */
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R4, R1, 4, 0);       /* R4 = major */
        emit(p, BPF_LDX | BPF_MEM | BPF_W, R5, R1, 8, 0);       /* R5 = minor */
}

static int parse_access(const char *access, int32_t *ret, struct rv_error **err)
{
        int32_t bits = 0;

        if (access == NULL || access[0] == '\0')
                access = "rwm";
        for (const char *c = access; *c != '\0'; c++) {
                switch (*c) {
                case 'r': bits |= BPF_DEVCG_ACC_READ; break;
                case 'w': bits |= BPF_DEVCG_ACC_WRITE; break;
                case 'm': bits |= BPF_DEVCG_ACC_MKNOD; break;
                /* runc's devices.Permissions counts r, w and m only. */
                default: break;
                }
        }
        *ret = bits;
        return 0;
}

static int emit_rule(struct program *p, const struct dev_rule *r, struct rv_error **err)
{
        const int32_t all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
        bool has_type = r->type != 'a';
        bool has_major = has_type && r->major >= 0, has_minor = has_type && r->minor >= 0;
        int32_t access = 0, type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        bool has_access;
        size_t len, start;

        if (r->type != 'a' && r->type != 'b' && r->type != 'c')
                return rv_error_setx(err, EINVAL, "device rule type `%c`: expected a, b or c", r->type);
        if (r->major > INT32_MAX || r->minor > INT32_MAX)
                return rv_error_setx(err, ERANGE, "device rule %lld:%lld: number out of range",
                                     (long long) r->major, (long long) r->minor);
        if (parse_access(r->access, &access, err) < 0)
                return -1;
        has_access = access != all;
        /* The block's length, so each test knows how far "next" is. */
        len = (has_type ? 1 : 0) + (has_access ? 3 : 0) + (has_major ? 1 : 0) + (has_minor ? 1 : 0) + 2;
        start = p->n;
#define TO_NEXT ((int16_t) (start + len - (p->n + 1)))
        if (has_type)
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R2, 0, TO_NEXT, type);
        if (has_access) {
                /* (R3 & access) != R3: something asked for is not granted */
                emit(p, BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0);
                emit(p, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, access);
                emit(p, BPF_JMP | BPF_JNE | BPF_X, R1, R3, TO_NEXT, 0);
        }
        if (has_major)
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R4, 0, TO_NEXT, (int32_t) r->major);
        if (has_minor)
                emit(p, BPF_JMP | BPF_JNE | BPF_K, R5, 0, TO_NEXT, (int32_t) r->minor);
#undef TO_NEXT
        emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, r->allow ? 1 : 0);
        emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        /* A block without tests decides everything: what follows would be
         * unreachable, which the verifier refuses. */
        return len == 2 ? 1 : 0;
}

int agent_devices_bpf_build(const struct spec_device_rule *rules, size_t n, struct bpf_insn **ret_insns,
                            size_t *ret_count, struct rv_error **err)
{
        struct program p = { 0 };
        int r = 0;

        emit_prologue(&p);
        for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++)
                if (emit_rule(&p, &default_rules[i], err) < 0)
                        goto fail;
        /* The last matching rule of the spec wins: check them backwards. */
        for (size_t i = n; r == 0 && i-- > 0;) {
                const struct spec_device_rule *s = &rules[i];
                struct dev_rule rule = {
                        .type = s->type == NULL || s->type[0] == '\0' ? 'a' : s->type[0],
                        .major = s->has_major ? s->major : -1,
                        .minor = s->has_minor ? s->minor : -1,
                        .access = s->access,
                        .allow = s->allow,
                };
                if (s->type != NULL && strlen(s->type) > 1) {
                        rv_error_setx(err, EINVAL, "`linux.resources.devices[%zu].type`: `%s` is not a, b or c", i,
                                      s->type);
                        goto fail;
                }
                r = emit_rule(&p, &rule, err);
                if (r < 0) {
                        rv_error_wrap(err, "`linux.resources.devices[%zu]`", i);
                        goto fail;
                }
        }
        /* Nothing matched: deny. */
        if (r == 0) {
                emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
                emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }
        if (p.oom) {
                rv_error_set(err, ENOMEM, "device program");
                goto fail;
        }
        if (p.n > MAX_INSNS) {
                rv_error_setx(err, E2BIG, "too many device rules (%zu instructions)", p.n);
                goto fail;
        }
        *ret_insns = p.insns;
        *ret_count = p.n;
        return 0;
fail:
        free(p.insns);
        return -1;
}

static int bpf(int cmd, union bpf_attr *attr)
{
        return (int) syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t count, struct rv_error **err)
{
        static const char license[] = "Apache";
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t) (uintptr_t) insns;
        attr.insn_cnt = (uint32_t) count;
        attr.license = (uint64_t) (uintptr_t) license;
        int fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd < 0 && errno == EINVAL) {
                /* Again with the verifier's log, for its reason. */
                _cleanup_free_ char *log = calloc(1, 65536);
                int saved = errno;

                if (log != NULL) {
                        attr.log_buf = (uint64_t) (uintptr_t) log;
                        attr.log_size = 65536;
                        attr.log_level = 1;
                        if (bpf(BPF_PROG_LOAD, &attr) < 0) {
                                size_t len = strlen(log);
                                while (len > 0 && log[len - 1] == '\n')
                                        log[--len] = '\0';
                                /* Its first line says why. */
                                char *nl = strchr(log, '\n');
                                if (nl != NULL)
                                        *nl = '\0';
                                return rv_error_setx(err, saved, "device rules: the verifier refused the program: %s",
                                                     log);
                        }
                        fd = bpf(BPF_PROG_LOAD, &attr);
                }
                errno = saved;
        }
        if (fd < 0) {
                if (errno == ENOSYS)
                        return rv_error_setx(err, EOPNOTSUPP, "device rules: the guest kernel has no bpf()");
                return rv_error_set(err, errno, "device rules: load the cgroup device program");
        }
        return fd;
}

/* The program for insns: a copy of the cached fd, or a new load (kept in
 * the cache while there is room). Takes insns. */
static int prog_get(struct agent_bpf_cache *cache, struct bpf_insn *insns, size_t count, struct rv_error **err)
{
        for (size_t i = 0; cache && i < cache->n; i++)
                if (cache->progs[i].n == count && memcmp(cache->progs[i].insns, insns, count * sizeof(*insns)) == 0) {
                        free(insns);
                        int fd = fcntl(cache->progs[i].fd, F_DUPFD_CLOEXEC, 3);
                        return fd < 0 ? rv_error_set(err, errno, "device rules: copy the program's fd") : fd;
                }
        int fd = prog_load(insns, count, err);
        if (fd < 0 || cache == NULL || cache->n == AGENT_BPF_CACHE_MAX) {
                free(insns);
                return fd;
        }
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0) {
                free(insns);
                return fd;
        }
        cache->progs[cache->n].insns = insns;
        cache->progs[cache->n].n = count;
        cache->progs[cache->n].fd = copy;
        cache->n++;
        return fd;
}

static uint32_t prog_id(int fd)
{
        struct bpf_prog_info info;
        union bpf_attr attr;

        memset(&info, 0, sizeof(info));
        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (uint32_t) fd;
        attr.info.info_len = sizeof(info);
        attr.info.info = (uint64_t) (uintptr_t) &info;
        return bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? 0 : info.id;
}

int agent_devices_bpf_apply(struct agent_bpf_cache *cache, int cgroup_fd, const struct spec_device_rule *rules,
                            size_t n, int *prog_fd, struct rv_error **err)
{
        _cleanup_close_ int fd = -EBADF;
        struct bpf_insn *insns = NULL;
        union bpf_attr attr;
        size_t count;

        if (agent_devices_bpf_build(rules, n, &insns, &count, err) < 0)
                return -1;
        fd = prog_get(cache, insns, count, err);
        if (fd < 0)
                return -1;
        /* An update to the same rules: attached already (attaching the
         * same program twice is refused). */
        if (*prog_fd >= 0) {
                uint32_t id = prog_id(fd);
                if (id != 0 && id == prog_id(*prog_fd))
                        return 0;
        }
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t) cgroup_fd;
        attr.attach_bpf_fd = (uint32_t) fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (bpf(BPF_PROG_ATTACH, &attr) < 0)
                return rv_error_set(err, errno, "device rules: attach the cgroup device program");
        if (*prog_fd >= 0) {
                /* Both programs must allow while both are attached: the
                 * stricter view wins for that instant, never a looser one. */
                memset(&attr, 0, sizeof(attr));
                attr.target_fd = (uint32_t) cgroup_fd;
                attr.attach_bpf_fd = (uint32_t) *prog_fd;
                attr.attach_type = BPF_CGROUP_DEVICE;
                if (bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
                        return rv_error_set(err, errno, "device rules: detach the previous program");
                close(*prog_fd);
        }
        *prog_fd = TAKE_FD(fd);
        return 0;
}

int agent_devices_bpf_preload(struct agent_bpf_cache *cache, const struct spec_device_rule *rules, size_t n,
                              struct rv_error **err)
{
        struct bpf_insn *insns = NULL;
        size_t count;

        if (agent_devices_bpf_build(rules, n, &insns, &count, err) < 0)
                return -1;
        int fd = prog_get(cache, insns, count, err);
        if (fd < 0)
                return -1;
        close(fd);
        return 0;
}
