/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/json.h"
#include "vm/agent/agent.h"
#include "vm/agent/container.h"
#include "vm/agent/container-cgroup.h"
#include "vm/agent/containers.h"
#include "vm/agent/exec.h"
#include "vm/agent/network.h"
#include "vm/agent/power.h"
#include "vm/agent/ram.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/channel/protocol.h"

#define AGENT_VERSION RUNVM_VERSION
#define SHUTDOWN_FLUSH_TIMEOUT_MS 2000
/* While the host end is closed the port may not wake us: look again. */
#define DISCONNECTED_POLL_MS 250

void agent_watch_set(struct agent *a, struct agent_watch *w, uint32_t events)
{
        _cleanup_error_ struct rv_error *err = NULL;

        if (w->fd < 0)
                return;
        if (loop_fd_set(&a->loop, w->fd, &w->events, events, w, &err) < 0)
                rv_warn("%s", err->msg);
}

void agent_watch_close(struct agent *a, struct agent_watch *w)
{
        if (w->fd < 0)
                return;
        agent_watch_set(a, w, 0);
        close(w->fd);
        w->fd = -EBADF;
        w->events = 0;
}

struct channel *agent_channel(struct agent *a)
{
        return a->channel;
}

void agent_channel_failed(struct agent *a, struct rv_error **err)
{
        if (err == NULL || *err == NULL)
                return;
        rv_warn("channel: %s", (*err)->msg);
        rv_error_release(err);
}

static void flush(struct agent *a)
{
        _cleanup_error_ struct rv_error *err = NULL;

        if (channel_want_write(a->channel) && channel_flush(a->channel, &err) < 0)
                agent_channel_failed(a, &err);
}

/* Before powering off: the reply to `shutdown` must reach the host. */
static void flush_bounded(struct agent *a, int timeout_ms)
{
        int64_t deadline = rv_now_ms() + timeout_ms;

        for (;;) {
                struct pollfd p = { .fd = channel_fd(a->channel), .events = POLLOUT };
                int64_t left;

                flush(a);
                if (!channel_want_write(a->channel))
                        return;
                left = deadline - rv_now_ms();
                if (left <= 0) {
                        rv_warn("channel: %zu bytes not sent before power-off",
                                channel_pending_bytes(a->channel));
                        return;
                }
                poll(&p, 1, (int) (left < 50 ? left : 50));
        }
}

static int agent_serve_hello(struct agent *a, const struct json_value *params, struct json_writer *w,
                        struct rv_error **err)
{
        const struct json_value *v = json_get(params, "version");
        struct utsname u;
        int64_t version;

        if (v != NULL) {
                if (json_read_int64(v, "version", &version, err) < 0)
                        return -1;
                if (version != PROTO_VERSION)
                        return rv_error_setx(err, EPROTONOSUPPORT,
                                             "protocol version %lld is not supported (the agent speaks %d)",
                                             (long long) version, PROTO_VERSION);
        }
        if (uname(&u) < 0)
                return rv_error_set(err, errno, "uname");
        json_write_object_begin(w);
        json_write_key(w, "version");
        json_write_int64(w, PROTO_VERSION);
        proto_hello_write_capabilities(w);
        json_write_key(w, "agent");
        json_write_string(w, AGENT_VERSION);
        json_write_key(w, "kernel");
        json_write_string(w, u.release);
        json_write_key(w, "boot_ms");
        json_write_int64(w, a->ready_ms);
        if (a->ram != NULL && a->ram->unreachable_mib > 0) {
                json_write_key(w, "ram_unreachable_mib");
                json_write_int64(w, (int64_t) a->ram->unreachable_mib);
        }
        if (a->ram != NULL && a->ram->initrd_moved_from > 0) {
                json_write_key(w, "initrd_moved_from");
                json_write_int64(w, (int64_t) a->ram->initrd_moved_from);
        }
        json_write_object_end(w);
        return 0;
}

static int agent_serve_shutdown(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err)
{
        json_write_object_begin(w);
        json_write_object_end(w);
        return 0;
}

