/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the channel shared by codec.c, channel.c, the unit tests and
 * the fuzz target. Not for the monitor or the agent. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vm/channel/channel.h"

/* One read(2) at most this much: a virtio-serial port hands out at most a
 * page-ish buffer per read anyway, a socket gives what is queued. */
#define CHANNEL_READ_CHUNK (64u << 10)

/* The decoder never buffers more than the largest frame plus one read: the
 * endpoint stops reading once a whole maximum-size frame could be
 * buffered, so a peer cannot make us hold more than this however fast it
 * writes and however slowly our caller drains channel_next(). */
#define CHANNEL_DECODER_MAX_BUFFERED \
        ((size_t) CHANNEL_HEADER_SIZE + CHANNEL_MAX_CONTROL_PAYLOAD + CHANNEL_READ_CHUNK)

/* Bytes fed but not yet returned by channel_decoder_next(). */
size_t channel_decoder_buffered(const struct channel_decoder *d);

/* Decodes a header without judging it: the fields as read off the wire. */
void channel_header_decode(const uint8_t in[CHANNEL_HEADER_SIZE], uint32_t *ret_stream,
                           uint8_t *ret_type, uint32_t *ret_length);

/* Feeds bytes to the endpoint as if read from its fd: what
 * channel_receive() does after read(2). For the fuzz target and tests. */
int channel_feed(struct channel *ch, const void *data, size_t len, struct rv_error **err);

/* Receive credit this side granted on a stream and the peer has not used
 * yet (0 if not open). */
uint32_t channel_stream_recv_credit(const struct channel *ch, uint32_t stream);

static inline void channel_put_u32le(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

static inline uint32_t channel_get_u32le(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}
