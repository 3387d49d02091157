/* SPDX-License-Identifier: Apache-2.0 */
/* runvm exec: build the process, hand stdio to the container's monitor,
 * and stand in for the process on the host until it exits. */
#include "libcontainer-vm/container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/stdio.h"
#include "libcontainer-vm/tty.h"
#include "spec/config.h"
#include "spec/json.h"

#define EXEC_START_TIMEOUT_MS 60000

/* --- the process ------------------------------------------------------------ */

static int strv_add(char ***v, const char *s)
{
        size_t n = 0;
        while (*v && (*v)[n])
                n++;
        char **nv = realloc(*v, (n + 2) * sizeof(char *));
        if (nv == NULL)
                return -1;
        nv[n] = strdup(s);
        nv[n + 1] = NULL;
        *v = nv;
        return nv[n] ? 0 : -1;
}

static int strv_dup(char *const *src, char ***ret)
{
        char **v = NULL;
        for (size_t i = 0; src && src[i]; i++)
                if (strv_add(&v, src[i]) < 0) {
                        rv_strv_free(v);
                        return -1;
                }
        if (v == NULL && (v = calloc(1, sizeof(char *))) == NULL)
                return -1;
        *ret = v;
        return 0;
}

/* -e K=V replaces K or is appended. */
static int env_set(char ***env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);

        for (char **p = *env; p && *p; p++) {
                if (strncmp(*p, kv, klen) == 0 && ((*p)[klen] == '=' || (*p)[klen] == '\0')) {
                        char *n = strdup(kv);
                        if (n == NULL)
                                return -1;
                        free(*p);
                        *p = n;
                        return 0;
                }
        }
        return strv_add(env, kv);
}

static int parse_id(const char *s, uint32_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > UINT32_MAX)
                return -1;
        *ret = (uint32_t) v;
        return 0;
}

/* The container's files are written by the guest: big enough for any
 * real passwd, small enough that reading one costs nothing. */
#define ACCOUNT_FILE_MAX (4u << 20)

/* Looks name up in the container's /etc/passwd or /etc/group, read through
 * the rootfs with RESOLVE_IN_ROOT so no symlink leads out of it. The file
 * is the guest's: opened without blocking (a fifo there must not hang
 * exec), a regular file only, read up to ACCOUNT_FILE_MAX. */
static int lookup_name(const char *rootfs, const char *file, const char *name, uint32_t *ret_id,
                       uint32_t *ret_gid, struct rv_error **err)
{
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        char line[4096];
        size_t total = 0;
        struct stat st;

        if (rootfd < 0)
                return rv_error_set(err, errno, "rootfs `%s`", rootfs);
        fd = (int) syscall(SYS_openat2, rootfd, file, &how, sizeof(how));
        if (fd < 0)
                return rv_error_set(err, errno, "unable to find user %s: open %s", name, file);
        if (fstat(fd, &st) < 0)
                return rv_error_set(err, errno, "unable to find user %s: stat %s", name, file);
        if (!S_ISREG(st.st_mode))
                return rv_error_setx(err, EINVAL, "unable to find user %s: the container's %s is not a "
                                     "regular file", name, file);
        if (st.st_size > ACCOUNT_FILE_MAX)
                return rv_error_setx(err, EFBIG, "unable to find user %s: the container's %s is larger "
                                     "than %u bytes", name, file, ACCOUNT_FILE_MAX);
        f = fdopen(fd, "r");
        if (f == NULL)
                return rv_error_set(err, errno, "read %s", file);
        fd = -EBADF;
        /* It may grow while it is read: the cap holds for what is read. */
        while (total < ACCOUNT_FILE_MAX && fgets(line, sizeof(line), f)) {
                total += strlen(line);
                char *fields[4] = { 0 };
                char *save = NULL, *p = line;
                for (int i = 0; i < 4; i++) {
                        fields[i] = strsep(&p, ":\n");
                        if (fields[i] == NULL)
                                break;
                }
                (void) save;
                if (fields[0] == NULL || fields[2] == NULL || strcmp(fields[0], name) != 0)
                        continue;
                if (parse_id(fields[2], ret_id) < 0)
                        continue;
                if (ret_gid && (fields[3] == NULL || parse_id(fields[3], ret_gid) < 0))
                        continue;
                return 0;
        }
        return rv_error_setx(err, ENOENT, "unable to find %s %s: no matching entries in %s file",
                             ret_gid ? "user" : "group", name, ret_gid ? "passwd" : "group");
}

