/* SPDX-License-Identifier: Apache-2.0 */
/* The stdio relay alone, between a pipe and a channel whose other end
 * the test reads as the agent would: output credit is granted back only
 * for bytes that left for the host fd, input never exceeds the credit,
 * EOF both ways, a reader that went away. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/stdio.h"
#include "vm/channel/channel.h"

#define STREAM 3

struct fixture {
        struct channel *host, *agent;
        int pipe[2];
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        struct rv_error *err = NULL;
        int sv[2];

        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        fx->host = channel_new(sv[0]);
        fx->agent = channel_new(sv[1]);
        assert_int_equal(channel_stream_open(fx->host, STREAM, &err), 0);
        assert_int_equal(channel_stream_open(fx->agent, STREAM, &err), 0);
        assert_int_equal(pipe2(fx->pipe, O_CLOEXEC), 0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        channel_free(fx->host);
        channel_free(fx->agent);
        if (fx->pipe[0] >= 0)
                close(fx->pipe[0]);
        if (fx->pipe[1] >= 0)
                close(fx->pipe[1]);
        free(fx);
        return 0;
}

/* Moves what host queued to the agent; returns the frames of `type` on
 * STREAM and adds their payload sizes to *bytes. */
static int agent_drain(struct fixture *fx, uint8_t type, size_t *bytes)
{
        struct rv_error *err = NULL;
        struct channel_frame f;
        int n = 0, r;

        assert_int_equal(channel_flush(fx->host, &err), 0);
        assert_int_equal(channel_receive(fx->agent, &err), 0);
        while ((r = channel_next(fx->agent, &f, &err)) > 0) {
                if (f.stream == STREAM && f.type == type) {
                        n++;
                        if (bytes)
                                *bytes += f.length;
                }
        }
        assert_int_equal(r, 0);
        return n;
}

/* Guest output to a pipe: credit comes back as the pipe takes it. */
static void test_sink_grants_what_left(void **state)
{
        struct fixture *fx = *state;
        struct stdio_sink s;
        struct rv_error *err = NULL;
        static char data[100000];
        char out[sizeof(data)];

        memset(data, 'o', sizeof(data));
        assert_int_equal(stdio_sink_init(&s, fx->pipe[1], STREAM, true, &err), 0);
        /* The guest sent 100000 bytes: it has that much less credit. */
        uint32_t before = channel_stream_send_credit(fx->agent, STREAM);
        assert_int_equal(channel_send_data(fx->agent, STREAM, data, sizeof(data), &err), 0);
        assert_int_equal(channel_stream_send_credit(fx->agent, STREAM), before - sizeof(data));
        assert_int_equal(stdio_sink_push(&s, data, sizeof(data), &err), 0);
        assert_true(stdio_sink_want_write(&s));

        /* A pipe holds 64 KiB: the rest waits, and is not granted yet. */
        assert_int_equal(stdio_sink_flush(&s, fx->host, &err), 0);
        assert_true(stdio_sink_want_write(&s));
        size_t granted_now = sizeof(data) - s.len;
        assert_true(granted_now > 0 && granted_now < sizeof(data));
        assert_int_equal(agent_drain(fx, CHANNEL_CREDIT, NULL), 0);     /* CREDIT is consumed by channel_next */
        assert_int_equal(channel_stream_send_credit(fx->agent, STREAM), before - sizeof(data) + granted_now);

        /* The reader drains the pipe: the rest goes, and its credit. */
        size_t got = 0;
        while (got < sizeof(data)) {
                ssize_t n = read(fx->pipe[0], out + got, sizeof(out) - got);
                assert_true(n > 0);
                got += (size_t) n;
                assert_int_equal(stdio_sink_flush(&s, fx->host, &err), 0);
        }
        assert_false(stdio_sink_want_write(&s));
        assert_memory_equal(out, data, sizeof(data));
        agent_drain(fx, CHANNEL_CREDIT, NULL);
        assert_int_equal(channel_stream_send_credit(fx->agent, STREAM), before);
        /* EOF from the guest with nothing buffered: done. */
        assert_false(stdio_sink_done(&s));
        s.eof = true;
        assert_true(stdio_sink_done(&s));
        stdio_sink_clear(&s);
}

/* A reader that went away: output is dropped, the guest keeps its credit
 * (it must never stall on a host fd nobody reads). */
