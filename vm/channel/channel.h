/* SPDX-License-Identifier: Apache-2.0 */
/* The host<->guest channel: one byte stream (virtio-serial port) carrying
 * frames, shared by the monitor and the guest agent.
 *
 * Frame: u32 length | u32 stream | u8 type | payload, little-endian; length
 * is the payload size. Stream 0 carries control (REQUEST, RESPONSE, EVENT:
 * JSON payloads). Every other stream is one byte stream of a process
 * (stdin, stdout, stderr or a tty) carrying DATA, CREDIT and EOF.
 *
 * Flow control: for every open data stream each direction starts with
 * CHANNEL_INITIAL_CREDIT bytes of credit. A sender never sends more DATA
 * than its credit; the receiver grants more (CREDIT, payload u32 bytes)
 * once it has passed data on. A receiver that gets DATA beyond the credit
 * it granted treats it as a protocol error. So a reader that stalls one
 * stream never stalls stream 0 or another stream.
 *
 * Everything read is untrusted: lengths, types and streams are checked. */
#pragma once

#include "base/cleanup.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;

/* 2: the initial credit went from 256 KiB to 1 MiB (a peer of version 1
 * would see DATA beyond what it granted). */
#define CHANNEL_PROTOCOL_VERSION 2
#define CHANNEL_HEADER_SIZE 9u
#define CHANNEL_STREAM_CONTROL 0u
#define CHANNEL_MAX_CONTROL_PAYLOAD (4u << 20)   /* a guest spec may be large */
#define CHANNEL_MAX_DATA_PAYLOAD (64u << 10)
/* A window large enough that the round trip of a CREDIT under TCG never
 * idles the stream (docs/PERFORMANCE.md, stdio). */
#define CHANNEL_INITIAL_CREDIT (1u << 20)
#define CHANNEL_MAX_STREAMS 1024u

enum channel_frame_type {
        CHANNEL_REQUEST = 1,
        CHANNEL_RESPONSE = 2,
        CHANNEL_EVENT = 3,
        CHANNEL_DATA = 4,
        CHANNEL_CREDIT = 5,
        CHANNEL_EOF = 6,
};

struct channel_frame {
        uint32_t stream;
        uint8_t type;
        uint32_t length;
        const uint8_t *payload;         /* valid until the next channel call */
};

/* --- The codec, usable alone (and fuzzed alone). ---------------------- */

struct channel_decoder;
struct channel_decoder *channel_decoder_new(void);
void channel_decoder_free(struct channel_decoder *d);
/* Appends bytes. */
int channel_decoder_feed(struct channel_decoder *d, const void *data, size_t len,
                         struct rv_error **err);
/* 1: *ret holds the next frame; 0: need more bytes; -1: malformed input
 * (unknown type, a length over the limit for its stream, stream 0 with a
 * data type or a data stream with a control type, CREDIT not 4 bytes,
 * EOF not empty). After -1 the decoder stays failed. */
int channel_decoder_next(struct channel_decoder *d, struct channel_frame *ret,
                         struct rv_error **err);
/* Encodes a frame header into out[CHANNEL_HEADER_SIZE]. */
void channel_header_encode(uint8_t out[CHANNEL_HEADER_SIZE], uint32_t stream,
                           uint8_t type, uint32_t length);

/* --- A channel endpoint over a non-blocking fd. ------------------------ */

struct channel;
/* Takes ownership of fd and makes it non-blocking. */
struct channel *channel_new(int fd);
void channel_free(struct channel *ch);
DEFINE_CLEANUP_FUNC(struct channel *, channel_free)
int channel_fd(const struct channel *ch);

/* Registers a data stream on this side. Both sides must open a stream id
 * before they exchange DATA on it; the host chooses ids (1, 2, 3, ...). */
int channel_stream_open(struct channel *ch, uint32_t stream, struct rv_error **err);
/* Forgets the stream (after EOF both ways or when its process is gone). */
void channel_stream_close(struct channel *ch, uint32_t stream);
bool channel_stream_is_open(const struct channel *ch, uint32_t stream);
/* Bytes this side may still send on the stream now (0 if not open). */
uint32_t channel_stream_send_credit(const struct channel *ch, uint32_t stream);

/* Queue frames for sending. Data beyond the credit, or on a stream not
 * open, is a caller bug and fails with EPROTO. Data is split into frames
 * of at most CHANNEL_MAX_DATA_PAYLOAD. */
int channel_send_data(struct channel *ch, uint32_t stream, const void *data, size_t len,
                      struct rv_error **err);
/* Sending without a copy: room in the output queue for one DATA frame of
 * at most *len bytes (cut to the stream's credit and
 * CHANNEL_MAX_DATA_PAYLOAD); *len says how many fit. The caller reads
 * straight into it and commits what it used (0 commits nothing). No other
 * call on the channel may come in between: the room may move (one that
 * did voids it, and the commit fails with EPROTO). NULL with
 * *err set when the stream is not open, ended, out of credit or memory. */
uint8_t *channel_data_reserve(struct channel *ch, uint32_t stream, size_t *len, struct rv_error **err);
int channel_data_commit(struct channel *ch, uint32_t stream, size_t used, struct rv_error **err);
int channel_send_eof(struct channel *ch, uint32_t stream, struct rv_error **err);
/* Gives the peer `bytes` more credit on a stream, once they are consumed. */
int channel_send_credit(struct channel *ch, uint32_t stream, uint32_t bytes,
                        struct rv_error **err);
/* REQUEST, RESPONSE or EVENT on stream 0. */
int channel_send_control(struct channel *ch, enum channel_frame_type type,
                         const char *json, size_t len, struct rv_error **err);

/* Writes queued bytes; stops at EAGAIN. -1 on a write error (EPIPE...). */
int channel_flush(struct channel *ch, struct rv_error **err);
/* True when bytes are queued (the caller should wait for EPOLLOUT). */
bool channel_want_write(const struct channel *ch);
/* Bytes queued but not yet written (for bounding memory). */
size_t channel_pending_bytes(const struct channel *ch);

/* Reads what is available (stops at EAGAIN). Returns 1 if the peer hung
 * up (EOF/EPOLLHUP with nothing more), 0 otherwise, -1 on error. */
int channel_receive(struct channel *ch, struct rv_error **err);
/* Next complete frame received: 1 with *ret set, 0 when none is ready,
 * -1 on a protocol error. CREDIT frames are consumed here (they raise the
 * stream's send credit) and never returned. DATA beyond the credit this
 * side granted, or for a stream not open, is a protocol error; DATA and
 * EOF for a stream this side already closed are dropped. */
int channel_next(struct channel *ch, struct channel_frame *ret, struct rv_error **err);
