/* SPDX-License-Identifier: Apache-2.0 */
/* Control message envelopes: what the writers produce parses back, and
 * envelopes with a wrong shape or type are refused. */
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
#include "spec/json.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"

struct pair {
        struct channel *a, *b;
};

static void pair_new(struct pair *p)
{
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        p->a = channel_new(sv[0]);
        p->b = channel_new(sv[1]);
        assert_non_null(p->a);
        assert_non_null(p->b);
}

static void pair_free(struct pair *p)
{
        channel_free(p->a);
        channel_free(p->b);
}

/* Sends what the writer holds from a to b and parses it on b. */
static void roundtrip(struct pair *p, enum channel_frame_type type, struct json_writer *w,
                      struct channel_message *ret)
{
        struct rv_error *err = NULL;
        struct channel_frame f;

        assert_int_equal(channel_send_message(p->a, type, w, &err), 0);
        json_writer_free(w);
        assert_int_equal(channel_flush(p->a, &err), 0);
        assert_int_equal(channel_receive(p->b, &err), 0);
        assert_int_equal(channel_next(p->b, &f, &err), 1);
        assert_int_equal(f.type, type);
        assert_int_equal(channel_message_parse(&f, ret, &err), 0);
        assert_null(err);
        assert_int_equal(ret->type, type);
}

static void test_request_roundtrip(void **state)
{
        struct pair p;
        struct channel_message m;
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;
        const char *id;

        pair_new(&p);
        channel_message_begin_request(w, UINT32_MAX, "start_container");
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, "c1");
        json_write_object_end(w);
        channel_message_end(w);
        roundtrip(&p, CHANNEL_REQUEST, w, &m);

        assert_int_equal(m.id, UINT32_MAX);
        assert_string_equal(m.method, "start_container");
        assert_null(m.event);
        assert_null(m.error);
        assert_int_equal(m.error_errno, 0);
        assert_non_null(m.body);
        assert_int_equal(json_read_string(json_get(m.body, "id"), "params.id", &id, &err), 0);
        assert_string_equal(id, "c1");
        channel_message_clear(&m);
        assert_null(m.root);
        channel_message_clear(&m);      /* twice is harmless */
        pair_free(&p);
}

static void test_response_roundtrip(void **state)
{
        struct pair p;
        struct channel_message m;
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;
        int64_t pid;

        pair_new(&p);
        channel_message_begin_response(w, 42);
        json_write_object_begin(w);
        json_write_key(w, "pid");
        json_write_int64(w, 123);
        json_write_object_end(w);
        channel_message_end(w);
        roundtrip(&p, CHANNEL_RESPONSE, w, &m);
        assert_int_equal(m.id, 42);
        assert_null(m.error);
        assert_int_equal(json_read_int64(json_get(m.body, "pid"), "result.pid", &pid, &err), 0);
        assert_int_equal(pid, 123);
        channel_message_clear(&m);
        pair_free(&p);
}

static void test_error_roundtrip(void **state)
{
        struct pair p;
        struct channel_message m;
        struct json_writer *w = json_writer_new(NULL);

        pair_new(&p);
        channel_message_write_error(w, 3, ENOENT,
                                    "exec: \"foo\": executable file not found in $PATH");
        roundtrip(&p, CHANNEL_RESPONSE, w, &m);
        assert_int_equal(m.id, 3);
        assert_string_equal(m.error, "exec: \"foo\": executable file not found in $PATH");
        assert_int_equal(m.error_errno, ENOENT);
        assert_null(m.body);
        channel_message_clear(&m);

        /* -errno is accepted and sent positive; 0 means no errno. */
        w = json_writer_new(NULL);
        channel_message_write_error(w, 4, -ESRCH, "no such process");
        roundtrip(&p, CHANNEL_RESPONSE, w, &m);
        assert_int_equal(m.error_errno, ESRCH);
        channel_message_clear(&m);

        w = json_writer_new(NULL);
        channel_message_write_error(w, 5, 0, "bad");
        roundtrip(&p, CHANNEL_RESPONSE, w, &m);
        assert_string_equal(m.error, "bad");
        assert_int_equal(m.error_errno, 0);
        channel_message_clear(&m);
        pair_free(&p);
}

static void test_event_roundtrip(void **state)
{
        struct pair p;
        struct channel_message m;
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;
        int64_t sig;

        pair_new(&p);
        channel_message_begin_event(w, "process_exited");
        json_write_object_begin(w);
        json_write_key(w, "id");
        json_write_string(w, "c1");
        json_write_key(w, "pid");
        json_write_int64(w, 1);
        json_write_key(w, "signal");
        json_write_int64(w, 9);
        json_write_object_end(w);
        channel_message_end(w);
        roundtrip(&p, CHANNEL_EVENT, w, &m);
        assert_string_equal(m.event, "process_exited");
        assert_null(m.method);
        assert_int_equal(json_read_int64(json_get(m.body, "signal"), "data.signal", &sig, &err), 0);
        assert_int_equal(sig, 9);
        channel_message_clear(&m);
        pair_free(&p);
}

static int parse_text(uint8_t type, const char *json, struct channel_message *m,
                      struct rv_error **err)
{
        struct channel_frame f = {
                .stream = CHANNEL_STREAM_CONTROL,
                .type = type,
                .length = (uint32_t) strlen(json),
                .payload = (const uint8_t *) json,
        };

        return channel_message_parse(&f, m, err);
}