typedef int (*agent_method_fn)(struct agent *a, const struct json_value *params, struct json_writer *w,
                               struct rv_error **err);

/* Built from the protocol's table: every method has its handler here. */
static const agent_method_fn methods[_PROTO_METHOD_MAX] = {
#define PROTO_METHOD(id, name, handler) [PROTO_##id] = handler,
#include "vm/channel/protocol.def"
};

uint32_t agent_request_id(struct agent *a)
{
        return a->request_id;
}

struct json_writer *agent_reply_begin(uint32_t id)
{
        struct json_writer *w = json_writer_new(NULL);

        if (w == NULL) {
                rv_warn("out of memory answering request %u", id);
                return NULL;
        }
        channel_message_begin_response(w, id);
        return w;
}

void agent_reply_end(struct agent *a, struct json_writer *w)
{
        _cleanup_error_ struct rv_error *err = NULL;

        channel_message_end(w);
        if (channel_send_message(a->channel, CHANNEL_RESPONSE, w, &err) < 0)
                agent_channel_failed(a, &err);
        json_writer_free(w);
}

void agent_reply_error(struct agent *a, uint32_t id, const struct rv_error *e)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct json_writer *w = json_writer_new(NULL);

        if (w == NULL) {
                rv_warn("out of memory answering request %u", id);
                return;
        }
        rv_debug("request %u failed: %s", id, e->msg);
        channel_message_write_error(w, id, e->status, e->msg);
        if (channel_send_message(a->channel, CHANNEL_RESPONSE, w, &err) < 0)
                agent_channel_failed(a, &err);
        json_writer_free(w);
}

static void send_response(struct agent *a, struct json_writer *w)
{
        _cleanup_error_ struct rv_error *err = NULL;

        if (channel_send_message(a->channel, CHANNEL_RESPONSE, w, &err) < 0)
                agent_channel_failed(a, &err);
}

static void handle_request(struct agent *a, const struct channel_message *m)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct json_writer *w;
        int method = proto_method_lookup(m->method);
        agent_method_fn fn = method >= 0 ? methods[method] : NULL;
        int r;

        rv_debug("request %u `%s`", m->id, m->method);
        w = json_writer_new(NULL);
        if (w == NULL) {
                rv_warn("out of memory answering `%s`", m->method);
                return;
        }
        if (fn == NULL) {
                r = rv_error_setx(&err, ENOSYS, "unknown method `%s`", m->method);
        } else {
                channel_message_begin_response(w, m->id);
                a->request_id = m->id;
                r = fn(a, m->body, w, &err);
        }
        if (r == AGENT_REPLY_LATER) {
                json_writer_free(w);
                return;
        }
        if (r < 0) {
                rv_debug("request %u `%s` failed: %s", m->id, m->method, err->msg);
                json_writer_free(w);
                w = json_writer_new(NULL);
                if (w == NULL)
                        return;
                channel_message_write_error(w, m->id, err->status, err->msg);
        } else {
                channel_message_end(w);
        }
        send_response(a, w);
        json_writer_free(w);
        if (r == 0 && method == PROTO_SHUTDOWN) {
                rv_debug("shutdown: powering off");
                flush_bounded(a, SHUTDOWN_FLUSH_TIMEOUT_MS);
                agent_power_off();
        }
}

static void handle_frame(struct agent *a, const struct channel_frame *f)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct channel_message m;

        switch (f->type) {
        case CHANNEL_REQUEST:
                if (channel_message_parse(f, &m, &err) < 0) {
                        rv_warn("channel: bad request: %s", err->msg);
                        return;
                }
                handle_request(a, &m);
                channel_message_clear(&m);
                return;
        case CHANNEL_DATA:
                agent_containers_stream_data(a, f->stream, f->payload, f->length);
                return;
        case CHANNEL_EOF:
                agent_containers_stream_eof(a, f->stream);
                return;
        default:
                rv_debug("channel: ignoring a frame of type %u on stream %u", f->type, f->stream);
                return;
        }
}

