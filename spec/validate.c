/* SPDX-License-Identifier: Apache-2.0 */
/* Semantic checks on a parsed config (runc's libcontainer/configs/validate
 * and runtime-spec MUSTs). Every error: "`path.to.field`: what is wrong". */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"
#include "spec/spec-internal.h"

static bool in_set(const char *s, const char *const *set, size_t n)
{
        if (s == NULL)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, set[i]) == 0)
                        return true;
        return false;
}

static const char *const namespace_types[] = {
        "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};

static const char *const device_types[] = { "c", "b", "u", "p" };

static const char *const rlimit_types[] = {
        "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
        "RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
        "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS", "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

static const char *const seccomp_actions[] = {
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
        "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};

static const char *const seccomp_operators[] = {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
        "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const propagations[] = {
        "shared", "slave", "private", "unbindable",
        "rshared", "rslave", "rprivate", "runbindable",
};

static const char *const rule_types[] = { "a", "c", "b" };

static bool is_absolute(const char *p)
{
        return p != NULL && p[0] == '/';
}

static bool streq(const char *a, const char *b)
{
        return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* For messages about hand-built structs with NULL strings. */
static const char *S(const char *s)
{
        return s ? s : "";
}

/* path: "process" in a config, "" for exec's process.json. */
static int validate_process(const struct spec_process *p, const char *path, struct rv_error **err)
{
        const char *dot = path[0] ? "." : "";

        if (p->args == NULL || p->args[0] == NULL)
                return spec_error_invalid(err, "`%s%sargs`: must not be empty", path, dot);
        /* runc's words: nothing can be executed by that name. */
        if (p->args[0][0] == '\0')
                return spec_error_invalid(err, "`%s%sargs[0]`: exec: \"\": executable file not found in $PATH",
                                          path, dot);
        if (p->cwd == NULL || p->cwd[0] == '\0')
                return spec_error_invalid(err, "`%s%scwd`: missing", path, dot);
        if (!is_absolute(p->cwd))
                return spec_error_invalid(err, "`%s%scwd`: `%s` is not an absolute path", path, dot, p->cwd);
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const char *t = p->rlimits[i].type;
                if (!in_set(t, rlimit_types, ARRAY_SIZE(rlimit_types)))
                        return spec_error_invalid(err, "`%s%srlimits[%zu].type`: unknown rlimit `%s`",
                                                  path, dot, i, S(t));
                for (size_t j = 0; j < i; j++)
                        if (streq(p->rlimits[j].type, t))
                                return spec_error_invalid(err, "`%s%srlimits[%zu].type`: duplicate `%s`",
                                                          path, dot, i, t);
        }
        if (p->io_priority.has) {
                static const char *const classes[] = {
                        "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE",
                };
                if (!in_set(p->io_priority.class_, classes, ARRAY_SIZE(classes)))
                        return spec_error_invalid(err, "`%s%sioPriority.class`: unknown class `%s`",
                                                  path, dot, S(p->io_priority.class_));
        }
        if (p->scheduler.has) {
                static const char *const policies[] = {
                        "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
                        "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE",
                };
                if (!in_set(p->scheduler.policy, policies, ARRAY_SIZE(policies)))
                        return spec_error_invalid(err, "`%s%sscheduler.policy`: unknown policy `%s`",
                                                  path, dot, S(p->scheduler.policy));
        }
        return 0;
}

static int validate_hooks(const struct spec_hook_list *l, const char *name, struct rv_error **err)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct spec_hook *h = &l->hooks[i];
                if (!is_absolute(h->path))
                        return spec_error_invalid(err, "`hooks.%s[%zu].path`: `%s` is not an absolute path",
                                                  name, i, S(h->path));
                if (h->has_timeout && h->timeout <= 0)
                        return spec_error_invalid(err, "`hooks.%s[%zu].timeout`: must be greater than zero",
                                                  name, i);
        }
        return 0;
}

static int validate_seccomp(const struct spec_seccomp *s, struct rv_error **err)
{
        if (!in_set(s->default_action, seccomp_actions, ARRAY_SIZE(seccomp_actions)))
                return spec_error_invalid(err, "`linux.seccomp.defaultAction`: unknown action `%s`",
                                          S(s->default_action));
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const struct spec_seccomp_syscall *sc = &s->syscalls[i];
                if (sc->names == NULL || sc->names[0] == NULL)
                        return spec_error_invalid(err, "`linux.seccomp.syscalls[%zu].names`: must not be empty", i);
                if (!in_set(sc->action, seccomp_actions, ARRAY_SIZE(seccomp_actions)))
                        return spec_error_invalid(err, "`linux.seccomp.syscalls[%zu].action`: unknown action `%s`",
                                                  i, S(sc->action));
                for (size_t j = 0; j < sc->n_args; j++)
                        if (!in_set(sc->args[j].op, seccomp_operators, ARRAY_SIZE(seccomp_operators)))
                                return spec_error_invalid(err,
                                        "`linux.seccomp.syscalls[%zu].args[%zu].op`: unknown operator `%s`",
                                        i, j, S(sc->args[j].op));
        }
        return 0;
}

/* Memory sizes are bytes; -1 alone means unlimited (runc and the kernel
 * refuse other negatives, which must not pass for "no limit"). */
