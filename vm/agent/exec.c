/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/agent/attrs.h"
#include "vm/agent/cgroup.h"
#include "vm/agent/container.h"
#include "vm/agent/tty.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"

#define EXEC_SETUP_TIMEOUT_MS 30000     /* setns + lookups on a slow TCG guest */
#define EXEC_DRAIN_TIMEOUT_MS 2000

enum { REPORT_PID = 1, REPORT_ERROR = 2 };

/* One record per write, below PIPE_BUF: atomic. */
struct exec_report {
        int32_t kind;
        int32_t value;                  /* the pid, or the errno */
        char msg[2048];
};

/* The network namespace first: it is the VM's or a pool VM's spare one
 * (vm/agent/network.h), owned by the VM's user namespace, which a process
 * in the container's no longer has the right to join. Then user (the
 * others may belong to it), mount last. */
static const struct { const char *name; int type; } ns_order[] = {
        { "net", CLONE_NEWNET }, { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
        { "cgroup", CLONE_NEWCGROUP }, { "pid", CLONE_NEWPID },
        { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};
#define N_NS (sizeof(ns_order) / sizeof(ns_order[0]))

struct exec_child_args {
        const struct spec_config *spec;
        const struct spec_process *process;
        int ns_fds[N_NS];               /* -1: the agent's own, not joined */
        int report_fd;
        int stdio[3];                   /* -1: /dev/null */
        int tty;                        /* the slave, or -1 */
};

static void report_send(int fd, int kind, int value, const char *msg)
{
        struct exec_report r = { .kind = kind, .value = value };

        if (msg != NULL)
                snprintf(r.msg, sizeof(r.msg), "%s", msg);
        (void) rv_write_all(fd, &r, sizeof(r));
}

static void signals_default(void)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static int exec_child_setup(const struct exec_child_args *x, struct rv_error **err)
{
        int keep_log = rv_log_fd();

        if (setsid() < 0)
                return rv_error_set(err, errno, "setsid");
        if (x->tty >= 0 && ioctl(x->tty, TIOCSCTTY, 0) < 0)
                return rv_error_set(err, errno, "set the controlling terminal");
        for (int i = 0; i < 3; i++) {
                int fd = x->tty >= 0 ? x->tty : x->stdio[i];
                if (fd < 0) {
                        fd = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
                        if (fd < 0)
                                return rv_error_set(err, errno, "open `/dev/null`");
                }
                if (dup2(fd, i) < 0)
                        return rv_error_set(err, errno, "set up stdio");
        }
        /* Everything else goes: the report pipe and the log copy stay
         * (both close on execve). */
        for (int fd = 3; fd < 1024; fd++)
                if (fd != x->report_fd && fd != keep_log)
                        close(fd);
        close_range(1024, ~0u, 0);
        return 0;
}

/* The process itself: waits for the helper's go, then sets up and execs. */
static __attribute__((noreturn)) void exec_child_final(const struct exec_child_args *x, int go_fd)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct agent_exec e = { 0 };
        char go;
        ssize_t n;

        do
                n = read(go_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);       /* the helper died before reporting us */
        close(go_fd);
        signals_default();
        rv_log_set_fd(STDERR_FILENO);
        if (exec_child_setup(x, &err) < 0 || agent_process_apply(x->spec, x->process, false, NULL, &e, &err) < 0) {
                report_send(x->report_fd, REPORT_ERROR, err->status, err->msg);
                _exit(1);
        }
        agent_process_exec(&e, &err);
        report_send(x->report_fd, REPORT_ERROR, err->status, err->msg);
        _exit(err->status == ENOENT ? 127 : 126);
}

/* The helper: joins the namespaces, clones the process as the agent's
 * child, reports its pid, lets it go. */
static __attribute__((noreturn)) void exec_helper(const struct exec_child_args *x)
{
        int go[2];
        pid_t pid;

        for (size_t i = 0; i < N_NS; i++) {
                if (x->ns_fds[i] < 0)
                        continue;
                if (setns(x->ns_fds[i], ns_order[i].type) < 0) {
                        char msg[128];
                        int e = errno;
                        snprintf(msg, sizeof(msg), "join the container's %s namespace: %s", ns_order[i].name,
                                 strerror(e));
                        report_send(x->report_fd, REPORT_ERROR, e, msg);
                        _exit(1);
                }
        }
        if (pipe2(go, O_CLOEXEC) < 0) {
                report_send(x->report_fd, REPORT_ERROR, errno, "pipe");
                _exit(1);
        }
        pid = (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
        if (pid < 0) {
                int e = errno;
                report_send(x->report_fd, REPORT_ERROR, e, "clone the process into the container");
                _exit(1);
        }
        if (pid == 0) {
                close(go[1]);
                exec_child_final(x, go[0]);
        }
        /* The pid is in the pipe before the process may run (and exit),
         * so the agent always knows whose exit it reaps. */
        report_send(x->report_fd, REPORT_PID, pid, NULL);
        (void) rv_write_all(go[1], "x", 1);
        _exit(0);
}

struct agent_exec_proc *agent_exec_find(struct agent_container *c, const char *exec_id)
{
        for (struct agent_exec_proc *e = c->execs; e != NULL; e = e->next)
                if (strcmp(e->exec_id, exec_id) == 0)
                        return e;
        return NULL;
}

static void exec_free(struct agent *a, struct agent_exec_proc *e)
{
        if (e == NULL)
                return;
        agent_stdio_abort(a, &e->stdio);
        agent_watch_close(a, &e->report);
        free(e->err_msg);
        free(e->exec_id);
        free(e);
}

/* Opens the init's namespaces that are not the agent's own. */
static int open_namespaces(pid_t init, int fds[N_NS], struct rv_error **err)
{
        for (size_t i = 0; i < N_NS; i++)
                fds[i] = -1;
        for (size_t i = 0; i < N_NS; i++) {
                char path[64], self[64];
                struct stat st, st_self;

                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) init, ns_order[i].name);
                snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_order[i].name);
                if (stat(path, &st) < 0) {
                        if (errno == ENOENT && kill(init, 0) == 0)
                                continue;       /* a namespace type the kernel lacks */
                        rv_error_set(err, errno == ENOENT ? ESRCH : errno, "container init %d: `%s`",
                                     (int) init, path);
                        goto fail;
                }
                if (stat(self, &st_self) == 0 && st.st_ino == st_self.st_ino && st.st_dev == st_self.st_dev)
                        continue;
                fds[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0) {
                        if (errno == ENOENT)
                                rv_error_setx(err, ESRCH, "container not running");
                        else
                                rv_error_set(err, errno, "open `%s`", path);
                        goto fail;
                }
        }
        return 0;
