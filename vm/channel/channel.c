/* SPDX-License-Identifier: Apache-2.0 */
/* A channel endpoint: frames over one non-blocking fd with per-stream
 * credit. The same code runs in the monitor (fd: QEMU's chardev unix
 * socket) and in the guest agent (fd: /dev/vport*p*), so the fd is driven
 * with read(2)/write(2) only: send(2)/recv(2) fail with ENOTSOCK on a
 * virtio-serial char device. A consequence: on the host a write to a
 * socket whose peer is gone raises SIGPIPE, so the monitor must ignore
 * SIGPIPE (it then sees EPIPE here). */
#include "vm/channel/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "vm/channel/channel-internal.h"

/* An idle output queue above this is given back (a big create_container
 * request must not pin its size for the life of the VM). */
#define OUTPUT_KEEP_CAPACITY (256u << 10)

enum stream_state {
        STREAM_UNUSED = 0,      /* never opened: any frame on it is a protocol error */
        STREAM_OPEN,
        STREAM_CLOSED,          /* this side forgot it: late frames are dropped */
};

struct channel_stream {
        uint8_t state;
        bool eof_sent;
        bool eof_received;
        uint32_t send_credit;   /* bytes we may still send */
        uint32_t recv_credit;   /* bytes we granted and the peer has not used yet */
};

struct channel {
        int fd;
        struct channel_decoder *decoder;
        uint8_t *out;
        size_t out_start, out_end, out_cap;
        uint32_t reserved_stream;       /* channel_data_reserve's frame, until committed */
        size_t reserved;
        uint8_t *scratch;       /* one read's worth, CHANNEL_READ_CHUNK bytes */
        bool failed;            /* channel_next saw a protocol error: sticky */
        char *failure;          /* its message (NULL if even that failed to allocate) */
        struct channel_stream streams[CHANNEL_MAX_STREAMS];
};

struct channel *channel_new(int fd)
{
        _cleanup_close_ int owned = fd;
        struct channel *ch;
        int flags;

        flags = fcntl(owned, F_GETFL);
        if (flags < 0 || fcntl(owned, F_SETFL, flags | O_NONBLOCK) < 0)
                return NULL;
        flags = fcntl(owned, F_GETFD);
        if (flags < 0 || fcntl(owned, F_SETFD, flags | FD_CLOEXEC) < 0)
                return NULL;

        ch = calloc(1, sizeof(*ch));
        if (ch == NULL)
                return NULL;
        ch->decoder = channel_decoder_new();
        ch->scratch = malloc(CHANNEL_READ_CHUNK);
        if (ch->decoder == NULL || ch->scratch == NULL) {
                ch->fd = -EBADF;
                channel_free(ch);
                errno = ENOMEM;
                return NULL;
        }
        ch->fd = TAKE_FD(owned);
        return ch;
}

void channel_free(struct channel *ch)
{
        if (ch == NULL)
                return;
        if (ch->fd >= 0)
                close(ch->fd);
        channel_decoder_free(ch->decoder);
        free(ch->out);
        free(ch->scratch);
        free(ch->failure);
        free(ch);
}

int channel_fd(const struct channel *ch)
{
        return ch->fd;
}

/* --- streams ----------------------------------------------------------- */

static struct channel_stream *stream_get(struct channel *ch, uint32_t stream)
{
        if (stream == CHANNEL_STREAM_CONTROL || stream >= CHANNEL_MAX_STREAMS)
                return NULL;
        return &ch->streams[stream];
}

static const struct channel_stream *stream_get_const(const struct channel *ch, uint32_t stream)
{
        if (stream == CHANNEL_STREAM_CONTROL || stream >= CHANNEL_MAX_STREAMS)
                return NULL;
        return &ch->streams[stream];
}

static struct channel_stream *stream_get_open(struct channel *ch, uint32_t stream,
                                              const char *what, struct rv_error **err)
{
        struct channel_stream *s = stream_get(ch, stream);

        if (s == NULL || s->state != STREAM_OPEN) {
                rv_error_set(err, EPROTO, "channel: %s on stream %u: stream not open", what,
                             stream);
                return NULL;
        }
        return s;
}

int channel_stream_open(struct channel *ch, uint32_t stream, struct rv_error **err)
{
        struct channel_stream *s = stream_get(ch, stream);

        if (s == NULL)
                return rv_error_set(err, EINVAL, "channel: stream id %u out of range (1 to %u)",
                                    stream, CHANNEL_MAX_STREAMS - 1);
        if (s->state == STREAM_OPEN)
                return rv_error_set(err, EEXIST, "channel: stream %u already open", stream);
        /* Reopening a closed id starts afresh: the protocol only reuses an id
         * once both sides are done with it (docs/PROTOCOL.md). */
        *s = (struct channel_stream) {
                .state = STREAM_OPEN,
                .send_credit = CHANNEL_INITIAL_CREDIT,
                .recv_credit = CHANNEL_INITIAL_CREDIT,
        };
        return 0;
}

