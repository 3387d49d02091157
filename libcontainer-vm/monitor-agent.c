/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's requests to the agent, through the one agent client:
 * each waiting for its answer in the client's table, with a deadline
 * by kind; the parameter writers and readers the monitor shares. */
#include "libcontainer-vm/monitor-agent.h"

#include <errno.h>
#include <unistd.h>

#include "base/error.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-internal.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/channel/message.h"

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
                c->check(msg->body, &c->err);
}
