/* SPDX-License-Identifier: Apache-2.0 */
/* The channel codec and endpoint: framing, strict decoding of untrusted
 * bytes, credit accounting, and the property the credits exist for: a
 * stream nobody reads never blocks control frames or other streams. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "vm/channel/channel-internal.h"
#include "vm/channel/channel.h"

/* --- helpers ----------------------------------------------------------- */

static size_t frame_put(uint8_t *buf, uint32_t stream, uint8_t type, const void *payload,
                        uint32_t length)
{
        channel_header_encode(buf, stream, type, length);
        if (length > 0)
                memcpy(buf + CHANNEL_HEADER_SIZE, payload, length);
        return CHANNEL_HEADER_SIZE + length;
}

static void raw_write(int fd, uint32_t stream, uint8_t type, const void *payload, uint32_t length)
{
        uint8_t *buf = malloc(CHANNEL_HEADER_SIZE + length);
        size_t n;

        assert_non_null(buf);
        n = frame_put(buf, stream, type, payload, length);
        assert_int_equal(write(fd, buf, n), (ssize_t) n);
        free(buf);
}

static void raw_credit(int fd, uint32_t stream, uint32_t bytes)
{
        uint8_t p[4];

        channel_put_u32le(p, bytes);
        raw_write(fd, stream, CHANNEL_CREDIT, p, 4);
}

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

/* One endpoint and the raw other end of its socket, for writing frames a
 * well-behaved endpoint would refuse to send. */
static struct channel *raw_pair(int *ret_raw)
{
        int sv[2];
        struct channel *ch;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        ch = channel_new(sv[0]);
        assert_non_null(ch);
        *ret_raw = sv[1];
        return ch;
}

static void flush_ok(struct channel *ch)
{
        struct rv_error *err = NULL;

        assert_int_equal(channel_flush(ch, &err), 0);
        assert_null(err);
}

static void receive_ok(struct channel *ch)
{
        struct rv_error *err = NULL;

        assert_int_equal(channel_receive(ch, &err), 0);
        assert_null(err);
}

/* Moves everything queued on `from` into `to`'s receive buffer. */
static void pump(struct channel *from, struct channel *to)
{
        flush_ok(from);
        assert_false(channel_want_write(from));
        receive_ok(to);
}

static int next(struct channel *ch, struct channel_frame *f)
{
        struct rv_error *err = NULL;
        int r = channel_next(ch, f, &err);

        if (r < 0) {
                assert_non_null(err);
                assert_int_equal(err->status, EPROTO);
                rv_error_free(err);
        } else {
                assert_null(err);
        }
        return r;
}

static void expect_frame(struct channel *ch, uint32_t stream, uint8_t type, uint32_t length)
{
        struct channel_frame f;

        assert_int_equal(next(ch, &f), 1);
        assert_int_equal(f.stream, stream);
        assert_int_equal(f.type, type);
        assert_int_equal(f.length, length);
}

static void expect_errno(int r, struct rv_error **err, int status)
{
        assert_int_equal(r, -1);
        assert_non_null(*err);
        assert_int_equal((*err)->status, status);
        rv_error_release(err);
}

/* --- codec ------------------------------------------------------------- */

static void test_header_roundtrip(void **state)
{
        uint8_t h[CHANNEL_HEADER_SIZE];
        uint32_t stream, length;
        uint8_t type;

        channel_header_encode(h, 0x01020304, CHANNEL_EVENT, 0xa1b2c3d4);
        /* Little-endian length, then stream, then type: the wire format. */
        const uint8_t want[] = { 0xd4, 0xc3, 0xb2, 0xa1, 0x04, 0x03, 0x02, 0x01, 3 };
        assert_memory_equal(h, want, sizeof(want));
        channel_header_decode(h, &stream, &type, &length);
        assert_int_equal(stream, 0x01020304);
        assert_int_equal(type, CHANNEL_EVENT);
        assert_int_equal(length, 0xa1b2c3d4);
}

