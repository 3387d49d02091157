/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/seccomp.h"

#include <ctype.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "spec/config.h"
#include "vm/agent/seccomp-enosys.h"

#define MAX_ARCHS 16

struct agent_seccomp {
        scmp_filter_ctx ctx;
        uint32_t archs[MAX_ARCHS];
        size_t n_archs;
        unsigned int load_flags;        /* SECCOMP_FILTER_FLAG_* */
        struct sock_filter *prog;       /* what is loaded: see seccomp-enosys.c */
        size_t prog_len;
};

/* libseccomp returns -errno. */
static int scmp_error(struct rv_error **err, int r, const char *what, const char *name)
{
        if (name != NULL)
                return rv_error_set(err, -r, "seccomp: %s `%s`", what, name);
        return rv_error_set(err, -r, "seccomp: %s", what);
}

/* runc's getAction: ERRNO and TRACE return errnoRet, EPERM by default. */
static int action_parse(const char *name, bool has_ret, uint32_t ret_value, const char *path,
                        uint32_t *ret, struct rv_error **err)
{
        uint32_t errnum = has_ret ? ret_value : EPERM;

        if (name == NULL)
                return rv_error_setx(err, EINVAL, "`%s`: missing", path);
        if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
                *ret = SCMP_ACT_KILL_THREAD;
        else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
                *ret = SCMP_ACT_TRAP;
        else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
                *ret = SCMP_ACT_ERRNO(errnum & 0xffff);
        else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
                *ret = SCMP_ACT_TRACE(errnum & 0xffff);
        else if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
                *ret = SCMP_ACT_ALLOW;
        else if (strcmp(name, "SCMP_ACT_LOG") == 0)
                *ret = SCMP_ACT_LOG;
        else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
                return rv_error_setx(err, EOPNOTSUPP,
                                     "`%s`: SCMP_ACT_NOTIFY needs `linux.seccomp.listenerPath`, "
                                     "and seccomp notification is not supported by runvm", path);
        else
                return rv_error_setx(err, EINVAL, "`%s`: string %s is not a valid action for seccomp",
                                     path, name);
        return 0;
}