fail:
        for (size_t i = 0; i < N_NS; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return -1;
}

/* The pty comes from the container's own devpts when it has one, so the
 * process sees its tty as /dev/pts/N like under runc. */
static int open_exec_tty(pid_t init, const struct spec_box *size, int *ret_master, int *ret_slave,
                         struct rv_error **err)
{
        char path[96];
        const char *cands[3];
        char alt[96];

        snprintf(path, sizeof(path), "/proc/%d/root/dev/pts/ptmx", (int) init);
        snprintf(alt, sizeof(alt), "/proc/%d/root/dev/ptmx", (int) init);
        cands[0] = path;
        cands[1] = alt;
        cands[2] = "/dev/pts/ptmx";
        for (size_t i = 0; i < 3; i++) {
                _cleanup_error_ struct rv_error *tmp = NULL;
                if (agent_tty_open(cands[i], size, ret_master, ret_slave, NULL, i == 2 ? err : &tmp) == 0)
                        return 0;
        }
        return -1;
}

static void send_answer(struct agent *a, struct agent_exec_proc *e)
{
        struct json_writer *w;

        e->answered = true;
        if (e->err_msg != NULL || e->pid <= 0) {
                struct rv_error tmp = { .status = e->err_status ? e->err_status : ECHILD,
                                        .msg = e->err_msg ? e->err_msg : (char *) "exec helper died" };
                e->failed = true;
                agent_reply_error(a, e->request_id, &tmp);
                /* Closed after the error answer (docs/PROTOCOL.md §2). */
                agent_stdio_abort(a, &e->stdio);
                if (e->pid > 0 && !e->exited)
                        kill(e->pid, SIGKILL);
                return;
        }
        w = agent_reply_begin(e->request_id);
        if (w == NULL)
                return;
        json_write_object_begin(w);
        json_write_key(w, "pid");
        json_write_int64(w, e->pid);
        json_write_object_end(w);
        agent_reply_end(a, w);
}