static int validate_memory(const struct spec_memory *m, struct rv_error **err)
{
        const struct { bool has; int64_t v; const char *name; } sizes[] = {
                { m->has_limit, m->limit, "limit" },
                { m->has_reservation, m->reservation, "reservation" },
                { m->has_swap, m->swap, "swap" },
                { m->has_kernel, m->kernel, "kernel" },
                { m->has_kernel_tcp, m->kernel_tcp, "kernelTCP" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
                if (sizes[i].has && sizes[i].v < -1)
                        return spec_error_invalid(err, "`linux.resources.memory.%s`: %lld is not a limit "
                                                  "(-1 means unlimited)", sizes[i].name, (long long) sizes[i].v);
        return 0;
}

static int validate_linux(const struct spec_linux *l, struct rv_error **err)
{
        if (validate_memory(&l->resources.memory, err) < 0)
                return -1;
        for (size_t i = 0; i < l->n_namespaces; i++) {
                const struct spec_namespace *ns = &l->namespaces[i];
                if (!in_set(ns->type, namespace_types, ARRAY_SIZE(namespace_types)))
                        return spec_error_invalid(err, "`linux.namespaces[%zu].type`: unknown namespace type `%s`",
                                                  i, S(ns->type));
                for (size_t j = 0; j < i; j++)
                        if (streq(l->namespaces[j].type, ns->type))
                                return spec_error_invalid(err, "`linux.namespaces[%zu].type`: duplicate namespace `%s`",
                                                          i, ns->type);
                if (ns->path != NULL && !is_absolute(ns->path))
                        return spec_error_invalid(err, "`linux.namespaces[%zu].path`: `%s` is not an absolute path",
                                                  i, ns->path);
        }
        for (size_t i = 0; i < l->n_devices; i++) {
                const struct spec_device *d = &l->devices[i];
                if (!in_set(d->type, device_types, ARRAY_SIZE(device_types)))
                        return spec_error_invalid(err, "`linux.devices[%zu].type`: unknown device type `%s`",
                                                  i, S(d->type));
                if (!is_absolute(d->path))
                        return spec_error_invalid(err, "`linux.devices[%zu].path`: `%s` is not an absolute path",
                                                  i, S(d->path));
        }
        for (size_t i = 0; i < l->resources.n_devices; i++) {
                const struct spec_device_rule *d = &l->resources.devices[i];
                if (d->type != NULL && !in_set(d->type, rule_types, ARRAY_SIZE(rule_types)))
                        return spec_error_invalid(err, "`linux.resources.devices[%zu].type`: unknown device type `%s`",
                                                  i, S(d->type));
                /* No check of access: runc takes any string, counting only
                 * its r, w and m letters (devices.Permissions). */
        }
        if (l->seccomp.has && validate_seccomp(&l->seccomp, err) < 0)
                return -1;
        if (l->rootfs_propagation != NULL && l->rootfs_propagation[0] != '\0' &&
            !in_set(l->rootfs_propagation, propagations, ARRAY_SIZE(propagations)))
                return spec_error_invalid(err, "`linux.rootfsPropagation`: unknown propagation `%s`",
                                          l->rootfs_propagation);
        for (size_t i = 0; l->masked_paths && l->masked_paths[i]; i++)
                if (!is_absolute(l->masked_paths[i]))
                        return spec_error_invalid(err, "`linux.maskedPaths[%zu]`: `%s` is not an absolute path",
                                                  i, l->masked_paths[i]);
        for (size_t i = 0; l->readonly_paths && l->readonly_paths[i]; i++)
                if (!is_absolute(l->readonly_paths[i]))
                        return spec_error_invalid(err, "`linux.readonlyPaths[%zu]`: `%s` is not an absolute path",
                                                  i, l->readonly_paths[i]);
        return 0;
}

int spec_config_validate(const struct spec_config *c, struct rv_error **err)
{
        if (c->oci_version == NULL || c->oci_version[0] == '\0')
                return spec_error_invalid(err, "`ociVersion`: missing");
        if (!c->has_root || c->root.path == NULL)
                return spec_error_invalid(err, "`root.path`: missing");
        if (c->root.path[0] == '\0')
                return spec_error_invalid(err, "`root.path`: must not be empty");
        for (size_t i = 0; i < c->n_mounts; i++)
                if (!is_absolute(c->mounts[i].destination))
                        return spec_error_invalid(err, "`mounts[%zu].destination`: `%s` is not an absolute path",
                                                  i, S(c->mounts[i].destination));
        if (c->has_process && validate_process(&c->process, "process", err) < 0)
                return -1;
        if (validate_hooks(&c->hooks.prestart, "prestart", err) < 0 ||
            validate_hooks(&c->hooks.create_runtime, "createRuntime", err) < 0 ||
            validate_hooks(&c->hooks.create_container, "createContainer", err) < 0 ||
            validate_hooks(&c->hooks.start_container, "startContainer", err) < 0 ||
            validate_hooks(&c->hooks.poststart, "poststart", err) < 0 ||
            validate_hooks(&c->hooks.poststop, "poststop", err) < 0)
                return -1;
        return validate_linux(&c->linux_, err);
}

int spec_process_validate(const struct spec_process *p, struct rv_error **err)
{
        return validate_process(p, "", err);
}
