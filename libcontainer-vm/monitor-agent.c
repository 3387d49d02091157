/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's requests to the agent, through the one agent client:
 * each waiting for its answer in the client's table, with a deadline
 * by kind; the parameter writers and readers the monitor shares. */
#include "libcontainer-vm/monitor-agent.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/error.h"
#include "base/loop.h"
#include "base/proc.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-sync.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/channel/message.h"
#include "vm/vm.h"

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

void monitor_read_exit(const struct json_value *data, int *ret_code, int *ret_signal)
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

void monitor_call_answered(struct monitor_call *c, const struct channel_message *msg,
                           const struct rv_error *failure)
{
        c->done = true;
        if (msg == NULL)
                rv_error_setx(&c->err, failure->status, "%s", failure->msg);
        else if (msg->error)
                rv_error_setx(&c->err, msg->error_errno > 0 ? msg->error_errno : EIO, "%s", msg->error);
        else if (c->check)
                c->check(msg->body, c->ctx, &c->err);
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

        if (vm_check(cw->m->vm, err) == 0)
                return 0;
        cw->m->vm_gone = !vm_alive(cw->m->vm);
        return rv_error_wrap(err, "%s", cw->what);
}

static int wait_on_creator(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        if (rev & (EPOLLERR | EPOLLHUP))
                return rv_error_setx(err, ECANCELED, MONITOR_SYNC_GONE_MSG);
        return 0;
}

/* Sends a request and waits for its answer, up to timeout_ms: the
 * client's one dispatch handles whatever else arrives meanwhile. QEMU
 * exiting, or pausing itself on an internal error, ends the wait at once:
 * never sit out the deadline on a dead VM. So do a helper's death
 * (virtiofsd's) and create's (the rule in docs/ARCHITECTURE.md); a
 * console or helper log nobody reads would stall the guest. */
int monitor_call_checked(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                        int timeout_ms, int (*check)(const struct json_value *, void *, struct rv_error **),
                        void *ctx, struct rv_error **err)
{
        struct call_wait cw = { .m = m, .what = proto_method_name(method) };
        struct monitor_call c = { .check = check, .ctx = ctx };
        struct agent_request tag = { .kind = PENDING_CALL, .client_fd = -1, .ptr = &c };
        struct loop l = LOOP_INIT;
        struct loop_watch ch = LOOP_WATCH_INIT(wait_on_channel, NULL);
        struct loop_watch creator = LOOP_WATCH_INIT(wait_on_creator, NULL);
        struct loop_watch vmw[VM_WATCH_MAX];
        int vmfds[VM_WATCH_MAX];
        size_t n_vm = vm_watch_fds(m->vm, vmfds);
        uint32_t id;
        int r = -1;

        if (loop_init(&l, err) < 0)
                return -1;
        ch.fd = channel_fd(m->ch);
        creator.fd = m->o->sync_fd;
        for (size_t i = 0; i < n_vm; i++) {
                vmw[i] = (struct loop_watch) LOOP_WATCH_INIT(wait_on_vm, NULL);
                vmw[i].fd = vmfds[i];
                if (loop_watch_set(&l, &vmw[i], EPOLLIN, err) < 0)
                        goto fail;
        }
        /* create's end reports only its hang-up: RDHUP asks for no more. */
        if (creator.fd >= 0 && loop_watch_set(&l, &creator, EPOLLRDHUP, err) < 0)
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
        return monitor_call_checked(m, method, fill, data, timeout_ms, NULL, NULL, err);
}
