/* SPDX-License-Identifier: Apache-2.0 */
/* The host's agent client over a socketpair: the test plays the agent.
 * Answers out of order, events between them, deadlines, a full table,
 * answers nobody waits for, data frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/proc.h"
#include "libcontainer-vm/agent-client.h"
#include "spec/json.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"

#define MAX_SEEN 16

/* What the client handed its owner, in order. */
struct seen {
        char what[MAX_SEEN][96];
        size_t n;
};

static void record(struct seen *s, const char *fmt, ...)
{
        va_list ap;

        assert_true(s->n < MAX_SEEN);
        va_start(ap, fmt);
        vsnprintf(s->what[s->n++], sizeof(s->what[0]), fmt, ap);
        va_end(ap);
}

static void on_answer(void *ctx, const struct agent_request *req, const struct channel_message *msg,
                      const struct rv_error *failure)
{
        if (msg == NULL)
                record(ctx, "fail %s kind=%d fd=%d: %d %s", proto_method_name(req->method), req->kind,
                       req->client_fd, failure->status, failure->msg);
        else if (msg->error)
                record(ctx, "error %s kind=%d: %s", proto_method_name(req->method), req->kind, msg->error);
        else
                record(ctx, "answer %s kind=%d", proto_method_name(req->method), req->kind);
}

static void on_event(void *ctx, enum proto_event ev, const struct channel_message *msg)
{
        record(ctx, "event %s", proto_event_name(ev));
}

static int on_data(void *ctx, const struct channel_frame *f, struct rv_error **err)
{
        record(ctx, "data %u %.*s", f->stream, (int) f->length, (const char *) f->payload);
        return 0;
}

static const struct agent_client_ops ops = { on_answer, on_event, on_data };

struct fixture {
        struct channel *host, *agent;
        struct agent_client *client;
        struct seen seen;
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        fx->host = channel_new(sv[0]);
        fx->agent = channel_new(sv[1]);
        fx->client = agent_client_new("c1", 3, &ops, &fx->seen);
        assert_non_null(fx->client);
        agent_client_set_channel(fx->client, fx->host);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        agent_client_free(fx->client);
        channel_free(fx->host);
        channel_free(fx->agent);
        free(fx);
        return 0;
}

static void flush_to(struct channel *from, struct channel *to)
{
        struct rv_error *err = NULL;

        assert_int_equal(channel_flush(from, &err), 0);
        assert_int_equal(channel_receive(to, &err), 0);
}

/* The agent reads one request: its id, and checks method and params.id. */
static uint32_t agent_read_request(struct fixture *fx, const char *method)
{
        struct rv_error *err = NULL;
        struct channel_frame f;
        struct channel_message m;
        const char *id;

        assert_int_equal(channel_next(fx->agent, &f, &err), 1);
        assert_int_equal(channel_message_parse(&f, &m, &err), 0);
        assert_int_equal(m.type, CHANNEL_REQUEST);
        assert_string_equal(m.method, method);
        assert_int_equal(json_read_string(json_get(m.body, "id"), "id", &id, &err), 0);
        assert_string_equal(id, "c1");
        uint32_t ret = m.id;
        channel_message_clear(&m);
        return ret;
}

static void agent_answer(struct fixture *fx, uint32_t id, const char *error)
{
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;

        if (error) {
                channel_message_write_error(w, id, EINVAL, error);
        } else {
                channel_message_begin_response(w, id);
                json_write_object_begin(w);
                json_write_object_end(w);
                channel_message_end(w);
        }
        assert_int_equal(channel_send_message(fx->agent, CHANNEL_RESPONSE, w, &err), 0);
        json_writer_free(w);
}

static void agent_event(struct fixture *fx, const char *event)
{
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;

        channel_message_begin_event(w, event);
        json_write_object_begin(w);
        json_write_object_end(w);
        channel_message_end(w);
        assert_int_equal(channel_send_message(fx->agent, CHANNEL_EVENT, w, &err), 0);
        json_writer_free(w);
}

static void request(struct fixture *fx, enum proto_method method, int kind, uint32_t *ret_id)
{
        struct agent_request tag = { .kind = kind, .client_fd = -1 };
        struct rv_error *err = NULL;

        assert_int_equal(agent_client_request(fx->client, method, NULL, NULL, &tag, 10000, ret_id, &err), 0);
        assert_null(err);
}

static void pump(struct fixture *fx)
{
        struct rv_error *err = NULL;

        flush_to(fx->agent, fx->host);
        assert_int_equal(agent_client_pump(fx->client, &err), 0);
        assert_null(err);
}

static void test_out_of_order_with_events(void **state)
{
        struct fixture *fx = *state;
        uint32_t a, b, c;

        request(fx, PROTO_STATS, 1, &a);
        request(fx, PROTO_LIST_PROCESSES, 2, &b);
        request(fx, PROTO_PAUSE_CONTAINER, 3, &c);
        assert_int_equal(agent_client_n_pending(fx->client), 3);
        flush_to(fx->host, fx->agent);
        assert_int_equal(agent_read_request(fx, "stats"), a);
        assert_int_equal(agent_read_request(fx, "list_processes"), b);
        assert_int_equal(agent_read_request(fx, "pause_container"), c);
        assert_true(a < b && b < c);

        /* The last first, an event and data between, an error. */
        agent_answer(fx, c, NULL);
        agent_event(fx, "process_exited");
        struct rv_error *err = NULL;
        assert_int_equal(channel_stream_open(fx->agent, 5, &err), 0);
        assert_int_equal(channel_stream_open(fx->host, 5, &err), 0);
        assert_int_equal(channel_send_data(fx->agent, 5, "hi", 2, &err), 0);
        agent_answer(fx, a, "no cgroup");
        agent_event(fx, "oom");
        agent_answer(fx, b, NULL);
        pump(fx);

        assert_int_equal(fx->seen.n, 6);
        assert_string_equal(fx->seen.what[0], "answer pause_container kind=3");
        assert_string_equal(fx->seen.what[1], "event process_exited");
        assert_string_equal(fx->seen.what[2], "data 5 hi");
        assert_string_equal(fx->seen.what[3], "error stats kind=1: no cgroup");
        assert_string_equal(fx->seen.what[4], "event oom");
        assert_string_equal(fx->seen.what[5], "answer list_processes kind=2");
        assert_int_equal(agent_client_n_pending(fx->client), 0);
}

