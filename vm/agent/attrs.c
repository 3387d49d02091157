/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/attrs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/config.h"
#include "vm/agent/caps.h"
#include "vm/agent/seccomp.h"
#include "vm/agent/timing.h"

static const struct { const char *name; int resource; } rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int setup_rlimits(const struct spec_process *p, struct rv_error **err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct spec_rlimit *r = &p->rlimits[i];
                struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
                size_t j;

                for (j = 0; j < ARRAY_SIZE(rlimit_names); j++)
                        if (r->type != NULL && strcmp(r->type, rlimit_names[j].name) == 0)
                                break;
                if (j == ARRAY_SIZE(rlimit_names))
                        return rv_error_setx(err, EINVAL, "unknown rlimit `%s`", r->type ? r->type : "");
                if (setrlimit(rlimit_names[j].resource, &rl) < 0)
                        return rv_error_set(err, errno, "error setting rlimit type %d", rlimit_names[j].resource);
        }
        return 0;
}

static int setup_oom_score_adj(const struct spec_process *p, struct rv_error **err)
{
        _cleanup_close_ int fd = -1;
        char v[16];
        int n;

        if (!p->has_oom_score_adj)
                return 0;
        n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
        fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || rv_write_all(fd, v, (size_t) n) < 0)
                return rv_error_set(err, errno, "set oom_score_adj to %d", p->oom_score_adj);
        return 0;
}

/* The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1). */
struct agent_sched_attr {
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
        uint32_t sched_util_min, sched_util_max;
};

/* runc's ToSchedAttr + sched_setattr(0, attr, 0). */
static int setup_scheduler(const struct spec_scheduler *s, struct rv_error **err)
{
        static const char *const policies[] = {
                "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
                "SCHED_DEADLINE",
        };
        static const char *const flags[] = {
                "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
                "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
                "SCHED_FLAG_UTIL_CLAMP_MAX",
        };
        struct agent_sched_attr attr = { .size = sizeof(attr) };
        size_t i;

        if (!s->has)
                return 0;
        for (i = 0; i < ARRAY_SIZE(policies); i++)
                if (s->policy != NULL && strcmp(s->policy, policies[i]) == 0)
                        break;
        if (i == ARRAY_SIZE(policies))
                return rv_error_setx(err, EINVAL, "invalid scheduler policy: %s", s->policy ? s->policy : "");
        attr.sched_policy = (uint32_t) i;
        for (char **f = s->flags; f != NULL && *f != NULL; f++) {
                for (i = 0; i < ARRAY_SIZE(flags); i++)
                        if (strcmp(*f, flags[i]) == 0)
                                break;
                if (i == ARRAY_SIZE(flags))
                        return rv_error_setx(err, EINVAL, "invalid scheduler flag: %s", *f);
                attr.sched_flags |= UINT64_C(1) << i;
        }
        attr.sched_nice = s->has_nice ? s->nice : 0;
        attr.sched_priority = s->has_priority ? (uint32_t) s->priority : 0;
        attr.sched_runtime = s->has_runtime ? s->runtime : 0;
        attr.sched_deadline = s->has_deadline ? s->deadline : 0;
        attr.sched_period = s->has_period ? s->period : 0;
        if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
                return rv_error_set(err, errno, "error setting scheduler");
        return 0;
}

/* runc's setIOPriority: ioprio_set(IOPRIO_WHO_PROCESS, 0, class << 13 | prio). */
static int setup_io_priority(const struct spec_io_priority *io, struct rv_error **err)
{
        static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" };
        size_t i;

        if (!io->has)
                return 0;
        for (i = 0; i < ARRAY_SIZE(classes); i++)
                if (io->class_ != NULL && strcmp(io->class_, classes[i]) == 0)
                        break;
        if (i == ARRAY_SIZE(classes))
                return rv_error_setx(err, EINVAL, "invalid io priority class: %s", io->class_ ? io->class_ : "");
        if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
                    (int) ((i + 1) << 13) | io->priority) < 0)
                return rv_error_set(err, errno, "failed to set io priority");
        return 0;
}