void channel_stream_close(struct channel *ch, uint32_t stream)
{
        struct channel_stream *s = stream_get(ch, stream);

        if (s == NULL || s->state != STREAM_OPEN)
                return;
        *s = (struct channel_stream) { .state = STREAM_CLOSED };
}

bool channel_stream_is_open(const struct channel *ch, uint32_t stream)
{
        const struct channel_stream *s = stream_get_const(ch, stream);

        return s != NULL && s->state == STREAM_OPEN;
}

uint32_t channel_stream_send_credit(const struct channel *ch, uint32_t stream)
{
        const struct channel_stream *s = stream_get_const(ch, stream);

        return s != NULL && s->state == STREAM_OPEN ? s->send_credit : 0;
}

uint32_t channel_stream_recv_credit(const struct channel *ch, uint32_t stream)
{
        const struct channel_stream *s = stream_get_const(ch, stream);

        return s != NULL && s->state == STREAM_OPEN ? s->recv_credit : 0;
}

/* --- the output queue ---------------------------------------------------- */

/* Makes room for `more` bytes at out_end. Reserving before encoding keeps
 * a multi-frame send all-or-nothing. */
static int output_reserve(struct channel *ch, size_t more, struct rv_error **err)
{
        size_t have = ch->out_end - ch->out_start;
        size_t cap;
        uint8_t *out;

        /* The queue may move: a channel_data_reserve room is void now. */
        ch->reserved = 0;

        if (more <= ch->out_cap - ch->out_end)
                return 0;
        if (ch->out_start > 0) {
                memmove(ch->out, ch->out + ch->out_start, have);
                ch->out_start = 0;
                ch->out_end = have;
                if (more <= ch->out_cap - ch->out_end)
                        return 0;
        }
        if (more > SIZE_MAX / 2 - have)
                return rv_error_set(err, ENOMEM, "channel: output queue");
        cap = ch->out_cap > 0 ? ch->out_cap : 4096;
        while (cap < have + more)
                cap *= 2;
        out = realloc(ch->out, cap);
        if (out == NULL)
                return rv_error_set(err, ENOMEM, "channel: output queue");
        ch->out = out;
        ch->out_cap = cap;
        return 0;
}

/* Appends one frame; room must have been reserved. */
static void output_frame(struct channel *ch, uint32_t stream, uint8_t type, const void *payload,
                         uint32_t length)
{
        channel_header_encode(ch->out + ch->out_end, stream, type, length);
        ch->out_end += CHANNEL_HEADER_SIZE;
        if (length > 0)
                memcpy(ch->out + ch->out_end, payload, length);
        ch->out_end += length;
}

int channel_send_data(struct channel *ch, uint32_t stream, const void *data, size_t len,
                      struct rv_error **err)
{
        struct channel_stream *s = stream_get_open(ch, stream, "send data", err);
        const uint8_t *p = data;
        size_t frames;

        if (s == NULL)
                return -1;
        if (s->eof_sent)
                return rv_error_set(err, EPROTO, "channel: send data on stream %u after eof",
                                    stream);
        if (len > s->send_credit)
                return rv_error_set(err, EPROTO,
                                    "channel: send %zu bytes on stream %u: only %u bytes of credit",
                                    len, stream, s->send_credit);
        if (len == 0)
                return 0;       /* an empty DATA frame is malformed on the wire */

        frames = (len + CHANNEL_MAX_DATA_PAYLOAD - 1) / CHANNEL_MAX_DATA_PAYLOAD;
        if (output_reserve(ch, len + frames * CHANNEL_HEADER_SIZE, err) < 0)
                return -1;
        s->send_credit -= (uint32_t) len;
        while (len > 0) {
                uint32_t n = len > CHANNEL_MAX_DATA_PAYLOAD ? CHANNEL_MAX_DATA_PAYLOAD
                                                            : (uint32_t) len;
                output_frame(ch, stream, CHANNEL_DATA, p, n);
                p += n;
                len -= n;
        }
        return 0;
}