/* Reads the helper's and the process's reports; 1 once the pipe closed. */
static int report_read(struct agent_exec_proc *e)
{
        for (;;) {
                struct exec_report r;
                ssize_t n = read(e->report.fd, &r, sizeof(r));

                if (n < 0)
                        return errno == EINTR ? 0 : errno == EAGAIN ? 0 : 1;
                if (n == 0)
                        return 1;
                if ((size_t) n != sizeof(r))
                        continue;       /* cannot happen: records are atomic */
                r.msg[sizeof(r.msg) - 1] = '\0';
                if (r.kind == REPORT_PID && e->pid == 0) {
                        e->pid = r.value;
                } else if (r.kind == REPORT_ERROR && e->err_msg == NULL) {
                        e->err_status = r.value;
                        e->err_msg = strdup(r.msg);
                }
        }
}

static void report_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        struct agent_exec_proc *e = agent_container_of(w, struct agent_exec_proc, report);

        if (w->fd < 0)
                return;
        if (report_read(e) == 0)
                return;
        agent_watch_close(a, w);
        send_answer(a, e);
}

void agent_execs_poll(struct agent *a)
{
        for (struct agent_container *c = a->containers; c != NULL; c = c->next)
                for (struct agent_exec_proc *e = c->execs; e != NULL; e = e->next)
                        if (e->report.fd >= 0 && e->pid == 0)
                                (void) report_read(e);
}

bool agent_exec_reaped(struct agent_container *c, pid_t pid, int status)
{
        for (struct agent_exec_proc *e = c->execs; e != NULL; e = e->next) {
                if (e->helper == pid) {
                        e->helper = 0;
                        return true;
                }
                if (e->pid != pid || e->exited)
                        continue;
                e->exited = true;
                e->status = status;
                e->deadline = rv_now_ms() + EXEC_DRAIN_TIMEOUT_MS;
                rv_debug("container `%s` exec `%s` pid %d exited (status 0x%x)", c->id, e->exec_id, (int) pid,
                         status);
                return true;
        }
        return false;
}

static void report_exit(struct agent *a, struct agent_container *c, struct agent_exec_proc *e)
{
        agent_stdio_finish(a, &e->stdio);
        agent_stdio_release(a, &e->stdio);
        e->reported = true;
        agent_send_process_exited(a, c->id, e->exec_id, e->pid, e->status);
}

void agent_execs_tick(struct agent *a, struct agent_container *c, int *timeout_ms)
{
        int64_t now = rv_now_ms();
        struct agent_exec_proc **pp = &c->execs;

        while (*pp != NULL) {
                struct agent_exec_proc *e = *pp;
                int64_t left = -1;

                if (!e->answered) {
                        /* Started into a frozen container (--ignore-paused):
                         * its clock runs only while the container does. */
                        if (c->paused && now >= e->deadline)
                                e->deadline = now + EXEC_SETUP_TIMEOUT_MS;
                        if (now >= e->deadline) {
                                free(e->err_msg);
                                e->err_msg = NULL;
                                if (asprintf(&e->err_msg, "exec did not report in %d ms", EXEC_SETUP_TIMEOUT_MS) < 0)
                                        e->err_msg = NULL;
                                e->err_status = ETIMEDOUT;
                                if (e->helper > 0)
                                        kill(e->helper, SIGKILL);
                                agent_watch_close(a, &e->report);
                                send_answer(a, e);
                        } else {
                                left = e->deadline - now;
                        }
                } else if (e->exited && !e->reported && !e->failed) {
                        if (agent_stdio_drained(&e->stdio) || now >= e->deadline)
                                report_exit(a, c, e);
                        else
                                left = e->deadline - now;
                }
                /* Done with: reported, or failed and reaped. */
                if (e->answered && (e->reported || (e->failed && (e->exited || e->pid <= 0)))) {
                        *pp = e->next;
                        exec_free(a, e);
                        continue;
                }
                if (left >= 0 && (*timeout_ms < 0 || left < *timeout_ms))
                        *timeout_ms = (int) left;
                pp = &e->next;
        }
}

