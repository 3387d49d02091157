/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's core: boot the VM, create the container, run the event
 * loop, tear down, exit like the container. */
#include "libcontainer-vm/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/proc.h"
#include "libcontainer-vm/accel.h"
#include "libcontainer-vm/agent-client.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/console.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-internal.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/stdio.h"
#include "libcontainer-vm/translate.h"
#include "libcontainer-vm/tty.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/qemu/affinity.h"
#include "vm/qemu/vm.h"

/* --- reporting to create ------------------------------------------------ */

/* On the sync socket (SOCK_SEQPACKET: one message per send): the
 * monitor's final verdict, or a request to run hooks answered with a
 * sync_msg of its own. */
enum sync_kind { SYNC_VERDICT = 0, SYNC_HOOKS = 1 };

struct sync_msg {
        int32_t kind;
        int32_t status;
        char message[4096];
};

struct sync_hooks_request {
        int32_t kind;                   /* SYNC_HOOKS */
        char phase[32];
        char state_json[];              /* the rest of the message, NUL-terminated */
};

#define SYNC_MAX (256u << 10)

/* Fails when create is gone (EPIPE: SIGPIPE is ignored). */
static int sync_report(int fd, int status, const char *message)
{
        struct sync_msg m = { .kind = SYNC_VERDICT, .status = status };
        if (fd < 0)
                return 0;
        if (message)
                snprintf(m.message, sizeof(m.message), "%s", message);
        return rv_write_all(fd, &m, sizeof(m));
}

/* The rule for a monitor whose create died (docs/ARCHITECTURE.md): until
 * create has its verdict, create's death is the create's failure: the
 * monitor tears down what it started and records `stopped` with the
 * reason; delete removes the rest. The sync socket reports POLLHUP (or
 * POLLERR) once create, its peer, is gone. */
static bool creator_gone(const struct monitor *m)
{
        struct pollfd pfd = { m->o->sync_fd, 0, 0 };
        return m->o->sync_fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP));
}

#define CREATOR_GONE_MSG "create exited before the container was created"

static int check_creator(struct monitor *m, struct rv_error **err)
{
        if (creator_gone(m))
                return rv_error_setx(err, ECANCELED, CREATOR_GONE_MSG);
        return 0;
}

static const struct spec_hook_list *hooks_for(const struct spec_hooks *h, const char *phase)
{
        if (strcmp(phase, "prestart") == 0)
                return &h->prestart;
        if (strcmp(phase, "createRuntime") == 0)
                return &h->create_runtime;
        if (strcmp(phase, "createContainer") == 0)
                return &h->create_container;
        if (strcmp(phase, "poststart") == 0)
                return &h->poststart;
        return NULL;
}

static void answer_hooks(int fd, const struct spec_hooks *hooks, const char *bundle,
                         const struct sync_hooks_request *req)
{
        struct sync_msg reply = { .kind = SYNC_HOOKS };
        const struct spec_hook_list *l = hooks_for(hooks, req->phase);
        struct rv_error *tmp_err = NULL;

        if (l == NULL) {
                reply.status = EINVAL;
                snprintf(reply.message, sizeof(reply.message), "unknown hook phase `%.31s`", req->phase);
        } else if (hooks_run(l, req->phase, req->state_json, bundle, &tmp_err) < 0) {
                reply.status = tmp_err->status > 0 ? tmp_err->status : EIO;
                snprintf(reply.message, sizeof(reply.message), "%s", tmp_err->msg);
        }
        rv_error_release(&tmp_err);
        send(fd, &reply, sizeof(reply), MSG_NOSIGNAL);
}

int monitor_wait_created(int sync_fd, const struct spec_hooks *hooks, const char *bundle,
                         struct rv_error **err)
{
        _cleanup_free_ char *buf = malloc(SYNC_MAX + 1);

        if (buf == NULL)
                return rv_error_set(err, ENOMEM, "wait for the monitor");
        for (;;) {
                ssize_t n = recv(sync_fd, buf, SYNC_MAX, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == (ssize_t) sizeof(struct sync_msg) && ((struct sync_msg *) buf)->kind == SYNC_VERDICT) {
                        struct sync_msg *m = (struct sync_msg *) buf;
                        m->message[sizeof(m->message) - 1] = '\0';
                        if (m->status != 0)
                                return rv_error_setx(err, m->status > 0 ? m->status : EIO, "%s", m->message);
                        return 0;
                }
                if (n > (ssize_t) sizeof(struct sync_hooks_request) &&
                    ((struct sync_hooks_request *) buf)->kind == SYNC_HOOKS) {
                        struct sync_hooks_request *req = (struct sync_hooks_request *) buf;
                        buf[n] = '\0';
                        req->phase[sizeof(req->phase) - 1] = '\0';
                        answer_hooks(sync_fd, hooks, bundle, req);
                        continue;
                }
                return rv_error_setx(err, EIO, "the monitor exited before the container was created");
        }
}

/* Runs hooks through create (monitor_wait_created), in the caller's pid,
 * mount and network namespaces: the monitor's are the container's. */
static int sync_run_hooks(int fd, const char *phase, const char *json, struct rv_error **err)
{
        size_t len = strlen(json);
        size_t size = sizeof(struct sync_hooks_request) + len + 1;
        _cleanup_free_ struct sync_hooks_request *req = calloc(1, size);
        struct sync_msg reply;

        if (req == NULL || size > SYNC_MAX)
                return rv_error_set(err, req ? E2BIG : ENOMEM, "%s hooks", phase);
        req->kind = SYNC_HOOKS;
        snprintf(req->phase, sizeof(req->phase), "%s", phase);
        memcpy(req->state_json, json, len + 1);
        if (send(fd, req, size, MSG_NOSIGNAL) != (ssize_t) size)
                return rv_error_set(err, errno, "%s hooks: ask the runtime", phase);
        ssize_t n;
        do
                n = recv(fd, &reply, sizeof(reply), 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof(reply))
                return rv_error_setx(err, EIO, "%s hooks: the runtime went away", phase);
        reply.message[sizeof(reply.message) - 1] = '\0';
        if (reply.status != 0)
                return rv_error_setx(err, reply.status, "%s", reply.message);
        return 0;
}

/* --- helpers ------------------------------------------------------------ */

/* Records status (only as the transition table allows); a create
 * depends on it (a full state root fails it). */
static int monitor_record(struct monitor *m, enum container_status status, struct rv_error **err)
{
        enum container_status now = m->o->state->status;

        if (!container_status_can_become(now, status))
                return rv_error_setx(err, EINVAL, "save state: a %s container cannot become %s",
                                     container_status_name(now), container_status_name(status));
        m->o->state->status = status;
        return state_save(m->o->dir->dirfd, m->o->state, err);
}

