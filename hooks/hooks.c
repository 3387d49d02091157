/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks on the host, the way runc runs them (libcontainer/configs
 * Command.Run), with every wait bounded. */
#include "hooks/hooks.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/spawn.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"

/* Kept of each of stdout and stderr; the rest is read and dropped. */
#define CAPTURE_MAX (16 * 1024)
/* After the hook exited, how long its output may still trickle in from
 * children it left holding the pipes. */
#define DRAIN_GRACE_MS 1000
#define POSTSTOP_FILE_MAX (4 << 20)

struct capture {
        int fd;
        char buf[CAPTURE_MAX + 1];
        size_t len;
};

/* Reads what is there; closes fd at EOF or on error. */
static void capture_read(struct capture *c)
{
        char drop[4096];

        while (c->fd >= 0) {
                char *p = c->len < CAPTURE_MAX ? c->buf + c->len : drop;
                size_t room = c->len < CAPTURE_MAX ? CAPTURE_MAX - c->len : sizeof(drop);
                ssize_t n = read(c->fd, p, room);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        close(c->fd);
                        c->fd = -1;
                        return;
                }
                if (p != drop)
                        c->len += (size_t) n;
        }
}

struct feed {
        int fd;
        const char *data;
        size_t len, off;
};

/* write(2) that turns a reader gone into EPIPE without a SIGPIPE, whatever
 * the caller's disposition (delete runs in the CLI, which keeps the
 * default). */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
        sigset_t pipe_set, old, pending;
        bool was_pending;
        ssize_t n;
        int e;

        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        was_pending = sigismember(&pending, SIGPIPE);
        sigprocmask(SIG_BLOCK, &pipe_set, &old);
        n = write(fd, buf, len);
        e = errno;
        if (n < 0 && e == EPIPE && !was_pending) {
                struct timespec zero = { 0, 0 };
                sigtimedwait(&pipe_set, NULL, &zero);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        errno = e;
        return n;
}

static void feed_write(struct feed *f)
{
        while (f->fd >= 0 && f->off < f->len) {
                ssize_t n = write_nosigpipe(f->fd, f->data + f->off, f->len - f->off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0)              /* EPIPE: the hook does not read its stdin */
                        break;
                f->off += (size_t) n;
        }
        if (f->fd >= 0) {
                close(f->fd);
                f->fd = -1;
        }
}

/* In the child: its own process group, so a timeout kills what it started. */
static int hook_setup(void *data, char *msg, size_t msg_size)
{
        if (setpgid(0, 0) < 0) {
                snprintf(msg, msg_size, "setpgid");
                return -1;
        }
        return 0;
}

/* Go's ExitError text, which runc prints: "exit status 1", "signal: killed". */
static void describe_status(int status, char *buf, size_t size)
{
        if (WIFEXITED(status)) {
                snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
        } else if (WIFSIGNALED(status)) {
                const char *name = strsignal(WTERMSIG(status));
                snprintf(buf, size, "signal: %s", name ? name : "unknown signal");
                char *p = buf + strlen("signal: ");
                *p = (char) tolower((unsigned char) *p);
        } else {
                snprintf(buf, size, "wait status %#x", status);
        }
}

static int pipe_pair(int fds[2], bool parent_reads, struct rv_error **err)
{
        if (pipe2(fds, O_CLOEXEC) < 0)
                return rv_error_set(err, errno, "pipe");
        int parent = parent_reads ? fds[0] : fds[1];
        if (fcntl(parent, F_SETFL, O_NONBLOCK) < 0) {
                int e = errno;
                close(fds[0]);
                close(fds[1]);
                return rv_error_set(err, e, "pipe");
        }
        return 0;
}

static void close_pair(int fds[2])
{
        for (int i = 0; i < 2; i++) {
                if (fds[i] >= 0)
                        close(fds[i]);
                fds[i] = -1;
        }
}

/* Runs one hook. On failure the message is runc's inner one. */
static int run_one(const struct spec_hook *h, const char *state_json, const char *cwd,
                   struct rv_error **err)
{
        char *default_argv[] = { h->path, NULL };
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
        _cleanup_free_ struct capture *co = calloc(1, sizeof(*co));
        _cleanup_free_ struct capture *ce = calloc(1, sizeof(*ce));
        struct feed feed = { .fd = -1, .data = state_json, .len = strlen(state_json) };
        int timeout_s = h->has_timeout ? h->timeout : HOOKS_DEFAULT_TIMEOUT_S;
        int pidfd = -1, status = 0, r;
        bool exited = false, timed_out = false;
        pid_t pid;

