/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's ctl.sock commands: one handler each. */
#include <errno.h>
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
#include "libcontainer-vm/monitor-ctl.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-pod.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-userns.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-vm.h"
#include "libcontainer-vm/monitor-state.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"
#include "spec/json.h"

/* Connections whose request is still arriving; more are refused. */
#define MAX_CTL_CONNS 32

struct monitor_ctl {
        int fd;                         /* ctl.sock, -1 until it listens */
        struct loop_watch w;
        struct ctl_conn *conns;         /* requests still arriving */
        size_t n_conns;
};

struct monitor_ctl *monitor_ctl_new(void)
{
        struct monitor_ctl *c = calloc(1, sizeof(*c));

        if (c)
                c->fd = -1;
        return c;
}

static void reply_error(int fd, int errnum, const char *msg)
{
        ctl_send_error(fd, -errnum, msg);
        close(fd);
}

static enum container_status status(const struct monitor *m)
{
        return m->o->state->status;
}

/* The same table the CLI checked before it asked. */
static bool refused(const struct monitor *m, int fd, enum container_op op)
{
        struct rv_error *err = NULL;

        if (container_status_check(status(m), op, &err) == 0)
                return false;
        reply_error(fd, err->status, err->msg);
        rv_error_release(&err);
        return true;
}

static void ctl_start(struct monitor *m, int fd, struct ctl_request *req)
{
        struct rv_error *err = NULL;

        if (refused(m, fd, CONTAINER_OP_START))
                return;
        int r = monitor_net_before_start(m, &err);
        if (r > 0 && monitor_reboot(m, &err) < 0) {
                rv_error_wrap(&err, "network changed before start: rebuild the VM");
                r = -1;
        }
        if (r < 0) {
                /* The guest is gone or out of date: the container ends here. */
                rv_log(RV_LOG_ERROR, "%s", err->msg);
                reply_error(fd, err->status > 0 ? err->status : EIO, err->msg);
                rv_error_release(&err);
                m->exited = true;
                m->exit_signal = SIGKILL;
                m->vm_gone = true;
                return;
        }
        monitor_forward(m, fd, PENDING_START, PROTO_START_CONTAINER, NULL, NULL);
        /* A VM rebuilt above: while the guest starts the container. */
        monitor_vm_free_leftovers(m);
}

static void ctl_kill(struct monitor *m, int fd, struct ctl_request *req)
{
        struct proto_signal s = { .signal = req->h.arg, .all = (req->h.flags & CTL_FLAG_ALL) != 0 };

        monitor_forward(m, fd, PENDING_REPLY, PROTO_SIGNAL_PROCESS, proto_write_signal, &s);
}

static void ctl_ps(struct monitor *m, int fd, struct ctl_request *req)
{
        monitor_forward(m, fd, PENDING_PS, PROTO_LIST_PROCESSES, NULL, NULL);
}

static void ctl_pause(struct monitor *m, int fd, struct ctl_request *req)
{
        if (refused(m, fd, CONTAINER_OP_PAUSE))
                return;
        monitor_forward(m, fd, PENDING_PAUSE, PROTO_PAUSE_CONTAINER, NULL, NULL);
}

static void ctl_resume(struct monitor *m, int fd, struct ctl_request *req)
{
        if (refused(m, fd, CONTAINER_OP_RESUME))
                return;
        monitor_forward(m, fd, PENDING_RESUME, PROTO_RESUME_CONTAINER, NULL, NULL);
}

static void fill_resources(struct json_writer *w, const void *data)
{
        json_write_key(w, "resources");
        json_write_value(w, data);
}

static void ctl_update(struct monitor *m, int fd, struct ctl_request *req)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        struct rv_error *tmp_err = NULL;
        const struct json_value *mem, *limit;
        int64_t bytes;

        if (req->payload == NULL || json_parse(req->payload, req->h.length, &v, &tmp_err) < 0 ||
            !json_is_object(v)) {
                reply_error(fd, EINVAL, tmp_err ? tmp_err->msg : "update: expected a resources object");
                rv_error_release(&tmp_err);
                return;
        }
        /* The guest cannot grant more than the VM has. */
        if ((mem = json_get(v, "memory")) && (limit = json_get(mem, "limit")) && json_is_integer(limit) &&
            json_read_int64(limit, "memory.limit", &bytes, NULL) == 0 &&
            bytes > (int64_t) m->o->state->memory_mib * 1024 * 1024) {
                char msg[256];
                snprintf(msg, sizeof(msg), "memory limit %lld exceeds the VM's %u MiB: the VM cannot grow "
                         "while it runs; recreate the container with the new limit",
                         (long long) bytes, m->o->state->memory_mib);
                reply_error(fd, EINVAL, msg);
                return;
        }
        monitor_forward(m, fd, PENDING_REPLY, PROTO_UPDATE_RESOURCES, fill_resources, v);
}