uint8_t *channel_data_reserve(struct channel *ch, uint32_t stream, size_t *len, struct rv_error **err)
{
        struct channel_stream *s = stream_get_open(ch, stream, "send data", err);
        size_t n = *len;

        ch->reserved = 0;
        if (s == NULL)
                return NULL;
        if (s->eof_sent) {
                rv_error_set(err, EPROTO, "channel: send data on stream %u after eof", stream);
                return NULL;
        }
        if (n > s->send_credit)
                n = s->send_credit;
        if (n > CHANNEL_MAX_DATA_PAYLOAD)
                n = CHANNEL_MAX_DATA_PAYLOAD;
        if (n == 0) {
                rv_error_set(err, EPROTO, "channel: send data on stream %u: no credit or no room asked",
                             stream);
                return NULL;
        }
        if (output_reserve(ch, CHANNEL_HEADER_SIZE + n, err) < 0)
                return NULL;
        ch->reserved_stream = stream;
        ch->reserved = n;
        *len = n;
        return ch->out + ch->out_end + CHANNEL_HEADER_SIZE;
}

int channel_data_commit(struct channel *ch, uint32_t stream, size_t used, struct rv_error **err)
{
        size_t room = ch->reserved;
        struct channel_stream *s;

        ch->reserved = 0;
        if (used == 0)
                return 0;
        if (stream != ch->reserved_stream || used > room)
                return rv_error_setx(err, EPROTO, "channel: commit of %zu bytes on stream %u: %zu reserved on stream %u",
                                     used, stream, room, ch->reserved_stream);
        s = &ch->streams[stream];       /* checked open when reserved */
        channel_header_encode(ch->out + ch->out_end, stream, CHANNEL_DATA, (uint32_t) used);
        ch->out_end += CHANNEL_HEADER_SIZE + used;
        s->send_credit -= (uint32_t) used;
        return 0;
}

int channel_send_eof(struct channel *ch, uint32_t stream, struct rv_error **err)
{
        struct channel_stream *s = stream_get_open(ch, stream, "send eof", err);

        if (s == NULL)
                return -1;
        if (s->eof_sent)
                return rv_error_set(err, EPROTO, "channel: eof on stream %u sent twice", stream);
        if (output_reserve(ch, CHANNEL_HEADER_SIZE, err) < 0)
                return -1;
        s->eof_sent = true;
        output_frame(ch, stream, CHANNEL_EOF, NULL, 0);
        return 0;
}

int channel_send_credit(struct channel *ch, uint32_t stream, uint32_t bytes,
                        struct rv_error **err)
{
        struct channel_stream *s = stream_get_open(ch, stream, "send credit", err);
        uint8_t payload[4];

        if (s == NULL)
                return -1;
        if (bytes == 0)
                return 0;       /* a zero CREDIT frame is malformed on the wire */
        /* The peer adds this to its u32 send credit: the total outstanding
         * must fit, or an honest peer would see an overflow. */
        if (bytes > UINT32_MAX - s->recv_credit)
                return rv_error_set(err, EOVERFLOW,
                                    "channel: credit on stream %u: %u granted and unused, %u more overflows",
                                    stream, s->recv_credit, bytes);
        if (output_reserve(ch, CHANNEL_HEADER_SIZE + sizeof(payload), err) < 0)
                return -1;
        s->recv_credit += bytes;
        channel_put_u32le(payload, bytes);
        output_frame(ch, stream, CHANNEL_CREDIT, payload, sizeof(payload));
        return 0;
}

int channel_send_control(struct channel *ch, enum channel_frame_type type, const char *json,
                         size_t len, struct rv_error **err)
{
        if (type != CHANNEL_REQUEST && type != CHANNEL_RESPONSE && type != CHANNEL_EVENT)
                return rv_error_set(err, EINVAL, "channel: frame type %d is not a control type",
                                    (int) type);
        if (len == 0 || len > CHANNEL_MAX_CONTROL_PAYLOAD)
                return rv_error_set(err, EMSGSIZE,
                                    "channel: control message of %zu bytes (1 to %u allowed)", len,
                                    CHANNEL_MAX_CONTROL_PAYLOAD);
        if (output_reserve(ch, CHANNEL_HEADER_SIZE + len, err) < 0)
                return -1;
        output_frame(ch, CHANNEL_STREAM_CONTROL, (uint8_t) type, json, (uint32_t) len);
        return 0;
}

int channel_flush(struct channel *ch, struct rv_error **err)
{
        ch->reserved = 0;       /* as in output_reserve */
        while (ch->out_start < ch->out_end) {
                ssize_t n = write(ch->fd, ch->out + ch->out_start, ch->out_end - ch->out_start);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        return rv_error_set(err, errno, "channel: write");
                }
                ch->out_start += (size_t) n;
        }
        ch->out_start = ch->out_end = 0;
        if (ch->out_cap > OUTPUT_KEEP_CAPACITY) {
                free(ch->out);
                ch->out = NULL;
                ch->out_cap = 0;
        }
        return 0;
}