static void test_decoder_byte_at_a_time(void **state)
{
        static const char req[] = "{\"id\":1,\"method\":\"hello\"}";
        static const char out[] = "hello, world\n";
        uint8_t buf[256], credit[4];
        size_t len = 0;
        struct channel_decoder *d = channel_decoder_new();
        struct rv_error *err = NULL;
        struct channel_frame f;
        int frames = 0;

        channel_put_u32le(credit, 4096);
        len += frame_put(buf + len, 0, CHANNEL_REQUEST, req, sizeof(req) - 1);
        len += frame_put(buf + len, 3, CHANNEL_DATA, out, sizeof(out) - 1);
        len += frame_put(buf + len, 1, CHANNEL_CREDIT, credit, 4);
        len += frame_put(buf + len, 3, CHANNEL_EOF, NULL, 0);
        len += frame_put(buf + len, 0, CHANNEL_EVENT, "{}", 2);

        assert_non_null(d);
        for (size_t i = 0; i < len; i++) {
                assert_int_equal(channel_decoder_feed(d, buf + i, 1, &err), 0);
                while (channel_decoder_next(d, &f, &err) == 1) {
                        switch (frames++) {
                        case 0:
                                assert_int_equal(f.type, CHANNEL_REQUEST);
                                assert_int_equal(f.stream, 0);
                                assert_int_equal(f.length, sizeof(req) - 1);
                                assert_memory_equal(f.payload, req, f.length);
                                break;
                        case 1:
                                assert_int_equal(f.type, CHANNEL_DATA);
                                assert_int_equal(f.stream, 3);
                                assert_memory_equal(f.payload, out, sizeof(out) - 1);
                                break;
                        case 2:
                                assert_int_equal(f.type, CHANNEL_CREDIT);
                                assert_int_equal(channel_get_u32le(f.payload), 4096);
                                break;
                        case 3:
                                assert_int_equal(f.type, CHANNEL_EOF);
                                assert_int_equal(f.length, 0);
                                break;
                        case 4:
                                assert_int_equal(f.type, CHANNEL_EVENT);
                                assert_memory_equal(f.payload, "{}", 2);
                                break;
                        }
                        /* A frame is complete only once its last byte is in. */
                        assert_true(i == len - 1 || frames < 5);
                }
                assert_null(err);
        }
        assert_int_equal(frames, 5);
        assert_int_equal(channel_decoder_buffered(d), 0);
        channel_decoder_free(d);
}

struct bad_frame {
        const char *what;
        uint32_t stream;
        uint8_t type;
        uint32_t length;
        int payload_credit;     /* >= 0: a 4-byte credit payload follows */
};

static const struct bad_frame bad_frames[] = {
        { "type 0", 0, 0, 2, -1 },
        { "type 7", 1, 7, 0, -1 },
        { "type 255", 0, 255, 2, -1 },
        { "stream at the limit", CHANNEL_MAX_STREAMS, CHANNEL_DATA, 1, -1 },
        { "stream huge", UINT32_MAX, CHANNEL_EOF, 0, -1 },
        { "data on control", 0, CHANNEL_DATA, 1, -1 },
        { "credit on control", 0, CHANNEL_CREDIT, 4, 1 },
        { "eof on control", 0, CHANNEL_EOF, 0, -1 },
        { "request on data stream", 1, CHANNEL_REQUEST, 2, -1 },
        { "response on data stream", 2, CHANNEL_RESPONSE, 2, -1 },
        { "event on data stream", 3, CHANNEL_EVENT, 2, -1 },
        { "empty control", 0, CHANNEL_REQUEST, 0, -1 },
        { "control over the limit", 0, CHANNEL_RESPONSE, CHANNEL_MAX_CONTROL_PAYLOAD + 1, -1 },
        { "control length huge", 0, CHANNEL_EVENT, UINT32_MAX, -1 },
        { "empty data", 1, CHANNEL_DATA, 0, -1 },
        { "data over the limit", 1, CHANNEL_DATA, CHANNEL_MAX_DATA_PAYLOAD + 1, -1 },
        { "credit of 3 bytes", 1, CHANNEL_CREDIT, 3, -1 },
        { "credit of 5 bytes", 1, CHANNEL_CREDIT, 5, -1 },
        { "credit of 0 bytes", 1, CHANNEL_CREDIT, 0, -1 },
        { "credit value 0", 1, CHANNEL_CREDIT, 4, 0 },
        { "eof with payload", 1, CHANNEL_EOF, 1, -1 },
};

static void test_decoder_malformed(void **state)
{
        for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
                const struct bad_frame *b = &bad_frames[i];
                struct channel_decoder *d = channel_decoder_new();
                struct rv_error *err = NULL;
                struct channel_frame f;
                uint8_t h[CHANNEL_HEADER_SIZE + 4];
                size_t n = CHANNEL_HEADER_SIZE;

                print_message("  %s\n", b->what);
                channel_header_encode(h, b->stream, b->type, b->length);
                if (b->payload_credit >= 0) {
                        channel_put_u32le(h + n, (uint32_t) b->payload_credit);
                        n += 4;
                }
                /* The header alone must be enough to refuse a bad length: we
                 * never wait for (or buffer) the payload of a bad frame. */
                assert_int_equal(channel_decoder_feed(d, h, n, &err), 0);
                expect_errno(channel_decoder_next(d, &f, &err), &err, EPROTO);
                /* And the decoder stays failed. */
                expect_errno(channel_decoder_next(d, &f, &err), &err, EPROTO);
                expect_errno(channel_decoder_feed(d, "x", 1, &err), &err, EPROTO);
                channel_decoder_free(d);
        }
}