static void ctl_stats(struct monitor *m, int fd, struct ctl_request *req)
{
        monitor_forward(m, fd, PENDING_REPLY_RESULT, PROTO_STATS, NULL, NULL);
}

static void ctl_events(struct monitor *m, int fd, struct ctl_request *req)
{
        if (monitor_events_subscribe(m, fd) < 0) {
                reply_error(fd, ENOMEM, "events: out of memory");
                return;
        }
        ctl_send_reply(fd, 0, NULL, 0);
}

typedef void (*ctl_handler)(struct monitor *m, int client_fd, struct ctl_request *req);

static const ctl_handler handlers[_CTL_COMMAND_MAX] = {
        [CTL_START] = ctl_start,
        [CTL_KILL] = ctl_kill,
        [CTL_EXEC] = monitor_exec_start,
        [CTL_PS] = ctl_ps,
        [CTL_PAUSE] = ctl_pause,
        [CTL_RESUME] = ctl_resume,
        [CTL_UPDATE] = ctl_update,
        [CTL_STATS] = ctl_stats,
        [CTL_EVENTS] = ctl_events,
        [CTL_MEMBER] = monitor_pod_member,
};

static void dispatch(struct monitor *m, int fd, struct ctl_request *req)
{
        if (m->exited)
                reply_error(fd, ESRCH, "container not running");
        else if (handlers[req->h.command] == NULL)
                reply_error(fd, ENOSYS, "unsupported ctl command");
        else
                handlers[req->h.command](m, fd, req);
}

static void conn_unlink(struct monitor *m, struct ctl_conn *c)
{
        loop_watch_remove(&m->loop, &c->watch);
        for (struct ctl_conn **p = &m->ctl->conns; *p; p = &(*p)->next) {
                if (*p == c) {
                        *p = c->next;
                        m->ctl->n_conns--;
                        return;
                }
        }
}

static void conn_event(struct monitor *m, struct ctl_conn *c)
{
        struct rv_error *tmp_err = NULL;
        int r = ctl_conn_read(c, &tmp_err);

        if (r == 0)
                return;
        conn_unlink(m, c);
        if (r < 0) {
                rv_debug("ctl: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        } else {
                int fd = c->fd;
                c->fd = -1;             /* the handler owns it: it replies and closes */
                dispatch(m, fd, &c->req);
        }
        ctl_conn_free(c);
}

static void handle_accept(struct monitor *m)
{
        struct rv_error *tmp_err = NULL;
        struct ctl_conn *c = ctl_conn_accept(m->ctl->fd, &tmp_err);

        if (c == NULL || monitor_userns_check_peer(m, c->fd, &tmp_err) < 0) {
                rv_debug("ctl: %s", tmp_err ? tmp_err->msg : "accept");
                rv_error_release(&tmp_err);
                ctl_conn_free(c);
                return;
        }
        if (m->ctl->n_conns >= MAX_CTL_CONNS) {
                rv_debug("ctl: %d requests still arriving: refusing another", MAX_CTL_CONNS);
                reply_error(c->fd, EBUSY, "too many ctl connections");
                c->fd = -1;
                ctl_conn_free(c);
                return;
        }
        c->next = m->ctl->conns;
        m->ctl->conns = c;
        m->ctl->n_conns++;
        /* Most requests are whole already. */
        conn_event(m, c);
}

int monitor_ctl_expire(struct monitor *m)
{
        int64_t now = rv_now_ms(), next = -1;

        for (struct ctl_conn *c = m->ctl->conns, *n; c; c = n) {
                n = c->next;
                if (c->deadline_ms <= now) {
                        rv_debug("ctl: request not whole after %d ms: dropped", CTL_REQUEST_DEADLINE_MS);
                        conn_unlink(m, c);
                        ctl_conn_free(c);
                } else if (next < 0 || c->deadline_ms - now < next) {
                        next = c->deadline_ms - now;
                }
        }
        return (int) next;
}

static void close_conns(struct monitor *m)
{
        while (m->ctl->conns) {
                struct ctl_conn *c = m->ctl->conns;
                conn_unlink(m, c);
                ctl_conn_free(c);
        }
}

/* --- answers from the guest ------------------------------------------------- */

static char *to_json(const struct json_value *v, void (*wrap)(struct json_writer *, const struct json_value *, const void *),
                     const void *data)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        char *text = NULL;
        struct rv_error *tmp_err = NULL;

        if (wrap)
                wrap(w, v, data);
        else if (v)
                json_write_value(w, v);
        else
                json_write_null(w);
        if (json_writer_finish(w, &text, NULL, &tmp_err) < 0)
                text = NULL;
        rv_error_release(&tmp_err);
        return text;
}

/* {"host_pids":[monitor, exec clients...],"processes":[...from the guest]} */
struct ps_reply {
        const struct monitor *m;
        const struct monitor_ps_of *of;         /* NULL: ours */
};

