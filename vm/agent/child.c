/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/child.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "hooks/run.h"
#include "spec/config.h"
#include "vm/agent/devices.h"
#include "vm/agent/rootfs.h"
#include "vm/agent/timing.h"
#include "vm/agent/tty.h"
#include "vm/agent/userns.h"

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

int agent_sync_read(int fd, int timeout_ms, struct agent_sync_msg *ret, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + timeout_ms;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        for (;;) {
                int64_t left = deadline - rv_now_ms();
                int r;

                if (left <= 0)
                        return rv_error_setx(err, ETIMEDOUT, "container init did not report in %d ms",
                                            timeout_ms);
                r = poll(&p, 1, (int) left);
                if (r < 0 && errno != EINTR)
                        return rv_error_set(err, errno, "poll");
                if (r > 0)
                        break;
        }
        memset(ret, 0, sizeof(*ret));
        n = rv_read_all(fd, ret, sizeof(*ret));
        if (n < 0)
                return rv_error_set(err, (int) -n, "read the container init's report");
        if (n == 0)
                return 0;
        if ((size_t) n != sizeof(*ret))
                return rv_error_setx(err, EPROTO, "short report from the container init");
        ret->msg[sizeof(ret->msg) - 1] = '\0';
        return 1;
}

/* runc's console: a pty of the container's own devpts (so `tty` names
 * /dev/pts/N), owned by the process's user and the tty group, on stdio as
 * the controlling terminal of the new session and bound onto
 * /dev/console. The agent copies the master (kept open until execve). */
static int console_setup(const struct agent_child_args *a, struct rv_error **err)
{
        const struct spec_process *p = &a->spec->process;
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int slave = -EBADF, devfd = -EBADF;
        int master = -1;

        if (agent_tty_open("/dev/ptmx", &p->console_size, &master, &slave, &name, err) < 0)
                return -1;
        /* In a user namespace that maps neither, the tty keeps devpts'
         * owner (runc's rootless spec drops gid=5 for the same reason). */
        if (fchown(slave, p->user.uid, AGENT_TTY_GID) < 0)
                rv_debug("chown `%s` to %u:%d: %s", name, p->user.uid, AGENT_TTY_GID, strerror(errno));
        if (!agent_dev_is_bind_mounted(a->spec)) {
                devfd = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (devfd < 0)
                        return rv_error_set(err, errno, "open `/dev`");
                if (agent_devices_bind_console(devfd, name, err) < 0)
                        return -1;
        }
        for (int i = 0; i < 3; i++)
                if (dup2(slave, i) < 0)
                        return rv_error_set(err, errno, "set up the terminal's stdio");
        if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                return rv_error_set(err, errno, "set the controlling terminal");
        sync_send(a->sync_fd, AGENT_SYNC_CONSOLE, master, NULL);
        return 0;
}

static int child_setup(const struct agent_child_args *a, struct agent_exec *ret_exec, struct rv_error **err)
{
        const struct spec_config *c = a->spec;
        const struct spec_process *p = &c->process;
        const char *cwd = p->cwd != NULL && p->cwd[0] != '\0' ? p->cwd : "/";

        if (agent_ns_child_enter(c, a->start_fd, err) < 0)
                return -1;
        agent_timer_step(a->timer, "namespaces");
        if (setsid() < 0)
                return rv_error_set(err, errno, "setsid");
        if (setup_stdio(a, err) < 0)
                return -1;
        close_other_fds(a);
        agent_timer_step(a->timer, "stdio");
        if (agent_rootfs_prepare(c, a->timer, err) < 0)
                return rv_error_wrap(err, "rootfs");
        if (a->terminal && console_setup(a, err) < 0)
                return rv_error_wrap(err, "terminal");
        if (c->hostname != NULL && sethostname(c->hostname, strlen(c->hostname)) < 0)
                return rv_error_set(err, errno, "sethostname `%s`", c->hostname);
        if (c->domainname != NULL && setdomainname(c->domainname, strlen(c->domainname)) < 0)
                return rv_error_set(err, errno, "setdomainname `%s`", c->domainname);
        /* runc creates a missing cwd, before / may become read-only. */
        if (rv_mkdir_p(cwd, 0755, err) < 0)
                return rv_error_wrap(err, "create cwd");
        agent_timer_step(a->timer, "terminal+hostname+cwd");
        if (agent_rootfs_finalize(c, a->timer, err) < 0)
                return -1;
        if (agent_process_apply(c, p, true, a->timer, ret_exec, err) < 0)
                return -1;
        agent_timer_step(a->timer, "executable");
        return 0;
}

void agent_child_run(const struct agent_child_args *a)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct agent_exec x = { 0 };
        char go;
        ssize_t n;

        signals_reset();
        /* The create's steps so far stay with the agent; the clock runs on. */
        if (a->timer != NULL)
                a->timer->n = 0;
        /* Logs go to the console (fd 2 until stdio is set up), never into
         * the container's stderr; the copy closes on execve. */
        rv_log_set_fd(STDERR_FILENO);
        if (child_setup(a, &x, &err) < 0) {
                sync_send(a->sync_fd, AGENT_SYNC_ERROR, err->status, err->msg);
                _exit(1);
        }
        char steps[sizeof(((struct agent_sync_msg *) 0)->msg)] = "";
        if (a->timer != NULL)
                agent_timer_format(a->timer, steps, sizeof(steps));
        sync_send(a->sync_fd, AGENT_SYNC_READY, 0, steps);
        do
                n = read(a->start_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);       /* the agent gave up on this container */
        /* runc loads the filter before startContainer hooks: they run
         * under it, as the process's user, in its cwd, and a hook without
         * an env of its own gets the process's (runc's init has made its
         * environment process.env by then). */
        if (agent_process_seccomp(&x, &err) == 0 &&
            hooks_run_env(&a->spec->hooks.start_container, "startContainer",
                          a->hook_state != NULL ? a->hook_state : "{}", NULL, x.envp, &err) == 0)
                agent_process_exec(&x, &err);
        sync_send(a->sync_fd, AGENT_SYNC_ERROR, err->status, err->msg);
        _exit(err->status == ENOENT ? 127 : 126);
}
