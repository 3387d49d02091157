/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/hook.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"
#include "spec/json.h"

#define HOOK_OUTPUT_MAX 16384           /* per stream, kept for the error text */

struct capture {
        int fd;
        char buf[HOOK_OUTPUT_MAX];
        size_t len;
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void capture_read(struct capture *c)
{
        char tmp[4096];
        ssize_t n = read(c->fd, tmp, sizeof(tmp));

        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        close(c->fd);
                        c->fd = -1;
                }
                return;
        }
        size_t keep = (size_t) n;
        if (keep > sizeof(c->buf) - 1 - c->len)
                keep = sizeof(c->buf) - 1 - c->len;
        memcpy(c->buf + c->len, tmp, keep);
        c->len += keep;
        c->buf[c->len] = '\0';
}

__attribute__((noreturn)) static void hook_exec(const struct spec_hook *h, int in, int out, int errfd)
{
        char *argv0[] = { h->path, NULL };
        char *envp0[] = { NULL };

        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
                _exit(127);
        close_range(3, ~0u, 0);
        execve(h->path, h->args != NULL && h->args[0] != NULL ? h->args : argv0,
               h->env != NULL ? h->env : envp0);
        dprintf(2, "fork/exec %s: %s", h->path, strerror(errno));
        _exit(127);
}

static int hook_run(const struct spec_hook *h, const char *state, char *ret_cause, size_t cause_size,
                    struct capture *out, struct capture *errc)
{
        int in_pipe[2], out_pipe[2], err_pipe[2], status = 0;
        /* Without a timeout the host's default applies here too, so the
         * host's wait for start always outlasts the hook. */
        int timeout_s = h->has_timeout && h->timeout > 0 ? h->timeout : SPEC_HOOK_DEFAULT_TIMEOUT_S;
        int64_t deadline = now_ms() + (int64_t) timeout_s * 1000;
        size_t state_len = strlen(state), written = 0;
        bool reaped = false;
        pid_t pid;

        if (h->path == NULL || h->path[0] != '/') {
                snprintf(ret_cause, cause_size, "hook path `%s` is not absolute", h->path ? h->path : "");
                return -1;
        }
        if (pipe2(in_pipe, O_CLOEXEC) < 0)
                return snprintf(ret_cause, cause_size, "pipe: %s", strerror(errno)), -1;
        if (pipe2(out_pipe, O_CLOEXEC) < 0) {
                close(in_pipe[0]); close(in_pipe[1]);
                return snprintf(ret_cause, cause_size, "pipe: %s", strerror(errno)), -1;
        }
        if (pipe2(err_pipe, O_CLOEXEC) < 0) {
                close(in_pipe[0]); close(in_pipe[1]); close(out_pipe[0]); close(out_pipe[1]);
                return snprintf(ret_cause, cause_size, "pipe: %s", strerror(errno)), -1;
        }
        pid = fork();
        if (pid < 0) {
                snprintf(ret_cause, cause_size, "fork: %s", strerror(errno));
                close(in_pipe[0]); close(in_pipe[1]); close(out_pipe[0]); close(out_pipe[1]);
                close(err_pipe[0]); close(err_pipe[1]);
                return -1;
        }
        if (pid == 0)
                hook_exec(h, in_pipe[0], out_pipe[1], err_pipe[1]);
        close(in_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[1]);
        out->fd = out_pipe[0];
        errc->fd = err_pipe[0];
        fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
        int in_fd = in_pipe[1];
        if (state_len == 0) {
                close(in_fd);
                in_fd = -1;
        }

        for (;;) {
                struct pollfd p[3];
                nfds_t n = 0;
                int timeout = 100;      /* re-check the child even without output */

                if (!reaped) {
                        pid_t r = waitpid(pid, &status, WNOHANG);
                        if (r == pid)
                                reaped = true;
                }
                if (reaped && out->fd < 0 && errc->fd < 0)
                        break;
                if (deadline >= 0 && now_ms() >= deadline) {
                        if (!reaped) {
                                kill(pid, SIGKILL);
                                waitpid(pid, &status, 0);
                        }
                        if (in_fd >= 0)
                                close(in_fd);
                        snprintf(ret_cause, cause_size, "hook ran past specified timeout of %.1fs",
                                 (double) timeout_s);
                        return -1;
                }
                /* A hook that exited but left a grandchild holding its
                 * output: stop reading once it is gone (Go does the same
                 * after WaitDelay; runc waits, but unbounded waits are not
                 * allowed here). */
                if (reaped)
                        timeout = 0;
                if (in_fd >= 0)
                        p[n++] = (struct pollfd) { .fd = in_fd, .events = POLLOUT };
                if (out->fd >= 0)
                        p[n++] = (struct pollfd) { .fd = out->fd, .events = POLLIN };
                if (errc->fd >= 0)
                        p[n++] = (struct pollfd) { .fd = errc->fd, .events = POLLIN };
                int r = poll(p, n, timeout);
                if (r < 0 && errno != EINTR)
                        break;
                if (r == 0 && reaped) {
                        if (out->fd >= 0) { close(out->fd); out->fd = -1; }
                        if (errc->fd >= 0) { close(errc->fd); errc->fd = -1; }
                        break;
                }
                for (nfds_t i = 0; r > 0 && i < n; i++) {
                        if (p[i].revents == 0)
                                continue;
                        if (p[i].fd == in_fd) {
                                ssize_t w = write(in_fd, state + written, state_len - written);
                                if (w > 0)
                                        written += (size_t) w;
                                if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == state_len) {
                                        close(in_fd);
                                        in_fd = -1;
                                }
                        } else if (p[i].fd == out->fd) {
                                capture_read(out);
                        } else {
                                capture_read(errc);
                        }
                }
        }
        if (in_fd >= 0)
                close(in_fd);
        if (!reaped)
                waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status)) {
                snprintf(ret_cause, cause_size, "exit status %d", WEXITSTATUS(status));
        } else {
                char sig[64];
                snprintf(sig, sizeof(sig), "%s", strsignal(WTERMSIG(status)));
                sig[0] = (char) tolower((unsigned char) sig[0]);
                snprintf(ret_cause, cause_size, "signal: %s", sig);
        }
        return -1;
}

int agent_hooks_run(const char *name, const struct spec_hook_list *hooks, const char *state,
                    struct rv_error **err)
{
        for (size_t i = 0; i < hooks->n; i++) {
                struct capture out = { .fd = -1 }, errc = { .fd = -1 };
                char cause[256] = "";

                if (hook_run(&hooks->hooks[i], state != NULL ? state : "{}", cause, sizeof(cause),
                             &out, &errc) == 0)
                        continue;
                if (out.fd >= 0)
                        close(out.fd);
                if (errc.fd >= 0)
                        close(errc.fd);
                return rv_error_setx(err, EIO, "error running %s hook #%zu: %s, stdout: %s, stderr: %s",
                                     name, i, cause, out.buf, errc.buf);
        }
        return 0;
}

int agent_hook_state_text(const struct json_value *v, char **ret, struct rv_error **err)
{
        struct json_writer *w;
        int r;

        *ret = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return rv_error_setx(err, EINVAL, "`hook_state`: expected an object");
        w = json_writer_new(NULL);
        if (w == NULL)
                return rv_error_set(err, ENOMEM, "hook_state");
        json_write_value(w, v);
        r = json_writer_finish(w, ret, NULL, err);
        json_writer_free(w);
        return r;
}