void monitor_save_state(struct monitor *m, enum container_status status)
{
        struct rv_error *tmp_err = NULL;

        if (monitor_record(m, status, &tmp_err) < 0)
                rv_log(RV_LOG_WARNING, "save state: %s", tmp_err->msg);
        rv_error_release(&tmp_err);
}

/* QEMU and virtiofsd are on disk the moment they run, so delete finds
 * them in any phase. */
static int monitor_record_vm(struct monitor *m, struct rv_error **err)
{
        struct container_state *st = m->o->state;

        state_clear_procs(st);
        /* As the host numbers them: /proc is still the host's here. */
        if (state_add_proc(st, "virtiofsd", rv_pidfd_proc_pid(m->vm.virtiofsd_pidfd), err) < 0 ||
            state_add_proc(st, "qemu", rv_pidfd_proc_pid(m->vm.qemu_pidfd), err) < 0 ||
            state_save(m->o->dir->dirfd, st, err) < 0)
                return rv_error_wrap(err, "record the VM");
        return 0;
}

/* The console line that explains a failure, if one does (console.h). */
static char *console_line(struct monitor *m)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct rv_error *tmp_err = NULL;

        vm_pump_logs(&m->vm);           /* what is in flight first */
        if (rv_read_file_at(m->o->dir->dirfd, "console.log", 8 << 20, &text, &len, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                return NULL;
        }
        return console_explaining_line(text, len);
}

#define FAILED_BOOT_LOG "failed-boot.log"

/* A boot that failed in the guest: the error stays one line (why, in
 * words), and QEMU's and the console's logs are kept in the host cache,
 * since a failed create removes the state dir they were in. */