/* uid[:gid] or name[:group], like runc exec --user plus names. */
static int apply_user(struct spec_process *p, const char *rootfs, const char *spec, struct rv_error **err)
{
        _cleanup_free_ char *copy = strdup(spec);
        char *group;
        uint32_t gid;

        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "user");
        group = strchr(copy, ':');
        if (group)
                *group++ = '\0';
        if (parse_id(copy, &p->user.uid) < 0) {
                if (lookup_name(rootfs, "/etc/passwd", copy, &p->user.uid, &gid, err) < 0)
                        return -1;
                p->user.gid = gid;
        }
        if (group) {
                if (parse_id(group, &p->user.gid) < 0 &&
                    lookup_name(rootfs, "/etc/group", group, &p->user.gid, NULL, err) < 0)
                        return -1;
        }
        return 0;
}

static int copy_process(const struct spec_process *from, struct spec_process *ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len;

        spec_process_write(w, from);
        if (json_writer_finish(w, &text, &len, err) < 0 || json_parse(text, len, &v, err) < 0)
                return -1;
        return spec_process_from_json(v, "process", ret, err);
}

static int build_process(const struct container_exec_options *o, const struct container_state *st,
                         struct spec_process *p, struct rv_error **err)
{
        _cleanup_(spec_config_freep) struct spec_config *config = NULL;
        _cleanup_free_ char *config_path = NULL;

        if (o->process_path)
                return spec_process_parse_file(o->process_path, p, err) < 0 ||
                       spec_process_validate(p, err) < 0 ? -1 : 0;
        if (o->args == NULL || o->args[0] == NULL)
                return rv_error_setx(err, EINVAL, "exec: no command given: args must not be empty");
        if (asprintf(&config_path, "%s/config.json", st->bundle) < 0)
                return rv_error_set(err, ENOMEM, "exec");
        if (spec_config_parse_file(config_path, &config, err) < 0)
                return -1;
        if (!config->has_process)
                return rv_error_setx(err, EINVAL, "exec: the container's config has no process");
        if (copy_process(&config->process, p, err) < 0)
                return -1;
        rv_strv_free(p->args);
        p->args = NULL;
        if (strv_dup(o->args, &p->args) < 0)
                return rv_error_set(err, ENOMEM, "exec");
        p->terminal = o->tty;
        if (o->cwd) {
                free(p->cwd);
                p->cwd = strdup(o->cwd);
        }
        for (char *const *e = o->env; e && *e; e++)
                if (env_set(&p->env, *e) < 0)
                        return rv_error_set(err, ENOMEM, "exec");
        if (o->user && apply_user(p, st->rootfs, o->user, err) < 0)
                return -1;
        for (char *const *g = o->additional_gids; g && *g; g++) {
                uint32_t gid;
                if (parse_id(*g, &gid) < 0)
                        return rv_error_setx(err, EINVAL, "invalid additional group `%s`", *g);
                uint32_t *n = realloc(p->user.additional_gids, (p->user.n_additional_gids + 1) * sizeof(*n));
                if (n == NULL)
                        return rv_error_set(err, ENOMEM, "exec");
                n[p->user.n_additional_gids++] = gid;
                p->user.additional_gids = n;
        }
        for (char *const *c = o->caps; c && *c; c++) {
                struct spec_capabilities *caps = &p->capabilities;
                caps->has = true;
                if (strv_add(&caps->bounding, *c) < 0 || strv_add(&caps->effective, *c) < 0 ||
                    strv_add(&caps->permitted, *c) < 0 || strv_add(&caps->ambient, *c) < 0)
                        return rv_error_set(err, ENOMEM, "exec");
        }
        if (o->no_new_privs)
                p->no_new_privileges = true;
        if (o->apparmor) {
                free(p->apparmor_profile);
                p->apparmor_profile = strdup(o->apparmor);
        }
        if (o->process_label) {
                free(p->selinux_label);
                p->selinux_label = strdup(o->process_label);
        }
        return spec_process_validate(p, err);
}

/* --- the session ------------------------------------------------------------- */

struct session {
        int ctl_fd;
        int sigfd;
        int tty_fd;                     /* for window sizes, or -1 */
        bool terminal;
};

static int send_header(int fd, uint32_t command, int32_t arg)
{
        struct ctl_header h = { .command = command, .arg = arg };
        return rv_write_all(fd, &h, sizeof(h));
}

static void handle_signals(struct session *s)
{
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGWINCH) {
                        uint16_t h, w;
                        if (s->terminal && s->tty_fd >= 0 && tty_get_size(s->tty_fd, &h, &w) == 0)
                                send_header(s->ctl_fd, CTL_RESIZE, (int32_t) ((uint32_t) h << 16 | w));
                } else if (si.ssi_signo != SIGURG) {
                        send_header(s->ctl_fd, CTL_KILL, (int32_t) si.ssi_signo);
                }
        }
}

