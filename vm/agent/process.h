/* SPDX-License-Identifier: Apache-2.0 */
/* A process's stdio relayed over channel streams with credit flow control:
 * stdout/stderr pipes are read only while the host has granted credit;
 * stdin data is written to the pipe without blocking and credited back
 * to the host as it is written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/agent/agent.h"

struct rv_error;

struct agent_stream_out {
        uint32_t stream;                /* 0: none (the process got /dev/null) */
        struct agent_watch watch;       /* the read end of the pipe */
        bool eof_sent;
};

struct agent_stream_in {
        uint32_t stream;
        struct agent_watch watch;       /* the write end of the pipe */
        char *buf;                      /* accepted from the host, not yet written */
        size_t len;
        bool host_eof;
};

struct agent_stdio {
        struct agent_stream_in in;
        struct agent_stream_out out, err;
        uint32_t terminal;              /* opened on the channel only */
};

/* The stream ids the host chose (0: none). terminal is opened like the
 * others but has no pipe: agent_stdio_attach_tty gives it the pty. */
struct agent_stdio_streams { uint32_t in, out, err, terminal; };

/* An empty stdio (no streams, no pipes): safe to abort. */
void agent_stdio_init(struct agent_stdio *s);
/* Opens the streams on the channel and makes the pipes. ret_child_fds gets
 * the process's ends (stdin, stdout, stderr; -1 where the process gets
 * /dev/null), to be closed by the caller after the fork. On failure
 * nothing is left open. */
int agent_stdio_open(struct agent *a, struct agent_stdio *s, const struct agent_stdio_streams *ids,
                     int ret_child_fds[3], struct rv_error **err);
/* Closes every pipe and forgets the streams (no EOF sent). */
void agent_stdio_abort(struct agent *a, struct agent_stdio *s);

/* A terminal: the pty master (taken) relays both ways on the terminal
 * stream opened by agent_stdio_open (reads as output, host DATA written
 * to it; host EOF ignored). */
int agent_stdio_attach_tty(struct agent *a, struct agent_stdio *s, int master, struct rv_error **err);
/* The pty master while it is open, else -1. */
int agent_stdio_tty_fd(const struct agent_stdio *s);

/* DATA or EOF from the host for stream `stream` if it is this stdin.
 * Returns true when the frame was for this process. */
bool agent_stdio_in_data(struct agent *a, struct agent_stdio *s, uint32_t stream,
                         const void *data, size_t len);
bool agent_stdio_in_eof(struct agent *a, struct agent_stdio *s, uint32_t stream);

/* Re-arms the pipes after credit changed or data was queued. */
void agent_stdio_refresh(struct agent *a, struct agent_stdio *s);
/* True once stdout and stderr reached EOF (and their EOF was sent). */
bool agent_stdio_drained(const struct agent_stdio *s);
/* The process is gone and its output had its chance: closes all pipes,
 * sends EOF on the output streams that have not had it yet and closes
 * stdin. */
void agent_stdio_finish(struct agent *a, struct agent_stdio *s);
/* Forgets the streams on the channel (after the exit was reported). */
void agent_stdio_release(struct agent *a, struct agent_stdio *s);
