/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's event loop, the one place that knows every part: it
 * registers each part's fds (the channel, signals, ctl.sock and its
 * connections, the VM's processes and logs, stdio, exec clients, events
 * subscribers, the namespace watch), hands what the agent sends to the
 * part it is for, and runs one turn at a time. */
#include "libcontainer-vm/monitor-loop.h"
#include "libcontainer-vm/monitor-oom.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/proc.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-ctl.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-pod.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/tty.h"
#include "spec/json.h"
#include "vm/channel/message.h"
#include "vm/vm.h"

/* --- what the agent sends -------------------------------------------------- */

static int handle_data(struct monitor *m, const struct channel_frame *f, struct rv_error **err)
{
        struct stdio_sink *s = proc_io_sink(&m->init, f->stream);

        if (s == NULL)
                s = monitor_exec_sink(m, f->stream);
        if (s == NULL)
                s = monitor_pod_sink(m, f->stream);
        if (s == NULL) {
                /* Output of a process whose host side is already gone. */
                rv_debug("data for stream %u dropped", f->stream);
                return 0;
        }
        if (f->type == CHANNEL_EOF) {
                s->eof = true;
                return 0;
        }
        return stdio_sink_push(s, f->payload, f->length, err);
}

static void handle_exit_event(struct monitor *m, const struct json_value *data)
{
        const struct json_value *exec_id = json_get(data, "exec_id");

        if (exec_id && json_is_string(exec_id)) {
                const char *s = NULL;
                json_read_string(exec_id, "exec_id", &s, NULL);
                monitor_exec_exited(m, s, data);
                return;
        }
        const char *id = NULL;
        const struct json_value *idv = json_get(data, "id");
        if (idv && json_is_string(idv) && json_read_string(idv, "id", &id, NULL) == 0 &&
            monitor_pod_exited(m, id, data))
                return;
        m->exited = true;
        monitor_read_exit(data, &m->exit_code, &m->exit_signal);
        rv_debug("container exited: code %d signal %d", m->exit_code, m->exit_signal);
}

static void on_answer(void *ctx, const struct agent_request *req, const struct channel_message *msg,
                      const struct rv_error *failure)
{
        struct monitor *m = ctx;

        if (req->kind == PENDING_CALL) {
                monitor_call_answered(req->ptr, msg, failure);
                return;
        }
        if (msg) {
                monitor_reply_client(m, req, msg);
        } else {
                /* No answer will come. An exec the guest may yet start is
                 * killed; one whose container is going is reaped with it. */
                if (req->kind == PENDING_EXEC && failure->status == ETIMEDOUT)
                        monitor_exec_abandon(m, req->ptr);
                if (req->client_fd >= 0) {
                        ctl_send_error(req->client_fd, -failure->status, failure->msg);
                        close(req->client_fd);
                }
        }
        if (req->kind == PENDING_PS)
                free(req->ptr);
}

static void on_event(void *ctx, enum proto_event ev, const struct channel_message *msg)
{
        struct monitor *m = ctx;

        switch (ev) {
        case PROTO_EVENT_PROCESS_EXITED:
                handle_exit_event(m, msg->body);
                break;
        case PROTO_EVENT_OOM:
                if (!monitor_pod_oom(m, msg->body))
                        monitor_oom(m);
                break;
        case _PROTO_EVENT_MAX:
                break;
        }
}

static int on_data(void *ctx, const struct channel_frame *f, struct rv_error **err)
{
        return handle_data(ctx, f, err);
}

const struct agent_client_ops monitor_agent_ops = {
        .answer = on_answer, .event = on_event, .data = on_data,
};

static void forward_signal(struct monitor *m, int sig)
{
        struct proto_signal s = { .signal = sig };

        if (!m->exited)
                monitor_forward(m, -1, PENDING_NONE, PROTO_SIGNAL_PROCESS, proto_write_signal, &s);
}

/* The caller resized its end of the terminal: tell the guest's pty. */
static void resize_terminal(struct monitor *m)
{
        struct proto_resize sz = { 0 };

        if (m->exited || m->tty_fd < 0 || tty_get_size(m->tty_fd, &sz.height, &sz.width) < 0)
                return;
        monitor_forward(m, -1, PENDING_NONE, PROTO_RESIZE_TTY, proto_write_resize, &sz);
}

static void handle_signals(struct monitor *m)
{
        struct signalfd_siginfo si;

        while (read(m->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGWINCH && m->o->tty != MONITOR_TTY_NONE)
                        resize_terminal(m);
                else
                        forward_signal(m, (int) si.ssi_signo);
        }
}

/* --- the event loop ------------------------------------------------------- */

/* Each turn the watches follow the state (what may be read or written
 * now); base/loop only talks to epoll when that changed. A watch's fd
 * stays the same until its owner removes it, before closing the fd. */
static int watch_fd(struct monitor *m, struct loop_watch *w, int fd, uint32_t events, loop_fn fn, void *data,
                    struct rv_error **err)
{
        if (w->events == 0) {
                if (fd < 0 || events == 0)
                        return 0;
                w->fd = fd;
                w->fn = fn;
                w->data = data;
        }
        return loop_watch_set(&m->loop, w, fd >= 0 ? events : 0, err);
}

