/* SPDX-License-Identifier: Apache-2.0 */
/* runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): a syscall newer
 * than every syscall the profile names, for its architecture, returns
 * ENOSYS instead of the default action, so that programs fall back from a
 * syscall the profile's author could not know about (clone3, openat2,
 * ...) instead of failing with EPERM. The stub runs before libseccomp's
 * program, which reloads what it needs. */
#include "vm/agent/seccomp-enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "spec/config.h"

#define X32_SYSCALL_BIT 0x40000000u
#define MAX_ARCHS 16

/* offsetof(struct seccomp_data, nr) and (..., arch). */
#define DATA_NR 0
#define DATA_ARCH 4

struct arch_last {
        uint32_t arch;
        uint32_t last;
};

/* Trace counts as allowing: a tracer handles new syscalls itself. */
static bool permissive(uint32_t action)
{
        return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG || (action & 0xffff0000u) == SCMP_ACT_TRACE(0);
}

static size_t last_syscalls(const struct spec_seccomp *s, const uint32_t *archs, size_t n_archs,
                            struct arch_last *ret)
{
        size_t n = 0;

        for (size_t a = 0; a < n_archs; a++) {
                bool found = false;
                uint32_t last = 0;

                /* libseccomp's x32 is x86_64's audit arch with a bit set:
                 * the x86_64 section sees it. */
                if (archs[a] == SCMP_ARCH_X32)
                        continue;
                for (size_t i = 0; i < s->n_syscalls; i++)
                        for (char **name = s->syscalls[i].names; name != NULL && *name != NULL; name++) {
                                int nr = seccomp_syscall_resolve_name_arch(archs[a], *name);
                                /* Pseudo-syscalls (negative) never reach the filter. */
                                if (nr < 0)
                                        continue;
                                if (!found || (uint32_t) nr > last)
                                        last = (uint32_t) nr;
                                found = true;
                        }
                if (found && n < MAX_ARCHS)
                        ret[n++] = (struct arch_last) { archs[a], last };
        }
        return n;
}

static int export_program(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_len, struct rv_error **err)
{
        _cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        _cleanup_free_ struct sock_filter *prog = NULL;
        off_t size;
        int r;

        if (fd < 0)
                return rv_error_set(err, errno, "seccomp: memfd");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return rv_error_set(err, -r, "seccomp: export the filter");
        size = lseek(fd, 0, SEEK_END);
        if (size <= 0 || size % (off_t) sizeof(struct sock_filter) != 0)
                return rv_error_setx(err, EINVAL, "seccomp: exported filter of %lld bytes", (long long) size);
        prog = malloc((size_t) size);
        if (prog == NULL)
                return rv_error_set(err, ENOMEM, "seccomp");
        if (pread(fd, prog, (size_t) size, 0) != size)
                return rv_error_set(err, errno, "seccomp: read the exported filter");
        *ret = TAKE_PTR(prog);
        *ret_len = (size_t) size / sizeof(struct sock_filter);
        return 0;
}

#define STMT(c, k) ((struct sock_filter) BPF_STMT((c), (k)))
#define JUMP(c, k, t, f) ((struct sock_filter) BPF_JUMP((c), (k), (t), (f)))

int agent_seccomp_enosys_program(scmp_filter_ctx ctx, const struct spec_seccomp *s, uint32_t def_action,
                                 const uint32_t *archs, size_t n_archs, struct sock_filter **ret,
                                 size_t *ret_len, struct rv_error **err)
{
        _cleanup_free_ struct sock_filter *body = NULL, *prog = NULL;
        struct arch_last last[MAX_ARCHS];
        size_t n_body = 0, n_last = 0, n_stub, i = 0;

        if (export_program(ctx, &body, &n_body, err) < 0)
                return -1;
        /* runc: no stub when the default lets syscalls through, or when it
         * already is ENOSYS. */
        if (!permissive(def_action) && def_action != SCMP_ACT_ERRNO(ENOSYS))
                n_last = last_syscalls(s, archs, n_archs, last);
        if (n_last == 0) {
                *ret = TAKE_PTR(body);
                *ret_len = n_body;
                return 0;
        }
        /* ld arch; one jeq per arch; ja body; per arch: ld nr, [x86_64:
         * jset x32 -> body], jgt last -> ENOSYS, ja body, ret ENOSYS. */
        n_stub = 1 + n_last + 1;
        for (size_t a = 0; a < n_last; a++)
                n_stub += (last[a].arch == SCMP_ARCH_X86_64 ? 5 : 4);
        if (n_stub + n_body > BPF_MAXINSNS)
                return rv_error_setx(err, E2BIG, "seccomp: the filter has too many instructions (%zu)",
                                     n_stub + n_body);
        prog = calloc(n_stub + n_body, sizeof(*prog));
        if (prog == NULL)
                return rv_error_set(err, ENOMEM, "seccomp");
        prog[i++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA_ARCH);
        size_t section = 1 + n_last + 1;
        for (size_t a = 0; a < n_last; a++) {
                prog[i] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, last[a].arch, (uint8_t) (section - i - 1), 0);
                i++;
                section += (last[a].arch == SCMP_ARCH_X86_64 ? 5 : 4);
        }
        prog[i] = STMT(BPF_JMP | BPF_JA, (uint32_t) (n_stub - i - 1));
        i++;
        for (size_t a = 0; a < n_last; a++) {
                prog[i++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA_NR);
                if (last[a].arch == SCMP_ARCH_X86_64) {
                        /* x32 syscalls: libseccomp's program decides. */
                        prog[i] = JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
                        i++;
                }
                prog[i] = JUMP(BPF_JMP | BPF_JGT | BPF_K, last[a].last, 1, 0);
                i++;
                prog[i] = STMT(BPF_JMP | BPF_JA, (uint32_t) (n_stub - i - 1));
                i++;
                prog[i++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
        }
        /* The x32 jset lands on the "ja body" after the jgt. */
        memcpy(prog + n_stub, body, n_body * sizeof(*body));
        rv_debug("seccomp: -ENOSYS stub for %zu architecture(s), %zu + %zu instructions", n_last, n_stub, n_body);
        *ret = TAKE_PTR(prog);
        *ret_len = n_stub + n_body;
        return 0;
}