static void test_decoder_max_frames(void **state)
{
        struct channel_decoder *d = channel_decoder_new();
        struct rv_error *err = NULL;
        struct channel_frame f;
        uint8_t h[CHANNEL_HEADER_SIZE];
        uint8_t *payload = calloc(1, CHANNEL_MAX_CONTROL_PAYLOAD);

        assert_non_null(payload);
        payload[CHANNEL_MAX_CONTROL_PAYLOAD - 1] = '}';
        channel_header_encode(h, 0, CHANNEL_REQUEST, CHANNEL_MAX_CONTROL_PAYLOAD);
        assert_int_equal(channel_decoder_feed(d, h, sizeof(h), &err), 0);
        for (size_t off = 0; off < CHANNEL_MAX_CONTROL_PAYLOAD; off += CHANNEL_READ_CHUNK) {
                assert_int_equal(channel_decoder_next(d, &f, &err), 0);
                assert_int_equal(channel_decoder_feed(d, payload + off, CHANNEL_READ_CHUNK, &err), 0);
        }
        assert_int_equal(channel_decoder_next(d, &f, &err), 1);
        assert_int_equal(f.length, CHANNEL_MAX_CONTROL_PAYLOAD);
        assert_int_equal(f.payload[f.length - 1], '}');

        channel_header_encode(h, 7, CHANNEL_DATA, CHANNEL_MAX_DATA_PAYLOAD);
        assert_int_equal(channel_decoder_feed(d, h, sizeof(h), &err), 0);
        assert_int_equal(channel_decoder_feed(d, payload, CHANNEL_MAX_DATA_PAYLOAD, &err), 0);
        assert_int_equal(channel_decoder_next(d, &f, &err), 1);
        assert_int_equal(f.stream, 7);
        assert_int_equal(f.length, CHANNEL_MAX_DATA_PAYLOAD);
        assert_int_equal(channel_decoder_next(d, &f, &err), 0);
        assert_null(err);
        free(payload);
        channel_decoder_free(d);
}

/* A caller that feeds without draining cannot make the decoder grow past
 * its bound. */
static void test_decoder_bounded(void **state)
{
        struct channel_decoder *d = channel_decoder_new();
        struct rv_error *err = NULL;
        size_t fed = 0;
        uint8_t *chunk = calloc(1, CHANNEL_READ_CHUNK);
        uint8_t eof[CHANNEL_HEADER_SIZE];
        int r;

        assert_non_null(chunk);
        channel_header_encode(eof, 1, CHANNEL_EOF, 0);
        for (size_t i = 0; i + CHANNEL_HEADER_SIZE <= CHANNEL_READ_CHUNK; i += CHANNEL_HEADER_SIZE)
                memcpy(chunk + i, eof, sizeof(eof));
        while ((r = channel_decoder_feed(d, chunk, CHANNEL_READ_CHUNK, &err)) == 0)
                fed += CHANNEL_READ_CHUNK;
        expect_errno(r, &err, ENOBUFS);
        assert_true(fed <= CHANNEL_DECODER_MAX_BUFFERED);
        assert_true(fed + CHANNEL_READ_CHUNK > CHANNEL_DECODER_MAX_BUFFERED);
        free(chunk);
        channel_decoder_free(d);
}

/* --- endpoint ------------------------------------------------------------ */

static void test_stream_open_close(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;

        pair_new(&p);
        expect_errno(channel_stream_open(p.a, 0, &err), &err, EINVAL);
        expect_errno(channel_stream_open(p.a, CHANNEL_MAX_STREAMS, &err), &err, EINVAL);
        assert_int_equal(channel_stream_open(p.a, CHANNEL_MAX_STREAMS - 1, &err), 0);
        assert_int_equal(channel_stream_open(p.a, 1, &err), 0);
        expect_errno(channel_stream_open(p.a, 1, &err), &err, EEXIST);
        assert_true(channel_stream_is_open(p.a, 1));
        assert_false(channel_stream_is_open(p.a, 2));
        assert_false(channel_stream_is_open(p.a, 0));
        assert_int_equal(channel_stream_send_credit(p.a, 1), CHANNEL_INITIAL_CREDIT);
        assert_int_equal(channel_stream_recv_credit(p.a, 1), CHANNEL_INITIAL_CREDIT);
        assert_int_equal(channel_stream_send_credit(p.a, 2), 0);

        assert_int_equal(channel_send_data(p.a, 1, "abc", 3, &err), 0);
        assert_int_equal(channel_stream_send_credit(p.a, 1), CHANNEL_INITIAL_CREDIT - 3);
        channel_stream_close(p.a, 1);
        channel_stream_close(p.a, 1);   /* idempotent */
        channel_stream_close(p.a, 99);  /* never opened: nothing to do */
        assert_false(channel_stream_is_open(p.a, 1));
        assert_int_equal(channel_stream_send_credit(p.a, 1), 0);
        expect_errno(channel_send_data(p.a, 1, "abc", 3, &err), &err, EPROTO);
        expect_errno(channel_send_eof(p.a, 1, &err), &err, EPROTO);
        expect_errno(channel_send_credit(p.a, 1, 10, &err), &err, EPROTO);
        expect_errno(channel_send_data(p.a, 0, "abc", 3, &err), &err, EPROTO);

        /* A reopened id starts with fresh credit. */
        assert_int_equal(channel_stream_open(p.a, 1, &err), 0);
        assert_int_equal(channel_stream_send_credit(p.a, 1), CHANNEL_INITIAL_CREDIT);
        pair_free(&p);
}