static void port_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct channel_frame f;
        int r;

        r = channel_receive(a->channel, &err);
        if (r < 0) {
                agent_channel_failed(a, &err);
        } else if ((r == 1) == a->connected) {
                a->connected = r == 0;
                rv_debug("channel: host %s", a->connected ? "connected" : "not connected");
        }
        while ((r = channel_next(a->channel, &f, &err)) > 0)
                handle_frame(a, &f);
        if (r < 0) {
                /* The stream cannot be resynchronised from inside a frame:
                 * the host broke the protocol, end the VM loudly. */
                rv_log(RV_LOG_ERROR, "channel: protocol error: %s", err->msg);
                agent_power_off();
        }
}

/* Connected: level-triggered, EPOLLOUT only while output is queued. Not
 * connected: the port reads EOF and polls HUP until the host connects, so
 * level-triggered would spin; edge-triggered, it wakes us when the host
 * connects (the port's waitqueue is woken then), with a timed retry as a
 * safety net. */
static void port_arm(struct agent *a)
{
        uint32_t events = EPOLLIN | EPOLLET;

        if (a->connected)
                events = EPOLLIN | (channel_want_write(a->channel) ? EPOLLOUT : 0);
        agent_watch_set(a, &a->port, events);
}

static void sigchld_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        struct signalfd_siginfo si;
        pid_t pid;
        int status;

        while (read(w->fd, &si, sizeof(si)) == sizeof(si))
                ;
        /* PID 1 reaps every orphan; container inits are recorded. */
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (agent_container_reaped(a, pid, status))
                        continue;
                /* Perhaps an exec'ed process whose pid is still in its
                 * helper's report: read those, then look again. */
                agent_execs_poll(a);
                agent_container_reaped(a, pid, status);
        }
}

static int dispatch(void *ctx, void *ptr, uint32_t revents, struct rv_error **err)
{
        struct agent_watch *w = ptr;

        w->handler(ctx, w, revents);
        return 0;
}

void agent_serve(int port_fd, bool debug, int64_t ready_ms, struct agent_bpf_cache *progs,
                 struct agent_pool_netns *pool_netns, struct agent_ram *ram)
{
        struct agent a = { .debug = debug, .ready_ms = ready_ms, .progs = progs, .pool_netns = pool_netns,
                           .ram = ram };
        _cleanup_error_ struct rv_error *err = NULL;
        sigset_t mask;
        int sfd;

        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                agent_power_fatal(errno, "block SIGCHLD");
        sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sfd < 0)
                agent_power_fatal(errno, "signalfd");
        if (loop_init(&a.loop, &err) < 0)
                agent_power_fatal(err->status, err->msg);
        a.channel = channel_new(port_fd);
        if (a.channel == NULL)
                agent_power_fatal(ENOMEM, "channel");
        a.sigchld = (struct agent_watch) { .fd = sfd, .handler = sigchld_handler };
        agent_watch_set(&a, &a.sigchld, EPOLLIN);
        a.port = (struct agent_watch) { .fd = channel_fd(a.channel), .handler = port_handler };
        a.inotify = (struct agent_watch) { .fd = -EBADF, .handler = agent_containers_oom_handler };
        /* Reap what exited before the signalfd existed. */
        sigchld_handler(&a, &a.sigchld, EPOLLIN);

        for (;;) {
                int timeout = -1;

                agent_containers_tick(&a, &timeout);
                flush(&a);
                agent_containers_refresh(&a);
                port_arm(&a);
                if (!a.connected && (timeout < 0 || timeout > DISCONNECTED_POLL_MS))
                        timeout = DISCONNECTED_POLL_MS;
                int n = loop_wait(&a.loop, timeout, dispatch, &a, &err);
                if (n < 0)
                        agent_power_fatal(err->status, err->msg);
                /* Disconnected, the port may never wake us: look again. */
                if (n == 0 && !a.connected)
                        port_handler(&a, &a.port, 0);
        }
}