        if (co == NULL || ce == NULL)
                return rv_error_set(err, ENOMEM, "run hook");
        co->fd = ce->fd = -1;
        if (pipe_pair(in, false, err) < 0 || pipe_pair(out, true, err) < 0 ||
            pipe_pair(errp, true, err) < 0) {
                close_pair(in);
                close_pair(out);
                return -1;
        }
        struct rv_spawn s = {
                .argv = h->args && h->args[0] ? h->args : default_argv,
                .path = h->path,
                .envp = h->env,
                .stdin_fd = in[0], .stdout_fd = out[1], .stderr_fd = errp[1],
                .cwd = cwd,
                /* A monitor killed mid-hook (delete --force while creating)
                 * takes the hook with it: nothing it started outlives it. */
                .pdeathsig = true,
                .setup = hook_setup,
        };
        r = rv_spawn_start(&s, &pid, &pidfd, err);
        close(in[0]);
        close(out[1]);
        close(errp[1]);
        feed.fd = in[1];
        co->fd = out[0];
        ce->fd = errp[0];
        if (r < 0) {
                close(feed.fd);
                close(co->fd);
                close(ce->fd);
                return -1;
        }

        int64_t deadline = rv_now_ms() + (int64_t) timeout_s * 1000;
        for (;;) {
                int64_t now = rv_now_ms();
                if (exited && (co->fd < 0 && ce->fd < 0))
                        break;
                if (now >= deadline) {
                        if (!exited)
                                timed_out = true;
                        break;
                }
                struct pollfd pfd[4] = {
                        { exited ? -1 : pidfd, POLLIN, 0 },
                        { co->fd, POLLIN, 0 },
                        { ce->fd, POLLIN, 0 },
                        { feed.fd, POLLOUT, 0 },
                };
                if (poll(pfd, 4, (int) (deadline - now)) < 0 && errno != EINTR)
                        break;
                if (pfd[3].revents)
                        feed_write(&feed);
                if (pfd[1].revents)
                        capture_read(co);
                if (pfd[2].revents)
                        capture_read(ce);
                if (pfd[0].revents && !exited) {
                        exited = true;
                        /* Children the hook left behind may hold the pipes. */
                        if (deadline > rv_now_ms() + DRAIN_GRACE_MS)
                                deadline = rv_now_ms() + DRAIN_GRACE_MS;
                }
        }
        if (feed.fd >= 0)
                close(feed.fd);
        if (co->fd >= 0)
                close(co->fd);
        if (ce->fd >= 0)
                close(ce->fd);
        if (!exited) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close(pidfd);
        if (timed_out) {
                if (h->has_timeout)
                        return rv_error_setx(err, ETIMEDOUT, "hook ran past specified timeout of %.1fs",
                                            (double) timeout_s);
                return rv_error_setx(err, ETIMEDOUT, "hook ran past runvm's default timeout of %.1fs",
                                    (double) timeout_s);
        }
        if (!exited)
                return rv_error_set(err, errno, "wait for the hook");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        char what[128];
        describe_status(status, what, sizeof(what));
        co->buf[co->len] = '\0';
        ce->buf[ce->len] = '\0';
        return rv_error_setx(err, 0, "error running hook: %s, stdout: %s, stderr: %s", what,
                             co->buf, ce->buf);
}

int hooks_run(const struct spec_hook_list *list, const char *phase, const char *state_json,
              const char *cwd, struct rv_error **err)
{
        for (size_t i = 0; list && i < list->n; i++) {
                rv_debug("running %s hook #%zu: %s", phase, i, list->hooks[i].path);
                if (run_one(&list->hooks[i], state_json, cwd, err) < 0)
                        return rv_error_wrap(err, "error running %s hook #%zu", phase, i);
        }
        return 0;
}

int hooks_state_json(const struct spec_state *s, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);

        spec_state_write_hook(w, s);
        if (json_writer_finish(w, ret, NULL, err) < 0)
                return rv_error_wrap(err, "hook state");
        return 0;
}

/* --- poststop hooks kept for delete -------------------------------------- */

static void write_strv(struct json_writer *w, const char *key, char **v)
{
        if (v == NULL)
                return;
        json_write_key(w, key);
        json_write_array_begin(w);
        for (char **p = v; *p; p++)
                json_write_string(w, *p);
        json_write_array_end(w);
}

