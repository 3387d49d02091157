/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's core: boot the VM, create the container, run the event
 * loop, tear down, exit like the container. */
#include "libcontainer-vm/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "base/proc.h"
#include "libcontainer-vm/accel.h"
#include "libcontainer-vm/cgroup.h"
#include "libcontainer-vm/cgroup-limits.h"
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
#include "vm/vm.h"

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

/* Records status; a create depends on it (a full state root fails it). */
static int monitor_record(struct monitor *m, const char *status, struct rv_error **err)
{
        /* status may be the current one: copy before freeing. */
        char *copy = strdup(status);
        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "save state");
        free(m->o->state->status);
        m->o->state->status = copy;
        return state_save(m->o->dir->dirfd, m->o->state, err);
}

void monitor_save_state(struct monitor *m, const char *status)
{
        struct rv_error *tmp_err = NULL;

        if (monitor_record(m, status, &tmp_err) < 0)
                rv_log(RV_LOG_WARNING, "save state: %s", tmp_err->msg);
        rv_error_release(&tmp_err);
}

/* The VM's processes are on disk the moment they run, so delete finds
 * them in any phase. */
static int monitor_record_vm(struct monitor *m, struct rv_error **err)
{
        struct container_state *st = m->o->state;
        struct vm_proc procs[VM_MAX_PROCS];
        size_t n = vm_procs(m->vm, procs, VM_MAX_PROCS);

        state_clear_procs(st);
        for (size_t i = 0; i < n; i++) {
                if (procs[i].pid <= 0)
                        return rv_error_setx(err, ESRCH, "boot: the VM's %s is gone", procs[i].name);
                if (state_add_proc(st, procs[i].name, procs[i].pid, err) < 0)
                        return rv_error_wrap(err, "record the VM");
        }
        if (state_save(m->o->dir->dirfd, st, err) < 0)
                return rv_error_wrap(err, "record the VM");
        return 0;
}

/* The console line that explains a failure, if one does (console.h). */
static char *console_line(struct monitor *m)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct rv_error *tmp_err = NULL;

        vm_pump_logs(m->vm);           /* what is in flight first */
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
        if ((*err)->status == ETIMEDOUT && (why = vm_stuck_reason(m->vm)))
                rv_error_wrap(err, "%s", why);
        if (runvm_host_cache_dir(m->o->ctx->root, &cache, &tmp_err) < 0 ||
            (dfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                rv_error_release(&tmp_err);
                return -1;
        }
        if (asprintf(&title, "container %s: %s", m->o->state->id, (*err)->msg) < 0)
                return -1;
        vm_save_failure_logs(m->vm, dfd, FAILED_BOOT_LOG, title);
        /* The reason reads first: "hello: the guest ...; guest logs: PATH". */
        struct rv_error *e = *err;
        *err = NULL;
        rv_error_setx(err, e->status, "%s; guest logs: %s/" FAILED_BOOT_LOG, e->msg, cache);
        rv_error_free(e);
        return -1;
}

bool monitor_pending_full(const struct monitor *m)
{
        return m->n_pending >= MAX_PENDING;
}

struct pending *monitor_pending_add(struct monitor *m, uint32_t id, enum pending_kind kind, int client_fd)
{
        int timeout_ms = PENDING_TIMEOUT_MS;

        if (m->n_pending == MAX_PENDING)
                return NULL;
        /* start runs the startContainer hooks in the guest first. */
        if (kind == PENDING_START)
                timeout_ms += (int) spec_hooks_max_ms(&m->o->guest_spec->hooks.start_container);
        m->pending[m->n_pending] = (struct pending) {
                .id = id, .kind = kind, .client_fd = client_fd, .deadline_ms = rv_now_ms() + timeout_ms,
        };
        return &m->pending[m->n_pending++];
}

int monitor_pending_expire(struct monitor *m)
{
        int64_t now = rv_now_ms(), next = -1;

        for (size_t i = 0; i < m->n_pending;) {
                struct pending p = m->pending[i];
                if (p.deadline_ms > now) {
                        if (next < 0 || p.deadline_ms - now < next)
                                next = p.deadline_ms - now;
                        i++;
                        continue;
                }
                m->pending[i] = m->pending[--m->n_pending];
                rv_log(RV_LOG_WARNING, "request %u: no answer from the guest in time", p.id);
                if (p.kind == PENDING_EXEC)
                        monitor_exec_abandon(m, p.exec);
                if (p.client_fd >= 0) {
                        ctl_send_error(p.client_fd, -ETIMEDOUT, "no answer from the guest in time");
                        close(p.client_fd);
                }
        }
        return next > INT32_MAX ? INT32_MAX : (int) next;
}

