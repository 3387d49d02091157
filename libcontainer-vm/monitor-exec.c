/* SPDX-License-Identifier: Apache-2.0 */
/* exec sessions in the monitor. An exec client (`runvm exec`, or its
 * detached exec monitor) hands over its stdio fds with CTL_EXEC; the
 * monitor relays them with the guest process, answers {"pid"} when the
 * process started and {"exit_code"|"signal"} when it ended, and takes
 * signals and resizes from the client on the same connection. A client
 * that goes away takes its process with it (SIGKILL), the way killing
 * runc exec's process kills what it runs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/state.h"
#include "spec/json.h"

struct exec_session {
        char exec_id[16];
        char *target;                   /* a pod member's id, which its requests name; NULL: ours */
        int client_fd;                  /* the exec client's connection, -1 once gone */
        pid_t client_pid;               /* the exec client (what `ps` reports) */
        struct proc_io io;
        bool started, exited;
        int exit_code, exit_signal;
        int64_t exited_at;
        struct loop_watch w_client;
        struct monitor *m;              /* for the session's own resizes */
        struct exec_session *next;
};


struct monitor_execs {
        struct exec_session *list;
        unsigned next;                  /* the last exec id's number */
};

struct monitor_execs *monitor_execs_new(void)
{
        return calloc(1, sizeof(struct monitor_execs));
}

struct exec_request {
        const struct exec_session *e;
        const struct json_value *process;
        bool ignore_paused;
};

static void fill_exec(struct json_writer *w, const void *data)
{
        const struct exec_request *r = data;
        json_write_key(w, "exec_id");
        json_write_string(w, r->e->exec_id);
        json_write_key(w, "process");
        json_write_value(w, r->process);
        json_write_key(w, "stdio");
        proc_io_write_stdio(w, &r->e->io);
        if (r->ignore_paused) {
                json_write_key(w, "ignore_paused");
                json_write_bool(w, true);
        }
}

static void session_free(struct monitor *m, struct exec_session *e)
{
        for (struct exec_session **p = &m->execs->list; *p; p = &(*p)->next) {
                if (*p == e) {
                        *p = e->next;
                        break;
                }
        }
        proc_io_close(&e->io, &m->loop, &m->streams);
        loop_watch_remove(&m->loop, &e->w_client);
        if (e->client_fd >= 0)
                close(e->client_fd);
        free(e->target);
        free(e);
}

/* Requests about e name its container (the agent finds an exec by it). */
static void forward(struct monitor *m, const struct exec_session *e, enum proto_method method, agent_fill_fn fill,
                    const void *data)
{
        agent_client_set_target(m->agent, e->target);
        monitor_forward(m, -1, PENDING_NONE, method, fill, data);
        agent_client_set_target(m->agent, NULL);
}

/* The size the session's pty has before its input goes on (monitor-io.h). */
static void session_resized(void *ctx, uint16_t rows, uint16_t cols)
{
        struct exec_session *e = ctx;
        struct proto_resize r = { e->exec_id, rows, cols };

        if (e->started && !e->exited)
                forward(e->m, e, PROTO_RESIZE_TTY, proto_write_resize, &r);
        else
                e->io.rows = e->io.cols = 0;    /* not told: again with the next input */
}

static struct exec_session *find(struct monitor *m, const char *exec_id)
{
        for (struct exec_session *e = m->execs->list; e; e = e->next)
                if (exec_id && strcmp(e->exec_id, exec_id) == 0)
                        return e;
        return NULL;
}

void monitor_exec_start(struct monitor *m, int fd, struct ctl_request *req)
{
        monitor_exec_start_in(m, fd, req, NULL, m->o->state->status);
}