static int op_parse(const char *name, enum scmp_compare *ret, struct rv_error **err)
{
        static const struct { const char *name; enum scmp_compare op; } ops[] = {
                { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
                { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
                { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
                { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
        };

        for (size_t i = 0; name != NULL && i < ARRAY_SIZE(ops); i++)
                if (strcmp(name, ops[i].name) == 0) {
                        *ret = ops[i].op;
                        return 0;
                }
        return rv_error_setx(err, EINVAL, "string %s is not a valid operator for seccomp", name ? name : "");
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token "x86_64". */
static int arch_parse(const char *name, uint32_t *ret, struct rv_error **err)
{
        char token[32];
        size_t i;

        if (name == NULL || strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(token))
                return rv_error_setx(err, EINVAL, "string %s is not a valid arch for seccomp", name ? name : "");
        for (i = 0; name[10 + i] != '\0'; i++)
                token[i] = (char) tolower((unsigned char) name[10 + i]);
        token[i] = '\0';
        *ret = seccomp_arch_resolve_name(token);
        if (*ret == 0)
                return rv_error_setx(err, EINVAL, "string %s is not a valid arch for seccomp", name);
        return 0;
}

static int flags_apply(struct agent_seccomp *sf, char **flags, struct rv_error **err)
{
        scmp_filter_ctx ctx = sf->ctx;

        for (char **f = flags; f != NULL && *f != NULL; f++) {
                enum scmp_filter_attr attr;
                int r;

                if (strcmp(*f, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
                        attr = SCMP_FLTATR_CTL_TSYNC;
                        sf->load_flags |= SECCOMP_FILTER_FLAG_TSYNC;
                } else if (strcmp(*f, "SECCOMP_FILTER_FLAG_LOG") == 0) {
                        attr = SCMP_FLTATR_CTL_LOG;
                        sf->load_flags |= SECCOMP_FILTER_FLAG_LOG;
                } else if (strcmp(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
                        attr = SCMP_FLTATR_CTL_SSB;
                        sf->load_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                } else
                        return rv_error_setx(err, EINVAL, "seccomp flag \"%s\" not yet supported by runvm", *f);
                r = seccomp_attr_set(ctx, attr, 1);
                if (r < 0)
                        return scmp_error(err, r, "set flag", *f);
        }
        return 0;
}

/* runc's matchCall: one rule with every condition, unless an argument
 * index repeats, then one rule per condition (an OR, runc's old
 * behaviour). */
static int rule_add(scmp_filter_ctx ctx, const struct spec_seccomp_syscall *sc, size_t idx,
                    uint32_t def_action, struct rv_error **err)
{
        struct scmp_arg_cmp conds[16];
        unsigned counts[6] = { 0 };
        bool split = false;
        char path[96];
        uint32_t action;

        snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu].action", idx);
        if (action_parse(sc->action, sc->has_errno_ret, sc->errno_ret, path, &action, err) < 0)
                return -1;
        if (sc->n_args > ARRAY_SIZE(conds))
                return rv_error_setx(err, E2BIG, "`linux.seccomp.syscalls[%zu].args`: too many conditions", idx);
        for (size_t i = 0; i < sc->n_args; i++) {
                const struct spec_seccomp_arg *a = &sc->args[i];
                enum scmp_compare op = SCMP_CMP_EQ;

                if (a->index >= 6)
                        return rv_error_setx(err, EINVAL,
                                             "`linux.seccomp.syscalls[%zu].args[%zu].index`: %u is out of range",
                                             idx, i, a->index);
                if (op_parse(a->op, &op, err) < 0)
                        return rv_error_wrap(err, "`linux.seccomp.syscalls[%zu].args[%zu].op`", idx, i);
                conds[i] = (struct scmp_arg_cmp) {
                        .arg = a->index, .op = op, .datum_a = a->value,
                        .datum_b = a->has_value_two ? a->value_two : 0,
                };
                if (++counts[a->index] > 1)
                        split = true;
        }
        if (action == def_action)
                return 0;       /* redundant; libseccomp would refuse it */
        for (char **n = sc->names; n != NULL && *n != NULL; n++) {
                int nr = seccomp_syscall_resolve_name(*n), r;

                if (nr == __NR_SCMP_ERROR) {
                        rv_debug("seccomp: unknown syscall `%s` ignored", *n);
                        continue;
                }
                if (!split) {
                        r = seccomp_rule_add_array(ctx, action, nr, (unsigned) sc->n_args,
                                                   sc->n_args > 0 ? conds : NULL);
                        if (r < 0)
                                return scmp_error(err, r, "add rule for", *n);
                        continue;
                }
                for (size_t i = 0; i < sc->n_args; i++) {
                        r = seccomp_rule_add_array(ctx, action, nr, 1, &conds[i]);
                        if (r < 0)
                                return scmp_error(err, r, "add rule for", *n);
                }
        }
        return 0;
}

int agent_seccomp_prepare(const struct spec_seccomp *s, struct agent_seccomp **ret, struct rv_error **err)
{
        struct agent_seccomp *f;
        uint32_t def_action;
        int r;

        *ret = NULL;
        if (!s->has)
                return 0;
        if (s->listener_path != NULL)
                return rv_error_setx(err, EOPNOTSUPP,
                                     "`linux.seccomp.listenerPath`: seccomp notification (SCMP_ACT_NOTIFY) "
                                     "is not supported by runvm");
        if (action_parse(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                         "linux.seccomp.defaultAction", &def_action, err) < 0)
                return -1;
        f = calloc(1, sizeof(*f));
        if (f == NULL)
                return rv_error_set(err, ENOMEM, "seccomp");
        f->ctx = seccomp_init(def_action);
        if (f->ctx == NULL) {
                free(f);
                return rv_error_setx(err, EINVAL, "seccomp: cannot initialise the filter");
        }
        /* Loading must not set no_new_privs behind noNewPrivileges' back
         * (libseccomp does by default; runc turns it off too). */
        r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0) {
                scmp_error(err, r, "clear the no_new_privs attribute", NULL);
                goto fail;
        }
        f->archs[f->n_archs++] = seccomp_arch_native();
        for (char **a = s->architectures; a != NULL && *a != NULL; a++) {
                uint32_t arch;


                if (arch_parse(*a, &arch, err) < 0) {
                        rv_error_wrap(err, "`linux.seccomp.architectures`");
                        goto fail;
                }
                r = seccomp_arch_add(f->ctx, arch);
                if (r < 0 && r != -EEXIST) {
                        scmp_error(err, r, "add architecture", *a);
                        goto fail;
                }
                if (r == 0 && f->n_archs < MAX_ARCHS)
                        f->archs[f->n_archs++] = arch;
        }
        if (flags_apply(f, s->flags, err) < 0)
                goto fail;
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (rule_add(f->ctx, &s->syscalls[i], i, def_action, err) < 0)
                        goto fail;
        if (agent_seccomp_enosys_program(f->ctx, s, def_action, f->archs, f->n_archs, &f->prog, &f->prog_len,
                                         err) < 0)
                goto fail;
        *ret = f;
        return 0;
fail:
        agent_seccomp_free(f);
        return -1;
}

int agent_seccomp_load(struct agent_seccomp *f, struct rv_error **err)
{
        int r;

        if (f == NULL)
                return 0;
        struct sock_fprog prog = { .len = (unsigned short) f->prog_len, .filter = f->prog };
        r = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->load_flags, &prog);
        /* TSYNC reports a thread it could not synchronise as a positive tid. */
        if (r != 0)
                return rv_error_set(err, r < 0 ? errno : ESRCH, "seccomp: load the filter");
        return 0;
}

void agent_seccomp_free(struct agent_seccomp *f)
{
        if (f == NULL)
                return;
        seccomp_release(f->ctx);
        free(f->prog);
        free(f);
}