bool channel_want_write(const struct channel *ch)
{
        return ch->out_end > ch->out_start;
}

size_t channel_pending_bytes(const struct channel *ch)
{
        return ch->out_end - ch->out_start;
}

/* --- receiving ----------------------------------------------------------- */

int channel_feed(struct channel *ch, const void *data, size_t len, struct rv_error **err)
{
        return channel_decoder_feed(ch->decoder, data, len, err);
}

/* Reads until EAGAIN, EOF, or the decoder holds a whole maximum-size frame
 * (plus change). Stopping early bounds memory against a peer that writes
 * faster than our caller drains channel_next(); it means the fd must be
 * watched level-triggered (EPOLLIN fires again while bytes wait). */
int channel_receive(struct channel *ch, struct rv_error **err)
{
        for (;;) {
                size_t room = CHANNEL_DECODER_MAX_BUFFERED - channel_decoder_buffered(ch->decoder);
                ssize_t n;

                if (room < CHANNEL_READ_CHUNK)
                        return 0;
                n = read(ch->fd, ch->scratch, CHANNEL_READ_CHUNK);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        /* The peer vanished mid-stream: a hang-up, not our error. */
                        if (errno == ECONNRESET)
                                return 1;
                        return rv_error_set(err, errno, "channel: read");
                }
                /* A socket peer closed. On a virtio-serial port a read of 0
                 * also means "no host connected (yet)": the agent polls again
                 * rather than giving up. */
                if (n == 0)
                        return 1;
                if (channel_feed(ch, ch->scratch, (size_t) n, err) < 0)
                        return -1;
        }
}

__attribute__((format(printf, 3, 4)))
static int channel_fail(struct channel *ch, struct rv_error **err, const char *fmt, ...)
{
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        free(ch->failure);
        ch->failure = msg;
        ch->failed = true;
        return rv_error_set(err, EPROTO, "channel: %s", ch->failure ? ch->failure : "protocol error");
}

static const char *type_name(uint8_t type)
{
        switch (type) {
        case CHANNEL_DATA:
                return "data";
        case CHANNEL_CREDIT:
                return "credit";
        case CHANNEL_EOF:
                return "eof";
        default:
                return "frame";
        }
}

int channel_next(struct channel *ch, struct channel_frame *ret, struct rv_error **err)
{
        for (;;) {
                struct channel_frame f;
                struct channel_stream *s;
                uint32_t credit;
                int r;

                if (ch->failed)
                        return rv_error_set(err, EPROTO, "channel: %s",
                                            ch->failure ? ch->failure : "protocol error");
                r = channel_decoder_next(ch->decoder, &f, err);
                if (r <= 0)
                        return r;
                if (f.stream == CHANNEL_STREAM_CONTROL) {
                        *ret = f;
                        return 1;
                }

                s = &ch->streams[f.stream];     /* the decoder checked the range */
                if (s->state == STREAM_UNUSED)
                        return channel_fail(ch, err, "%s on stream %u, which was never opened",
                                            type_name(f.type), f.stream);
                if (s->state == STREAM_CLOSED)
                        continue;       /* in flight when we closed it: harmless */

                switch (f.type) {
                case CHANNEL_CREDIT:
                        credit = channel_get_u32le(f.payload);
                        if (credit > UINT32_MAX - s->send_credit)
                                return channel_fail(ch, err,
                                                    "stream %u: credit overflow (%u + %u)",
                                                    f.stream, s->send_credit, credit);
                        s->send_credit += credit;
                        continue;
                case CHANNEL_DATA:
                        if (s->eof_received)
                                return channel_fail(ch, err, "stream %u: data after eof",
                                                    f.stream);
                        if (f.length > s->recv_credit)
                                return channel_fail(ch, err,
                                                    "stream %u: %u bytes of data beyond the %u granted",
                                                    f.stream, f.length, s->recv_credit);
                        s->recv_credit -= f.length;
                        *ret = f;
                        return 1;
                case CHANNEL_EOF:
                        if (s->eof_received)
                                return channel_fail(ch, err, "stream %u: eof twice", f.stream);
                        s->eof_received = true;
                        *ret = f;
                        return 1;
                default:
                        /* The decoder lets no other type onto a data stream. */
                        return channel_fail(ch, err, "stream %u: unexpected frame type %u",
                                            f.stream, f.type);
                }
        }
}