/* Waits for the final reply: the process's exit. */
static int wait_exit(struct session *s, int *ret_code, int *ret_signal, struct rv_error **err)
{
        for (;;) {
                struct pollfd pfd[2] = { { s->ctl_fd, POLLIN, 0 }, { s->sigfd, POLLIN, 0 } };
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return rv_error_set(err, errno, "poll");
                }
                if (pfd[1].revents)
                        handle_signals(s);
                if (!pfd[0].revents)
                        continue;
                _cleanup_free_ char *payload = NULL;
                _cleanup_(json_value_freep) struct json_value *v = NULL;
                const struct json_value *x;
                int64_t n = 0;
                size_t len;
                if (ctl_read_reply(s->ctl_fd, -1, &payload, &len, err) < 0) {
                        /* The monitor went away: the container, and this process, died. */
                        rv_error_release(err);
                        *ret_code = 0;
                        *ret_signal = SIGKILL;
                        return 0;
                }
                if (json_parse(payload, len, &v, err) < 0)
                        return -1;
                *ret_code = 0;
                *ret_signal = 0;
                if ((x = json_get(v, "signal")) && json_read_int64(x, "signal", &n, err) == 0)
                        *ret_signal = (int) n;
                else if ((x = json_get(v, "exit_code")) && json_read_int64(x, "exit_code", &n, err) == 0)
                        *ret_code = (int) n;
                return 0;
        }
}

/* Connects, hands over stdio, waits until the process started. */
static int session_start(struct session *s, int dirfd, const char *payload, const int *fds, size_t n_fds,
                         bool ignore_paused, struct rv_error **err)
{
        struct ctl_header h = {
                .command = CTL_EXEC, .length = (uint32_t) strlen(payload),
                .flags = (s->terminal ? CTL_FLAG_TERMINAL : 0) | (ignore_paused ? CTL_FLAG_IGNORE_PAUSED : 0),
        };

        s->ctl_fd = ctl_connect(dirfd, err);
        if (s->ctl_fd < 0)
                return -1;
        if (ctl_send_request(s->ctl_fd, &h, payload, fds, n_fds, err) < 0)
                return -1;
        /* Into a paused container the process starts only when it is
         * resumed, whenever that is (runc waits as well). */
        return ctl_read_reply(s->ctl_fd, ignore_paused ? -1 : EXEC_START_TIMEOUT_MS, NULL, NULL, err);
}

struct start_report {
        int32_t status;
        char message[2048];
};

static int payload_json(const struct spec_process *p, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);

        json_write_object_begin(w);
        json_write_key(w, "process");
        spec_process_write(w, p);
        /* The monitor's pid namespace cannot name this process: it is
         * told (for `ps`, which lists the exec monitors' host pids). */
        json_write_key(w, "client_pid");
        json_write_int64(w, getpid());
        json_write_object_end(w);
        return json_writer_finish(w, ret, NULL, err);
}

/* The exec monitor: in the foreground this process, detached a child that
 * reports "started" (or the error) through report_fd and lives on. */