static void write_ps(struct json_writer *w, const struct json_value *result, const void *data)
{
        const struct ps_reply *r = data;
        const struct json_value *procs = json_get(result, "processes");

        json_write_object_begin(w);
        json_write_key(w, "host_pids");
        json_write_array_begin(w);
        json_write_int64(w, r->of ? r->of->host_pid : r->m->ns.host_pid);
        monitor_exec_write_client_pids(r->m, w, r->of ? r->of->id : NULL);
        json_write_array_end(w);
        json_write_key(w, "processes");
        if (procs)
                json_write_value(w, procs);
        else
                json_write_null(w);
        json_write_object_end(w);
}

/* Started, but the monitor cannot stand in for the container: it ends
 * here, as when the VM could not be rebuilt. */
static void started_alone(struct monitor *m, int fd, struct rv_error *err)
{
        rv_log(RV_LOG_ERROR, "%s", err->msg);
        state_set_reason(m->o->state, err->msg);
        if (fd >= 0) {
                ctl_send_error(fd, -(err->status > 0 ? err->status : EIO), err->msg);
                close(fd);
        }
        rv_error_free(err);
        m->exited = true;
        m->exit_signal = SIGKILL;
        m->vm_gone = true;
}

void monitor_reply_client(struct monitor *m, const struct agent_request *p, const struct channel_message *msg)
{
        int fd = p->client_fd;
        struct rv_error *tmp_err = NULL;

        if (p->kind == PENDING_EXEC) {
                monitor_exec_started(m, p->ptr, msg, fd);
                return;
        }
        if (msg->error == NULL) {
                switch (p->kind) {
                case PENDING_START:
                        monitor_save_state(m, CONTAINER_RUNNING);
                        if (monitor_userns_enter(m, &tmp_err) < 0) {
                                started_alone(m, fd, tmp_err);
                                return;
                        }
                        break;
                case PENDING_PAUSE:
                        m->status_before_pause = status(m);
                        monitor_save_state(m, CONTAINER_PAUSED);
                        break;
                case PENDING_RESUME:
                        monitor_save_state(m, m->status_before_pause);
                        break;
                default:
                        break;
                }
        }
        if (fd < 0)
                return;
        if (msg->error) {
                int e = msg->error_errno > 0 ? msg->error_errno : EIO;
                /* A process already gone is what runc calls "not running". */
                ctl_send_error(fd, -e, e == ESRCH ? "container not running" : msg->error);
        } else if (p->kind == PENDING_REPLY_RESULT || p->kind == PENDING_PS) {
                struct ps_reply r = { m, p->kind == PENDING_PS ? p->ptr : NULL };
                _cleanup_free_ char *text = p->kind == PENDING_PS ? to_json(msg->body, write_ps, &r)
                                                                  : to_json(msg->body, NULL, m);
                if (text)
                        ctl_send_reply(fd, 0, text, strlen(text));
                else
                        ctl_send_error(fd, -ENOMEM, "reply: out of memory");
        } else {
                ctl_send_reply(fd, 0, NULL, 0);
        }
        close(fd);
}

/* --- in the loop ------------------------------------------------------------ */

static int on_listen(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        handle_accept(ctx);
        return 0;
}

static int on_conn(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        /* may free the connection, which removes its watch first */
        conn_event(ctx, w->data);
        return 0;
}

static int watch(struct monitor *m, struct loop_watch *w, int fd, loop_fn fn, void *data, struct rv_error **err)
{
        if (fd < 0 || w->events)
                return 0;
        *w = (struct loop_watch) LOOP_WATCH_INIT(fn, data);
        w->fd = fd;
        return loop_watch_set(&m->loop, w, EPOLLIN, err);
}

int monitor_ctl_listen(struct monitor *m, struct rv_error **err)
{
        m->ctl->fd = ctl_listen(m->o->dir->dirfd, err);
        return m->ctl->fd < 0 ? -1 : 0;
}

int monitor_ctl_watch(struct monitor *m, struct rv_error **err)
{
        struct monitor_ctl *ctl = m->ctl;

        if (watch(m, &ctl->w, ctl->fd, on_listen, NULL, err) < 0)
                return -1;
        for (struct ctl_conn *c = ctl->conns; c; c = c->next)
                if (watch(m, &c->watch, c->fd, on_conn, c, err) < 0)
                        return -1;
        return 0;
}

void monitor_ctl_close(struct monitor *m)
{
        close_conns(m);
        if (m->ctl->fd >= 0) {
                loop_watch_remove(&m->loop, &m->ctl->w);
                close(m->ctl->fd);
                unlinkat(m->o->dir->dirfd, CTL_SOCKET, 0);
                m->ctl->fd = -1;
        }
}

void monitor_ctl_unlink(struct monitor *m)
{
        if (m->ctl && m->ctl->fd >= 0)
                unlinkat(m->o->dir->dirfd, CTL_SOCKET, 0);
}