static void test_send_control_checks(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        char *big = malloc(CHANNEL_MAX_CONTROL_PAYLOAD + 1);

        assert_non_null(big);
        memset(big, ' ', CHANNEL_MAX_CONTROL_PAYLOAD + 1);
        pair_new(&p);
        expect_errno(channel_send_control(p.a, CHANNEL_DATA, "{}", 2, &err), &err, EINVAL);
        expect_errno(channel_send_control(p.a, CHANNEL_REQUEST, "", 0, &err), &err, EMSGSIZE);
        expect_errno(channel_send_control(p.a, CHANNEL_REQUEST, big, CHANNEL_MAX_CONTROL_PAYLOAD + 1,
                                          &err), &err, EMSGSIZE);
        assert_false(channel_want_write(p.a));
        assert_int_equal(channel_pending_bytes(p.a), 0);
        assert_int_equal(channel_send_control(p.a, CHANNEL_RESPONSE, "{}", 2, &err), 0);
        assert_int_equal(channel_pending_bytes(p.a), CHANNEL_HEADER_SIZE + 2);
        assert_true(channel_want_write(p.a));
        free(big);
        pair_free(&p);
}

static void test_data_roundtrip(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        struct channel_frame f;
        static const char msg[] = "some stdout bytes";

        pair_new(&p);
        assert_int_equal(channel_stream_open(p.a, 1, &err), 0);
        assert_int_equal(channel_stream_open(p.b, 1, &err), 0);
        assert_int_equal(channel_send_data(p.a, 1, msg, sizeof(msg), &err), 0);
        assert_int_equal(channel_send_data(p.a, 1, "", 0, &err), 0);   /* nothing queued */
        assert_int_equal(channel_pending_bytes(p.a), CHANNEL_HEADER_SIZE + sizeof(msg));
        pump(p.a, p.b);

        assert_int_equal(next(p.b, &f), 1);
        assert_int_equal(f.stream, 1);
        assert_int_equal(f.type, CHANNEL_DATA);
        assert_int_equal(f.length, sizeof(msg));
        assert_memory_equal(f.payload, msg, sizeof(msg));
        assert_int_equal(next(p.b, &f), 0);
        assert_int_equal(channel_stream_recv_credit(p.b, 1), CHANNEL_INITIAL_CREDIT - sizeof(msg));
        assert_int_equal(channel_stream_send_credit(p.a, 1), CHANNEL_INITIAL_CREDIT - sizeof(msg));

        /* The reader passes the bytes on and gives the credit back. */
        assert_int_equal(channel_send_credit(p.b, 1, sizeof(msg), &err), 0);
        assert_int_equal(channel_stream_recv_credit(p.b, 1), CHANNEL_INITIAL_CREDIT);
        pump(p.b, p.a);
        assert_int_equal(next(p.a, &f), 0);     /* CREDIT is swallowed */
        assert_int_equal(channel_stream_send_credit(p.a, 1), CHANNEL_INITIAL_CREDIT);
        pair_free(&p);
}

/* Reading straight into the queue: the frame is what channel_send_data
 * would have queued, cut to the credit and the frame size; a commit is
 * checked against its reservation. */
static void test_data_reserve_commit(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        struct channel_frame f;
        size_t len;
        uint8_t *buf;

        pair_new(&p);
        len = 8;
        assert_null(channel_data_reserve(p.a, 1, &len, &err));         /* not open */
        assert_int_equal(err->status, EPROTO);
        rv_error_release(&err);
        assert_int_equal(channel_stream_open(p.a, 1, &err), 0);
        assert_int_equal(channel_stream_open(p.b, 1, &err), 0);

        len = 3 * CHANNEL_MAX_DATA_PAYLOAD;
        buf = channel_data_reserve(p.a, 1, &len, &err);
        assert_non_null(buf);
        assert_int_equal(len, CHANNEL_MAX_DATA_PAYLOAD);
        memcpy(buf, "hello", 5);
        expect_errno(channel_data_commit(p.a, 1, len + 1, &err), &err, EPROTO);
        /* A failed commit dropped the reservation: reserve again. */
        buf = channel_data_reserve(p.a, 1, &len, &err);
        assert_non_null(buf);
        memcpy(buf, "hello", 5);
        expect_errno(channel_data_commit(p.a, 2, 5, &err), &err, EPROTO);   /* another stream */
        buf = channel_data_reserve(p.a, 1, &len, &err);
        memcpy(buf, "hello", 5);
        assert_int_equal(channel_data_commit(p.a, 1, 5, &err), 0);
        assert_int_equal(channel_pending_bytes(p.a), CHANNEL_HEADER_SIZE + 5);
        assert_int_equal(channel_stream_send_credit(p.a, 1), CHANNEL_INITIAL_CREDIT - 5);
        /* Another call in between voids the room (it may have moved). */
        assert_non_null(channel_data_reserve(p.a, 1, &len, &err));
        assert_int_equal(channel_send_credit(p.a, 1, 1, &err), 0);
        expect_errno(channel_data_commit(p.a, 1, 1, &err), &err, EPROTO);
        assert_int_equal(channel_pending_bytes(p.a), 2 * CHANNEL_HEADER_SIZE + 5 + 4);
        /* Nothing used, nothing queued. */
        assert_non_null(channel_data_reserve(p.a, 1, &len, &err));
        assert_int_equal(channel_data_commit(p.a, 1, 0, &err), 0);
        assert_int_equal(channel_pending_bytes(p.a), 2 * CHANNEL_HEADER_SIZE + 5 + 4);
        pump(p.a, p.b);
        assert_int_equal(next(p.b, &f), 1);
        assert_int_equal(f.type, CHANNEL_DATA);
        assert_int_equal(f.length, 5);
        assert_memory_equal(f.payload, "hello", 5);

        /* Cut to the credit; none left refuses. */
        uint32_t left = channel_stream_send_credit(p.a, 1);
        while (left > 0) {
                len = SIZE_MAX;
                assert_non_null(channel_data_reserve(p.a, 1, &len, &err));
                assert_int_equal(len, left < CHANNEL_MAX_DATA_PAYLOAD ? left : CHANNEL_MAX_DATA_PAYLOAD);
                assert_int_equal(channel_data_commit(p.a, 1, len, &err), 0);
                left = channel_stream_send_credit(p.a, 1);
        }
        len = 1;
        assert_null(channel_data_reserve(p.a, 1, &len, &err));
        assert_int_equal(err->status, EPROTO);
        rv_error_release(&err);
        /* After EOF, no more. */
        assert_int_equal(channel_stream_open(p.a, 2, &err), 0);
        assert_int_equal(channel_send_eof(p.a, 2, &err), 0);
        len = 1;
        assert_null(channel_data_reserve(p.a, 2, &len, &err));
        assert_int_equal(err->status, EPROTO);
        rv_error_release(&err);
        pair_free(&p);
}

