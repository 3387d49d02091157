/* SPDX-License-Identifier: Apache-2.0 */
/* The one hook runner (hooks/run.h), linked into runvm and the agent. */
#include "hooks/run.h"

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
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/spawn.h"
#include "spec/config.h"

/* Kept of each of stdout and stderr; the rest is read and dropped. */
#define CAPTURE_MAX (16 * 1024)
/* After the hook exited, how long its output may still trickle in from
 * children it left holding the pipes. */
#define DRAIN_GRACE_MS 1000

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

/* Without a pidfd (pidfd_open denied or missing), how often the hook's
 * exit is checked. */
#define POLL_EXIT_MS 10

/* The exit of pid, by its pidfd or, without one, by polling: true once it
 * is reaped (status filled). */
static bool reap_nohang(pid_t pid, int *status)
{
        pid_t r;

        do
                r = waitpid(pid, status, WNOHANG);
        while (r < 0 && errno == EINTR);
        return r == pid || (r < 0 && errno == ECHILD);
}

int hooks_run_one(const struct spec_hook *h, const char *state_json, const char *cwd,
                  char *const *default_env, struct rv_error **err)
{
        char *default_argv[] = { h->path, NULL };
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
        _cleanup_free_ struct capture *co = calloc(1, sizeof(*co));
        _cleanup_free_ struct capture *ce = calloc(1, sizeof(*ce));
        struct feed feed = { .fd = -1, .data = state_json, .len = strlen(state_json) };
        int timeout_s = h->has_timeout && h->timeout > 0 ? h->timeout : HOOKS_DEFAULT_TIMEOUT_S;
        int pidfd = -1, status = 0, r;
        bool exited = false, reaped = false, timed_out = false;
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
                /* NULL: rv_spawn inherits the caller's environment. */
                .envp = h->env ? h->env : default_env,
                .stdin_fd = in[0], .stdout_fd = out[1], .stderr_fd = errp[1],
                .cwd = cwd,
                /* A monitor killed mid-hook (delete --force while creating)
                 * takes the hook with it: nothing it started outlives it. */
                .pdeathsig = true,
                .setup = hook_setup,
        };
        r = rv_spawn_start(&s, &pid, NULL, err);
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
        pidfd = rv_pidfd_open(pid);

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
                        { exited || pidfd < 0 ? -1 : pidfd, POLLIN, 0 },
                        { co->fd, POLLIN, 0 },
                        { ce->fd, POLLIN, 0 },
                        { feed.fd, POLLOUT, 0 },
                };
                int wait_ms = (int) (deadline - now);
                if (pidfd < 0 && !exited && wait_ms > POLL_EXIT_MS)
                        wait_ms = POLL_EXIT_MS;
                if (poll(pfd, 4, wait_ms) < 0 && errno != EINTR)
                        break;
                if (pfd[3].revents)
                        feed_write(&feed);
                if (pfd[1].revents)
                        capture_read(co);
                if (pfd[2].revents)
                        capture_read(ce);
                if (!exited && (pfd[0].revents || (pidfd < 0 && reap_nohang(pid, &status)))) {
                        exited = true;
                        reaped = pidfd < 0;
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
        while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (pidfd >= 0)
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

int hooks_run_env(const struct spec_hook_list *list, const char *phase, const char *state_json,
                  const char *cwd, char *const *default_env, struct rv_error **err)
{
        for (size_t i = 0; list && i < list->n; i++) {
                rv_debug("running %s hook #%zu: %s", phase, i, list->hooks[i].path);
                if (hooks_run_one(&list->hooks[i], state_json, cwd, default_env, err) < 0)
                        return rv_error_wrap(err, "error running %s hook #%zu", phase, i);
        }
        return 0;
}

int hooks_run(const struct spec_hook_list *list, const char *phase, const char *state_json,
              const char *cwd, struct rv_error **err)
{
        return hooks_run_env(list, phase, state_json, cwd, NULL, err);
}