static void test_sink_broken_reader(void **state)
{
        struct fixture *fx = *state;
        struct stdio_sink s;
        struct rv_error *err = NULL;
        uint32_t before = channel_stream_send_credit(fx->agent, STREAM);

        assert_int_equal(stdio_sink_init(&s, fx->pipe[1], STREAM, true, &err), 0);
        close(fx->pipe[0]);
        fx->pipe[0] = -1;
        assert_int_equal(channel_send_data(fx->agent, STREAM, "lost", 4, &err), 0);
        assert_int_equal(stdio_sink_push(&s, "lost", 4, &err), 0);
        assert_int_equal(stdio_sink_flush(&s, fx->host, &err), 0);
        assert_true(s.broken);
        assert_false(stdio_sink_want_write(&s));
        agent_drain(fx, CHANNEL_CREDIT, NULL);
        assert_int_equal(channel_stream_send_credit(fx->agent, STREAM), before);
        /* Later output is dropped at once. */
        assert_int_equal(stdio_sink_push(&s, "more", 4, &err), 0);
        assert_false(stdio_sink_want_write(&s));
        stdio_sink_clear(&s);
}

/* Host input: never more than the credit; reading resumes when the
 * agent grants more; EOF at the end of input. */
static void test_source_respects_credit(void **state)
{
        struct fixture *fx = *state;
        struct stdio_source s;
        struct rv_error *err = NULL;
        static char data[CHANNEL_INITIAL_CREDIT + 1000];
        size_t sent = 0, written = 0;

        memset(data, 'i', sizeof(data));
        assert_int_equal(fcntl(fx->pipe[1], F_SETFL, O_NONBLOCK), 0);
        assert_int_equal(stdio_source_init(&s, fx->pipe[0], STREAM, true, &err), 0);
        assert_true(stdio_source_want_read(&s, fx->host));
        /* Fill the pipe and pump until the credit is used up. */
        while (channel_stream_send_credit(fx->host, STREAM) > 0) {
                ssize_t n = write(fx->pipe[1], data + written, sizeof(data) - written);
                if (n > 0)
                        written += (size_t) n;
                assert_int_equal(stdio_source_pump(&s, fx->host, &err), 0);
                agent_drain(fx, CHANNEL_DATA, &sent);
        }
        assert_int_equal(sent, CHANNEL_INITIAL_CREDIT);
        assert_false(stdio_source_want_read(&s, fx->host));
        /* Nothing more goes without credit, though the pipe has more. */
        assert_int_equal(stdio_source_pump(&s, fx->host, &err), 0);
        assert_int_equal(agent_drain(fx, CHANNEL_DATA, &sent), 0);

        /* The agent passed 1000 bytes on: they may come. */
        assert_int_equal(channel_send_credit(fx->agent, STREAM, 1000, &err), 0);
        assert_int_equal(channel_flush(fx->agent, &err), 0);
        assert_int_equal(channel_receive(fx->host, &err), 0);
        struct channel_frame f;
        assert_int_equal(channel_next(fx->host, &f, &err), 0);  /* CREDIT is consumed */
        assert_int_equal(channel_stream_send_credit(fx->host, STREAM), 1000);
        assert_true(stdio_source_want_read(&s, fx->host));
        while (written < sizeof(data)) {
                ssize_t n = write(fx->pipe[1], data + written, sizeof(data) - written);
                assert_true(n > 0);
                written += (size_t) n;
        }
        close(fx->pipe[1]);
        fx->pipe[1] = -1;
        assert_int_equal(stdio_source_pump(&s, fx->host, &err), 0);
        agent_drain(fx, CHANNEL_DATA, &sent);
        assert_int_equal(sent, sizeof(data));
        assert_false(s.eof);                   /* out of credit before it could see EOF */

        /* More credit: the end of input is sent as EOF. */
        assert_int_equal(channel_send_credit(fx->agent, STREAM, 1, &err), 0);
        assert_int_equal(channel_flush(fx->agent, &err), 0);
        assert_int_equal(channel_receive(fx->host, &err), 0);
        assert_int_equal(channel_next(fx->host, &f, &err), 0);
        assert_int_equal(stdio_source_pump(&s, fx->host, &err), 0);
        assert_true(s.eof);
        assert_false(stdio_source_want_read(&s, fx->host));
        assert_int_equal(agent_drain(fx, CHANNEL_EOF, NULL), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_sink_grants_what_left, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sink_broken_reader, setup, teardown),
                cmocka_unit_test_setup_teardown(test_source_respects_credit, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