static void test_send_beyond_credit(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        uint8_t *buf = calloc(1, CHANNEL_INITIAL_CREDIT + 1);
        size_t got = 0;
        struct channel_frame f;

        assert_non_null(buf);
        pair_new(&p);
        assert_int_equal(channel_stream_open(p.a, 2, &err), 0);
        assert_int_equal(channel_stream_open(p.b, 2, &err), 0);
        expect_errno(channel_send_data(p.a, 2, buf, CHANNEL_INITIAL_CREDIT + 1, &err), &err, EPROTO);
        assert_false(channel_want_write(p.a));  /* a refused send queues nothing */
        assert_int_equal(channel_stream_send_credit(p.a, 2), CHANNEL_INITIAL_CREDIT);

        /* Exactly the credit goes, split into frames of the maximum size. */
        assert_int_equal(channel_send_data(p.a, 2, buf, CHANNEL_INITIAL_CREDIT, &err), 0);
        assert_int_equal(channel_stream_send_credit(p.a, 2), 0);
        assert_int_equal(channel_pending_bytes(p.a),
                         CHANNEL_INITIAL_CREDIT +
                                 CHANNEL_INITIAL_CREDIT / CHANNEL_MAX_DATA_PAYLOAD * CHANNEL_HEADER_SIZE);
        expect_errno(channel_send_data(p.a, 2, buf, 1, &err), &err, EPROTO);

        while (got < CHANNEL_INITIAL_CREDIT) {
                int r;

                flush_ok(p.a);
                receive_ok(p.b);
                while ((r = next(p.b, &f)) == 1) {
                        assert_int_equal(f.type, CHANNEL_DATA);
                        assert_true(f.length <= CHANNEL_MAX_DATA_PAYLOAD);
                        got += f.length;
                }
                assert_int_equal(r, 0);
        }
        assert_int_equal(got, CHANNEL_INITIAL_CREDIT);
        assert_int_equal(channel_stream_recv_credit(p.b, 2), 0);

        /* The receiver grants credit: the sender is unblocked by exactly that. */
        assert_int_equal(channel_send_credit(p.b, 2, 1000, &err), 0);
        pump(p.b, p.a);
        assert_int_equal(next(p.a, &f), 0);
        assert_int_equal(channel_stream_send_credit(p.a, 2), 1000);
        expect_errno(channel_send_data(p.a, 2, buf, 1001, &err), &err, EPROTO);
        assert_int_equal(channel_send_data(p.a, 2, buf, 1000, &err), 0);
        pump(p.a, p.b);
        expect_frame(p.b, 2, CHANNEL_DATA, 1000);
        free(buf);
        pair_free(&p);
}

/* The reason for credits: the guest's stdout reader on the host stalls
 * (the caller stopped reading), yet `kill` (a control request) reaches the
 * guest, the exit event reaches the host, and another stream keeps flowing. */
