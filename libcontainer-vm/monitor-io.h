/* SPDX-License-Identifier: Apache-2.0 */
/* One process's stdio relayed between host fds and guest streams (the
 * container's init and each exec session have one): the stdio sinks and
 * source (stdio.h), their stream ids, their watches in the loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"
#include "libcontainer-vm/stdio.h"
#include "vm/channel/channel.h"

struct json_writer;
struct rv_error;

/* The stream ids the monitor's processes hold: an id is reused only
 * after its process's stdio was closed (docs/PROTOCOL.md §2). */
struct proc_io_streams {
        uint64_t used[CHANNEL_MAX_STREAMS / 64];
};

/* A terminal is one stream: `in` and `out` share it, `err` is unused. */
/* A terminal's size as its input last left: told to the guest before
 * the input that follows a resize (the resize's own way there, SIGWINCH
 * to whoever holds the pty, can lose the race to the bytes typed after
 * it). */
typedef void (*proc_io_resized_fn)(void *ctx, uint16_t rows, uint16_t cols);

struct proc_io {
        bool terminal;
        struct channel *ch;                     /* borrowed */
        proc_io_resized_fn resized;             /* NULL: sizes arrive only as SIGWINCH */
        void *resized_ctx;
        uint16_t rows, cols;                    /* last told */
        struct stdio_source in;
        struct stdio_sink out, err;
        struct loop_watch w_in, w_out, w_err;
};

#define PROC_IO_INIT { .in = { .fd = -1 }, .out = { .fd = -1 }, .err = { .fd = -1 } }

/* fds: {stdin, stdout, stderr} or, for a terminal, {tty} or {tty in, tty
 * out}; the streams are opened on ch. owned: fds the monitor made. */
int proc_io_open(struct proc_io *io, struct channel *ch, struct proc_io_streams *ids, bool terminal,
                 const int *fds, size_t n_fds, bool owned, struct rv_error **err);
/* The same streams on a new channel (a rebuilt VM). */
int proc_io_reopen(struct proc_io *io, struct channel *ch, struct rv_error **err);
/* A terminal whose size changed since last told: records it, calls
 * io->resized, returns true. */
bool proc_io_check_size(struct proc_io *io);
/* The request's "stdio" object. */
void proc_io_write_stdio(struct json_writer *w, const struct proc_io *io);
/* The sink of one of its streams, or NULL. */
struct stdio_sink *proc_io_sink(struct proc_io *io, uint32_t stream);
bool proc_io_drained(const struct proc_io *io);
/* Registers what may be read or written now. */
int proc_io_watch(struct proc_io *io, struct loop *l, struct rv_error **err);
/* Writes what waits for the host fds, granting the guest credit. */
int proc_io_flush(struct proc_io *io, struct rv_error **err);
/* Flushes until drained or timeout_ms passed (a caller that stopped
 * reading loses the rest). */
void proc_io_drain(struct proc_io *io, int timeout_ms);
/* Out of the loop, streams closed, fds closed, ids free. */
void proc_io_close(struct proc_io *io, struct loop *l, struct proc_io_streams *ids);