static int run_session(int dirfd, struct spec_process *p, const struct container_exec_options *o,
                       int report_fd, int *ret_status, struct rv_error **err)
{
        struct session s = { .ctl_fd = -1, .sigfd = -1, .tty_fd = -1, .terminal = p->terminal };
        _cleanup_free_ char *payload = NULL;
        _cleanup_close_ int slave = -EBADF;
        struct termios saved;
        bool raw = false;
        sigset_t set;
        int fds[3] = { 0, 1, 2 };
        size_t n_fds = 3;
        int code = 0, sig = 0, r;

        monitor_signal_set(&set);
        sigprocmask(SIG_BLOCK, &set, NULL);
        s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s.sigfd < 0)
                return rv_error_set(err, errno, "signalfd");
        if (p->terminal && o->console_socket) {
                if (tty_console_create(o->console_socket, p->console_size.has ? (uint16_t) p->console_size.height : 0,
                                       p->console_size.has ? (uint16_t) p->console_size.width : 0, &slave, err) < 0)
                        return -1;
                /* Resizes of the caller's master arrive here as SIGWINCH. */
                if (tty_make_controlling(slave, err) < 0)
                        return -1;
                s.tty_fd = slave;
                fds[0] = slave;
                n_fds = 1;
        } else if (p->terminal) {
                uint16_t h, w;
                s.tty_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
                if (!p->console_size.has && s.tty_fd >= 0 && tty_get_size(s.tty_fd, &h, &w) == 0 && h && w)
                        p->console_size = (struct spec_box) { true, h, w };
                n_fds = 2;
        }
        if (payload_json(p, &payload, err) < 0)
                return -1;
        r = session_start(&s, dirfd, payload, fds, n_fds, o->ignore_paused, err);
        if (report_fd >= 0) {
                struct start_report rep = { .status = r < 0 ? ((*err)->status ? (*err)->status : EIO) : 0 };
                if (r < 0)
                        snprintf(rep.message, sizeof(rep.message), "%s", (*err)->msg);
                rv_write_all(report_fd, &rep, sizeof(rep));
                close(report_fd);
        }
        if (r < 0)
                return -1;
        /* In the foreground this process stands in for the exec'd one (it
         * relays signals), so its pid is the one runc's callers get. A pid
         * file that cannot be written ends the process, as runc does. */
        if (report_fd < 0 && o->pid_file && rv_write_pid_file(o->pid_file, getpid(), err) < 0) {
                struct rv_error *tmp_err = NULL;
                send_header(s.ctl_fd, CTL_KILL, SIGKILL);
                if (wait_exit(&s, &code, &sig, &tmp_err) < 0)
                        rv_error_release(&tmp_err);
                close(s.ctl_fd);
                close(s.sigfd);
                return -1;
        }
        rv_debug("exec: process started%s", o->detach ? " (detached)" : "");
        /* The monitor holds the process's stdio now; a detached exec monitor
         * must not keep the caller's pipes open. */
        if (report_fd >= 0) {
                struct rv_error *tmp_err = NULL;
                if (stdio_release(&tmp_err) < 0)
                        rv_debug("exec: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        if (p->terminal && o->console_socket == NULL && s.tty_fd >= 0) {
                struct rv_error *tmp_err = NULL;
                if (tty_set_raw(s.tty_fd, &saved, &raw, &tmp_err) < 0)
                        rv_warn("%s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        r = wait_exit(&s, &code, &sig, err);
        if (raw)
                tty_restore(s.tty_fd, &saved);
        close(s.ctl_fd);
        close(s.sigfd);
        if (r < 0)
                return -1;
        rv_debug("exec: process exited (code %d, signal %d)", code, sig);
        if (report_fd >= 0)
                rv_exit_like(code, sig);
        *ret_status = sig ? 128 + sig : code;
        return 0;
}

int container_exec(const struct runvm_context *ctx, const struct container_exec_options *o,
                   int *ret_status, struct rv_error **err)
{
        _cleanup_(container_state_freep) struct container_state *st = NULL;
        struct state_dir dir = STATE_DIR_INIT;
        struct spec_process p = { 0 };
        int r = -1;

        if (!container_id_is_valid(o->id))
                return rv_error_setx(err, EINVAL, "invalid container ID format");
        if (o->preserve_fds > 0)
                return rv_error_setx(err, ENOTSUP, "--preserve-fds: file descriptors cannot be passed "
                                     "into a VM");
        if (state_dir_open(ctx->root, o->id, false, &dir, err) < 0)
                return -1;
        if (state_load(dir.dirfd, &st, err) < 0)
                goto out;
        enum container_status status = container_state_status(st);
        if (!(status == CONTAINER_PAUSED && o->ignore_paused) &&
            container_status_check(status, CONTAINER_OP_EXEC, err) < 0)
                goto out;
        if (build_process(o, st, &p, err) < 0)
                goto out;
        if (p.terminal && o->detach && o->console_socket == NULL) {
                rv_error_setx(err, EINVAL, "cannot allocate tty if runvm will detach without setting console socket");
                goto out;
        }
        if (o->console_socket && (!o->detach || !p.terminal)) {
                rv_error_setx(err, EINVAL, "cannot use console socket if runvm will not detach or allocate tty");
                goto out;
        }
        if (!o->detach) {
                r = run_session(dir.dirfd, &p, o, -1, ret_status, err);
                goto out;
        }
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                rv_error_set(err, errno, "pipe");
                goto out;
        }
        pid_t pid = fork();
        if (pid < 0) {
                rv_error_set(err, errno, "fork");
                close(pipefd[0]);
                close(pipefd[1]);
                goto out;
        }
        if (pid == 0) {
                struct rv_error *child_err = NULL;
                int status;
                close(pipefd[0]);
                setsid();
                prctl(PR_SET_NAME, "runvm-exec");
                if (run_session(dir.dirfd, &p, o, pipefd[1], &status, &child_err) < 0)
                        _exit(255);
                _exit(status);
        }
        close(pipefd[1]);
        struct start_report rep;
        ssize_t n = rv_read_all(pipefd[0], &rep, sizeof(rep));
        close(pipefd[0]);
        if (n != (ssize_t) sizeof(rep) || rep.status != 0) {
                rep.message[sizeof(rep.message) - 1] = '\0';
                rv_error_setx(err, n == (ssize_t) sizeof(rep) ? rep.status : EIO, "%s",
                              n == (ssize_t) sizeof(rep) ? rep.message : "the exec monitor died");
                waitpid(pid, NULL, 0);
                goto out;
        }
        if (o->pid_file && rv_write_pid_file(o->pid_file, pid, err) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                goto out;
        }
        *ret_status = 0;
        r = 0;
out:
        spec_process_clear(&p);
        state_dir_close(&dir);
        return r;
}