static void test_stalled_stream_does_not_block(void **state)
{
        struct pair p;  /* a: guest agent, b: host monitor */
        struct rv_error *err = NULL;
        struct channel_frame f;
        uint8_t *buf = calloc(1, CHANNEL_INITIAL_CREDIT);
        size_t stdout_bytes = 0;
        int stderr_frames = 0, events = 0, requests = 0, r;

        assert_non_null(buf);
        pair_new(&p);
        for (uint32_t s = 1; s <= 2; s++) {
                assert_int_equal(channel_stream_open(p.a, s, &err), 0);
                assert_int_equal(channel_stream_open(p.b, s, &err), 0);
        }
        /* The container floods stdout: everything its credit allows. */
        assert_int_equal(channel_send_data(p.a, 1, buf, CHANNEL_INITIAL_CREDIT, &err), 0);
        assert_int_equal(channel_stream_send_credit(p.a, 1), 0);
        /* It is blocked on stdout, but stderr and events still go. */
        assert_int_equal(channel_send_data(p.a, 2, "warning\n", 8, &err), 0);
        assert_int_equal(channel_send_control(p.a, CHANNEL_EVENT, "{\"event\":\"oom\"}", 15, &err), 0);

        /* The host reads everything off the wire but never grants stdout
         * credit (its own consumer is stuck), and it sends a kill. */
        assert_int_equal(channel_send_control(p.b, CHANNEL_REQUEST,
                                              "{\"id\":7,\"method\":\"signal_process\"}", 34, &err), 0);
        while (channel_want_write(p.a) || channel_want_write(p.b)) {
                flush_ok(p.a);
                flush_ok(p.b);
                receive_ok(p.a);
                receive_ok(p.b);
                while ((r = next(p.b, &f)) == 1) {
                        if (f.stream == 1)
                                stdout_bytes += f.length;
                        else if (f.stream == 2)
                                stderr_frames++;
                        else if (f.type == CHANNEL_EVENT)
                                events++;
                }
                assert_int_equal(r, 0);
                while ((r = next(p.a, &f)) == 1)
                        if (f.type == CHANNEL_REQUEST)
                                requests++;
                assert_int_equal(r, 0);
        }
        assert_int_equal(stdout_bytes, CHANNEL_INITIAL_CREDIT);
        assert_int_equal(stderr_frames, 1);
        assert_int_equal(events, 1);
        assert_int_equal(requests, 1);

        /* The guest answers and reports the exit while stdout is still
         * stalled: nothing waits on the stdout reader. */
        assert_int_equal(channel_stream_send_credit(p.a, 1), 0);
        assert_int_equal(channel_send_control(p.a, CHANNEL_RESPONSE, "{\"id\":7}", 8, &err), 0);
        assert_int_equal(channel_send_eof(p.a, 2, &err), 0);
        pump(p.a, p.b);
        expect_frame(p.b, 0, CHANNEL_RESPONSE, 8);
        expect_frame(p.b, 2, CHANNEL_EOF, 0);
        assert_int_equal(next(p.b, &f), 0);
        free(buf);
        pair_free(&p);
}

static void test_peer_data_beyond_credit(void **state)
{
        int raw;
        struct channel *ch = raw_pair(&raw);
        struct rv_error *err = NULL;
        struct channel_frame f;
        uint8_t *buf = calloc(1, CHANNEL_MAX_DATA_PAYLOAD);

        assert_non_null(buf);
        assert_int_equal(channel_stream_open(ch, 1, &err), 0);
        /* Use up the granted credit exactly: fine. */
        for (uint32_t sent = 0; sent < CHANNEL_INITIAL_CREDIT; sent += CHANNEL_MAX_DATA_PAYLOAD) {
                raw_write(raw, 1, CHANNEL_DATA, buf, CHANNEL_MAX_DATA_PAYLOAD);
                receive_ok(ch);
                expect_frame(ch, 1, CHANNEL_DATA, CHANNEL_MAX_DATA_PAYLOAD);
        }
        assert_int_equal(channel_stream_recv_credit(ch, 1), 0);
        /* One byte more than granted. */
        raw_write(raw, 1, CHANNEL_DATA, buf, 1);
        receive_ok(ch);
        assert_int_equal(next(ch, &f), -1);
        /* The channel stays failed even for a well-formed control frame. */
        raw_write(raw, 0, CHANNEL_EVENT, "{}", 2);
        receive_ok(ch);
        assert_int_equal(next(ch, &f), -1);
        free(buf);
        close(raw);
        channel_free(ch);
}

static void test_peer_data_beyond_credit_after_grant(void **state)
{
        int raw;
        struct channel *ch = raw_pair(&raw);
        struct rv_error *err = NULL;
        struct channel_frame f;
        uint8_t *buf = calloc(1, CHANNEL_MAX_DATA_PAYLOAD);

        assert_non_null(buf);
        assert_int_equal(channel_stream_open(ch, 1, &err), 0);
        for (uint32_t sent = 0; sent < CHANNEL_INITIAL_CREDIT; sent += CHANNEL_MAX_DATA_PAYLOAD) {
                raw_write(raw, 1, CHANNEL_DATA, buf, CHANNEL_MAX_DATA_PAYLOAD);
                receive_ok(ch);
                expect_frame(ch, 1, CHANNEL_DATA, CHANNEL_MAX_DATA_PAYLOAD);
        }
        assert_int_equal(channel_send_credit(ch, 1, 100, &err), 0);
        raw_write(raw, 1, CHANNEL_DATA, buf, 100);
        receive_ok(ch);
        expect_frame(ch, 1, CHANNEL_DATA, 100);
        raw_write(raw, 1, CHANNEL_DATA, buf, 1);
        receive_ok(ch);
        assert_int_equal(next(ch, &f), -1);
        free(buf);
        close(raw);
        channel_free(ch);
}