static int wrap_guest_error(struct monitor *m, struct rv_error **err)
{
        _cleanup_free_ char *cache = NULL, *why = NULL, *title = NULL;
        _cleanup_close_ int dfd = -EBADF;
        struct rv_error *tmp_err = NULL;

        /* create died: nothing went wrong in the guest. */
        if ((*err)->status == ECANCELED)
                return -1;
        if ((*err)->status == ETIMEDOUT && (why = vm_stuck_reason(&m->vm)))
                rv_error_wrap(err, "%s", why);
        if (runvm_host_cache_dir(m->o->ctx->root, &cache, &tmp_err) < 0 ||
            (dfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                rv_error_release(&tmp_err);
                return -1;
        }
        if (asprintf(&title, "container %s: %s", m->o->state->id, (*err)->msg) < 0)
                return -1;
        vm_save_failure_logs(&m->vm, dfd, FAILED_BOOT_LOG, title);
        /* The reason reads first: "hello: the guest ...; guest logs: PATH". */
        struct rv_error *e = *err;
        *err = NULL;
        rv_error_setx(err, e->status, "%s; guest logs: %s/" FAILED_BOOT_LOG, e->msg, cache);
        rv_error_free(e);
        return -1;
}

bool monitor_pending_full(const struct monitor *m)
{
        return agent_client_full(m->agent);
}

static int pending_timeout_ms(const struct monitor *m, enum pending_kind kind)
{
        int timeout_ms = PENDING_TIMEOUT_MS;

        /* start runs the startContainer hooks in the guest first. */
        if (kind == PENDING_START)
                timeout_ms += (int) spec_hooks_max_ms(&m->o->guest_spec->hooks.start_container);
        return timeout_ms;
}

int monitor_request(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                    enum pending_kind kind, int client_fd, void *ptr, struct rv_error **err)
{
        struct agent_request tag = { .kind = kind, .client_fd = client_fd, .ptr = ptr };

        return agent_client_request(m->agent, method, fill, data, &tag, pending_timeout_ms(m, kind), NULL, err);
}

int monitor_send_request(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                         struct rv_error **err)
{
        return agent_client_request(m->agent, method, fill, data, NULL, 0, NULL, err);
}

void monitor_forward(struct monitor *m, int client_fd, enum pending_kind kind, enum proto_method method,
                     agent_fill_fn fill, const void *data)
{
        struct rv_error *tmp_err = NULL;

        if (monitor_request(m, method, fill, data, kind, client_fd, NULL, &tmp_err) < 0 && client_fd >= 0) {
                ctl_send_error(client_fd, -EIO, tmp_err->status == EAGAIN ? "too many requests in flight"
                               : tmp_err->msg);
                close(client_fd);
        }
        rv_error_release(&tmp_err);
}

void monitor_fill_signal(struct json_writer *w, const void *data)
{
        const struct ctl_header *h = data;
        json_write_key(w, "signal");
        json_write_int64(w, h->arg);
        json_write_key(w, "all");
        json_write_bool(w, (h->flags & CTL_FLAG_ALL) != 0);
}

/* --- process stdio ---------------------------------------------------------- */

static bool stream_in_use(const struct proc_io *io, uint32_t s)
{
        return (io->in.fd >= 0 && io->in.stream == s) || (io->out.fd >= 0 && io->out.stream == s) ||
               (io->err.fd >= 0 && io->err.stream == s);
}

uint32_t monitor_stream_alloc(struct monitor *m)
{
        for (uint32_t s = 1; s < CHANNEL_MAX_STREAMS; s++) {
                bool used = stream_in_use(&m->init, s) || channel_stream_is_open(m->ch, s);
                for (struct exec_session *e = m->execs; e && !used; e = e->next)
                        used = stream_in_use(&e->io, s);
                if (!used)
                        return s;
        }
        return 0;
}

/* fds: {stdin, stdout, stderr} or, for a terminal, {tty} or {tty in, tty out}. */
int proc_io_open(struct monitor *m, struct proc_io *io, bool terminal, const int *fds, size_t n_fds,
                 bool owned, struct rv_error **err)
{
        io->terminal = terminal;
        io->in.fd = io->out.fd = io->err.fd = -1;
        if (terminal) {
                uint32_t s = monitor_stream_alloc(m);
                if (s == 0 || channel_stream_open(m->ch, s, err) < 0)
                        return s == 0 ? rv_error_setx(err, EMFILE, "no free stream") : -1;
                int in = fds[0], out = n_fds > 1 ? fds[1] : fds[0];
                /* One tty for both directions must stay one read-write fd. */
                if (in == out && !owned) {
                        if (stdio_reopen_tty(in, err) < 0)
                                return -1;
                        owned = true;
                }
                if (stdio_source_init(&io->in, in, s, owned, err) < 0 ||
                    stdio_sink_init(&io->out, out, s, owned, err) < 0)
                        return -1;
                return 0;
        }
        for (int i = 0; i < 3; i++) {
                uint32_t s = monitor_stream_alloc(m);
                if (s == 0 || channel_stream_open(m->ch, s, err) < 0)
                        return s == 0 ? rv_error_setx(err, EMFILE, "no free stream") : -1;
                int r = i == 0 ? stdio_source_init(&io->in, fds[0], s, owned, err)
                        : stdio_sink_init(i == 1 ? &io->out : &io->err, fds[i], s, owned, err);
                if (r < 0)
                        return -1;
        }
        return 0;
}

void proc_io_write_stdio(struct json_writer *w, const struct proc_io *io)
{
        json_write_object_begin(w);
        if (io->terminal) {
                json_write_key(w, "terminal"); json_write_int64(w, io->in.stream);
        } else {
                json_write_key(w, "stdin"); json_write_int64(w, io->in.stream);
                json_write_key(w, "stdout"); json_write_int64(w, io->out.stream);
                json_write_key(w, "stderr"); json_write_int64(w, io->err.stream);
        }
        json_write_object_end(w);
}

struct stdio_sink *proc_io_sink(struct proc_io *io, uint32_t stream)
{
        if (io->out.fd >= 0 && io->out.stream == stream)
                return &io->out;
        if (io->err.fd >= 0 && io->err.stream == stream)
                return &io->err;
        return NULL;
}

bool proc_io_drained(const struct proc_io *io)
{
        return !stdio_sink_want_write(&io->out) && !stdio_sink_want_write(&io->err);
}

void proc_io_close(struct monitor *m, struct proc_io *io)
{
        int fds[3] = { io->in.fd, io->out.fd, io->err.fd };

        monitor_unwatch(m, &io->w_in);
        monitor_unwatch(m, &io->w_out);
        monitor_unwatch(m, &io->w_err);
        uint32_t streams[3] = { io->in.stream, io->out.stream, io->err.stream };

        for (int i = 0; i < 3; i++) {
                if (streams[i] && m->ch)
                        channel_stream_close(m->ch, streams[i]);
                /* the same fd may serve twice (a terminal) */
                bool seen = false;
                for (int j = 0; j < i; j++)
                        seen |= fds[j] == fds[i];
                if (fds[i] >= 0 && !seen)
                        close(fds[i]);
        }
        stdio_sink_clear(&io->out);
        stdio_sink_clear(&io->err);
        io->in.fd = io->out.fd = io->err.fd = -1;
        io->in.stream = io->out.stream = io->err.stream = 0;
}

/* --- guest messages --------------------------------------------------------- */

static int handle_data(struct monitor *m, const struct channel_frame *f, struct rv_error **err)
{
        struct stdio_sink *s = proc_io_sink(&m->init, f->stream);

        for (struct exec_session *e = m->execs; s == NULL && e; e = e->next)
                s = proc_io_sink(&e->io, f->stream);
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

static void read_exit(const struct json_value *data, int *ret_code, int *ret_signal)
{
        const struct json_value *v;
        int64_t n = 0;
        struct rv_error *tmp_err = NULL;

        *ret_code = 255;
        *ret_signal = 0;
        if ((v = json_get(data, "signal")) && json_read_int64(v, "signal", &n, &tmp_err) == 0 &&
            n > 0 && n < 65)
                *ret_signal = (int) n;
        else if ((v = json_get(data, "exit_code")) &&
                 json_read_int64(v, "exit_code", &n, &tmp_err) == 0 && n >= 0 && n < 256)
                *ret_code = (int) n;
        rv_error_release(&tmp_err);
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
        m->exited = true;
        read_exit(data, &m->exit_code, &m->exit_signal);
        rv_debug("container exited: code %d signal %d", m->exit_code, m->exit_signal);
}

void monitor_exec_exit_status(const struct json_value *data, int *ret_code, int *ret_signal);
void monitor_exec_exit_status(const struct json_value *data, int *ret_code, int *ret_signal)
{
        read_exit(data, ret_code, ret_signal);
}

/* A synchronous call's answer (monitor_call). */
struct call {
        bool done;
        struct rv_error *err;
        int (*check)(const struct json_value *result, struct rv_error **err);
};

static void answer_call(struct call *c, const struct channel_message *msg, const struct rv_error *failure)
{
        c->done = true;
        if (msg == NULL)
                rv_error_setx(&c->err, failure->status, "%s", failure->msg);
        else if (msg->error)
                rv_error_setx(&c->err, msg->error_errno > 0 ? msg->error_errno : EIO, "%s", msg->error);
        else if (c->check)
                c->check(msg->body, &c->err);
}

static void on_answer(void *ctx, const struct agent_request *req, const struct channel_message *msg,
                      const struct rv_error *failure)
{
        struct monitor *m = ctx;

        if (req->kind == PENDING_CALL) {
                answer_call(req->ptr, msg, failure);
                return;
        }
        if (msg) {
                monitor_reply_client(m, req, msg);
                return;
        }
        /* No answer will come. An exec the guest may yet start is killed;
         * one whose container is going is reaped with it. */
        if (req->kind == PENDING_EXEC && failure->status == ETIMEDOUT)
                monitor_exec_abandon(m, req->ptr);
        if (req->client_fd >= 0) {
                ctl_send_error(req->client_fd, -failure->status, failure->msg);
                close(req->client_fd);
        }
}

static void on_event(void *ctx, enum proto_event ev, const struct channel_message *msg)
{
        struct monitor *m = ctx;

        switch (ev) {
        case PROTO_EVENT_PROCESS_EXITED:
                handle_exit_event(m, msg->body);
                break;
        case PROTO_EVENT_OOM: {
                char line[512];
                snprintf(line, sizeof(line), "{\"type\":\"oom\",\"id\":\"%s\"}", m->o->state->id);
                monitor_notify_subscribers(m, line);
                break;
        }
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
        struct ctl_header h = { .command = CTL_KILL, .arg = sig };

        if (!m->exited)
                monitor_forward(m, -1, PENDING_NONE, PROTO_SIGNAL_PROCESS, monitor_fill_signal, &h);
}

struct tty_size {
        uint16_t height, width;
};

static void fill_size(struct json_writer *w, const void *data)
{
        const struct tty_size *sz = data;
        json_write_key(w, "height");
        json_write_int64(w, sz->height);
        json_write_key(w, "width");
        json_write_int64(w, sz->width);
}

/* The caller resized its end of the terminal: tell the guest's pty. */
static void resize_terminal(struct monitor *m)
{
        struct tty_size sz;

        if (m->exited || m->tty_fd < 0 || tty_get_size(m->tty_fd, &sz.height, &sz.width) < 0)
                return;
        monitor_forward(m, -1, PENDING_NONE, PROTO_RESIZE_TTY, fill_size, &sz);
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

static int on_ctl(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        monitor_handle_ctl(ctx);
        return 0;
}

static int on_qemu(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct monitor *m = ctx;

        m->vm_gone = true;
        return 0;
}

static int on_log(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        vmlog_pump(w->data);
        return 0;
}

/* The VM cannot work without its helpers: losing one is its death. */
static int on_helper(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct monitor *m = ctx;

        m->helper_gone = w->data;
        return 0;
}

static int on_netns(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        monitor_net_watch_event(ctx);
        return 0;
}

static int on_source(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct monitor *m = ctx;
        struct proc_io *io = w->data;

        /* A terminal's one fd: writable is for the sink, flushed below. */
        if (!(rev & (EPOLLIN | EPOLLHUP | EPOLLERR)) || io->in.fd < 0)
                return 0;
        return stdio_source_pump(&io->in, m->ch, err);
}

static int on_sink(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        return 0;               /* flushed after every turn */
}

static int on_exec_client(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        monitor_exec_client_event(ctx, w->data);
        return 0;
}

static int on_ctl_conn(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        /* may free the connection, which removes its watch first */
        monitor_ctl_conn_event(ctx, w->data);
        return 0;
}

static int watch_io(struct monitor *m, struct proc_io *io, struct rv_error **err)
{
        uint32_t in = io->in.fd >= 0 && stdio_source_want_read(&io->in, m->ch) ? EPOLLIN : 0;
        uint32_t out = stdio_sink_want_write(&io->out) ? EPOLLOUT : 0;
        uint32_t errout = stdio_sink_want_write(&io->err) ? EPOLLOUT : 0;

        /* One fd for both directions is one watch (epoll keys on the fd). */
        if (io->in.fd >= 0 && io->in.fd == io->out.fd)
                return watch_fd(m, &io->w_in, io->in.fd, in | out, on_source, io, err);
        if (watch_fd(m, &io->w_in, io->in.fd, in, on_source, io, err) < 0 ||
            watch_fd(m, &io->w_out, io->out.fd, out, on_sink, io, err) < 0 ||
            watch_fd(m, &io->w_err, io->err.fd, errout, on_sink, io, err) < 0)
                return -1;
        return 0;
}

void monitor_unwatch(struct monitor *m, struct loop_watch *w)
{
        loop_watch_remove(&m->loop, w);
}

static int watch_all(struct monitor *m, struct rv_error **err)
{
        uint32_t ch_events = EPOLLIN | (channel_want_write(m->ch) ? EPOLLOUT : 0);

        if (watch_fd(m, &m->w_channel, channel_fd(m->ch), ch_events, on_channel, NULL, err) < 0 ||
            watch_fd(m, &m->w_signal, m->sigfd, EPOLLIN, on_signal, NULL, err) < 0 ||
            watch_fd(m, &m->w_ctl, m->ctl_fd, EPOLLIN, on_ctl, NULL, err) < 0 ||
            watch_fd(m, &m->w_qemu, m->vm.qemu_pidfd, EPOLLIN, on_qemu, NULL, err) < 0 ||
            watch_fd(m, &m->w_helper, m->vm.virtiofsd_pidfd, EPOLLIN, on_helper, "virtiofsd", err) < 0 ||
            watch_fd(m, &m->w_netns, monitor_net_watch_fd(m), EPOLLIN, on_netns, NULL, err) < 0 ||
            watch_io(m, &m->init, err) < 0)
                return -1;
        for (size_t i = 0; i < VM_N_LOGS; i++)
                if (watch_fd(m, &m->w_logs[i], m->vm.logs[i].fd, EPOLLIN, on_log, &m->vm.logs[i], err) < 0)
                        return -1;
        for (struct exec_session *e = m->execs; e; e = e->next)
                if (watch_io(m, &e->io, err) < 0 ||
                    watch_fd(m, &e->w_client, e->client_fd, EPOLLIN, on_exec_client, e, err) < 0)
                        return -1;
        for (struct subscriber *s = m->subscribers; s; s = s->next)
                if (watch_fd(m, &s->w, s->fd, EPOLLIN, monitor_on_subscriber, s, err) < 0)
                        return -1;
        for (struct ctl_conn *c = m->conns; c; c = c->next)
                if (watch_fd(m, &c->watch, c->fd, EPOLLIN, on_ctl_conn, c, err) < 0)
                        return -1;
        return 0;
}

/* Before the VM's fds close (reboot, shutdown, failure). */
static void unwatch_vm(struct monitor *m)
{
        loop_watch_remove(&m->loop, &m->w_qemu);
        loop_watch_remove(&m->loop, &m->w_helper);
        for (size_t i = 0; i < VM_N_LOGS; i++)
                loop_watch_remove(&m->loop, &m->w_logs[i]);
}

static void close_channel(struct monitor *m)
{
        loop_watch_remove(&m->loop, &m->w_channel);
        agent_client_set_channel(m->agent, NULL);
        channel_free(m->ch);
        m->ch = NULL;
}

static int flush_io(struct monitor *m, struct proc_io *io, struct rv_error **err)
{
        return stdio_sink_flush(&io->out, m->ch, err) < 0 || stdio_sink_flush(&io->err, m->ch, err) < 0 ? -1 : 0;
}

/* One turn of the loop: wait up to timeout_ms, handle what is ready.
 * Returns -1 when the channel or the VM failed. */
static int loop_once(struct monitor *m, int timeout_ms, struct rv_error **err)
{
        m->channel_hangup = false;
        if (watch_all(m, err) < 0)
                return -1;
        /* Exec sessions that wait for their output to drain need a tick. */
        if (timeout_ms < 0 && m->execs)
                timeout_ms = 1000;
        /* So do requests with a deadline. */
        int next = monitor_ctl_expire(m), next_pending = agent_client_expire(m->agent, rv_now_ms());
        if (next < 0 || (next_pending >= 0 && next_pending < next))
                next = next_pending;
        if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
                timeout_ms = next;
        if (loop_run_once(&m->loop, timeout_ms, m, err) < 0)
                return -1;
        monitor_reap_subscribers(m);
        if (flush_io(m, &m->init, err) < 0)
                return -1;
        for (struct exec_session *e = m->execs; e; e = e->next)
                if (flush_io(m, &e->io, err) < 0)
                        return -1;
        monitor_exec_reap(m, false);
        if (channel_flush(m->ch, err) < 0)
                return rv_error_wrap(err, "agent channel");
        if (m->channel_hangup && !m->exited)
                return rv_error_setx(err, ECONNRESET, "the agent closed the channel");
        if (m->vm_gone && !m->exited)
                return rv_error_setx(err, EIO, "the VM exited");
        if (m->helper_gone && !m->exited) {
                m->vm_gone = true;      /* no clean shutdown without its files */
                return rv_error_setx(err, EIO, "%s exited", m->helper_gone);
        }
        return 0;
}

/* The channel failed or closed: QEMU is likely on its way out, and its
 * exit or run state says why better than the socket's error does. */
static int vm_lost(struct monitor *m, const char *what, struct rv_error **err)
{
        struct rv_error *why = NULL;

        if (m->vm.qemu_pidfd >= 0)
                rv_pidfd_wait(m->vm.qemu_pidfd, 1000);
        if (vm_check(&m->vm, &why) < 0) {
                rv_error_release(err);
                *err = why;
                m->vm_gone = m->vm.qemu_pid == 0;
        }
        return rv_error_wrap(err, "%s", what);
}

#define NO_ANSWER "no answer from the guest in time"

/* A synchronous call's own small loop: the channel, the VM and create. */
struct call_wait {
        struct monitor *m;
        const char *what;
        bool hangup;
};

static int wait_on_channel(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct call_wait *cw = ctx;
        int n = channel_receive(cw->m->ch, err);

        if (n < 0 || agent_client_pump(cw->m->agent, err) < 0)
                return -1;
        cw->hangup = n == 1;
        return 0;
}

static int wait_on_vm(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct call_wait *cw = ctx;

        if (vm_check(&cw->m->vm, err) == 0)
                return 0;
        cw->m->vm_gone = cw->m->vm.qemu_pid == 0;
        return rv_error_wrap(err, "%s", cw->what);
}

static int wait_on_helper(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct call_wait *cw = ctx;

        cw->m->vm_gone = true;
        return rv_error_setx(err, EIO, "%s: virtiofsd exited", cw->what);
}

static int wait_on_creator(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        if (rev & (EPOLLERR | EPOLLHUP))
                return rv_error_setx(err, ECANCELED, CREATOR_GONE_MSG);
        return 0;
}

/* Sends a request and waits for its answer, up to timeout_ms: the
 * client's one dispatch handles whatever else arrives meanwhile. QEMU
 * exiting, or pausing itself on an internal error, ends the wait at once:
 * never sit out the deadline on a dead VM. So do virtiofsd's death and
 * create's (the rule in docs/ARCHITECTURE.md); a console or helper log
 * nobody reads would stall the guest. */
static int call_checked(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                        int timeout_ms, int (*check)(const struct json_value *, struct rv_error **),
                        struct rv_error **err)
{
        struct call_wait cw = { .m = m, .what = proto_method_name(method) };
        struct call c = { .check = check };
        struct agent_request tag = { .kind = PENDING_CALL, .client_fd = -1, .ptr = &c };
        struct loop l = LOOP_INIT;
        struct loop_watch ch = LOOP_WATCH_INIT(wait_on_channel, NULL);
        struct loop_watch helper = LOOP_WATCH_INIT(wait_on_helper, NULL);
        struct loop_watch creator = LOOP_WATCH_INIT(wait_on_creator, NULL);
        struct loop_watch vmw[VM_WATCH_MAX];
        int vmfds[VM_WATCH_MAX];
        size_t n_vm = vm_watch_fds(&m->vm, vmfds);
        uint32_t id;
        int r = -1;

        if (loop_init(&l, err) < 0)
                return -1;
        ch.fd = channel_fd(m->ch);
        helper.fd = m->vm.virtiofsd_pidfd;
        creator.fd = m->o->sync_fd;
        for (size_t i = 0; i < n_vm; i++) {
                vmw[i] = (struct loop_watch) LOOP_WATCH_INIT(wait_on_vm, NULL);
                vmw[i].fd = vmfds[i];
                if (loop_watch_set(&l, &vmw[i], EPOLLIN, err) < 0)
                        goto fail;
        }
        /* create's end reports only its hang-up: RDHUP asks for no more. */
        if ((helper.fd >= 0 && loop_watch_set(&l, &helper, EPOLLIN, err) < 0) ||
            (creator.fd >= 0 && loop_watch_set(&l, &creator, EPOLLRDHUP, err) < 0))
                goto fail;
        if (agent_client_request(m->agent, method, fill, data, &tag, timeout_ms, &id, err) < 0)
                goto fail;
        while (!c.done) {
                if (channel_flush(m->ch, err) < 0) {
                        r = vm_lost(m, cw.what, err);
                        goto out;
                }
                int left = agent_client_expire(m->agent, rv_now_ms());
                if (c.done)
                        break;
                uint32_t events = EPOLLIN | (channel_want_write(m->ch) ? EPOLLOUT : 0);
                if (loop_watch_set(&l, &ch, events, err) < 0 || loop_run_once(&l, left, &cw, err) < 0)
                        goto out;
                if (cw.hangup && !c.done) {
                        rv_error_setx(err, ECONNRESET, "the agent closed the channel");
                        r = vm_lost(m, cw.what, err);
                        goto out;
                }
        }
        loop_fini(&l);
        if (c.err == NULL)
                return 0;
        if (c.err->status == ETIMEDOUT && strcmp(c.err->msg, NO_ANSWER) == 0) {
                rv_error_release(&c.err);
                return rv_error_setx(err, ETIMEDOUT, "%s: no answer from the guest after %d ms", cw.what,
                                     timeout_ms);
        }
        *err = c.err;
        return -1;
out:
        /* The entry points into this frame: it goes with it. */
        if (!c.done)
                agent_client_cancel(m->agent, id);
        rv_error_release(&c.err);
fail:
        loop_fini(&l);
        return r;
}

int monitor_call(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                 int timeout_ms, struct rv_error **err)
{
        return call_checked(m, method, fill, data, timeout_ms, NULL, err);
}

/* --- boot and create ------------------------------------------------------ */

static int join_network(const struct vm_plan *plan, struct rv_error **err)
{
        if (plan->netns_path == NULL) {
                if (unshare(CLONE_NEWNET) < 0)
                        return rv_error_set(err, errno, "create a network namespace");
                return 0;
        }
        _cleanup_close_ int fd = open(plan->netns_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open network namespace `%s`", plan->netns_path);
        if (setns(fd, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join network namespace `%s`", plan->netns_path);
        return 0;
}

static void fill_hello(struct json_writer *w, const void *data)
{
        json_write_key(w, "version");
        json_write_int64(w, CHANNEL_PROTOCOL_VERSION);
}

/* The state hooks read (CONTRACT.md §5): pid = the monitor, the pid
 * callers see; none once stopped. */
static struct spec_state hook_state(const struct monitor *m, enum container_status status)
{
        return (struct spec_state) {
                .id = m->o->state->id, .status = container_status_name(status),
                .pid = status != CONTAINER_STOPPED ? m->ns.host_pid : 0,
                .bundle = m->o->state->bundle,
                .annotations = m->o->guest_spec->annotations,
                .n_annotations = m->o->guest_spec->n_annotations,
        };
}

/* Host hooks run in the bundle, as runc's do (it chdirs there). */
static int run_hooks(struct monitor *m, const struct spec_hook_list *l, const char *phase,
                     enum container_status status, struct rv_error **err)
{
        _cleanup_free_ char *json = NULL;
        struct spec_state s = hook_state(m, status);

        if (l->n == 0)
                return 0;
        if (hooks_state_json(&s, &json, err) < 0)
                return -1;
        if (m->o->sync_fd >= 0)
                return sync_run_hooks(m->o->sync_fd, phase, json, err);
        return hooks_run(l, phase, json, m->o->state->bundle, err);
}

/* Kept in the state dir for delete, and for the failure path here. */
static int save_poststop(struct monitor *m, struct rv_error **err)
{
        struct spec_state s = hook_state(m, CONTAINER_STOPPED);
        return hooks_poststop_save(m->o->dir->dirfd, &m->o->guest_spec->hooks.poststop, &s, err);
}

static void fill_create(struct json_writer *w, const void *data)
{
        const struct monitor *m = data;
        json_write_key(w, "spec");
        spec_config_write(w, m->o->guest_spec);
        json_write_key(w, "stdio");
        proc_io_write_stdio(w, &m->init);
        /* For startContainer hooks, which the agent runs in the container. */
        if (m->o->guest_spec->hooks.start_container.n > 0) {
                struct spec_state s = hook_state(m, CONTAINER_CREATED);
                json_write_key(w, "hook_state");
                spec_state_write_hook(w, &s);
        }
}

static int boot(struct monitor *m, struct rv_error **err)
{
        const struct runvm_config *cfg = m->o->cfg;
        const struct vm_plan *plan = m->o->plan;
        _cleanup_free_ char *cache = NULL;
        struct runvm_accel_choice accel;
        struct vm_params p = {
                .qemu_path = cfg->qemu_path, .virtiofsd_path = cfg->virtiofsd_path,
                .kernel = cfg->kernel, .initrd = cfg->initrd,
                .memory_mib = plan->memory_mib, .vcpus = plan->vcpus,
                .state_dir = m->o->dir->path, .shares = plan->shares, .n_shares = plan->n_shares,
                .nics = m->vm_nics, .n_nics = m->n_vm_nics,
                .extra_cmdline = cfg->kernel_params, .debug = m->o->ctx->debug,
        };

        if (access(cfg->kernel, R_OK) < 0)
                return rv_error_set(err, errno, "guest kernel `%s`", cfg->kernel);
        if (access(cfg->initrd, R_OK) < 0)
                return rv_error_set(err, errno, "guest initrd `%s`", cfg->initrd);
        if (runvm_accel_choose(cfg, m->o->ctx->root, false, &accel, err) < 0)
                return -1;
        if (accel.refused)
                return rv_error_setx(err, ENODEV, "accel = kvm, but KVM cannot run the guest: %s", accel.reason);
        p.kvm = accel.kvm;
        if (!p.kvm) {
                if (runvm_host_cache_dir(m->o->ctx->root, &cache, err) < 0)
                        return -1;
                if (vm_host_tsc_khz(cache, &p.tsc_khz, err) < 0)
                        return -1;
        }
        rv_debug("booting with %s (%s%s), %u MiB, %u vcpus", p.kvm ? "KVM" : "TCG", accel.reason,
                 accel.cached ? ", cached" : "", p.memory_mib, p.vcpus);
        /* The monitor's pid is unique among running VMs, and so is this id. */
        p.qemu_uid = p.qemu_gid = VM_QEMU_ID_BASE + (unsigned) m->ns.host_pid;
        p.share_trees = m->ns.vfs_trees;
        if (vm_start(&p, &m->vm, err) < 0)
                return -1;
        monitor_net_vm_started(m);
        /* The monitor has a pid namespace of its own; /proc here is the host's. */
        pid_t qemu_proc_pid = rv_pidfd_proc_pid(m->vm.qemu_pidfd);
        if (plan->cpus && qemu_proc_pid < 0)
                return rv_error_set(err, -qemu_proc_pid, "find qemu in /proc");
        if (vm_pin_vcpus(qemu_proc_pid, plan->cpus, p.vcpus, cfg->boot_timeout_ms, err) < 0)
                return -1;
        m->o->state->kvm = p.kvm;
        m->o->state->memory_mib = p.memory_mib;
        m->o->state->vcpus = p.vcpus;
        /* The monitor's children as the host numbers them (delete waits
         * for these): /proc is still the host's here. */
        m->o->state->qemu_pid = rv_pidfd_proc_pid(m->vm.qemu_pidfd);
        m->o->state->virtiofsd_pid = rv_pidfd_proc_pid(m->vm.virtiofsd_pidfd);
        if (m->o->state->qemu_pid <= 0 || m->o->state->virtiofsd_pid <= 0)
                return rv_error_setx(err, ESRCH, "boot: the VM's processes are gone");
        if (monitor_record_vm(m, err) < 0)
                return -1;
        m->ch = channel_new(m->vm.agent_fd);
        if (m->ch == NULL)
                return rv_error_set(err, ENOMEM, "channel");
        m->vm.agent_fd = -1;            /* the channel owns it now */
        agent_client_set_channel(m->agent, m->ch);
        if (call_checked(m, PROTO_HELLO, fill_hello, NULL, cfg->boot_timeout_ms, proto_hello_check, err) < 0)
                return wrap_guest_error(m, err);
        return 0;
}

static int setup_stdio(struct monitor *m, struct rv_error **err)
{
        switch (m->o->tty) {
        case MONITOR_TTY_CONSOLE_SOCKET: {
                const struct spec_box *size = &m->o->guest_spec->process.console_size;
                int slave;
                if (tty_console_create(m->o->console_socket, size->has ? (uint16_t) size->height : 0,
                                       size->has ? (uint16_t) size->width : 0, &slave, err) < 0)
                        return -1;
                m->tty_fd = slave;
                if (tty_make_controlling(slave, err) < 0 || stdio_release(err) < 0)
                        return -1;
                return proc_io_open(m, &m->init, true, &slave, 1, true, err);
        }
        case MONITOR_TTY_STDIO: {
                int fds[2] = { STDIN_FILENO, STDOUT_FILENO };
                m->tty_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
                return proc_io_open(m, &m->init, true, fds, 2, false, err);
        }
        case MONITOR_TTY_NONE:
        default: {
                int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
                return proc_io_open(m, &m->init, false, fds, 3, false, err);
        }
        }
}

static int create_container(struct monitor *m, struct rv_error **err)
{
        if (setup_stdio(m, err) < 0)
                return rv_error_wrap(err, "container stdio");
        return monitor_call(m, PROTO_CREATE_CONTAINER, fill_create, m, REQUEST_TIMEOUT_MS, err);
}

/* The container's namespace changed between create and start (ctr --cni
 * runs CNI then): nothing has run in the guest yet, so a new VM with the
 * namespace as it is now takes the old one's place, under the same
 * monitor and with the same stdio streams. */
int monitor_reboot(struct monitor *m, struct rv_error **err)
{
        uint32_t streams[3] = { m->init.in.stream, m->init.out.stream, m->init.err.stream };

        close_channel(m);
        unwatch_vm(m);
        vm_destroy(&m->vm);
        m->vm_gone = false;
        monitor_net_teardown(m);
        /* QEMU and virtiofsd start from the host's view of the files. */
        if (monitor_ns_rearm(&m->ns, err) < 0 || monitor_ns_to_host(&m->ns, err) < 0)
                return -1;
        int r = monitor_net_setup(m, err) < 0 || boot(m, err) < 0 ? -1 : 0;
        struct rv_error *ns_err = NULL;
        if (monitor_ns_to_view(&m->ns, &ns_err) < 0) {
                if (r == 0) {
                        *err = ns_err;
                        return -1;
                }
                rv_error_release(&ns_err);
        }
        if (r < 0 || monitor_net_configure(m, err) < 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(streams); i++)
                if (streams[i] && !channel_stream_is_open(m->ch, streams[i]) &&
                    channel_stream_open(m->ch, streams[i], err) < 0)
                        return -1;
        /* Input already at its end is ended again for the new guest. */
        m->init.in.eof = false;
        if (monitor_call(m, PROTO_CREATE_CONTAINER, fill_create, m, REQUEST_TIMEOUT_MS, err) < 0)
                return -1;
        monitor_save_state(m, m->o->state->status);
        return 0;
}

/* --- teardown ------------------------------------------------------------- */

static void drain_output(struct monitor *m)
{
        int64_t deadline = rv_now_ms() + DRAIN_TIMEOUT_MS;
        struct rv_error *tmp_err = NULL;

        while (!proc_io_drained(&m->init) && rv_now_ms() < deadline) {
                struct pollfd pfd[2] = {
                        { stdio_sink_want_write(&m->init.out) ? m->init.out.fd : -1, POLLOUT, 0 },
                        { stdio_sink_want_write(&m->init.err) ? m->init.err.fd : -1, POLLOUT, 0 },
                };
                if (poll(pfd, 2, 100) < 0 && errno != EINTR)
                        break;
                if (stdio_sink_flush(&m->init.out, m->ch, &tmp_err) < 0 ||
                    stdio_sink_flush(&m->init.err, m->ch, &tmp_err) < 0)
                        break;
        }
        rv_error_release(&tmp_err);
}

static void shutdown_vm(struct monitor *m)
{
        struct rv_error *tmp_err = NULL;

        if (m->ch && !m->vm_gone && monitor_send_request(m, PROTO_SHUTDOWN, NULL, NULL, &tmp_err) == 0)
                channel_flush(m->ch, &tmp_err);
        rv_error_release(&tmp_err);
        unwatch_vm(m);
        vm_stop(&m->vm, m->vm_gone ? 0 : m->o->cfg->shutdown_timeout_ms);
        close_channel(m);
}

static void finish(struct monitor *m)
{
        agent_client_fail_all(m->agent, ESRCH, "container not running");
        monitor_ctl_close_conns(m);
        if (m->ctl_fd >= 0) {
                monitor_unwatch(m, &m->w_ctl);
                close(m->ctl_fd);
                unlinkat(m->o->dir->dirfd, CTL_SOCKET, 0);
                m->ctl_fd = -1;
        }
        drain_output(m);
        /* Exec'ed processes die with the container's pid namespace. */
        monitor_exec_reap(m, true);
        shutdown_vm(m);
        monitor_net_teardown(m);
        m->o->state->exited = true;
        m->o->state->exit_code = m->exit_code;
        m->o->state->exit_signal = m->exit_signal;
        m->o->state->qemu_pid = m->o->state->virtiofsd_pid = 0;
        state_clear_procs(m->o->state);
        monitor_save_state(m, CONTAINER_STOPPED);
        /* Only now: a caller whose `events` ended finds the container
         * stopped, as with runc. */
        monitor_close_subscribers(m);
}

/* --- entry ---------------------------------------------------------------- */

void monitor_signal_set(sigset_t *set)
{
        /* Every signal a caller may send to the pid it was given is meant
         * for the container; faults and SIGCHLD stay ours. */
        sigfillset(set);
        static const int ours[] = { SIGKILL, SIGSTOP, SIGCHLD, SIGSEGV, SIGBUS, SIGFPE,
                                    SIGILL, SIGPIPE, SIGTRAP, SIGSYS };
        for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
                sigdelset(set, ours[i]);
}

/* The monitor, and so QEMU, virtiofsd and hooks, live in the container's
 * host cgroup; the directories are recorded for delete at once. */
static int enter_host_cgroup(struct monitor *m, struct rv_error **err)
{
        char **dirs = NULL;

        if (host_cgroup_enter(m->o->guest_spec->linux_.cgroups_path, m->o->state->id, getpid(), &dirs, err) < 0)
                return -1;
        rv_strv_free(m->o->state->cgroup_dirs);
        m->o->state->cgroup_dirs = dirs;
        if (dirs && monitor_record(m, m->o->state->status, err) < 0)
                return rv_error_wrap(err, "record the host cgroup");
        return 0;
}

static int setup_signals(struct monitor *m, struct rv_error **err)
{
        sigset_t set;

        monitor_signal_set(&set);
        signal(SIGPIPE, SIG_IGN);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return rv_error_set(err, errno, "block signals");
        m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->sigfd < 0)
                return rv_error_set(err, errno, "signalfd");
        return 0;
}

static void monitor_fail(struct monitor *m, struct rv_error *err)
{
        struct rv_error *ns_err = NULL;

        /* Hooks and the state dir's paths are the host's. */
        if (monitor_ns_to_host(&m->ns, &ns_err) < 0)
                rv_warn("%s", ns_err->msg);
        rv_error_release(&ns_err);
        rv_log(RV_LOG_ERROR, "%s", err->msg);
        if (m->ctl_fd >= 0)
                unlinkat(m->o->dir->dirfd, CTL_SOCKET, 0);
        close_channel(m);
        unwatch_vm(m);
        vm_destroy(&m->vm);
        monitor_net_teardown(m);
        /* Torn down before create hears of it, and recorded, so that a
         * create that died meanwhile leaves a `stopped` container with its
         * reason for delete (a live create removes the dir itself). */
        m->o->state->qemu_pid = m->o->state->virtiofsd_pid = 0;
        state_clear_procs(m->o->state);
        state_set_reason(m->o->state, err->msg);
        monitor_save_state(m, CONTAINER_STOPPED);
        sync_report(m->o->sync_fd, err->status > 0 ? err->status : EIO, err->msg);
        /* Torn down: poststop hooks run, as runc's do after a failed create. */
        struct rv_error *tmp_err = NULL;
        if (hooks_poststop_run_saved(m->o->dir->dirfd, m->o->state->bundle, &tmp_err) < 0)
                rv_warn("%s", tmp_err->msg);
        rv_error_release(&tmp_err);
}

_Noreturn void monitor_main(struct monitor_options *o)
{
        struct monitor m = {
                .o = o, .vm = VM_INIT, .sigfd = -1, .ctl_fd = -1, .tty_fd = -1,
                .init = { .in = { .fd = -1 }, .out = { .fd = -1 }, .err = { .fd = -1 } },
                .ns = MONITOR_NS_INIT, .status_before_pause = CONTAINER_RUNNING,
        };
        struct rv_error *err = NULL;

        m.agent = agent_client_new(o->state->id, MAX_PENDING, &monitor_agent_ops, &m);
        if (m.agent == NULL)
                rv_error_set(&err, ENOMEM, "agent client");
        if (m.agent == NULL || loop_init(&m.loop, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        /* The lock belongs to the create command, which releases it when
         * it exits; a copy here would hold it for the container's life. */
        if (o->dir->lockfd >= 0)
                close(o->dir->lockfd);
        o->dir->lockfd = -1;
        /* Terminal signals are for the caller; the monitor only gets the
         * signals someone sends to the container's pid. */
        setsid();
        prctl(PR_SET_NAME, "runvm-monitor");
        int logfd = openat(o->dir->dirfd, "monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd >= 0) {
                rv_log_set_fd(logfd);
                close(logfd);
        }

        /* create recorded this pid and start time before it let us go. */
        o->state->monitor_pid = rv_proc_self_pid();     /* the host's: /proc is still its */
        rv_proc_start_time(o->state->monitor_pid, &o->state->monitor_start_time);

        const struct spec_hooks *hooks = &o->guest_spec->hooks;
        if (setup_signals(&m, &err) < 0 || join_network(o->plan, &err) < 0 ||
            monitor_ns_prepare(&m.ns, o->plan, &err) < 0 ||
            enter_host_cgroup(&m, &err) < 0 ||
            monitor_ns_unshare(&m.ns, o->guest_spec, &err) < 0 ||
            save_poststop(&m, &err) < 0 || check_creator(&m, &err) < 0 ||
            run_hooks(&m, &hooks->prestart, "prestart", CONTAINER_CREATING, &err) < 0 ||
            run_hooks(&m, &hooks->create_runtime, "createRuntime", CONTAINER_CREATING, &err) < 0 ||
            check_creator(&m, &err) < 0 || monitor_net_setup(&m, &err) < 0 ||
            boot(&m, &err) < 0 || check_creator(&m, &err) < 0 || monitor_net_configure(&m, &err) < 0 ||
            run_hooks(&m, &hooks->create_container, "createContainer", CONTAINER_CREATING, &err) < 0 ||
            check_creator(&m, &err) < 0 || create_container(&m, &err) < 0 ||
            (m.ctl_fd = ctl_listen(o->dir->dirfd, &err)) < 0 ||
            monitor_ns_enter_view(&m.ns, o->plan, o->guest_spec, o->dir->path, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        o->state->monitor_pid = m.ns.host_pid;
        o->state->monitor_start_time = m.ns.host_start_time;
        /* runc runs poststart here, in create, before start (CONTRACT.md §5),
         * in the runtime's (the host's) namespaces. */
        if (monitor_record(&m, CONTAINER_CREATED, &err) < 0 ||
            monitor_ns_to_host(&m.ns, &err) < 0 ||
            run_hooks(&m, &hooks->poststart, "poststart", CONTAINER_CREATED, &err) < 0 ||
            monitor_ns_to_view(&m.ns, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        if (o->autostart) {
                int timeout_ms = REQUEST_TIMEOUT_MS + (int) spec_hooks_max_ms(&hooks->start_container);
                if (monitor_call(&m, PROTO_START_CONTAINER, NULL, NULL, timeout_ms, &err) < 0 ||
                    monitor_record(&m, CONTAINER_RUNNING, &err) < 0) {
                        monitor_fail(&m, err);
                        _exit(1);
                }
        }
        /* A create that cannot hear the verdict cannot hand the container
         * to its caller: as if it died before (the rule above). */
        if (check_creator(&m, &err) < 0 || (sync_report(o->sync_fd, 0, NULL) < 0 &&
                                            rv_error_setx(&err, ECANCELED, CREATOR_GONE_MSG) < 0)) {
                m.exited = true;
                m.exit_signal = SIGKILL;
                finish(&m);
                state_set_reason(o->state, err->msg);
                monitor_save_state(&m, CONTAINER_STOPPED);
                _exit(1);
        }
        close(o->sync_fd);
        o->sync_fd = -1;

        while (!m.exited) {
                if (loop_once(&m, -1, &err) < 0) {
                        _cleanup_free_ char *console = console_line(&m);
                        rv_log(RV_LOG_ERROR, "%s%s%s", err->msg, console ? "; console: " : "",
                               console ? console : "");
                        state_set_reason(o->state, err->msg);
                        rv_error_release(&err);
                        /* The workload died with its VM. */
                        m.exited = true;
                        m.exit_signal = SIGKILL;
                        m.vm_gone = true;
                }
        }
        finish(&m);
        monitor_ns_clear(&m.ns);
        rv_exit_like(m.exit_code, m.exit_signal);
}
