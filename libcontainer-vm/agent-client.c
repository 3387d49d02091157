/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/agent-client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "spec/json.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"

struct agent_client {
        char *container_id;
        const char *target;             /* borrowed: the container requests name now */
        struct channel *ch;
        const struct agent_client_ops *ops;
        void *ctx;
        uint32_t next_id;
        size_t n, capacity;
        struct agent_request pending[];
};

struct agent_client *agent_client_new(const char *container_id, size_t capacity,
                                      const struct agent_client_ops *ops, void *ctx)
{
        struct agent_client *c = calloc(1, sizeof(*c) + capacity * sizeof(c->pending[0]));

        if (c == NULL || (c->container_id = strdup(container_id)) == NULL) {
                free(c);
                return NULL;
        }
        c->capacity = capacity;
        c->ops = ops;
        c->ctx = ctx;
        return c;
}

void agent_client_free(struct agent_client *c)
{
        if (c == NULL)
                return;
        free(c->container_id);
        free(c);
}

void agent_client_set_channel(struct agent_client *c, struct channel *ch)
{
        if (c)
                c->ch = ch;
}

struct channel *agent_client_channel(const struct agent_client *c)
{
        return c->ch;
}

bool agent_client_full(const struct agent_client *c)
{
        return c->n >= c->capacity;
}

size_t agent_client_n_pending(const struct agent_client *c)
{
        return c->n;
}

int agent_client_request(struct agent_client *c, enum proto_method method, agent_fill_fn fill,
                         const void *data, const struct agent_request *tag, int timeout_ms,
                         uint32_t *ret_id, struct rv_error **err)
{
        const char *name = proto_method_name(method);

        if (tag && agent_client_full(c))
                return rv_error_setx(err, EAGAIN, "%s: too many requests in flight", name);
        if (c->ch == NULL)
                return rv_error_setx(err, ENOTCONN, "%s: no channel to the guest", name);

        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        uint32_t id = ++c->next_id;
        if (w == NULL)
                return rv_error_set(err, ENOMEM, "%s", name);
        channel_message_begin_request(w, id, name);
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, c->target ? c->target : c->container_id);
        if (fill)
                fill(w, data);
        json_write_object_end(w);
        channel_message_end(w);
        if (channel_send_message(c->ch, CHANNEL_REQUEST, w, err) < 0)
                return rv_error_wrap(err, "send %s", name);
        if (tag) {
                struct agent_request *p = &c->pending[c->n++];
                *p = *tag;
                p->id = id;
                p->method = method;
                p->deadline_ms = rv_now_ms() + timeout_ms;
        }
        if (ret_id)
                *ret_id = id;
        return 0;
}

/* Removes entry i, keeping the table's order (answers in order of age
 * when several expire at once). */
static struct agent_request take(struct agent_client *c, size_t i)
{
        struct agent_request r = c->pending[i];

        memmove(&c->pending[i], &c->pending[i + 1], (c->n - i - 1) * sizeof(c->pending[0]));
        c->n--;
        return r;
}

static void handle_response(struct agent_client *c, const struct channel_message *msg)
{
        for (size_t i = 0; i < c->n; i++) {
                if (c->pending[i].id == msg->id) {
                        struct agent_request r = take(c, i);
                        if (msg->error)
                                rv_debug("request %u `%s` failed: %s", r.id, proto_method_name(r.method),
                                         msg->error);
                        c->ops->answer(c->ctx, &r, msg, NULL);
                        return;
                }
        }
        /* Nobody waits for it: sent without an entry, or past its deadline. */
        rv_debug("answer to request %u dropped: nobody waits for it", msg->id);
}

static void handle_event(struct agent_client *c, const struct channel_message *msg)
{
        int ev = proto_event_lookup(msg->event);

        if (ev < 0) {
                rv_debug("guest event `%s` ignored", msg->event);
                return;
        }
        c->ops->event(c->ctx, (enum proto_event) ev, msg);
}

int agent_client_dispatch(struct agent_client *c, const struct channel_frame *f, struct rv_error **err)
{
        struct channel_message msg;

        if (f->stream != CHANNEL_STREAM_CONTROL)
                return c->ops->data ? c->ops->data(c->ctx, f, err) : 0;
        if (channel_message_parse(f, &msg, err) < 0)
                return -1;
        channel_message_sanitize(&msg);
        if (msg.type == CHANNEL_RESPONSE)
                handle_response(c, &msg);
        else if (msg.type == CHANNEL_EVENT)
                handle_event(c, &msg);
        else
                rv_debug("unexpected control frame type %d id %u", msg.type, msg.id);
        channel_message_clear(&msg);
        return 0;
}

int agent_client_pump(struct agent_client *c, struct rv_error **err)
{
        struct channel_frame f;
        int r;

        if (c->ch == NULL)
                return 0;
        while ((r = channel_next(c->ch, &f, err)) > 0)
                if (agent_client_dispatch(c, &f, err) < 0)
                        return -1;
        return r;
}

int agent_client_expire(struct agent_client *c, int64_t now_ms)
{
        int64_t next = -1;
        struct rv_error *why = NULL;

        for (size_t i = 0; i < c->n;) {
                if (c->pending[i].deadline_ms > now_ms) {
                        int64_t left = c->pending[i].deadline_ms - now_ms;
                        if (next < 0 || left < next)
                                next = left;
                        i++;
                        continue;
                }
                struct agent_request r = take(c, i);
                rv_log(RV_LOG_WARNING, "request %u `%s`: no answer from the guest in time", r.id,
                       proto_method_name(r.method));
                rv_error_setx(&why, ETIMEDOUT, "no answer from the guest in time");
                c->ops->answer(c->ctx, &r, NULL, why);
                rv_error_release(&why);
        }
        return next > INT32_MAX ? INT32_MAX : (int) next;
}

void agent_client_cancel(struct agent_client *c, uint32_t id)
{
        for (size_t i = 0; i < c->n; i++) {
                if (c->pending[i].id == id) {
                        take(c, i);
                        return;
                }
        }
}

void agent_client_fail_all(struct agent_client *c, int errnum, const char *msg)
{
        struct rv_error *why = NULL;

        /* Only those there now: an answer may queue another request. */
        for (size_t left = c->n; left > 0 && c->n > 0; left--) {
                struct agent_request r = take(c, 0);
                rv_error_setx(&why, errnum, "%s", msg);
                c->ops->answer(c->ctx, &r, NULL, why);
                rv_error_release(&why);
        }
}

void agent_client_set_target(struct agent_client *c, const char *container_id)
{
        c->target = container_id;
}
