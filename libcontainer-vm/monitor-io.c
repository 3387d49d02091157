/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/tty.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/error.h"
#include "base/proc.h"
#include "spec/json.h"

static bool id_used(const struct proc_io_streams *ids, uint32_t s)
{
        return (ids->used[s / 64] >> (s % 64)) & 1;
}

static void id_set(struct proc_io_streams *ids, uint32_t s, bool used)
{
        if (used)
                ids->used[s / 64] |= UINT64_C(1) << (s % 64);
        else
                ids->used[s / 64] &= ~(UINT64_C(1) << (s % 64));
}

/* The lowest id free here and on the channel, opened there. */
static int stream_open(struct proc_io *io, struct proc_io_streams *ids, uint32_t *ret, struct rv_error **err)
{
        for (uint32_t s = 1; s < CHANNEL_MAX_STREAMS; s++) {
                if (id_used(ids, s) || channel_stream_is_open(io->ch, s))
                        continue;
                if (channel_stream_open(io->ch, s, err) < 0)
                        return -1;
                id_set(ids, s, true);
                *ret = s;
                return 0;
        }
        return rv_error_setx(err, EMFILE, "no free stream");
}

int proc_io_open(struct proc_io *io, struct channel *ch, struct proc_io_streams *ids, bool terminal,
                 const int *fds, size_t n_fds, bool owned, struct rv_error **err)
{
        uint32_t s;

        io->terminal = terminal;
        io->ch = ch;
        io->in.fd = io->out.fd = io->err.fd = -1;
        if (terminal) {
                if (stream_open(io, ids, &s, err) < 0)
                        return -1;
                int in = fds[0], out = n_fds > 1 ? fds[1] : fds[0];
                /* One tty for both directions must stay one read-write fd. */
                if (in == out && !owned) {
                        if (stdio_reopen_tty(in, err) < 0)
                                return -1;
                        owned = true;
                }
                if (stdio_source_init(&io->in, in, s, owned, err) < 0 ||
                    stdio_sink_init(&io->out, out, s, owned, err) < 0)
                        return -1;
                return 0;
        }
        for (int i = 0; i < 3; i++) {
                if (stream_open(io, ids, &s, err) < 0)
                        return -1;
                int r = i == 0 ? stdio_source_init(&io->in, fds[0], s, owned, err)
                        : stdio_sink_init(i == 1 ? &io->out : &io->err, fds[i], s, owned, err);
                if (r < 0)
                        return -1;
        }
        return 0;
}

int proc_io_reopen(struct proc_io *io, struct channel *ch, struct rv_error **err)
{
        uint32_t streams[3] = { io->in.stream, io->out.stream, io->err.stream };

        io->ch = ch;
        for (size_t i = 0; i < 3; i++)
                if (streams[i] && !channel_stream_is_open(ch, streams[i]) &&
                    channel_stream_open(ch, streams[i], err) < 0)
                        return -1;
        /* Input already at its end is ended again for the new guest. */
        io->in.eof = false;
        return 0;
}

void proc_io_write_stdio(struct json_writer *w, const struct proc_io *io)
{
        json_write_object_begin(w);
        if (io->terminal) {
                json_write_key(w, "terminal"); json_write_int64(w, io->in.stream);
        } else {
                json_write_key(w, "stdin"); json_write_int64(w, io->in.stream);
                json_write_key(w, "stdout"); json_write_int64(w, io->out.stream);
                json_write_key(w, "stderr"); json_write_int64(w, io->err.stream);
        }
        json_write_object_end(w);
}

struct stdio_sink *proc_io_sink(struct proc_io *io, uint32_t stream)
{
        if (io->out.fd >= 0 && io->out.stream == stream)
                return &io->out;
        if (io->err.fd >= 0 && io->err.stream == stream)
                return &io->err;
        return NULL;
}

bool proc_io_drained(const struct proc_io *io)
{
        return !stdio_sink_want_write(&io->out) && !stdio_sink_want_write(&io->err);
}

bool proc_io_check_size(struct proc_io *io)
{
        uint16_t rows, cols;

        if (!io->terminal || io->in.fd < 0 || tty_get_size(io->in.fd, &rows, &cols) < 0 ||
            (rows == io->rows && cols == io->cols) || rows == 0 || cols == 0)
                return false;
        io->rows = rows;
        io->cols = cols;
        if (io->resized)
                io->resized(io->resized_ctx, rows, cols);
        return true;
}