void agent_execs_free(struct agent *a, struct agent_container *c)
{
        while (c->execs != NULL) {
                struct agent_exec_proc *e = c->execs;
                c->execs = e->next;
                exec_free(a, e);
        }
}

static int parse_streams(const struct json_value *params, struct agent_stdio_streams *ret, struct rv_error **err)
{
        const struct json_value *stdio = json_get(params, "stdio");
        static const char *keys[] = { "stdin", "stdout", "stderr", "terminal" };
        uint32_t *dst[] = { &ret->in, &ret->out, &ret->err, &ret->terminal };

        memset(ret, 0, sizeof(*ret));
        if (stdio == NULL || json_is_null(stdio))
                return 0;
        if (!json_is_object(stdio))
                return rv_error_setx(err, EINVAL, "`stdio`: expected an object");
        for (size_t i = 0; i < 4; i++) {
                const struct json_value *v = json_get(stdio, keys[i]);
                char path[32];

                if (v == NULL || json_is_null(v))
                        continue;
                snprintf(path, sizeof(path), "stdio.%s", keys[i]);
                if (json_read_uint32(v, path, dst[i], err) < 0)
                        return -1;
        }
        if (ret->terminal != 0 && (ret->in != 0 || ret->out != 0 || ret->err != 0))
                return rv_error_setx(err, EINVAL, "`stdio`: a terminal excludes stdin, stdout and stderr");
        return 0;
}

struct exec_parts {
        struct spec_process process;
        int ns_fds[N_NS];
        int child_stdio[3];
        int report[2];
        int master, slave;
};

static void parts_clear(struct exec_parts *p)
{
        spec_process_clear(&p->process);
        for (size_t i = 0; i < N_NS; i++)
                if (p->ns_fds[i] >= 0)
                        close(p->ns_fds[i]);
        for (int i = 0; i < 3; i++)
                if (p->child_stdio[i] >= 0)
                        close(p->child_stdio[i]);
        for (int i = 0; i < 2; i++)
                if (p->report[i] >= 0)
                        close(p->report[i]);
        if (p->master >= 0)
                close(p->master);
        if (p->slave >= 0)
                close(p->slave);
}

int agent_exec_process(struct agent *a, const struct json_value *params, struct json_writer *w,
                       struct rv_error **err)
{
        struct exec_parts p = { .child_stdio = { -1, -1, -1 }, .report = { -1, -1 }, .master = -1, .slave = -1 };
        struct agent_stdio_streams streams;
        struct agent_container *c = NULL;
        struct agent_exec_proc *e;
        const struct json_value *proc;
        const char *id, *exec_id;
        pid_t helper;
        int r = -1;

