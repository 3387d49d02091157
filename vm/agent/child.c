/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/child.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libcontainer-vm/base/cleanup.h"
#include "libcontainer-vm/base/error.h"
#include "libcontainer-vm/base/fs.h"
#include "libcontainer-vm/base/log.h"
#include "spec/config.h"
#include "vm/agent/caps.h"
#include "vm/agent/mounts.h"

static void sync_send(int fd, enum agent_sync_kind kind, int errnum, const char *msg)
{
        struct agent_sync_msg m = { .kind = kind, .errnum = errnum };

        if (msg != NULL)
                snprintf(m.msg, sizeof(m.msg), "%s", msg);
        /* One write below PIPE_BUF: atomic, the agent reads one record. */
        (void) rv_write_all(fd, &m, sizeof(m));
}

/* While the process waits for start_container it is the init of its PID
 * namespace, where default actions of signals do not apply: die on the
 * signals that would kill it, like runc's waiting init does. */
static void held_signal_handler(int sig)
{
        _exit(128 + sig);
}

static void signals_reset(void)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL }, held = { .sa_handler = held_signal_handler };
        sigset_t all;

        for (int sig = 1; sig < NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                switch (sig) {
                case SIGHUP: case SIGINT: case SIGQUIT: case SIGUSR1: case SIGUSR2:
                case SIGPIPE: case SIGALRM: case SIGTERM: case SIGXCPU: case SIGXFSZ:
                case SIGVTALRM: case SIGPROF: case SIGIO: case SIGPWR: case SIGSYS:
                        sigaction(sig, &held, NULL);
                        break;
                default:
                        sigaction(sig, &dfl, NULL);     /* fails harmlessly for RT gaps */
                }
        }
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
}

static int setup_stdio(const struct agent_child_args *a, struct rv_error **err)
{
        for (int i = 0; i < 3; i++) {
                int fd = a->stdio[i];

                if (fd < 0) {
                        fd = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
                        if (fd < 0)
                                return rv_error_set(err, errno, "open `/dev/null`");
                }
                if (dup2(fd, i) < 0)
                        return rv_error_set(err, errno, "set up stdio");
        }
        return 0;
}

/* Only stdio, the two pipes to the agent and the log survive: another
 * container's pipe ends must not stay open while this one waits. */
static void close_other_fds(const struct agent_child_args *a)
{
        int keep[3] = { a->sync_fd, a->start_fd, rv_log_fd() };
        int from = 3;

        /* Sort the three (tiny insertion sort), then close the gaps. */
        for (int i = 1; i < 3; i++)
                for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        for (int i = 0; i < 3; i++) {
                if (keep[i] < from)
                        continue;
                if (keep[i] > from)
                        close_range((unsigned) from, (unsigned) keep[i] - 1, 0);
                from = keep[i] + 1;
        }
        close_range((unsigned) from, ~0u, 0);
}

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
                        return rv_error_set(err, errno, "setrlimit %s", r->type);
        }
        return 0;
}

static int setup_user(const struct spec_process *p, struct rv_error **err)
{
        const struct spec_user *u = &p->user;
        gid_t *groups = NULL;

        if (u->n_additional_gids > 0) {
                groups = calloc(u->n_additional_gids, sizeof(gid_t));
                if (groups == NULL)
                        return rv_error_set(err, ENOMEM, "setgroups");
                for (size_t i = 0; i < u->n_additional_gids; i++)
                        groups[i] = u->additional_gids[i];
        }
        if (setgroups(u->n_additional_gids, groups) < 0) {
                free(groups);
                return rv_error_set(err, errno, "setgroups");
        }
        free(groups);
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return rv_error_set(err, errno, "keep capabilities");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return rv_error_set(err, errno, "setgid %u", u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return rv_error_set(err, errno, "setuid %u", u->uid);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return rv_error_set(err, errno, "keep capabilities");
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
                char *fields[7] = { 0 }, *p = line;
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
                char *end;
                errno = 0;
                unsigned long v = strtoul(fields[2], &end, 10);
                if (errno != 0 || end == fields[2] || *end != '\0' || v != uid)
                        continue;
                return strdup(fields[5][0] != '\0' ? fields[5] : "/");
        }
        return strdup("/");
}

