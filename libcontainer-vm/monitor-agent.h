/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's requests to the agent (agent-client.h underneath). What
 * happens with an answer is the loop's (monitor-loop.c): it knows the
 * kinds' owners. */
#pragma once

#include <stdbool.h>

#include "libcontainer-vm/agent-client.h"

struct channel_message;
struct json_value;
struct json_writer;
struct monitor;
struct rv_error;

#define REQUEST_TIMEOUT_MS 30000
#define MAX_PENDING 64
/* A ctl-driven request the guest has not answered by then fails with
 * ETIMEDOUT; below the CLI's own 30 s, so the caller learns why. */
#define PENDING_TIMEOUT_MS 25000

/* What to do with the guest's answer to a request. */
enum pending_kind {
        PENDING_REPLY,          /* forward success/error to the ctl client */
        PENDING_REPLY_RESULT,   /* forward the result object as the payload */
        PENDING_START,
        PENDING_PAUSE,
        PENDING_RESUME,
        PENDING_EXEC,           /* ptr: the exec session */
        PENDING_PS,             /* ptr: NULL, or a pod member's struct monitor_ps_of (freed with the answer) */
        PENDING_NONE,           /* nobody waits (forwarded signals, resizes) */
        PENDING_CALL,           /* a synchronous call waits (ptr: its struct monitor_call) */
};

/* Whose host pids a `ps` answer lists: a pod member's (its monitor's
 * pid, its exec clients). */
struct monitor_ps_of {
        int host_pid;
        char id[];
};

bool monitor_pending_full(const struct monitor *m);
/* A request whose answer goes to the loop with kind, client_fd and ptr
 * (capacity checked before anything is sent). */
int monitor_request(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                    enum pending_kind kind, int client_fd, void *ptr, struct rv_error **err);
/* A request nobody waits for (its answer is dropped). */
int monitor_send_request(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                         struct rv_error **err);
/* Sends a request and queues the answer for client_fd (closed on failure). */
void monitor_forward(struct monitor *m, int client_fd, enum pending_kind kind, enum proto_method method,
                     agent_fill_fn fill, const void *data);

/* A synchronous call's answer. */
struct monitor_call {
        bool done;
        struct rv_error *err;
        int (*check)(const struct json_value *result, void *ctx, struct rv_error **err);
        void *ctx;
};
void monitor_call_answered(struct monitor_call *c, const struct channel_message *msg,
                           const struct rv_error *failure);
/* Sends a request and waits for its answer (bounded), handling whatever
 * else the agent sends meanwhile. */
int monitor_call(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                 int timeout_ms, struct rv_error **err);
/* The same, the answer's result also passed through check (with ctx). */
int monitor_call_checked(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                         int timeout_ms, int (*check)(const struct json_value *, void *, struct rv_error **),
                         void *ctx, struct rv_error **err);

/* process_exited's data: exit code or signal (255, 0 when unreadable). */
void monitor_read_exit(const struct json_value *data, int *ret_code, int *ret_signal);