        for (size_t i = 0; i < N_NS; i++)
                p.ns_fds[i] = -1;
        e = calloc(1, sizeof(*e));
        if (e == NULL)
                return rv_error_set(err, ENOMEM, "exec");
        agent_stdio_init(&e->stdio);
        e->report = (struct agent_watch) { .fd = -EBADF, .handler = report_handler };
        /* The streams first: open even when the request fails (§2). */
        if (parse_streams(params, &streams, err) < 0 ||
            agent_stdio_open(a, &e->stdio, &streams, p.child_stdio, err) < 0)
                goto out;
        if (json_read_string(json_get(params, "id"), "id", &id, err) < 0 ||
            json_read_string(json_get(params, "exec_id"), "exec_id", &exec_id, err) < 0)
                goto out;
        c = agent_container_find(a, id);
        if (c == NULL) {
                rv_error_setx(err, ENOENT, "container `%s` does not exist", id);
                goto out;
        }
        if (exec_id[0] == '\0' || agent_exec_find(c, exec_id) != NULL) {
                rv_error_setx(err, EEXIST, "exec id `%s` is empty or in use", exec_id);
                goto out;
        }
        if (c->state == AGENT_CONTAINER_EXITED) {
                rv_error_setx(err, ESRCH, "cannot exec in a stopped container");
                goto out;
        }
        /* runc's --ignore-paused: the process joins the frozen container
         * and runs once it is resumed. */
        bool ignore_paused = false;
        const struct json_value *ip = json_get(params, "ignore_paused");
        if (ip != NULL && json_read_bool(ip, "ignore_paused", &ignore_paused, err) < 0)
                goto out;
        if (c->paused && !ignore_paused) {
                rv_error_setx(err, EBUSY, "container is paused");
                goto out;
        }
        proc = json_get(params, "process");
        if (proc == NULL || spec_process_from_json(proc, "process", &p.process, err) < 0) {
                if (proc == NULL)
                        rv_error_setx(err, EINVAL, "`process`: missing");
                goto out;
        }
        if (p.process.args == NULL || p.process.args[0] == NULL) {
                rv_error_setx(err, EINVAL, "`process.args`: must not be empty");
                goto out;
        }
        if (p.process.terminal != (streams.terminal != 0)) {
                rv_error_setx(err, EINVAL, p.process.terminal ? "`process.terminal` needs a terminal stream"
                                                              : "a terminal stream needs `process.terminal`");
                goto out;
        }
        e->exec_id = strdup(exec_id);
        if (e->exec_id == NULL) {
                rv_error_set(err, ENOMEM, "exec");
                goto out;
        }
        if (open_namespaces(c->pid, p.ns_fds, err) < 0)
                goto out;
        if (streams.terminal != 0) {
                if (open_exec_tty(c->pid, &p.process.console_size, &p.master, &p.slave, err) < 0)
                        goto out;
                /* The process owns its tty, group tty, as under runc. */
                if (fchown(p.slave, p.process.user.uid, AGENT_TTY_GID) < 0)
                        rv_debug("exec `%s`: chown the pty: %s", exec_id, strerror(errno));
        }
        if (pipe2(p.report, O_CLOEXEC) < 0) {
                rv_error_set(err, errno, "pipe");
                goto out;
        }

        helper = agent_cgroup_clone(&c->cgroup, 0, err);
        if (helper < 0)
                goto out;
        if (helper == 0) {
                struct exec_child_args x = {
                        .spec = c->spec,
                        .process = &p.process,
                        .report_fd = p.report[1],
                        .stdio = { p.child_stdio[0], p.child_stdio[1], p.child_stdio[2] },
                        .tty = p.slave,
                };
                memcpy(x.ns_fds, p.ns_fds, sizeof(x.ns_fds));
                exec_helper(&x);
        }
        e->helper = helper;
        if (streams.terminal != 0) {
                if (agent_stdio_attach_tty(a, &e->stdio, p.master, err) < 0) {
                        kill(helper, SIGKILL);
                        goto out;
                }
                p.master = -1;
        }
        e->report.fd = p.report[0];
        p.report[0] = -1;
        fcntl(e->report.fd, F_SETFL, O_NONBLOCK);
        agent_watch_set(a, &e->report, EPOLLIN);
        e->request_id = agent_request_id(a);
        e->deadline = rv_now_ms() + EXEC_SETUP_TIMEOUT_MS;
        e->next = c->execs;
        c->execs = e;
        e = NULL;
        rv_debug("container `%s`: exec `%s` helper %d", c->id, exec_id, (int) helper);
        r = AGENT_REPLY_LATER;
out:
        parts_clear(&p);
        exec_free(a, e);
        return r;
}