static int on_source(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        struct proc_io *io = w->data;

        /* A terminal's one fd: writable is for the sink, flushed after the turn. */
        if (!(rev & (EPOLLIN | EPOLLHUP | EPOLLERR)) || io->in.fd < 0)
                return 0;
        if (io->terminal && io->resized)
                proc_io_check_size(io);
        return stdio_source_pump(&io->in, io->ch, err);
}

static int on_sink(void *ctx, struct loop_watch *w, uint32_t rev, struct rv_error **err)
{
        return 0;               /* flushed after every turn */
}

/* A watch's fd stays the same until it is removed (proc_io_close). */
static int watch(struct loop *l, struct loop_watch *w, int fd, uint32_t events, loop_fn fn, struct proc_io *io,
                 struct rv_error **err)
{
        if (w->events == 0) {
                if (fd < 0 || events == 0)
                        return 0;
                *w = (struct loop_watch) LOOP_WATCH_INIT(fn, io);
                w->fd = fd;
        }
        return loop_watch_set(l, w, events, err);
}

int proc_io_watch(struct proc_io *io, struct loop *l, struct rv_error **err)
{
        uint32_t in = io->in.fd >= 0 && stdio_source_want_read(&io->in, io->ch) ? EPOLLIN : 0;
        uint32_t out = stdio_sink_want_write(&io->out) ? EPOLLOUT : 0;
        uint32_t errout = stdio_sink_want_write(&io->err) ? EPOLLOUT : 0;

        /* One fd for both directions is one watch (epoll keys on the fd). */
        if (io->in.fd >= 0 && io->in.fd == io->out.fd)
                return watch(l, &io->w_in, io->in.fd, in | out, on_source, io, err);
        if (watch(l, &io->w_in, io->in.fd, in, on_source, io, err) < 0 ||
            watch(l, &io->w_out, io->out.fd, out, on_sink, io, err) < 0 ||
            watch(l, &io->w_err, io->err.fd, errout, on_sink, io, err) < 0)
                return -1;
        return 0;
}

int proc_io_flush(struct proc_io *io, struct rv_error **err)
{
        if (stdio_sink_flush(&io->out, io->ch, err) < 0 || stdio_sink_flush(&io->err, io->ch, err) < 0)
                return -1;
        return 0;
}

void proc_io_drain(struct proc_io *io, int timeout_ms)
{
        int64_t deadline = rv_now_ms() + timeout_ms;
        struct rv_error *tmp_err = NULL;

        while (!proc_io_drained(io) && rv_now_ms() < deadline) {
                struct pollfd pfd[2] = {
                        { stdio_sink_want_write(&io->out) ? io->out.fd : -1, POLLOUT, 0 },
                        { stdio_sink_want_write(&io->err) ? io->err.fd : -1, POLLOUT, 0 },
                };
                if (poll(pfd, 2, 100) < 0 && errno != EINTR)
                        break;
                if (proc_io_flush(io, &tmp_err) < 0)
                        break;
        }
        rv_error_release(&tmp_err);
}

void proc_io_close(struct proc_io *io, struct loop *l, struct proc_io_streams *ids)
{
        int fds[3] = { io->in.fd, io->out.fd, io->err.fd };
        uint32_t streams[3] = { io->in.stream, io->out.stream, io->err.stream };

        loop_watch_remove(l, &io->w_in);
        loop_watch_remove(l, &io->w_out);
        loop_watch_remove(l, &io->w_err);
        for (int i = 0; i < 3; i++) {
                if (streams[i] && io->ch)
                        channel_stream_close(io->ch, streams[i]);
                if (streams[i])
                        id_set(ids, streams[i], false);
                /* the same fd may serve twice (a terminal) */
                bool seen = false;
                for (int j = 0; j < i; j++)
                        seen |= fds[j] == fds[i];
                if (fds[i] >= 0 && !seen)
                        close(fds[i]);
        }
        stdio_sink_clear(&io->out);
        stdio_sink_clear(&io->err);
        io->in.fd = io->out.fd = io->err.fd = -1;
        io->in.stream = io->out.stream = io->err.stream = 0;
}
