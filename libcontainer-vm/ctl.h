/* SPDX-License-Identifier: Apache-2.0 */
/* ctl.sock: how every other invocation talks to a container's monitor.
 *
 * A request is a fixed header plus an optional payload (bounded) and up to
 * CTL_MAX_FDS file descriptors (SCM_RIGHTS, with the header); a reply is a
 * status (0 or -errno) plus a payload (the error text on failure). Peers
 * must be root or the monitor's own uid. Like lxc's command socket, the
 * commands are an enum with a name and a handler each, never changed once
 * shipped, only added. A connection may stay open after the reply when a
 * command says so (exec: the exit status follows later). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"

struct rv_error;

#define CTL_SOCKET "ctl.sock"
#define CTL_PAYLOAD_MAX (4u << 20)
/* A pod member brings its stdio, state dir and share trees. */
#define CTL_MAX_FDS 32
/* CTL_NET_CHANGED's payload, at most (an interface name and a change). */
#define CTL_NET_CHANGED_MAX 128u

enum ctl_command {
        CTL_START = 1,          /* release the created process */
        CTL_KILL = 2,           /* arg: signal; flags: CTL_FLAG_ALL */
        CTL_EXEC = 3,           /* payload: {"process":{...}}; fds: stdio or the tty;
                                 * replies {"pid":N} now and {"exit_code"|"signal"}
                                 * when the process exits; on the open connection
                                 * the client may send CTL_KILL and CTL_RESIZE */
        CTL_RESIZE = 4,         /* arg: height << 16 | width (exec connections) */
        CTL_PS = 5,             /* replies {"host_pids":[...],"processes":[...]} */
        CTL_PAUSE = 6,
        CTL_RESUME = 7,
        CTL_UPDATE = 8,         /* payload: LinuxResources JSON */
        CTL_STATS = 9,          /* replies the stats object */
        CTL_EVENTS = 10,        /* replies once, then one reply per event (oom) */
        CTL_MEMBER = 11,        /* to a pod's sandbox: payload {"id","spec","shares"};
                                 * fds: the member's state dir, stdin, stdout, stderr,
                                 * one tree per share; replies when created, then
                                 * {"exit_code"|"signal"}; the member's monitor may
                                 * send CTL_KILL on the open connection */
        CTL_NET_CHANGED = 12,   /* member's monitor -> sandbox, on that connection:
                                 * payload "interface\0change\0", a change of the
                                 * member's network namespace (a warm pool VM's
                                 * container), reported as a `network` event */
        _CTL_COMMAND_MAX,
};

#define CTL_FLAG_ALL 1u
#define CTL_FLAG_TERMINAL 2u       /* CTL_EXEC: the fds are a terminal */
#define CTL_FLAG_IGNORE_PAUSED 4u  /* CTL_EXEC: start into a paused container */
#define CTL_FLAG_AUTOSTART 8u      /* CTL_MEMBER: start it once created (run) */

struct ctl_header {
        uint32_t command;
        int32_t arg;
        uint32_t flags;
        uint32_t length;        /* payload bytes that follow */
};

struct ctl_request {
        struct ctl_header h;
        char *payload;          /* NUL-terminated, NULL when length is 0 */
        int fds[CTL_MAX_FDS];
        size_t n_fds;
};

const char *ctl_command_name(uint32_t command);

/* Listens on dirfd/ctl.sock (non-blocking, close-on-exec). */
int ctl_listen(int dirfd, struct rv_error **err);
/* A client whose request is read as it arrives, never blocking the
 * monitor: a peer that trickles bytes holds only its own connection, and
 * only until its deadline. The fd stays non-blocking: replies that do not
 * fit at once fail rather than stall (ctl_send_reply). */
struct ctl_conn {
        int fd;
        struct loop_watch watch;        /* in the monitor's loop while the request arrives */
        struct ctl_request req;
        size_t header_got, payload_got;
        int64_t deadline_ms;            /* rv_now_ms() by which the request is whole */
        struct ctl_conn *next;
};

/* A request must be whole this long after the connection was accepted. */
#define CTL_REQUEST_DEADLINE_MS 5000

/* Accepts one client and checks its credentials. Returns NULL with *err
 * set for an unauthorized peer or when nothing was pending. */
struct ctl_conn *ctl_conn_accept(int listen_fd, struct rv_error **err);
/* Reads what arrived. 1: c->req is whole; 0: more to come; -1: a bad
 * request or a peer gone (*err set). */
int ctl_conn_read(struct ctl_conn *c, struct rv_error **err);
/* Closes the fd unless taken (fd = -1) and frees the request. */
void ctl_conn_free(struct ctl_conn *c);
void ctl_request_clear(struct ctl_request *r);
/* status 0 with payload, or -errno with the error text as payload. */
int ctl_send_reply(int client_fd, int status, const void *payload, size_t len);
static inline int ctl_send_error(int client_fd, int status, const char *msg);

/* Client side. ctl_connect + ctl_send_request + ctl_read_reply for
 * commands that keep the connection; ctl_call for one round trip. A reply
 * with a non-zero status becomes *err with the monitor's text. The
 * monitor being gone gives ECONNREFUSED or ENOENT in err->status. */
int ctl_connect(int dirfd, struct rv_error **err);
int ctl_send_request(int fd, const struct ctl_header *h, const void *payload,
                     const int *fds, size_t n_fds, struct rv_error **err);
/* timeout_ms < 0: wait forever. *ret_payload may be NULL when not wanted. */
int ctl_read_reply(int fd, int timeout_ms, char **ret_payload, size_t *ret_len,
                   struct rv_error **err);
int ctl_call(int dirfd, const struct ctl_header *h, const void *payload, int timeout_ms,
             char **ret_payload, size_t *ret_len, struct rv_error **err);

#include <string.h>
static inline int ctl_send_error(int client_fd, int status, const char *msg)
{
        return ctl_send_reply(client_fd, status, msg, msg ? strlen(msg) : 0);
}
