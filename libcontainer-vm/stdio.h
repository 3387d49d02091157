/* SPDX-License-Identifier: Apache-2.0 */
/* The container's stdio on the host side: the monitor's fds 0, 1, 2 (the
 * caller's pipes, files, sockets or tty) relayed to and from guest
 * streams with the channel's credit, so a caller that stops reading
 * stdout stalls only stdout. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct channel;
struct rv_error;

/* Guest stream -> host fd. */
struct stdio_sink {
        int fd;
        uint32_t stream;
        bool use_send;          /* a socket: MSG_DONTWAIT instead of O_NONBLOCK */
        char *buf;
        size_t len, cap;
        bool eof;               /* the guest closed the stream */
        bool broken;            /* the host fd failed (EPIPE): data is dropped */
};

/* Host fd -> guest stream. */
struct stdio_source {
        int fd;
        uint32_t stream;
        bool use_recv;
        bool eof;               /* EOF read and sent */
};

/* Both take fd as the caller handed it to us; pipes and ttys get a file
 * description of their own so O_NONBLOCK never leaks to the caller. An
 * fd the monitor made itself (owned) is just made non-blocking. */
int stdio_sink_init(struct stdio_sink *s, int fd, uint32_t stream, bool owned, struct rv_error **err);
void stdio_sink_clear(struct stdio_sink *s);
/* Buffers DATA from the guest (bounded by the credit we granted). */
int stdio_sink_push(struct stdio_sink *s, const void *data, size_t len, struct rv_error **err);
/* Writes what it can and grants the guest credit for what left the buffer. */
int stdio_sink_flush(struct stdio_sink *s, struct channel *ch, struct rv_error **err);
bool stdio_sink_want_write(const struct stdio_sink *s);
/* EOF received and everything written (or dropped). */
bool stdio_sink_done(const struct stdio_sink *s);

/* Points fds 0, 1 and 2 at /dev/null: a process that no longer relays
 * the caller's stdio (it has a console, or the monitor took it over) lets
 * go of it, so a caller waiting for EOF there is not held up. */
int stdio_release(struct rv_error **err);

int stdio_source_init(struct stdio_source *s, int fd, uint32_t stream, bool owned, struct rv_error **err);
/* A terminal fd serving both directions: one description of our own,
 * read-write and non-blocking, at the same fd number (then init both
 * ends as owned). */
int stdio_reopen_tty(int fd, struct rv_error **err);
/* Reads as much as the stream's credit allows and sends it; sends EOF at
 * end of input. */
int stdio_source_pump(struct stdio_source *s, struct channel *ch, struct rv_error **err);
bool stdio_source_want_read(const struct stdio_source *s, const struct channel *ch);
