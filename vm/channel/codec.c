/* SPDX-License-Identifier: Apache-2.0 */
/* Frame codec: header encoding and an incremental, bounded decoder. The
 * decoder reads what the guest writes, so every header field is judged
 * before the payload is waited for: a bad frame fails as soon as its nine
 * header bytes are in, never after we buffered megabytes for it. */
#include "vm/channel/channel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "vm/channel/channel-internal.h"

/* Above this an idle buffer is given back: one 4 MiB spec at create time
 * must not pin 4 MiB for the life of the container. */
#define DECODER_KEEP_CAPACITY (256u << 10)
#define DECODER_MIN_CAPACITY (16u << 10)

struct channel_decoder {
        uint8_t *buf;
        size_t start;           /* first byte not yet returned as a frame */
        size_t end;             /* one past the last byte fed */
        size_t cap;
        char *failure;          /* set once malformed input was seen */
};

struct channel_decoder *channel_decoder_new(void)
{
        return calloc(1, sizeof(struct channel_decoder));
}

void channel_decoder_free(struct channel_decoder *d)
{
        if (d == NULL)
                return;
        free(d->buf);
        free(d->failure);
        free(d);
}

size_t channel_decoder_buffered(const struct channel_decoder *d)
{
        return d->end - d->start;
}

void channel_header_encode(uint8_t out[CHANNEL_HEADER_SIZE], uint32_t stream, uint8_t type,
                           uint32_t length)
{
        channel_put_u32le(out, length);
        channel_put_u32le(out + 4, stream);
        out[8] = type;
}

void channel_header_decode(const uint8_t in[CHANNEL_HEADER_SIZE], uint32_t *ret_stream,
                           uint8_t *ret_type, uint32_t *ret_length)
{
        *ret_length = channel_get_u32le(in);
        *ret_stream = channel_get_u32le(in + 4);
        *ret_type = in[8];
}

static int decoder_report_failure(const struct channel_decoder *d, struct rv_error **err)
{
        return rv_error_set(err, EPROTO, "channel: %s", d->failure);
}

/* Marks the decoder failed for good: after one malformed frame we no
 * longer know where the next frame starts, so nothing later can be
 * trusted. */
__attribute__((format(printf, 3, 4)))
static int decoder_fail(struct channel_decoder *d, struct rv_error **err, const char *fmt, ...)
{
        va_list ap;
        char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        free(d->failure);
        d->failure = msg != NULL ? msg : strdup("malformed frame");
        if (d->failure == NULL)
                return rv_error_set(err, ENOMEM, "channel: malformed frame");
        return decoder_report_failure(d, err);
}

int channel_decoder_feed(struct channel_decoder *d, const void *data, size_t len,
                         struct rv_error **err)
{
        size_t have;

        if (d->failure != NULL)
                return decoder_report_failure(d, err);
        if (len == 0)
                return 0;

        have = d->end - d->start;
        if (have == 0) {
                d->start = d->end = 0;
                if (d->cap > DECODER_KEEP_CAPACITY) {
                        free(d->buf);
                        d->buf = NULL;
                        d->cap = 0;
                }
        } else if (d->start > 0) {
                /* Only a partial frame is left: moving it is cheap. */
                memmove(d->buf, d->buf + d->start, have);
                d->start = 0;
                d->end = have;
        }

        if (len > CHANNEL_DECODER_MAX_BUFFERED - have)
                return rv_error_set(err, ENOBUFS,
                                    "channel: receive buffer full (%zu bytes buffered, %zu more)",
                                    have, len);
        if (have + len > d->cap) {
                size_t cap = d->cap > 0 ? d->cap : DECODER_MIN_CAPACITY;
                uint8_t *buf;

                while (cap < have + len)
                        cap *= 2;
                if (cap > CHANNEL_DECODER_MAX_BUFFERED)
                        cap = CHANNEL_DECODER_MAX_BUFFERED;
                buf = realloc(d->buf, cap);
                if (buf == NULL)
                        return rv_error_set(err, ENOMEM, "channel: receive buffer");
                d->buf = buf;
                d->cap = cap;
        }
        memcpy(d->buf + d->end, data, len);
        d->end += len;
        return 0;
}

static bool type_is_control(uint8_t type)
{
        return type == CHANNEL_REQUEST || type == CHANNEL_RESPONSE || type == CHANNEL_EVENT;
}

static bool type_is_data(uint8_t type)
{
        return type == CHANNEL_DATA || type == CHANNEL_CREDIT || type == CHANNEL_EOF;
}

/* Judges a header on its own: type, stream, and length for that type. */
static int header_check(struct channel_decoder *d, uint32_t stream, uint8_t type, uint32_t length,
                        struct rv_error **err)
{
        if (!type_is_control(type) && !type_is_data(type))
                return decoder_fail(d, err, "unknown frame type %u on stream %u", type, stream);
        if (stream >= CHANNEL_MAX_STREAMS)
                return decoder_fail(d, err, "stream %u out of range (limit %u)", stream,
                                    CHANNEL_MAX_STREAMS);
        if (stream == CHANNEL_STREAM_CONTROL) {
                if (!type_is_control(type))
                        return decoder_fail(d, err, "data frame type %u on the control stream",
                                            type);
                /* A control payload is a JSON object: never empty. */
                if (length == 0 || length > CHANNEL_MAX_CONTROL_PAYLOAD)
                        return decoder_fail(d, err, "control frame of %u bytes (1 to %u allowed)",
                                            length, CHANNEL_MAX_CONTROL_PAYLOAD);
                return 0;
        }
        switch (type) {
        case CHANNEL_DATA:
                /* Empty DATA would look like EOF to a naive relay: refuse it. */
                if (length == 0 || length > CHANNEL_MAX_DATA_PAYLOAD)
                        return decoder_fail(d, err,
                                            "stream %u: data frame of %u bytes (1 to %u allowed)",
                                            stream, length, CHANNEL_MAX_DATA_PAYLOAD);
                return 0;
        case CHANNEL_CREDIT:
                if (length != 4)
                        return decoder_fail(d, err, "stream %u: credit frame of %u bytes (4 expected)",
                                            stream, length);
                return 0;
        case CHANNEL_EOF:
                if (length != 0)
                        return decoder_fail(d, err, "stream %u: eof frame of %u bytes (0 expected)",
                                            stream, length);
                return 0;
        default:
                return decoder_fail(d, err, "control frame type %u on data stream %u", type,
                                    stream);
        }
}

int channel_decoder_next(struct channel_decoder *d, struct channel_frame *ret,
                         struct rv_error **err)
{
        const uint8_t *p;
        uint32_t stream, length;
        uint8_t type;

        if (d->failure != NULL)
                return decoder_report_failure(d, err);
        if (d->end - d->start < CHANNEL_HEADER_SIZE)
                return 0;

        p = d->buf + d->start;
        channel_header_decode(p, &stream, &type, &length);
        if (header_check(d, stream, type, length, err) < 0)
                return -1;
        if (d->end - d->start - CHANNEL_HEADER_SIZE < length)
                return 0;
        if (type == CHANNEL_CREDIT && channel_get_u32le(p + CHANNEL_HEADER_SIZE) == 0)
                return decoder_fail(d, err, "stream %u: credit of 0 bytes", stream);

        ret->stream = stream;
        ret->type = type;
        ret->length = length;
        /* The bytes stay put until the next feed, which is the "next channel
         * call" the header promises payloads survive until. */
        ret->payload = p + CHANNEL_HEADER_SIZE;
        d->start += CHANNEL_HEADER_SIZE + (size_t) length;
        return 1;
}