/* process.env, plus HOME when it is missing (runc does the same). */
static int build_env(const struct spec_process *p, char ***ret, struct rv_error **err)
{
        size_t n = 0;
        bool has_home = false;
        char **env;

        for (char **e = p->env; e != NULL && *e != NULL; e++, n++)
                if (strncmp(*e, "HOME=", 5) == 0)
                        has_home = true;
        env = calloc(n + 2, sizeof(char *));
        if (env == NULL)
                return rv_error_set(err, ENOMEM, "environment");
        for (size_t i = 0; i < n; i++)
                env[i] = p->env[i];
        if (!has_home) {
                _cleanup_free_ char *home = home_for(p->user.uid);
                if (home == NULL || asprintf(&env[n], "HOME=%s", home) < 0) {
                        free(env);
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

/* Go's exec.LookPath with the container's PATH, with its error texts
 * (callers match on them). */
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
        /* Go's ErrNotFound text, which callers match on. */
        return rv_error_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

static int child_setup(const struct agent_child_args *a, char **ret_exe, char ***ret_env,
                       struct rv_error **err)
{
        const struct spec_config *c = a->spec;
        const struct spec_process *p = &c->process;
        const char *cwd = p->cwd != NULL && p->cwd[0] != '\0' ? p->cwd : "/";

        if (setsid() < 0)
                return rv_error_set(err, errno, "setsid");
        if (setup_stdio(a, err) < 0)
                return -1;
        close_other_fds(a);
        if (agent_rootfs_prepare(c, err) < 0)
                return rv_error_wrap(err, "rootfs");
        if (c->hostname != NULL && sethostname(c->hostname, strlen(c->hostname)) < 0)
                return rv_error_set(err, errno, "sethostname `%s`", c->hostname);
        if (c->domainname != NULL && setdomainname(c->domainname, strlen(c->domainname)) < 0)
                return rv_error_set(err, errno, "setdomainname `%s`", c->domainname);
        /* runc creates a missing cwd, before / may become read-only. */
        if (rv_mkdir_p(cwd, 0755, err) < 0)
                return rv_error_wrap(err, "create cwd");
        if (agent_rootfs_finalize(c, err) < 0)
                return -1;
        if (setup_rlimits(p, err) < 0)
                return -1;
        if (p->has_oom_score_adj) {
                char v[16];
                int n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
                _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || rv_write_all(fd, v, (size_t) n) < 0)
                        return rv_error_set(err, errno, "set oom_score_adj");
        }
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return rv_error_set(err, errno, "set no_new_privs");
        if (agent_caps_drop_bounding(&p->capabilities, err) < 0)
                return -1;
        if (setup_user(p, err) < 0)
                return -1;
        if (agent_caps_apply(&p->capabilities, err) < 0)
                return -1;
        umask(p->user.has_umask ? p->user.umask : 0022);
        if (chdir(cwd) < 0)
                return rv_error_set(err, errno, "chdir to cwd (\"%s\") set in config.json failed", cwd);
        if (build_env(p, ret_env, err) < 0)
                return -1;
        if (look_path(p->args[0], *ret_env, ret_exe, err) < 0)
                return -1;
        return 0;
}

void agent_child_run(const struct agent_child_args *a)
{
        _cleanup_error_ struct rv_error *err = NULL;
        char *exe = NULL, **env = NULL;
        char go;
        ssize_t n;

        signals_reset();
        /* Logs go to the console (fd 2 until stdio is set up), never into
         * the container's stderr; the copy closes on execve. */
        rv_log_set_fd(STDERR_FILENO);
        if (child_setup(a, &exe, &env, &err) < 0) {
                sync_send(a->sync_fd, AGENT_SYNC_ERROR, err->status, err->msg);
                _exit(1);
        }
        sync_send(a->sync_fd, AGENT_SYNC_READY, 0, NULL);
        do
                n = read(a->start_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);       /* the agent gave up on this container */
        execve(exe, a->spec->process.args, env);
        int saved = errno;
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, "exec %s", exe) < 0)
                prefix = NULL;
        go_error(&err, saved, prefix != NULL ? prefix : "exec");
        sync_send(a->sync_fd, AGENT_SYNC_ERROR, saved, err->msg);
        _exit(saved == ENOENT ? 127 : 126);
}