static void test_eof(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        struct channel_frame f;

        pair_new(&p);
        assert_int_equal(channel_stream_open(p.a, 4, &err), 0);
        assert_int_equal(channel_stream_open(p.b, 4, &err), 0);
        assert_int_equal(channel_send_data(p.a, 4, "bye", 3, &err), 0);
        assert_int_equal(channel_send_eof(p.a, 4, &err), 0);
        expect_errno(channel_send_eof(p.a, 4, &err), &err, EPROTO);
        expect_errno(channel_send_data(p.a, 4, "x", 1, &err), &err, EPROTO);
        pump(p.a, p.b);
        expect_frame(p.b, 4, CHANNEL_DATA, 3);
        expect_frame(p.b, 4, CHANNEL_EOF, 0);
        assert_int_equal(next(p.b, &f), 0);
        /* Credit still flows back after EOF (the sender just ignores it). */
        assert_int_equal(channel_send_credit(p.b, 4, 3, &err), 0);
        pump(p.b, p.a);
        assert_int_equal(next(p.a, &f), 0);
        pair_free(&p);
}

static void test_peer_after_eof(void **state)
{
        int raw;
        struct channel *ch = raw_pair(&raw);
        struct rv_error *err = NULL;
        struct channel_frame f;

        assert_int_equal(channel_stream_open(ch, 1, &err), 0);
        assert_int_equal(channel_stream_open(ch, 2, &err), 0);
        raw_write(raw, 1, CHANNEL_EOF, NULL, 0);
        raw_write(raw, 1, CHANNEL_DATA, "late", 4);
        receive_ok(ch);
        expect_frame(ch, 1, CHANNEL_EOF, 0);
        assert_int_equal(next(ch, &f), -1);
        close(raw);
        channel_free(ch);

        ch = raw_pair(&raw);
        assert_int_equal(channel_stream_open(ch, 1, &err), 0);
        raw_write(raw, 1, CHANNEL_EOF, NULL, 0);
        raw_write(raw, 1, CHANNEL_EOF, NULL, 0);
        receive_ok(ch);
        expect_frame(ch, 1, CHANNEL_EOF, 0);
        assert_int_equal(next(ch, &f), -1);
        close(raw);
        channel_free(ch);
}

/* Frames in flight when this side closed a stream are dropped quietly; a
 * stream that was never opened is a protocol error. */
static void test_closed_stream_drops(void **state)
{
        int raw;
        struct channel *ch = raw_pair(&raw);
        struct rv_error *err = NULL;
        struct channel_frame f;
        uint8_t *buf = calloc(1, CHANNEL_MAX_DATA_PAYLOAD);

        assert_non_null(buf);
        assert_int_equal(channel_stream_open(ch, 3, &err), 0);
        channel_stream_close(ch, 3);
        /* More than the old credit, even: nobody counts for a closed stream. */
        for (int i = 0; i < 5; i++) {
                raw_write(raw, 3, CHANNEL_DATA, buf, CHANNEL_MAX_DATA_PAYLOAD);
                receive_ok(ch);
                assert_int_equal(next(ch, &f), 0);
        }
        raw_credit(raw, 3, 100);
        raw_write(raw, 3, CHANNEL_EOF, NULL, 0);
        raw_write(raw, 0, CHANNEL_EVENT, "{}", 2);
        receive_ok(ch);
        expect_frame(ch, 0, CHANNEL_EVENT, 2);
        assert_int_equal(next(ch, &f), 0);
        free(buf);
        close(raw);
        channel_free(ch);
}

static void test_never_opened_stream(void **state)
{
        static const uint8_t types[] = { CHANNEL_DATA, CHANNEL_EOF, CHANNEL_CREDIT };

        for (size_t i = 0; i < sizeof(types); i++) {
                int raw;
                struct channel *ch = raw_pair(&raw);
                struct channel_frame f;

                if (types[i] == CHANNEL_CREDIT)
                        raw_credit(raw, 5, 10);
                else
                        raw_write(raw, 5, types[i], "x", types[i] == CHANNEL_DATA ? 1 : 0);
                receive_ok(ch);
                assert_int_equal(next(ch, &f), -1);
                close(raw);
                channel_free(ch);
        }
}

static void test_credit_overflow(void **state)
{
        int raw;
        struct channel *ch = raw_pair(&raw);
        struct rv_error *err = NULL;
        struct channel_frame f;

        assert_int_equal(channel_stream_open(ch, 1, &err), 0);
        /* Our own grants: the outstanding total must fit in a u32. */
        expect_errno(channel_send_credit(ch, 1, UINT32_MAX, &err), &err, EOVERFLOW);
        assert_int_equal(channel_send_credit(ch, 1, UINT32_MAX - CHANNEL_INITIAL_CREDIT, &err), 0);
        assert_int_equal(channel_stream_recv_credit(ch, 1), UINT32_MAX);
        expect_errno(channel_send_credit(ch, 1, 1, &err), &err, EOVERFLOW);
        assert_int_equal(channel_send_credit(ch, 1, 0, &err), 0);       /* no-op */

        /* The peer's grants: up to the limit is fine, beyond is an attack. */
        raw_credit(raw, 1, UINT32_MAX - CHANNEL_INITIAL_CREDIT);
        receive_ok(ch);
        assert_int_equal(next(ch, &f), 0);
        assert_int_equal(channel_stream_send_credit(ch, 1), UINT32_MAX);
        raw_credit(raw, 1, 1);
        receive_ok(ch);
        assert_int_equal(next(ch, &f), -1);
        close(raw);
        channel_free(ch);
}

