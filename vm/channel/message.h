/* SPDX-License-Identifier: Apache-2.0 */
/* Control messages on stream 0: JSON objects framed by channel.h.
 *
 *   REQUEST   {"id": N, "method": "create_container", "params": {...}}
 *   RESPONSE  {"id": N, "result": {...}}
 *             {"id": N, "error": "message", "errno": E}
 *   EVENT     {"event": "process_exited", "data": {...}}
 *
 * Writers: begin_* opens the envelope and leaves the writer positioned to
 * write the params/result/data value (any JSON value); end closes it. */
#pragma once

#include <stdint.h>

#include "vm/channel/channel.h"

struct json_value;
struct json_writer;

struct channel_message {
        enum channel_frame_type type;
        uint32_t id;                    /* REQUEST, RESPONSE */
        const char *method;             /* REQUEST */
        const char *event;              /* EVENT */
        const char *error;              /* RESPONSE with an error, else NULL */
        int error_errno;                /* 0 when absent */
        const struct json_value *body;  /* params / result / data; may be NULL */
        struct json_value *root;        /* owns everything above */
};

/* Parses a REQUEST, RESPONSE or EVENT frame; checks the envelope's types. */
int channel_message_parse(const struct channel_frame *f, struct channel_message *ret,
                          struct rv_error **err);
void channel_message_clear(struct channel_message *m);
/* The host's side of the boundary: every string in a message from the
 * guest loses its control characters (rv_text_sanitize) before anything
 * can print, log or forward it. */
void channel_message_sanitize(struct channel_message *m);

void channel_message_begin_request(struct json_writer *w, uint32_t id, const char *method);
void channel_message_begin_response(struct json_writer *w, uint32_t id);
void channel_message_begin_event(struct json_writer *w, const char *event);
void channel_message_end(struct json_writer *w);
/* A whole error RESPONSE. */
void channel_message_write_error(struct json_writer *w, uint32_t id, int errnum, const char *msg);

/* Finishes the writer and queues it on the channel as a frame of `type`. */
int channel_send_message(struct channel *ch, enum channel_frame_type type,
                         struct json_writer *w, struct rv_error **err);