static bool pending_take(struct monitor *m, uint32_t id, struct pending *ret)
{
        for (size_t i = 0; i < m->n_pending; i++) {
                if (m->pending[i].id == id) {
                        *ret = m->pending[i];
                        m->pending[i] = m->pending[--m->n_pending];
                        return true;
                }
        }
        return false;
}

/* Sends a request whose params are {"id": ...} plus what fill writes. */
int monitor_send_request(struct monitor *m, const char *method, uint32_t *ret_id,
                         void (*fill)(struct json_writer *, const void *), const void *data,
                         struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        uint32_t id = ++m->next_id;

        if (w == NULL)
                return rv_error_set(err, ENOMEM, "%s", method);
        channel_message_begin_request(w, id, method);
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, m->o->state->id);
        if (fill)
                fill(w, data);
        json_write_object_end(w);
        channel_message_end(w);
        if (channel_send_message(m->ch, CHANNEL_REQUEST, w, err) < 0)
                return rv_error_wrap(err, "send %s", method);
        *ret_id = id;
        return 0;
}

void monitor_forward(struct monitor *m, int client_fd, enum pending_kind kind, const char *method,
                     void (*fill)(struct json_writer *, const void *), const void *data)
{
        struct rv_error *tmp_err = NULL;
        uint32_t id;

        if (monitor_pending_full(m) ||
            monitor_send_request(m, method, &id, fill, data, &tmp_err) < 0 ||
            monitor_pending_add(m, id, kind, client_fd) == NULL) {
                if (client_fd >= 0) {
                        ctl_send_error(client_fd, -EIO, tmp_err ? tmp_err->msg : "too many requests in flight");
                        close(client_fd);
                }
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

static int handle_control(struct monitor *m, const struct channel_frame *f, struct rv_error **err)
{
        struct channel_message msg;
        struct pending p;

        if (channel_message_parse(f, &msg, err) < 0)
                return -1;
        channel_message_sanitize(&msg);
        if (msg.type == CHANNEL_EVENT) {
                if (strcmp(msg.event, "process_exited") == 0) {
                        handle_exit_event(m, msg.body);
                } else if (strcmp(msg.event, "oom") == 0) {
                        monitor_oom(m);
                } else {
                        rv_debug("guest event `%s` ignored", msg.event);
                }
        } else if (msg.type == CHANNEL_RESPONSE && pending_take(m, msg.id, &p)) {
                if (msg.error)
                        rv_debug("request %u failed: %s", msg.id, msg.error);
                monitor_reply_client(m, &p, &msg);
        } else {
                rv_debug("unexpected control frame type %d id %u", msg.type, msg.id);
        }
        channel_message_clear(&msg);
        return 0;
}

static int pump_channel(struct monitor *m, struct rv_error **err)
{
        struct channel_frame f;
        int r;

        while ((r = channel_next(m->ch, &f, err)) > 0) {
                if (f.stream == CHANNEL_STREAM_CONTROL)
                        r = handle_control(m, &f, err);
                else
                        r = handle_data(m, &f, err);
                if (r < 0)
                        return -1;
        }
        return r;
}

static void forward_signal(struct monitor *m, int sig)
{
        struct ctl_header h = { .command = CTL_KILL, .arg = sig };

        if (!m->exited)
                monitor_forward(m, -1, PENDING_NONE, "signal_process", monitor_fill_signal, &h);
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
        monitor_forward(m, -1, PENDING_NONE, "resize_tty", fill_size, &sz);
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

enum watch_kind {
        W_CHANNEL, W_SIGNAL, W_CTL, W_QEMU, W_SOURCE, W_SINK, W_EXEC_CLIENT, W_SUBSCRIBER, W_NETNS,
        W_VM, W_CTL_CONN,
};

struct watch {
        enum watch_kind kind;
        void *ptr;
};

#define MAX_WATCHES 512

struct watch_set {
        struct pollfd pfd[MAX_WATCHES];
        struct watch w[MAX_WATCHES];
        size_t n;
};

static void watch(struct watch_set *ws, int fd, short events, enum watch_kind kind, void *ptr)
{
        if (fd < 0 || ws->n == MAX_WATCHES)
                return;
        ws->pfd[ws->n] = (struct pollfd) { fd, events, 0 };
        ws->w[ws->n] = (struct watch) { kind, ptr };
        ws->n++;
}

static void watch_io(struct monitor *m, struct watch_set *ws, struct proc_io *io)
{
        if (io->in.fd >= 0 && stdio_source_want_read(&io->in, m->ch))
                watch(ws, io->in.fd, POLLIN, W_SOURCE, &io->in);
        if (stdio_sink_want_write(&io->out))
                watch(ws, io->out.fd, POLLOUT, W_SINK, &io->out);
        if (stdio_sink_want_write(&io->err))
                watch(ws, io->err.fd, POLLOUT, W_SINK, &io->err);
}

static int flush_io(struct monitor *m, struct proc_io *io, struct rv_error **err)
{
        return stdio_sink_flush(&io->out, m->ch, err) < 0 || stdio_sink_flush(&io->err, m->ch, err) < 0 ? -1 : 0;
}

/* One turn of the loop: wait up to timeout_ms, handle what is ready.
 * Returns -1 when the channel or the VM failed. */
static int loop_once(struct monitor *m, int timeout_ms, struct rv_error **err)
{
        struct watch_set *ws = calloc(1, sizeof(*ws));
        _cleanup_free_ struct watch_set *owned = ws;
        bool hangup = false;

        if (ws == NULL)
                return rv_error_set(err, ENOMEM, "loop");
        watch(ws, channel_fd(m->ch), POLLIN | (channel_want_write(m->ch) ? POLLOUT : 0), W_CHANNEL, NULL);
        watch(ws, m->sigfd, POLLIN, W_SIGNAL, NULL);
        watch(ws, m->ctl_fd, POLLIN, W_CTL, NULL);
        int vmfds[VM_WATCH_MAX];
        size_t n_vm = vm_watch_fds(m->vm, vmfds);
        bool vm_event = false;
        for (size_t i = 0; i < n_vm; i++)
                watch(ws, vmfds[i], POLLIN, vmfds[i] == vm_exit_fd(m->vm) ? W_QEMU : W_VM, NULL);
        watch(ws, monitor_net_watch_fd(m), POLLIN, W_NETNS, NULL);
        watch_io(m, ws, &m->init);
        for (struct exec_session *e = m->execs; e; e = e->next) {
                watch_io(m, ws, &e->io);
                watch(ws, e->client_fd, POLLIN, W_EXEC_CLIENT, e);
        }
        for (struct subscriber *s = m->subscribers; s; s = s->next)
                watch(ws, s->fd, POLLIN, W_SUBSCRIBER, s);
        for (struct ctl_conn *c = m->conns; c; c = c->next)
                watch(ws, c->fd, POLLIN, W_CTL_CONN, c);

        /* Exec sessions that wait for their output to drain need a tick. */
        if (timeout_ms < 0 && m->execs)
                timeout_ms = 1000;
        /* So do requests with a deadline. */
        int next = monitor_ctl_expire(m), next_pending = monitor_pending_expire(m);
        if (next < 0 || (next_pending >= 0 && next_pending < next))
                next = next_pending;
        if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
                timeout_ms = next;
        int r = poll(ws->pfd, ws->n, timeout_ms);
        if (r < 0)
                return errno == EINTR ? 0 : rv_error_set(err, errno, "poll");
        for (size_t i = 0; i < ws->n; i++) {
                short rev = ws->pfd[i].revents;
                if (rev == 0)
                        continue;
                switch (ws->w[i].kind) {
                case W_SIGNAL:
                        handle_signals(m);
                        break;
                case W_CHANNEL:
                        if (rev & (POLLIN | POLLHUP | POLLERR)) {
                                r = channel_receive(m->ch, err);
                                if (r < 0)
                                        return rv_error_wrap(err, "agent channel");
                                if (pump_channel(m, err) < 0)
                                        return rv_error_wrap(err, "agent channel");
                                hangup = r == 1;
                        }
                        break;
                case W_SOURCE:
                        if (stdio_source_pump(ws->w[i].ptr, m->ch, err) < 0)
                                return -1;
                        break;
                case W_CTL:
                        monitor_handle_ctl(m);
                        break;
                case W_EXEC_CLIENT:
                        monitor_exec_client_event(m, ws->w[i].ptr);
                        break;
                case W_SUBSCRIBER: {
                        /* An events client never writes: readable means gone. */
                        struct subscriber *s = ws->w[i].ptr;
                        char c;
                        if (read(s->fd, &c, 1) <= 0) {
                                close(s->fd);
                                s->fd = -1;
                        }
                        break;
                }
                case W_QEMU:
                        m->vm_gone = true;
                        break;
                case W_VM:
                        vm_event = true;
                        break;
                case W_CTL_CONN:
                        /* may free the connection: nothing else watches it */
                        monitor_ctl_conn_event(m, ws->w[i].ptr);
                        break;
                case W_NETNS:
                        monitor_net_watch_event(m);
                        break;
                case W_SINK:
                        break;
                }
        }
        /* Subscribers whose client left. */
        for (struct subscriber **p = &m->subscribers; *p;) {
                if ((*p)->fd < 0) {
                        struct subscriber *dead = *p;
                        *p = dead->next;
                        free(dead);
                } else {
                        p = &(*p)->next;
                }
        }
        if (flush_io(m, &m->init, err) < 0)
                return -1;
        for (struct exec_session *e = m->execs; e; e = e->next)
                if (flush_io(m, &e->io, err) < 0)
                        return -1;
        monitor_exec_reap(m, false);
        if (channel_flush(m->ch, err) < 0)
                return rv_error_wrap(err, "agent channel");
        if (hangup && !m->exited)
                return rv_error_setx(err, ECONNRESET, "the agent closed the channel");
        if (m->vm_gone && !m->exited)
                return rv_error_setx(err, EIO, "the VM exited");
        /* Output to keep, or a helper's death (no clean shutdown without
         * its files). */
        if (vm_event && vm_check(m->vm, err) < 0) {
                m->vm_gone = !vm_alive(m->vm);
                if (!m->exited)
                        return -1;
                rv_error_release(err);
        }
        return 0;
}

/* The channel failed or closed: QEMU is likely on its way out, and its
 * exit or run state says why better than the socket's error does. */
static int vm_lost(struct monitor *m, const char *what, struct rv_error **err)
{
        struct rv_error *why = NULL;

        if (vm_exit_fd(m->vm) >= 0)
                rv_pidfd_wait(vm_exit_fd(m->vm), 1000);
        if (vm_check(m->vm, &why) < 0) {
                rv_error_release(err);
                *err = why;
                m->vm_gone = !vm_alive(m->vm);
        }
        return rv_error_wrap(err, "%s", what);
}

/* Runs the loop until the response to request id arrives. */
static int wait_response(struct monitor *m, uint32_t id, int timeout_ms, const char *what,
                         struct channel_message *ret, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + timeout_ms;

        for (;;) {
                struct channel_frame f;
                int r;

                if (channel_flush(m->ch, err) < 0)
                        return vm_lost(m, what, err);
                while ((r = channel_next(m->ch, &f, err)) > 0) {
                        if (f.stream != CHANNEL_STREAM_CONTROL) {
                                if (handle_data(m, &f, err) < 0)
                                        return -1;
                                continue;
                        }
                        if (channel_message_parse(&f, ret, err) < 0)
                                return -1;
                        channel_message_sanitize(ret);
                        if (ret->type == CHANNEL_RESPONSE && ret->id == id)
                                return 0;
                        if (ret->type == CHANNEL_EVENT && strcmp(ret->event, "process_exited") == 0)
                                handle_exit_event(m, ret->body);
                        channel_message_clear(ret);
                }
                if (r < 0)
                        return -1;
                int64_t left = deadline - rv_now_ms();
                if (left <= 0)
                        return rv_error_setx(err, ETIMEDOUT, "%s: no answer from the guest after %d ms",
                                             what, timeout_ms);
                /* QEMU exiting, or pausing itself on an internal error, ends
                 * the wait at once: never sit out the deadline on a dead VM.
                 * So do a helper's death (virtiofsd's) and create's (the
                 * rule in docs/ARCHITECTURE.md); a console or helper log
                 * nobody reads would stall the guest. */
                struct pollfd pfd[2 + VM_WATCH_MAX] = {
                        { channel_fd(m->ch), POLLIN | (channel_want_write(m->ch) ? POLLOUT : 0), 0 },
                };
                int vmfds[VM_WATCH_MAX];
                size_t n_vm = vm_watch_fds(m->vm, vmfds);
                for (size_t i = 0; i < n_vm; i++)
                        pfd[1 + i] = (struct pollfd) { vmfds[i], POLLIN, 0 };
                pfd[1 + n_vm] = (struct pollfd) { m->o->sync_fd, 0, 0 };
                r = poll(pfd, 2 + n_vm, (int) left);
                if (r > 0 && (pfd[1 + n_vm].revents & (POLLERR | POLLHUP)))
                        return rv_error_setx(err, ECANCELED, CREATOR_GONE_MSG);
                if (r < 0 && errno != EINTR)
                        return rv_error_set(err, errno, "poll");
                for (size_t i = 0; r > 0 && i < n_vm; i++) {
                        if (pfd[1 + i].revents && vm_check(m->vm, err) < 0) {
                                m->vm_gone = !vm_alive(m->vm);
                                return rv_error_wrap(err, "%s", what);
                        }
                }
                if (r > 0 && pfd[0].revents) {
                        r = channel_receive(m->ch, err);
                        if (r < 0)
                                return -1;
                        if (r == 1) {
                                rv_error_setx(err, ECONNRESET, "the agent closed the channel");
                                return vm_lost(m, what, err);
                        }
                }
        }
}

static int call(struct monitor *m, const char *method, void (*fill)(struct json_writer *, const void *),
                const void *data, int timeout_ms, struct rv_error **err)
{
        struct channel_message msg;
        uint32_t id;

        if (monitor_send_request(m, method, &id, fill, data, err) < 0)
                return -1;
        if (wait_response(m, id, timeout_ms, method, &msg, err) < 0)
                return -1;
        if (msg.error) {
                rv_error_setx(err, msg.error_errno > 0 ? msg.error_errno : EIO, "%s", msg.error);
                channel_message_clear(&msg);
                return -1;
        }
        channel_message_clear(&msg);
        return 0;
}

int monitor_call(struct monitor *m, const char *method, void (*fill)(struct json_writer *, const void *),
                 const void *data, int timeout_ms, struct rv_error **err)
{
        return call(m, method, fill, data, timeout_ms, err);
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
static struct spec_state hook_state(const struct monitor *m, const char *status)
{
        return (struct spec_state) {
                .id = m->o->state->id, .status = status,
                .pid = strcmp(status, "stopped") != 0 ? m->ns.host_pid : 0,
                .bundle = m->o->state->bundle,
                .annotations = m->o->guest_spec->annotations,
                .n_annotations = m->o->guest_spec->n_annotations,
        };
}

/* Host hooks run in the bundle, as runc's do (it chdirs there). */
static int run_hooks(struct monitor *m, const struct spec_hook_list *l, const char *phase,
                     const char *status, struct rv_error **err)
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
        struct spec_state s = hook_state(m, "stopped");
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
                struct spec_state s = hook_state(m, "created");
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
        struct vm_config p = {
                .vmm_path = cfg->qemu_path, .virtiofsd_path = cfg->virtiofsd_path,
                .kernel = cfg->kernel, .initrd = cfg->initrd,
                .memory_mib = plan->memory_mib, .vcpus = plan->vcpus,
                .state_dir = m->o->dir->path, .cpus = plan->cpus, .pin_timeout_ms = cfg->boot_timeout_ms,
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
        p.uid = p.gid = VM_ID_BASE + (unsigned) m->ns.host_pid;
        if (vm_new(cfg->driver, &p, &m->vm, err) < 0)
                return -1;
        for (size_t i = 0; i < plan->n_shares; i++) {
                /* The VM owns the tree from here. */
                int tree = m->ns.vfs_trees[i];
                m->ns.vfs_trees[i] = -1;
                if (vm_add_share(m->vm, &plan->shares[i], tree, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < m->n_vm_nics; i++)
                if (vm_add_nic(m->vm, &m->vm_nics[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < plan->n_disks; i++)
                if (vm_add_disk(m->vm, &plan->disks[i], err) < 0)
                        return -1;
        if (vm_start(m->vm, err) < 0)
                return -1;
        monitor_net_vm_started(m);
        m->o->state->kvm = p.kvm;
        m->o->state->memory_mib = p.memory_mib;
        m->o->state->vcpus = p.vcpus;
        if (monitor_record_vm(m, err) < 0)
                return -1;
        _cleanup_close_ int agent_fd = vm_take_agent_fd(m->vm);
        m->ch = channel_new(agent_fd);
        if (m->ch == NULL)
                return rv_error_set(err, ENOMEM, "channel");
        agent_fd = -EBADF;              /* the channel owns it now */
        if (call(m, "hello", fill_hello, NULL, cfg->boot_timeout_ms, err) < 0)
                return wrap_guest_error(m, err);
        return 0;
}

/* The caller's stdio is not the container's when it has a console: let
 * go of it, so a caller waiting for EOF on it is not held up. */
static int release_stdio(struct rv_error **err)
{
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null < 0)
                return rv_error_set(err, errno, "open /dev/null");
        for (int fd = 0; fd <= 2; fd++)
                if (dup2(null, fd) < 0)
                        return rv_error_set(err, errno, "release stdio");
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
                if (tty_make_controlling(slave, err) < 0 || release_stdio(err) < 0)
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
        return call(m, "create_container", fill_create, m, REQUEST_TIMEOUT_MS, err);
}

/* The container's namespace changed between create and start (ctr --cni
 * runs CNI then): nothing has run in the guest yet, so a new VM with the
 * namespace as it is now takes the old one's place, under the same
 * monitor and with the same stdio streams. */
int monitor_reboot(struct monitor *m, struct rv_error **err)
{
        uint32_t streams[3] = { m->init.in.stream, m->init.out.stream, m->init.err.stream };

        channel_free(m->ch);
        m->ch = NULL;
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
        if (call(m, "create_container", fill_create, m, REQUEST_TIMEOUT_MS, err) < 0)
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
        uint32_t id;

        if (m->ch && !m->vm_gone &&
            monitor_send_request(m, "shutdown", &id, NULL, NULL, &tmp_err) == 0)
                channel_flush(m->ch, &tmp_err);
        rv_error_release(&tmp_err);
        vm_stop(&m->vm, m->vm_gone ? 0 : m->o->cfg->shutdown_timeout_ms);
        channel_free(m->ch);
        m->ch = NULL;
}

static void finish(struct monitor *m)
{
        for (size_t i = 0; i < m->n_pending; i++) {
                if (m->pending[i].client_fd >= 0) {
                        ctl_send_error(m->pending[i].client_fd, -ESRCH, "container not running");
                        close(m->pending[i].client_fd);
                }
        }
        m->n_pending = 0;
        monitor_ctl_close_conns(m);
        if (m->ctl_fd >= 0) {
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
        state_clear_procs(m->o->state);
        monitor_save_state(m, "stopped");
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
        struct host_cgroup_limits limits;

        host_cgroup_limits_from(&m->o->guest_spec->linux_.resources, m->o->plan->memory_mib,
                                m->o->cfg->overhead_memory_mib, m->o->plan->vcpus, &limits);
        if (host_cgroup_enter(m->o->guest_spec->linux_.cgroups_path, m->o->state->id, m->o->ctx->systemd_cgroup,
                              getpid(), &limits, &dirs, err) < 0)
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
        channel_free(m->ch);
        m->ch = NULL;
        vm_destroy(&m->vm);
        monitor_net_teardown(m);
        /* Torn down before create hears of it, and recorded, so that a
         * create that died meanwhile leaves a `stopped` container with its
         * reason for delete (a live create removes the dir itself). */
        state_clear_procs(m->o->state);
        state_set_reason(m->o->state, err->msg);
        monitor_save_state(m, "stopped");
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
                .o = o, .vm = NULL, .sigfd = -1, .ctl_fd = -1, .tty_fd = -1,
                .init = { .in = { .fd = -1 }, .out = { .fd = -1 }, .err = { .fd = -1 } },
                .ns = MONITOR_NS_INIT,
        };
        struct rv_error *err = NULL;

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
            run_hooks(&m, &hooks->prestart, "prestart", "creating", &err) < 0 ||
            run_hooks(&m, &hooks->create_runtime, "createRuntime", "creating", &err) < 0 ||
            check_creator(&m, &err) < 0 || monitor_net_setup(&m, &err) < 0 ||
            boot(&m, &err) < 0 || check_creator(&m, &err) < 0 || monitor_net_configure(&m, &err) < 0 ||
            run_hooks(&m, &hooks->create_container, "createContainer", "creating", &err) < 0 ||
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
        if (monitor_record(&m, "created", &err) < 0 ||
            monitor_ns_to_host(&m.ns, &err) < 0 ||
            run_hooks(&m, &hooks->poststart, "poststart", "created", &err) < 0 ||
            monitor_ns_to_view(&m.ns, &err) < 0) {
                monitor_fail(&m, err);
                _exit(1);
        }
        if (o->autostart) {
                int timeout_ms = REQUEST_TIMEOUT_MS + (int) spec_hooks_max_ms(&hooks->start_container);
                if (call(&m, "start_container", NULL, NULL, timeout_ms, &err) < 0 ||
                    monitor_record(&m, "running", &err) < 0) {
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
                monitor_save_state(&m, "stopped");
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