/* An answer nobody waits for (unknown id, or a second one) and an event
 * outside the table are dropped; the entries still waiting are kept. */
static void test_unknown_id_and_event(void **state)
{
        struct fixture *fx = *state;
        uint32_t a;

        request(fx, PROTO_STATS, 1, &a);
        agent_answer(fx, a + 100, NULL);
        agent_event(fx, "no_such_event");
        pump(fx);
        assert_int_equal(fx->seen.n, 0);
        assert_int_equal(agent_client_n_pending(fx->client), 1);
        agent_answer(fx, a, NULL);
        agent_answer(fx, a, NULL);
        pump(fx);
        assert_int_equal(fx->seen.n, 1);
        assert_int_equal(agent_client_n_pending(fx->client), 0);
}

static void test_table_full(void **state)
{
        struct fixture *fx = *state;
        struct agent_request tag = { .kind = 9, .client_fd = -1 };
        struct rv_error *err = NULL;
        uint32_t id;

        for (int i = 0; i < 3; i++)
                request(fx, PROTO_STATS, i, &id);
        assert_true(agent_client_full(fx->client));
        size_t queued = channel_pending_bytes(fx->host);
        assert_int_equal(agent_client_request(fx->client, PROTO_STATS, NULL, NULL, &tag, 1000, &id, &err), -1);
        assert_int_equal(err->status, EAGAIN);
        rv_error_release(&err);
        /* Refused before anything was sent. */
        assert_int_equal(channel_pending_bytes(fx->host), queued);
        /* Untracked requests still go. */
        assert_int_equal(agent_client_request(fx->client, PROTO_SHUTDOWN, NULL, NULL, NULL, 0, NULL, &err), 0);
        assert_true(channel_pending_bytes(fx->host) > queued);
        assert_int_equal(agent_client_n_pending(fx->client), 3);
}

static void test_deadlines(void **state)
{
        struct fixture *fx = *state;
        struct agent_request tag = { .kind = 4, .client_fd = 7 };
        struct rv_error *err = NULL;
        uint32_t slow, quick;
        int64_t now = rv_now_ms();

        assert_int_equal(agent_client_request(fx->client, PROTO_STATS, NULL, NULL, &tag, 60000, &slow, &err), 0);
        assert_int_equal(agent_client_request(fx->client, PROTO_START_CONTAINER, NULL, NULL, &tag, 50, &quick,
                                              &err), 0);
        int next = agent_client_expire(fx->client, now);
        assert_true(next > 0 && next <= 50);
        assert_int_equal(fx->seen.n, 0);
        next = agent_client_expire(fx->client, now + 1000);
        assert_int_equal(fx->seen.n, 1);
        assert_string_equal(fx->seen.what[0],
                            "fail start_container kind=4 fd=7: 110 no answer from the guest in time");
        assert_true(next > 50000 && next <= 59000);
        /* The late answer finds nobody. */
        agent_answer(fx, quick, NULL);
        pump(fx);
        assert_int_equal(fx->seen.n, 1);
        assert_int_equal(agent_client_expire(fx->client, now + 120000), -1);
        assert_int_equal(fx->seen.n, 2);
        assert_int_equal(agent_client_n_pending(fx->client), 0);
}

static void test_cancel_and_fail_all(void **state)
{
        struct fixture *fx = *state;
        uint32_t a, b, c;

        request(fx, PROTO_STATS, 1, &a);
        request(fx, PROTO_LIST_PROCESSES, 2, &b);
        request(fx, PROTO_PAUSE_CONTAINER, 3, &c);
        agent_client_cancel(fx->client, b);
        assert_int_equal(agent_client_n_pending(fx->client), 2);
        agent_client_fail_all(fx->client, ESRCH, "container not running");
        assert_int_equal(fx->seen.n, 2);
        assert_string_equal(fx->seen.what[0], "fail stats kind=1 fd=-1: 3 container not running");
        assert_string_equal(fx->seen.what[1], "fail pause_container kind=3 fd=-1: 3 container not running");
        assert_int_equal(agent_client_n_pending(fx->client), 0);
}

static void test_no_channel(void **state)
{
        struct fixture *fx = *state;
        struct agent_request tag = { .kind = 1, .client_fd = -1 };
        struct rv_error *err = NULL;

        agent_client_set_channel(fx->client, NULL);
        assert_int_equal(agent_client_request(fx->client, PROTO_STATS, NULL, NULL, &tag, 10, NULL, &err), -1);
        assert_int_equal(err->status, ENOTCONN);
        rv_error_release(&err);
        assert_int_equal(agent_client_n_pending(fx->client), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_out_of_order_with_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_id_and_event, setup, teardown),
                cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
                cmocka_unit_test_setup_teardown(test_deadlines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel_and_fail_all, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_channel, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
