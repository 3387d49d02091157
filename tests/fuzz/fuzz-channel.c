/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what the host reads from the guest: the frame decoder fed in
 * chunks of varying size, the endpoint's stream and credit accounting on
 * the same bytes, and the envelope parser on every control frame.
 *
 * Input: byte 0 seeds the chunk sizes; byte 1 picks which streams the
 * endpoint opens (bit n: stream n+1) and which of those it then closes
 * (so late frames are dropped); the rest is the wire. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "vm/channel/channel-internal.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the promises channel.h makes about a returned frame: a crash
 * here is a decoder bug even where nothing would misbehave yet. */
static void check_frame(const struct channel_frame *f)
{
        if (f->stream >= CHANNEL_MAX_STREAMS)
                abort();
        switch (f->type) {
        case CHANNEL_REQUEST:
        case CHANNEL_RESPONSE:
        case CHANNEL_EVENT:
                if (f->stream != 0 || f->length == 0 || f->length > CHANNEL_MAX_CONTROL_PAYLOAD)
                        abort();
                break;
        case CHANNEL_DATA:
                if (f->stream == 0 || f->length == 0 || f->length > CHANNEL_MAX_DATA_PAYLOAD)
                        abort();
                break;
        case CHANNEL_CREDIT:
                if (f->stream == 0 || f->length != 4)
                        abort();
                break;
        case CHANNEL_EOF:
                if (f->stream == 0 || f->length != 0)
                        abort();
                break;
        default:
                abort();
        }
        /* Touch every payload byte so ASan sees an out-of-bounds pointer. */
        volatile uint8_t sum = 0;
        for (uint32_t i = 0; i < f->length; i++)
                sum += f->payload[i];
        (void) sum;
}

static void parse_control(const struct channel_frame *f)
{
        struct channel_message m;
        struct rv_error *err = NULL;

        if (channel_message_parse(f, &m, &err) == 0) {
                if (m.type == CHANNEL_REQUEST && (m.method == NULL || m.method[0] == '\0'))
                        abort();
                if (m.type == CHANNEL_EVENT && (m.event == NULL || m.event[0] == '\0'))
                        abort();
                if (m.error_errno < 0 || (m.error_errno > 0 && m.error == NULL))
                        abort();
                channel_message_clear(&m);
        } else if (err == NULL) {
                abort();
        }
        rv_error_free(err);
}

/* A tiny xorshift: chunk sizes reproducible from the input alone. */
static uint32_t next_rand(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

static void fuzz_decoder(uint32_t seed, const uint8_t *data, size_t size)
{
        struct channel_decoder *d = channel_decoder_new();
        struct rv_error *err = NULL;
        struct channel_frame f;
        size_t off = 0;
        int r = 0;

        if (d == NULL)
                return;
        while (off < size && r >= 0) {
                size_t n = next_rand(&seed) % 64 + 1;

                if (n > size - off)
                        n = size - off;
                if (channel_decoder_feed(d, data + off, n, &err) < 0) {
                        r = -1;
                        break;
                }
                off += n;
                while ((r = channel_decoder_next(d, &f, &err)) == 1) {
                        check_frame(&f);
                        if (f.stream == CHANNEL_STREAM_CONTROL)
                                parse_control(&f);
                }
        }
        if ((r < 0) != (err != NULL))
                abort();
        rv_error_free(err);
        channel_decoder_free(d);
}

static void fuzz_endpoint(uint32_t seed, uint8_t streams, const uint8_t *data, size_t size)
{
        struct channel *ch;
        struct rv_error *err = NULL;
        struct channel_frame f;
        size_t off = 0;
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC), r = 0;

        if (fd < 0)
                return;
        ch = channel_new(fd);
        if (ch == NULL)
                return;
        /* Streams 1-8 open; the high nibble's streams closed again. */
        for (uint32_t s = 1; s <= 8; s++)
                if (streams & (1u << (s - 1)) || s > 4)
                        channel_stream_open(ch, s, NULL);
        for (uint32_t s = 5; s <= 8; s++)
                if (streams & (1u << (s - 1)))
                        channel_stream_close(ch, s);

        while (off < size && r >= 0) {
                size_t n = next_rand(&seed) % 4096 + 1;

                if (n > size - off)
                        n = size - off;
                if (channel_feed(ch, data + off, n, &err) < 0) {
                        r = -1;
                        break;
                }
                off += n;
                while ((r = channel_next(ch, &f, &err)) == 1) {
                        check_frame(&f);
                        if (f.type == CHANNEL_CREDIT)
                                abort();        /* swallowed by channel_next */
                        if (f.stream != CHANNEL_STREAM_CONTROL && !channel_stream_is_open(ch, f.stream))
                                abort();        /* closed streams are dropped */
                        if (f.type == CHANNEL_DATA) {
                                /* Hand the credit back, as a relay would,
                                 * sometimes twice to reach the u32 limit. */
                                channel_send_credit(ch, f.stream, f.length, NULL);
                                if (next_rand(&seed) % 4 == 0)
                                        channel_send_credit(ch, f.stream, UINT32_MAX / 2, NULL);
                        } else if (f.type == CHANNEL_EOF) {
                                channel_send_eof(ch, f.stream, NULL);
                                channel_stream_close(ch, f.stream);
                        }
                }
                /* The peer's credit must never let us send more than it allows. */
                for (uint32_t s = 1; s <= 8; s++) {
                        uint32_t credit = channel_stream_send_credit(ch, s);

                        if (credit > 0 && channel_send_data(ch, s, data, credit < size ? credit : size,
                                                            NULL) < 0)
                                abort();
                }
                if (channel_flush(ch, NULL) < 0)
                        break;
        }
        if ((r < 0) != (err != NULL))
                abort();
        rv_error_free(err);
        channel_free(ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint32_t seed;

        if (size < 2)
                return 0;
        seed = (uint32_t) data[0] * 2654435761u | 1;
        fuzz_decoder(seed, data + 2, size - 2);
        fuzz_endpoint(seed, data[1], data + 2, size - 2);
        return 0;
}