void monitor_exec_start_in(struct monitor *m, int fd, struct ctl_request *req, const char *target,
                           enum container_status status)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        struct rv_error *tmp_err = NULL;
        const struct json_value *process;
        struct exec_session *e;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        bool terminal = (req->h.flags & CTL_FLAG_TERMINAL) != 0;

        if (monitor_pending_full(m)) {
                ctl_send_error(fd, -EAGAIN, "too many requests in flight");
                close(fd);
                return;
        }
        bool ignore_paused = status == CONTAINER_PAUSED && (req->h.flags & CTL_FLAG_IGNORE_PAUSED);
        if (!ignore_paused && container_status_check(status, CONTAINER_OP_EXEC, &tmp_err) < 0) {
                ctl_send_error(fd, -tmp_err->status, tmp_err->msg);
                rv_error_release(&tmp_err);
                close(fd);
                return;
        }
        if (req->payload == NULL || json_parse(req->payload, req->h.length, &v, &tmp_err) < 0 ||
            (process = json_get(v, "process")) == NULL || !json_is_object(process) ||
            req->n_fds != (terminal ? req->n_fds : 3) || req->n_fds == 0) {
                ctl_send_error(fd, -EINVAL, tmp_err ? tmp_err->msg : "exec: bad request");
                rv_error_release(&tmp_err);
                close(fd);
                return;
        }
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
                ctl_send_error(fd, -ENOMEM, "exec: out of memory");
                close(fd);
                return;
        }
        snprintf(e->exec_id, sizeof(e->exec_id), "e%u", ++m->execs->next);
        if (target && (e->target = strdup(target)) == NULL) {
                ctl_send_error(fd, -ENOMEM, "exec: out of memory");
                close(fd);
                free(e);
                return;
        }
        e->client_fd = -1;
        e->io.in.fd = e->io.out.fd = e->io.err.fd = -1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                e->client_pid = cred.pid;
        /* 0: the client is outside the monitor's pid namespace (always, as
         * the monitor is pid 1 of its own); it said who it is. */
        const struct json_value *cp = json_get(v, "client_pid");
        int64_t client_pid;
        if (e->client_pid <= 0 && cp && json_read_int64(cp, "client_pid", &client_pid, NULL) == 0 &&
            client_pid > 0 && client_pid <= INT32_MAX)
                e->client_pid = (pid_t) client_pid;
        e->next = m->execs->list;
        m->execs->list = e;
        /* The fds are the client's own stdio: the session takes them over. */
        int fds[CTL_MAX_FDS];
        size_t n_fds = req->n_fds;
        memcpy(fds, req->fds, sizeof(fds));
        req->n_fds = 0;
        e->m = m;
        if (proc_io_open(&e->io, m->ch, &m->streams, terminal, fds, n_fds, false, &tmp_err) < 0) {
                ctl_send_error(fd, -(tmp_err->status ? tmp_err->status : EIO), tmp_err->msg);
                rv_error_release(&tmp_err);
                close(fd);
                session_free(m, e);
                /* Those proc_io_open had not taken yet; nothing opened since. */
                for (size_t i = 0; i < n_fds; i++)
                        if (fcntl(fds[i], F_GETFD) >= 0)
                                close(fds[i]);
                return;
        }
        if (terminal) {
                e->io.resized = session_resized;
                e->io.resized_ctx = e;
        }
        struct exec_request r = { e, process, (req->h.flags & CTL_FLAG_IGNORE_PAUSED) != 0 };
        agent_client_set_target(m->agent, e->target);
        int sent = monitor_request(m, PROTO_EXEC_PROCESS, fill_exec, &r, PENDING_EXEC, fd, e, &tmp_err);
        agent_client_set_target(m->agent, NULL);
        if (sent < 0) {
                ctl_send_error(fd, -EIO, tmp_err->msg);
                rv_error_release(&tmp_err);
                close(fd);
                session_free(m, e);
        }
}

static void client_event(struct monitor *m, struct exec_session *e);

void monitor_exec_started(struct monitor *m, struct exec_session *e, const struct channel_message *msg,
                          int fd)
{
        char reply[128];
        int64_t pid = 0;
        const struct json_value *v;

        if (msg->error) {
                int err = msg->error_errno > 0 ? msg->error_errno : EIO;
                ctl_send_error(fd, -err, err == ESRCH ? "container not running" : msg->error);
                close(fd);
                session_free(m, e);
                return;
        }
        if ((v = json_get(msg->body, "pid")))
                json_read_int64(v, "pid", &pid, NULL);
        snprintf(reply, sizeof(reply), "{\"pid\":%lld,\"exec_id\":\"%s\"}", (long long) pid, e->exec_id);
        if (ctl_send_reply(fd, 0, reply, strlen(reply)) < 0) {
                close(fd);
                fd = -1;
        }
        e->started = true;
        e->client_fd = fd;
        if (fd < 0)
                client_event(m, e);
}

void monitor_exec_exited(struct monitor *m, const char *exec_id, const struct json_value *data)
{
        struct exec_session *e = find(m, exec_id);

        if (e == NULL) {
                rv_debug("exit of unknown exec `%s`", exec_id ? exec_id : "?");
                return;
        }
        e->exited = true;
        e->exited_at = rv_now_ms();
        monitor_read_exit(data, &e->exit_code, &e->exit_signal);
}