int hooks_poststop_save(int dirfd, const struct spec_hook_list *poststop,
                        const struct spec_state *s, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_free_ char *state = NULL, *text = NULL;
        size_t len = 0;

        if (poststop == NULL || poststop->n == 0)
                return 0;
        if (hooks_state_json(s, &state, err) < 0)
                return -1;
        json_write_object_begin(w);
        json_write_key(w, "state");
        json_write_string(w, state);
        json_write_key(w, "hooks");
        json_write_array_begin(w);
        for (size_t i = 0; i < poststop->n; i++) {
                const struct spec_hook *h = &poststop->hooks[i];
                json_write_object_begin(w);
                json_write_key(w, "path");
                json_write_string(w, h->path);
                write_strv(w, "args", h->args);
                write_strv(w, "env", h->env);
                if (h->has_timeout) {
                        json_write_key(w, "timeout");
                        json_write_int64(w, h->timeout);
                }
                json_write_object_end(w);
        }
        json_write_array_end(w);
        json_write_object_end(w);
        if (json_writer_finish(w, &text, &len, err) < 0 ||
            rv_write_file_atomic(dirfd, HOOKS_POSTSTOP_FILE, text, len, 0600, err) < 0)
                return rv_error_wrap(err, "save poststop hooks");
        return 0;
}

static void hook_list_clear(struct spec_hook_list *l)
{
        for (size_t i = 0; l->hooks && i < l->n; i++) {
                free(l->hooks[i].path);
                rv_strv_free(l->hooks[i].args);
                rv_strv_free(l->hooks[i].env);
        }
        free(l->hooks);
        l->hooks = NULL;
        l->n = 0;
}

static int read_hook(const struct json_value *v, size_t i, struct spec_hook *h, struct rv_error **err)
{
        const struct json_value *x;
        const char *path;
        char where[64];

        snprintf(where, sizeof(where), "hooks[%zu]", i);
        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`%s`: expected an object", where);
        if (json_read_string(json_get(v, "path"), where, &path, err) < 0)
                return -1;
        if ((h->path = strdup(path)) == NULL)
                return rv_error_set(err, ENOMEM, "%s", where);
        if ((x = json_get(v, "args")) && json_read_strv(x, where, &h->args, err) < 0)
                return -1;
        if ((x = json_get(v, "env")) && json_read_strv(x, where, &h->env, err) < 0)
                return -1;
        if ((x = json_get(v, "timeout"))) {
                if (json_read_int32(x, where, &h->timeout, err) < 0)
                        return -1;
                h->has_timeout = h->timeout > 0;
        }
        return 0;
}

int hooks_poststop_run_saved(int dirfd, const char *cwd, struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_value_freep) struct json_value *root = NULL;
        struct spec_hook_list list = { 0 };
        const struct json_value *hooks;
        const char *state;
        size_t len = 0;
        int r = -1;

        if (rv_read_file_at(dirfd, HOOKS_POSTSTOP_FILE, POSTSTOP_FILE_MAX, &text, &len, err) < 0) {
                if ((*err)->status == ENOENT) {
                        rv_error_release(err);
                        return 0;
                }
                return rv_error_wrap(err, "poststop hooks");
        }
        /* Whatever happens next, they are not run twice. */
        unlinkat(dirfd, HOOKS_POSTSTOP_FILE, 0);
        if (json_parse(text, len, &root, err) < 0 ||
            json_read_string(json_get(root, "state"), "state", &state, err) < 0)
                return rv_error_wrap(err, "poststop hooks");
        hooks = json_get(root, "hooks");
        if (!json_is_array(hooks))
                return rv_error_setx(err, EINVAL, "poststop hooks: `hooks`: expected an array");
        list.n = json_array_size(hooks);
        list.hooks = calloc(list.n ? list.n : 1, sizeof(*list.hooks));
        if (list.hooks == NULL)
                return rv_error_set(err, ENOMEM, "poststop hooks");
        for (size_t i = 0; i < list.n; i++) {
                if (read_hook(json_array_get(hooks, i), i, &list.hooks[i], err) < 0) {
                        rv_error_wrap(err, "poststop hooks");
                        goto out;
                }
        }
        r = hooks_run(&list, "poststop", state, cwd, err);
out:
        hook_list_clear(&list);
        return r;
}
