/* SPDX-License-Identifier: Apache-2.0 */
/* The host's client of the guest agent: it sends requests on the
 * channel, keeps each awaited answer in a bounded table with a deadline,
 * and dispatches what the agent sends (responses to their entries,
 * events and stream data to the owner's callbacks). The monitor uses it
 * the same way during boot and after; nothing is dropped unseen. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cleanup.h"
#include "vm/channel/protocol.h"

struct channel;
struct channel_frame;
struct channel_message;
struct json_writer;
struct rv_error;

/* What the owner needs to act on an answer; the client only keeps it. */
struct agent_request {
        uint32_t id;
        enum proto_method method;
        int64_t deadline_ms;
        int kind;                       /* the owner's */
        int client_fd;                  /* the owner's, -1 by convention when none */
        void *ptr;                      /* the owner's */
};

struct agent_client_ops {
        /* The answer to req: msg (maybe an error response), or NULL with
         * failure set when none will come (deadline passed, client
         * closing). req is gone once this returns. */
        void (*answer)(void *ctx, const struct agent_request *req, const struct channel_message *msg,
                       const struct rv_error *failure);
        void (*event)(void *ctx, enum proto_event ev, const struct channel_message *msg);
        /* DATA and EOF frames; -1 fails the channel. */
        int (*data)(void *ctx, const struct channel_frame *f, struct rv_error **err);
};

typedef void (*agent_fill_fn)(struct json_writer *w, const void *data);

struct agent_client;
/* The container the requests sent from now on name (a pod's member,
 * libcontainer-vm/monitor-pod.c); NULL: the client's own again. */
void agent_client_set_target(struct agent_client *c, const char *container_id);
/* container_id goes in every request's params as "id". */
struct agent_client *agent_client_new(const char *container_id, size_t capacity,
                                      const struct agent_client_ops *ops, void *ctx);
void agent_client_free(struct agent_client *c);
DEFINE_CLEANUP_FUNC(struct agent_client *, agent_client_free)

/* The channel the requests go on (borrowed; NULL while there is none). */
void agent_client_set_channel(struct agent_client *c, struct channel *ch);
struct channel *agent_client_channel(const struct agent_client *c);

bool agent_client_full(const struct agent_client *c);
size_t agent_client_n_pending(const struct agent_client *c);

/* Queues method with params {"id": container id, what fill writes}.
 * With tag, an entry (tag's kind, client_fd, ptr) waits for the answer
 * until timeout_ms: the table's capacity is checked before anything is
 * sent (EAGAIN), so a request the guest acts on always has its entry.
 * Without tag, nobody waits and the answer is dropped. */
int agent_client_request(struct agent_client *c, enum proto_method method, agent_fill_fn fill,
                         const void *data, const struct agent_request *tag, int timeout_ms,
                         uint32_t *ret_id, struct rv_error **err);

/* Handles every frame the channel has ready. -1 on a protocol error (or
 * the data callback's). */
int agent_client_pump(struct agent_client *c, struct rv_error **err);
/* One frame (pump's step; tests feed frames directly). */
int agent_client_dispatch(struct agent_client *c, const struct channel_frame *f, struct rv_error **err);

/* Forgets request id's entry without answering it (its waiter left). */
void agent_client_cancel(struct agent_client *c, uint32_t id);
/* Answers (failure ETIMEDOUT) the entries past their deadline at now_ms;
 * returns ms until the next deadline, -1 when none. */
int agent_client_expire(struct agent_client *c, int64_t now_ms);
/* Answers every entry with failure (errnum, msg) and empties the table. */
void agent_client_fail_all(struct agent_client *c, int errnum, const char *msg);