static void test_good_envelopes(void **state)
{
        struct channel_message m;
        struct rv_error *err = NULL;

        /* Bodies are optional and may be any JSON value. */
        assert_int_equal(parse_text(CHANNEL_RESPONSE, "{\"id\":0}", &m, &err), 0);
        assert_null(m.body);
        channel_message_clear(&m);
        assert_int_equal(parse_text(CHANNEL_REQUEST, "{\"method\":\"shutdown\",\"id\":1}", &m, &err), 0);
        assert_null(m.body);
        assert_string_equal(m.method, "shutdown");
        channel_message_clear(&m);
        assert_int_equal(parse_text(CHANNEL_REQUEST, "{\"id\":1,\"method\":\"x\",\"params\":[1,2]}", &m, &err), 0);
        assert_true(json_is_array(m.body));
        channel_message_clear(&m);
        assert_int_equal(parse_text(CHANNEL_EVENT, "{\"event\":\"oom\",\"data\":null}", &m, &err), 0);
        assert_true(json_is_null(m.body));
        channel_message_clear(&m);
        assert_int_equal(parse_text(CHANNEL_RESPONSE, "{\"id\":4294967295,\"error\":\"x\"}", &m, &err), 0);
        assert_int_equal(m.id, UINT32_MAX);
        assert_int_equal(m.error_errno, 0);
        channel_message_clear(&m);
        assert_null(err);
}

struct bad_envelope {
        uint8_t type;
        const char *json;
};

static const struct bad_envelope bad_envelopes[] = {
        { CHANNEL_REQUEST, "" },
        { CHANNEL_REQUEST, "{" },
        { CHANNEL_REQUEST, "not json" },
        { CHANNEL_REQUEST, "[]" },
        { CHANNEL_REQUEST, "\"hello\"" },
        { CHANNEL_REQUEST, "null" },
        { CHANNEL_REQUEST, "{\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":-1,\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":4294967296,\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":1.5,\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":1e3,\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":\"1\",\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":true,\"method\":\"hello\"}" },
        { CHANNEL_REQUEST, "{\"id\":1}" },
        { CHANNEL_REQUEST, "{\"id\":1,\"method\":7}" },
        { CHANNEL_REQUEST, "{\"id\":1,\"method\":\"\"}" },
        { CHANNEL_REQUEST, "{\"id\":1,\"method\":null}" },
        { CHANNEL_REQUEST, "{\"id\":1,\"method\":\"hello\",\"extra\":1}" },
        { CHANNEL_REQUEST, "{\"id\":1,\"method\":\"hello\",\"error\":\"x\"}" },
        { CHANNEL_REQUEST, "{\"id\":1,\"id\":2,\"method\":\"hello\"}" },
        { CHANNEL_RESPONSE, "{}" },
        { CHANNEL_RESPONSE, "{\"result\":{}}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"result\":{},\"error\":\"x\"}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"errno\":2}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":5}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":null}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":\"x\",\"errno\":\"2\"}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":\"x\",\"errno\":0}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":\"x\",\"errno\":-2}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":\"x\",\"errno\":4096}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"error\":\"x\",\"errno\":2.5}" },
        { CHANNEL_RESPONSE, "{\"id\":1,\"method\":\"x\"}" },
        { CHANNEL_EVENT, "{}" },
        { CHANNEL_EVENT, "{\"data\":{}}" },
        { CHANNEL_EVENT, "{\"event\":1}" },
        { CHANNEL_EVENT, "{\"event\":\"\"}" },
        { CHANNEL_EVENT, "{\"event\":\"oom\",\"id\":1}" },
        { CHANNEL_EVENT, "{\"event\":\"oom\",\"params\":{}}" },
        { CHANNEL_DATA, "{\"event\":\"oom\"}" },
        { CHANNEL_CREDIT, "{\"id\":1}" },
        { 0, "{\"id\":1}" },
};

static void test_bad_envelopes(void **state)
{
        for (size_t i = 0; i < sizeof(bad_envelopes) / sizeof(bad_envelopes[0]); i++) {
                struct channel_message m = { .root = NULL };
                struct rv_error *err = NULL;

                print_message("  type %u: %s\n", bad_envelopes[i].type, bad_envelopes[i].json);
                assert_int_equal(parse_text(bad_envelopes[i].type, bad_envelopes[i].json, &m, &err), -1);
                assert_non_null(err);
                assert_int_equal(err->status, EPROTO);
                assert_null(m.root);    /* untouched on failure */
                rv_error_free(err);
        }
}

static void test_wrong_stream(void **state)
{
        struct channel_message m;
        struct rv_error *err = NULL;
        struct channel_frame f = {
                .stream = 1,
                .type = CHANNEL_EVENT,
                .length = 15,
                .payload = (const uint8_t *) "{\"event\":\"oom\"}",
        };

        assert_int_equal(channel_message_parse(&f, &m, &err), -1);
        assert_non_null(err);
        rv_error_free(err);
}

static void test_send_unfinished_writer(void **state)
{
        struct pair p;
        struct json_writer *w = json_writer_new(NULL);
        struct rv_error *err = NULL;

        pair_new(&p);
        channel_message_begin_request(w, 1, "hello");
        /* No params value, no end: the writer refuses, nothing is queued. */
        assert_int_equal(channel_send_message(p.a, CHANNEL_REQUEST, w, &err), -1);
        assert_non_null(err);
        assert_false(channel_want_write(p.a));
        rv_error_free(err);
        json_writer_free(w);
        pair_free(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_roundtrip),
                cmocka_unit_test(test_response_roundtrip),
                cmocka_unit_test(test_error_roundtrip),
                cmocka_unit_test(test_event_roundtrip),
                cmocka_unit_test(test_good_envelopes),
                cmocka_unit_test(test_bad_envelopes),
                cmocka_unit_test(test_wrong_stream),
                cmocka_unit_test(test_send_unfinished_writer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