static int on_channel(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct monitor *m = ctx;

        if (!(rev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        int r = channel_receive(m->ch, err);
        if (r < 0 || agent_client_pump(m->agent, err) < 0)
                return rv_error_wrap(err, "agent channel");
        m->channel_hangup = r == 1;
        return 0;
}

static int on_signal(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        handle_signals(ctx);
        return 0;
}

/* The VM's exit fd: it is gone. Any other of its fds: something to look
 * at after the turn (a helper's death, QMP events, output to keep). */
static int on_vm(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct monitor *m = ctx;

        if (m->vm && w->fd == vm_exit_fd(m->vm))
                m->vm_gone = true;
        else
                m->vm_event = true;
        return 0;
}

/* The driver may close one of its fds inside vm_check (a log at its
 * end): that registration went with the fd; the rest are kept. */
static int watch_vm(struct monitor *m, struct rv_error **err)
{
        int fds[VM_WATCH_MAX];
        size_t n = m->vm ? vm_watch_fds(m->vm, fds) : 0;

        for (size_t i = 0; i < VM_WATCH_MAX; i++) {
                bool still = false;
                for (size_t j = 0; j < n && m->w_vm[i].events; j++)
                        still |= fds[j] == m->w_vm[i].fd;
                if (m->w_vm[i].events && !still)
                        loop_watch_forget(&m->loop, &m->w_vm[i]);
        }
        for (size_t j = 0; j < n; j++) {
                size_t free_slot = VM_WATCH_MAX;
                bool have = false;
                for (size_t i = 0; i < VM_WATCH_MAX; i++) {
                        have |= m->w_vm[i].events && m->w_vm[i].fd == fds[j];
                        if (m->w_vm[i].events == 0 && free_slot == VM_WATCH_MAX)
                                free_slot = i;
                }
                if (have || free_slot == VM_WATCH_MAX)
                        continue;
                if (watch_fd(m, &m->w_vm[free_slot], fds[j], EPOLLIN, on_vm, NULL, err) < 0)
                        return -1;
        }
        return 0;
}

static int on_netns(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        monitor_net_watch_event(ctx);
        return 0;
}

static int watch_all(struct monitor *m, struct rv_error **err)
{
        uint32_t ch_events = EPOLLIN | (channel_want_write(m->ch) ? EPOLLOUT : 0);

        if (watch_fd(m, &m->w_channel, channel_fd(m->ch), ch_events, on_channel, NULL, err) < 0 ||
            watch_fd(m, &m->w_signal, m->sigfd, EPOLLIN, on_signal, NULL, err) < 0 ||
            watch_vm(m, err) < 0 ||
            watch_fd(m, &m->w_netns, monitor_net_watch_fd(m), EPOLLIN, on_netns, NULL, err) < 0 ||
            proc_io_watch(&m->init, &m->loop, err) < 0 || monitor_exec_watch(m, err) < 0 ||
            monitor_pod_watch(m, err) < 0 ||
            monitor_ctl_watch(m, err) < 0 || monitor_events_watch(m, err) < 0)
                return -1;
        return 0;
}

/* One turn of the loop: wait up to timeout_ms, handle what is ready.
 * Returns -1 when the channel or the VM failed. */
int monitor_loop_once(struct monitor *m, int timeout_ms, struct rv_error **err)
{
        m->channel_hangup = false;
        m->vm_event = false;
        if (watch_all(m, err) < 0)
                return -1;
        /* Exec sessions that wait for their output to drain need a tick. */
        if (timeout_ms < 0 && monitor_exec_any(m))
                timeout_ms = 1000;
        /* So do requests with a deadline. */
        int next = monitor_ctl_expire(m), next_pending = agent_client_expire(m->agent, rv_now_ms()),
            next_member = monitor_pod_expire(m);
        if (next < 0 || (next_pending >= 0 && next_pending < next))
                next = next_pending;
        if (next < 0 || (next_member >= 0 && next_member < next))
                next = next_member;
        if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
                timeout_ms = next;
        if (loop_run_once(&m->loop, timeout_ms, m, err) < 0)
                return -1;
        monitor_events_after_turn(m);
        if (proc_io_flush(&m->init, err) < 0)
                return -1;
        if (monitor_exec_flush(m, err) < 0 || monitor_pod_flush(m, err) < 0)
                return -1;
        monitor_exec_reap(m, false);
        if (channel_flush(m->ch, err) < 0)
                return rv_error_wrap(err, "agent channel");
        if (m->channel_hangup && !m->exited)
                return rv_error_setx(err, ECONNRESET, "the agent closed the channel");
        if (m->vm_gone && !m->exited)
                return rv_error_setx(err, EIO, "the VM exited");
        /* Output to keep, or a helper's death (no clean shutdown without
         * its files). */
        if (m->vm_event && vm_check(m->vm, err) < 0) {
                m->vm_gone = !vm_alive(m->vm);
                if (!m->exited)
                        return -1;
                rv_error_release(err);
        }
        return 0;
}