static void client_event(struct monitor *m, struct exec_session *e)
{
        struct ctl_header h;
        ssize_t n = -1;

        if (e->client_fd >= 0)
                n = recv(e->client_fd, &h, sizeof(h), MSG_DONTWAIT | MSG_WAITALL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n != (ssize_t) sizeof(h)) {
                /* The client is gone: so is its process. */
                loop_watch_remove(&m->loop, &e->w_client);
                if (e->client_fd >= 0)
                        close(e->client_fd);
                e->client_fd = -1;
                if (e->started && !e->exited) {
                        struct proto_signal s = { .exec_id = e->exec_id, .signal = SIGKILL };
                        forward(m, e, PROTO_SIGNAL_PROCESS, proto_write_signal, &s);
                }
                return;
        }
        if (e->exited)
                return;
        if (h.command == CTL_KILL) {
                struct proto_signal s = { .exec_id = e->exec_id, .signal = h.arg };
                forward(m, e, PROTO_SIGNAL_PROCESS, proto_write_signal, &s);
        } else if (h.command == CTL_RESIZE) {
                struct proto_resize r = { e->exec_id, (uint16_t) ((uint32_t) h.arg >> 16), (uint16_t) (h.arg & 0xffff) };
                /* Already told, when the input that followed it came first. */
                if (r.height == e->io.rows && r.width == e->io.cols)
                        return;
                e->io.rows = r.height;
                e->io.cols = r.width;
                forward(m, e, PROTO_RESIZE_TTY, proto_write_resize, &r);
        }
}

void monitor_exec_abandon(struct monitor *m, struct exec_session *e)
{
        struct proto_signal s = { .exec_id = e->exec_id, .signal = SIGKILL };
        struct rv_error *tmp_err = NULL;

        /* No entry waits for the answer: a late one is dropped as unknown. */
        agent_client_set_target(m->agent, e->target);
        int r = monitor_send_request(m, PROTO_SIGNAL_PROCESS, proto_write_signal, &s, &tmp_err);
        agent_client_set_target(m->agent, NULL);
        if (r < 0)
                rv_debug("kill abandoned exec %s: %s", e->exec_id, tmp_err->msg);
        rv_error_release(&tmp_err);
        session_free(m, e);
}

void monitor_exec_reap(struct monitor *m, bool force)
{
        int64_t now = rv_now_ms();

        for (struct exec_session *e = m->execs->list, *next; e; e = next) {
                next = e->next;
                if (!e->started && !force)
                        continue;
                if (!force && (!e->exited ||
                               (!proc_io_drained(&e->io) && now - e->exited_at < DRAIN_TIMEOUT_MS)))
                        continue;
                if (e->client_fd >= 0) {
                        char reply[64];
                        if (!e->exited)         /* the container went down under it */
                                snprintf(reply, sizeof(reply), "{\"signal\":%d}", SIGKILL);
                        else if (e->exit_signal)
                                snprintf(reply, sizeof(reply), "{\"signal\":%d}", e->exit_signal);
                        else
                                snprintf(reply, sizeof(reply), "{\"exit_code\":%d}", e->exit_code);
                        ctl_send_reply(e->client_fd, 0, reply, strlen(reply));
                }
                session_free(m, e);
        }
}

static int on_client(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        client_event(ctx, w->data);
        return 0;
}

int monitor_exec_watch(struct monitor *m, struct rv_error **err)
{
        for (struct exec_session *e = m->execs->list; e; e = e->next) {
                if (proc_io_watch(&e->io, &m->loop, err) < 0)
                        return -1;
                if (e->client_fd >= 0 && e->w_client.events == 0) {
                        e->w_client = (struct loop_watch) LOOP_WATCH_INIT(on_client, e);
                        e->w_client.fd = e->client_fd;
                        if (loop_watch_set(&m->loop, &e->w_client, EPOLLIN, err) < 0)
                                return -1;
                }
        }
        return 0;
}

int monitor_exec_flush(struct monitor *m, struct rv_error **err)
{
        for (struct exec_session *e = m->execs->list; e; e = e->next)
                if (proc_io_flush(&e->io, err) < 0)
                        return -1;
        return 0;
}

struct stdio_sink *monitor_exec_sink(struct monitor *m, uint32_t stream)
{
        struct stdio_sink *s = NULL;

        for (struct exec_session *e = m->execs->list; s == NULL && e; e = e->next)
                s = proc_io_sink(&e->io, stream);
        return s;
}

bool monitor_exec_any(const struct monitor *m)
{
        return m->execs->list != NULL;
}

void monitor_exec_write_client_pids(const struct monitor *m, struct json_writer *w, const char *target)
{
        for (const struct exec_session *e = m->execs->list; e; e = e->next)
                if (e->client_fd >= 0 && e->client_pid > 0 &&
                    (e->target && target ? strcmp(e->target, target) == 0 : e->target == target))
                        json_write_int64(w, e->client_pid);
}