static int setup_user(const struct spec_process *p, struct rv_error **err)
{
        const struct spec_user *u = &p->user;
        _cleanup_free_ gid_t *groups = NULL;

        if (u->n_additional_gids > 0) {
                groups = calloc(u->n_additional_gids, sizeof(gid_t));
                if (groups == NULL)
                        return rv_error_set(err, ENOMEM, "setgroups");
                for (size_t i = 0; i < u->n_additional_gids; i++)
                        groups[i] = u->additional_gids[i];
        }
        /* In a user namespace with setgroups denied, the groups stay as
         * they are (runc does not call setgroups there either). */
        if (setgroups(u->n_additional_gids, groups) < 0 &&
            !(errno == EPERM && u->n_additional_gids == 0 && getgroups(0, NULL) == 0))
                return rv_error_set(err, errno, "setgroups");
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return rv_error_set(err, errno, "keep capabilities");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return rv_error_set(err, errno, "setgid %u", u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return rv_error_set(err, errno, "setuid %u", u->uid);
        return 0;
}

/* HOME from the container's /etc/passwd for uid, "/" when it has none. */
static char *home_for(uint32_t uid)
{
        _cleanup_free_ char *passwd = NULL;
        char *line, *save = NULL;

        if (rv_read_file_at(AT_FDCWD, "/etc/passwd", 4 << 20, &passwd, NULL, NULL) < 0)
                return strdup("/");
        for (line = strtok_r(passwd, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                char *fields[7] = { 0 }, *p = line, *end;
                unsigned long v;
                size_t n = 0;

                while (n < ARRAY_SIZE(fields)) {
                        fields[n++] = p;
                        p = strchr(p, ':');
                        if (p == NULL)
                                break;
                        *p++ = '\0';
                }
                if (n < 6)
                        continue;
                errno = 0;
                v = strtoul(fields[2], &end, 10);
                if (errno != 0 || end == fields[2] || *end != '\0' || v != uid)
                        continue;
                return strdup(fields[5][0] != '\0' ? fields[5] : "/");
        }
        return strdup("/");
}

static void strv_free_n(char **v)
{
        for (char **e = v; e != NULL && *e != NULL; e++)
                free(*e);
        free(v);
}

/* process.env the way runc's init builds its environment: "NAME=value"
 * required, a later duplicate replaces the earlier one in place; HOME
 * added when missing. */
static int build_env(const struct spec_process *p, char ***ret, struct rv_error **err)
{
        size_t total = 0, n = 0;
        bool has_home = false;
        char **env;

        for (char **e = p->env; e != NULL && *e != NULL; e++)
                total++;
        env = calloc(total + 2, sizeof(char *));
        if (env == NULL)
                return rv_error_set(err, ENOMEM, "environment");
        for (char **e = p->env; e != NULL && *e != NULL; e++) {
                const char *eq = strchr(*e, '=');
                size_t name_len, i;

                if (eq == NULL) {
                        strv_free_n(env);
                        return rv_error_setx(err, EINVAL, "invalid environment variable %s: missing '='", *e);
                }
                if (eq == *e) {
                        strv_free_n(env);
                        return rv_error_setx(err, EINVAL, "invalid environment variable %s: name cannot be empty",
                                             *e);
                }
                name_len = (size_t) (eq - *e) + 1;
                if (name_len == 5 && strncmp(*e, "HOME=", 5) == 0)
                        has_home = true;
                for (i = 0; i < n; i++)
                        if (strncmp(env[i], *e, name_len) == 0)
                                break;
                char *copy = strdup(*e);
                if (copy == NULL) {
                        strv_free_n(env);
                        return rv_error_set(err, ENOMEM, "environment");
                }
                if (i < n) {
                        free(env[i]);
                        env[i] = copy;
                } else {
                        env[n++] = copy;
                }
        }
        if (!has_home) {
                _cleanup_free_ char *home = home_for(p->user.uid);
                if (home == NULL || asprintf(&env[n], "HOME=%s", home) < 0) {
                        env[n] = NULL;
                        strv_free_n(env);
                        return rv_error_set(err, ENOMEM, "environment");
                }
        }
        *ret = env;
        return 0;
}

static const char *env_get(char **env, const char *name)
{
        size_t len = strlen(name);

        for (char **e = env; e != NULL && *e != NULL; e++)
                if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
                        return *e + len + 1;
        return NULL;
}

/* Go's exec.findExecutable: 0 or an errno. */
static int find_executable(const char *path, int *ret_stat_errno)
{
        struct stat st;

        *ret_stat_errno = 0;
        if (stat(path, &st) < 0) {
                *ret_stat_errno = errno;
                return errno;
        }
        if (S_ISDIR(st.st_mode))
                return EISDIR;
        if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
                return 0;
        if (errno != ENOSYS && errno != EPERM)
                return errno;
        return (st.st_mode & 0111) ? 0 : EACCES;
}

/* An error in Go's words: errno texts are lowercase there ("no such file
 * or directory"), and callers match on them. */
static int go_error(struct rv_error **err, int errnum, const char *prefix)
{
        char text[128];

        snprintf(text, sizeof(text), "%s", strerror(errnum));
        text[0] = (char) tolower((unsigned char) text[0]);
        return rv_error_setx(err, errnum, "%s: %s", prefix, text);
}

/* Go's exec.LookPath with the container's PATH, with its error texts. */
static int look_path(const char *file, char **env, char **ret, struct rv_error **err)
{
        const char *path;
        int r, stat_errno;

        if (strchr(file, '/') != NULL) {
                r = find_executable(file, &stat_errno);
                if (r == 0) {
                        *ret = strdup(file);
                        return *ret != NULL ? 0 : rv_error_set(err, ENOMEM, "exec");
                }
                _cleanup_free_ char *prefix = NULL;
                if (asprintf(&prefix, stat_errno != 0 ? "exec: \"%s\": stat %s" : "exec: \"%s\"",
                             file, file) < 0)
                        return rv_error_set(err, ENOMEM, "exec");
                return go_error(err, r, prefix);
        }
        path = env_get(env, "PATH");
        while (path != NULL && *path != '\0') {
                size_t len = strcspn(path, ":");
                _cleanup_free_ char *cand = NULL;

                if (asprintf(&cand, "%.*s/%s", (int) (len == 0 ? 1 : len),
                             len == 0 ? "." : path, file) < 0)
                        return rv_error_set(err, ENOMEM, "exec");
                if (find_executable(cand, &stat_errno) == 0) {
                        *ret = TAKE_PTR(cand);
                        return 0;
                }
                path += len;
                if (*path == ':')
                        path++;
        }
        return rv_error_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

int agent_process_apply(const struct spec_config *container, const struct spec_process *p, bool is_init,
                        struct agent_timer *timer, struct agent_exec *ret, struct rv_error **err)
{
        struct agent_exec x = { .argv = p->args };
        const char *cwd = p->cwd != NULL && p->cwd[0] != '\0' ? p->cwd : "/";

        if (p->args == NULL || p->args[0] == NULL)
                return rv_error_setx(err, EINVAL, "`process.args`: must not be empty");
        if (p->apparmor_profile != NULL)
                rv_debug("process.apparmorProfile `%s` accepted, not enforced (no AppArmor in the guest)",
                         p->apparmor_profile);
        if (p->selinux_label != NULL)
                rv_debug("process.selinuxLabel `%s` accepted, not enforced (no SELinux in the guest)",
                         p->selinux_label);
        if (setup_rlimits(p, err) < 0 || setup_oom_score_adj(p, err) < 0)
                return -1;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return rv_error_set(err, errno, "set no_new_privs");
        if (setup_scheduler(&p->scheduler, err) < 0 || setup_io_priority(&p->io_priority, err) < 0)
                return -1;
        agent_timer_step(timer, "rlimits+scheduler");
        if (agent_seccomp_prepare(&container->linux_.seccomp, &x.seccomp, err) < 0)
                return -1;
        agent_timer_step(timer, "seccomp");
        /* Without no_new_privs loading needs CAP_SYS_ADMIN, which the user
         * switch may take away: load now, like runc. */
        if (!p->no_new_privileges && x.seccomp != NULL) {
                if (agent_seccomp_load(x.seccomp, err) < 0)
                        goto fail;
                agent_seccomp_free(TAKE_PTR(x.seccomp));
        }
        /* runc enters the cwd before the user switch, so a directory only
         * root can enter works for any user; on a permission error it tries
         * again as the user (a directory only the user can enter). */
        bool chdir_after = false;
        if (chdir(cwd) < 0) {
                if (errno != EACCES && errno != EPERM) {
                        rv_error_set(err, errno, "chdir to cwd (\"%s\") set in config.json failed", cwd);
                        goto fail;
                }
                chdir_after = true;
        }
        if (agent_caps_drop_bounding(&p->capabilities, err) < 0)
                goto fail;
        agent_timer_step(timer, "bounding set");
        if (setup_user(p, err) < 0)
                goto fail;
        agent_timer_step(timer, "user");
        if (agent_caps_apply(&p->capabilities, err) < 0)
                goto fail;
        agent_timer_step(timer, "capabilities");
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
                rv_error_set(err, errno, "keep capabilities");
                goto fail;
        }
        umask(p->user.has_umask ? p->user.umask : 0022);
        if (chdir_after && chdir(cwd) < 0) {
                rv_error_set(err, errno, "chdir to cwd (\"%s\") set in config.json failed", cwd);
                goto fail;
        }
        if (build_env(p, &x.envp, err) < 0)
                goto fail;
        agent_timer_step(timer, "env");
        if (look_path(p->args[0], x.envp, &x.path, err) < 0)
                goto fail;
        rv_debug("%s process set up: %s", is_init ? "init" : "exec", x.path);
        *ret = x;
        return 0;
fail:
        agent_exec_clear(&x);
        return -1;
}

int agent_process_seccomp(struct agent_exec *x, struct rv_error **err)
{
        if (agent_seccomp_load(x->seccomp, err) < 0)
                return -1;
        agent_seccomp_free(TAKE_PTR(x->seccomp));
        return 0;
}

int agent_process_exec(struct agent_exec *x, struct rv_error **err)
{
        _cleanup_free_ char *prefix = NULL;
        int saved;

        if (agent_seccomp_load(x->seccomp, err) < 0)
                return -1;
        execve(x->path, x->argv, x->envp);
        saved = errno;
        if (asprintf(&prefix, "exec %s", x->path) < 0)
                prefix = NULL;
        return go_error(err, saved, prefix != NULL ? prefix : "exec");
}

void agent_exec_clear(struct agent_exec *x)
{
        free(x->path);
        strv_free_n(x->envp);
        agent_seccomp_free(x->seccomp);
        *x = (struct agent_exec) { 0 };
}
