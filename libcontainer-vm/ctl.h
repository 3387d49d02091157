/* SPDX-License-Identifier: Apache-2.0 */
/* ctl.sock: how every other invocation talks to a container's monitor.
 * Fixed-size requests, replies of 0/-errno plus a message; bounded sizes;
 * peers must be root or the monitor's own uid. Commands are never
 * changed once shipped, only added. */
#pragma once

#include <stdint.h>

struct rv_error;

#define CTL_SOCKET "ctl.sock"
#define CTL_MESSAGE_MAX 4096

enum ctl_command {
        CTL_START = 1,          /* release the created process */
        CTL_KILL = 2,           /* arg: signal; flags: CTL_FLAG_ALL */
        _CTL_COMMAND_MAX,
};

#define CTL_FLAG_ALL 1u

struct ctl_request {
        uint32_t command;
        int32_t arg;
        uint32_t flags;
};

struct ctl_reply {
        int32_t status;                 /* 0 or -errno */
        char message[CTL_MESSAGE_MAX];  /* NUL-terminated; the error text */
};

const char *ctl_command_name(uint32_t command);

/* Listens on dirfd/ctl.sock (non-blocking, close-on-exec). */
int ctl_listen(int dirfd, struct rv_error **err);
/* Accepts one client and reads its request (bounded wait). Returns the
 * client fd, or -1 with *err set for a bad or unauthorized peer. */
int ctl_accept(int listen_fd, struct ctl_request *ret, struct rv_error **err);
int ctl_send_reply(int client_fd, int status, const char *message);

/* Client: sends req and waits up to timeout_ms for the reply. The monitor
 * being gone gives ECONNREFUSED/ENOENT in err->status. A reply with a
 * non-zero status becomes *err with the monitor's message. */
int ctl_call(int dirfd, const struct ctl_request *req, int timeout_ms, struct rv_error **err);