/* A full socket: flush keeps what it could not write and the bytes arrive
 * whole and in order once the reader drains. */
static void test_output_queue_survives_eagain(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        struct channel_frame f;
        int sndbuf = 4096, r;
        const size_t msg_len = 300000;
        char *msg = malloc(msg_len);
        int messages = 0, eofs = 0;
        size_t data = 0;

        assert_non_null(msg);
        pair_new(&p);
        assert_int_equal(setsockopt(channel_fd(p.a), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
        assert_int_equal(channel_stream_open(p.a, 1, &err), 0);
        assert_int_equal(channel_stream_open(p.b, 1, &err), 0);

        for (int i = 0; i < 3; i++) {
                memset(msg, 'a' + i, msg_len);
                assert_int_equal(channel_send_control(p.a, CHANNEL_EVENT, msg, msg_len, &err), 0);
                assert_int_equal(channel_send_data(p.a, 1, msg, 1000, &err), 0);
        }
        flush_ok(p.a);
        assert_true(channel_want_write(p.a));   /* the socket is full */
        assert_true(channel_pending_bytes(p.a) > 0);
        /* Queuing more while blocked appends behind what is pending. */
        assert_int_equal(channel_send_eof(p.a, 1, &err), 0);

        while (eofs == 0) {
                flush_ok(p.a);
                receive_ok(p.b);
                while ((r = next(p.b, &f)) == 1) {
                        if (f.type == CHANNEL_EVENT) {
                                assert_int_equal(f.length, msg_len);
                                for (size_t i = 0; i < msg_len; i++)
                                        assert_int_equal(f.payload[i], 'a' + messages);
                                messages++;
                        } else if (f.type == CHANNEL_DATA) {
                                assert_int_equal(f.length, 1000);
                                /* Frames are in the order they were queued. */
                                assert_int_equal(data / 1000 + 1, (size_t) messages);
                                data += f.length;
                        } else {
                                assert_int_equal(f.type, CHANNEL_EOF);
                                eofs++;
                        }
                }
                assert_int_equal(r, 0);
        }
        assert_int_equal(messages, 3);
        assert_int_equal(data, 3000);
        assert_int_equal(channel_pending_bytes(p.a), 0);
        free(msg);
        pair_free(&p);
}

static void test_hangup(void **state)
{
        struct pair p;
        struct rv_error *err = NULL;
        struct channel_frame f;

        pair_new(&p);
        assert_int_equal(channel_send_control(p.b, CHANNEL_EVENT, "{}", 2, &err), 0);
        flush_ok(p.b);
        channel_free(p.b);
        p.b = NULL;
        /* The last frame is still delivered after the hang-up is seen. */
        assert_int_equal(channel_receive(p.a, &err), 1);
        expect_frame(p.a, 0, CHANNEL_EVENT, 2);
        assert_int_equal(next(p.a, &f), 0);
        /* Writing to a gone peer is an error, not a crash (SIGPIPE is
         * ignored by the test runner below, as the monitor must). */
        assert_int_equal(channel_send_control(p.a, CHANNEL_EVENT, "{}", 2, &err), 0);
        expect_errno(channel_flush(p.a, &err), &err, EPIPE);
        pair_free(&p);
}

static void test_malformed_from_wire(void **state)
{
        int raw;
        struct channel *ch = raw_pair(&raw);
        struct channel_frame f;

        raw_write(raw, 0, CHANNEL_DATA, "x", 1);
        receive_ok(ch);
        assert_int_equal(next(ch, &f), -1);
        assert_int_equal(next(ch, &f), -1);
        close(raw);
        channel_free(ch);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_roundtrip),
                cmocka_unit_test(test_decoder_byte_at_a_time),
                cmocka_unit_test(test_decoder_malformed),
                cmocka_unit_test(test_decoder_max_frames),
                cmocka_unit_test(test_decoder_bounded),
                cmocka_unit_test(test_stream_open_close),
                cmocka_unit_test(test_send_control_checks),
                cmocka_unit_test(test_data_roundtrip),
                cmocka_unit_test(test_send_beyond_credit),
                cmocka_unit_test(test_stalled_stream_does_not_block),
                cmocka_unit_test(test_peer_data_beyond_credit),
                cmocka_unit_test(test_peer_data_beyond_credit_after_grant),
                cmocka_unit_test(test_eof),
                cmocka_unit_test(test_peer_after_eof),
                cmocka_unit_test(test_closed_stream_drops),
                cmocka_unit_test(test_never_opened_stream),
                cmocka_unit_test(test_credit_overflow),
                cmocka_unit_test(test_output_queue_survives_eagain),
                cmocka_unit_test(test_hangup),
                cmocka_unit_test(test_data_reserve_commit),
                cmocka_unit_test(test_malformed_from_wire),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
