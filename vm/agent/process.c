/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "vm/channel/channel.h"

/* The container's stdio pipes: 1 MiB (the default pipe-max-size) rather
 * than 64 KiB lets the workload and the relay each move a window's worth
 * per wake-up (docs/PERFORMANCE.md, stdio). */
#define STDIO_PIPE_SIZE (1 << 20)
/* Output queued for the port beyond this waits for the next turn, so one
 * stream cannot starve the others or grow the queue without bound. */
#define OUT_QUEUE_MAX (1u << 20)

static void out_handler(struct agent *a, struct agent_watch *w, uint32_t revents);
static void in_handler(struct agent *a, struct agent_watch *w, uint32_t revents);

static void send_out_eof(struct agent *a, struct agent_stream_out *o)
{
        _cleanup_error_ struct rv_error *err = NULL;

        agent_watch_close(a, &o->watch);
        if (o->stream == 0 || o->eof_sent)
                return;
        o->eof_sent = true;
        if (channel_send_eof(agent_channel(a), o->stream, &err) < 0)
                agent_channel_failed(a, &err);
}

/* Reads until the pipe is empty, the credit is spent or enough is queued
 * for the port: under TCG a wake-up costs more than the bytes, so each one
 * moves as much as the window allows. Read straight into the channel's
 * queue: every copy is the emulated CPU's. */
static void out_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        struct agent_stream_out *o = agent_container_of(w, struct agent_stream_out, watch);
        struct channel *ch = agent_channel(a);
        _cleanup_error_ struct rv_error *err = NULL;

        while (w->fd >= 0 && channel_pending_bytes(ch) < OUT_QUEUE_MAX) {
                size_t room = CHANNEL_MAX_DATA_PAYLOAD;
                uint8_t *buf;
                ssize_t n;

                if (channel_stream_send_credit(ch, o->stream) == 0) {
                        agent_watch_set(a, w, 0);       /* re-armed when credit comes */
                        return;
                }
                buf = channel_data_reserve(ch, o->stream, &room, &err);
                if (buf == NULL) {
                        agent_channel_failed(a, &err);
                        return;
                }
                n = read(w->fd, buf, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        rv_debug("stream %u: read: %s", o->stream, strerror(errno));
                        n = 0;
                }
                if (n == 0) {
                        send_out_eof(a, o);
                        return;
                }
                if (channel_data_commit(ch, o->stream, (size_t) n, &err) < 0) {
                        agent_channel_failed(a, &err);
                        return;
                }
                if ((size_t) n < room)
                        return;         /* the pipe is empty: no need for the EAGAIN */
        }
}

static void grant(struct agent *a, struct agent_stream_in *in, size_t bytes)
{
        _cleanup_error_ struct rv_error *err = NULL;

        if (bytes == 0)
                return;
        if (channel_send_credit(agent_channel(a), in->stream, (uint32_t) bytes, &err) < 0)
                agent_channel_failed(a, &err);
}

/* The process no longer reads stdin: what the host sends is dropped, but
 * credited so the host never waits on it. */
static void in_close(struct agent *a, struct agent_stream_in *in)
{
        agent_watch_close(a, &in->watch);
        if (in->len > 0)
                grant(a, in, in->len);
        free(in->buf);
        in->buf = NULL;
        in->len = 0;
}

/* Writes what is buffered; returns bytes written (credited to the host). */
static void in_write(struct agent *a, struct agent_stream_in *in)
{
        size_t done = 0;

        while (done < in->len) {
                ssize_t n = write(in->watch.fd, in->buf + done, in->len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        rv_debug("stream %u: write: %s", in->stream, strerror(errno));
                        grant(a, in, done);
                        memmove(in->buf, in->buf + done, in->len - done);
                        in->len -= done;
                        in_close(a, in);
                        return;
                }
                done += (size_t) n;
        }
        grant(a, in, done);
        memmove(in->buf, in->buf + done, in->len - done);
        in->len -= done;
        if (in->len == 0 && in->host_eof)
                in_close(a, in);
}

static void in_handler(struct agent *a, struct agent_watch *w, uint32_t revents)
{
        struct agent_stream_in *in = agent_container_of(w, struct agent_stream_in, watch);

        if (w->fd < 0)
                return;
        if (revents & EPOLLERR) {
                in_close(a, in);        /* the reader is gone */
                return;
        }
        in_write(a, in);
}

bool agent_stdio_in_data(struct agent *a, struct agent_stdio *s, uint32_t stream,
                         const void *data, size_t len)
{
        struct agent_stream_in *in = &s->in;
        char *nbuf;

        if (in->stream == 0 || in->stream != stream)
                return false;
        if (in->watch.fd < 0 || in->host_eof) {
                grant(a, in, len);
                return true;
        }
        /* Nothing waits before it: straight from the frame to the pipe,
         * and only what the pipe does not take is copied. */
        bool full = false;

        if (in->len == 0) {
                size_t done = 0;
                while (done < len) {
                        ssize_t n = write(in->watch.fd, (const char *) data + done, len - done);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno != EAGAIN) {
                                        rv_debug("stream %u: write: %s", in->stream, strerror(errno));
                                        grant(a, in, len);
                                        in_close(a, in);
                                        return true;
                                }
                                full = true;
                                break;
                        }
                        done += (size_t) n;
                }
                grant(a, in, done);
                data = (const char *) data + done;
                len -= done;
                if (len == 0)
                        return true;
        }
        /* Bounded by the credit granted: never more than the initial
         * window is outstanding. */
        nbuf = realloc(in->buf, in->len + len);
        if (nbuf == NULL) {
                rv_warn("stream %u: out of memory, stdin data dropped", stream);
                grant(a, in, len);
                return true;
        }
        in->buf = nbuf;
        memcpy(in->buf + in->len, data, len);
        in->len += len;
        if (!full)
                in_write(a, in);
        return true;
}

bool agent_stdio_in_eof(struct agent *a, struct agent_stdio *s, uint32_t stream)
{
        struct agent_stream_in *in = &s->in;

        if (in->stream == 0 || in->stream != stream)
                return false;
        /* A tty has no half-close: EOF on a terminal stream is ignored
         * (docs/PROTOCOL.md §2). */
        if (s->terminal != 0)
                return true;
        in->host_eof = true;
        if (in->len == 0)
                in_close(a, in);
        return true;
}

void agent_stdio_refresh(struct agent *a, struct agent_stdio *s)
{
        struct agent_stream_out *outs[] = { &s->out, &s->err };

        for (size_t i = 0; i < ARRAY_SIZE(outs); i++) {
                struct agent_stream_out *o = outs[i];
                if (o->watch.fd < 0)
                        continue;
                agent_watch_set(a, &o->watch,
                                channel_stream_send_credit(agent_channel(a), o->stream) > 0 ? EPOLLIN : 0);
        }
        if (s->in.watch.fd >= 0)
                agent_watch_set(a, &s->in.watch, s->in.len > 0 ? EPOLLOUT : 0);
}

bool agent_stdio_drained(const struct agent_stdio *s)
{
        return s->out.watch.fd < 0 && s->err.watch.fd < 0;
}

void agent_stdio_finish(struct agent *a, struct agent_stdio *s)
{
        send_out_eof(a, &s->out);
        send_out_eof(a, &s->err);
        in_close(a, &s->in);
}

void agent_stdio_release(struct agent *a, struct agent_stdio *s)
{
        uint32_t ids[] = { s->in.stream, s->out.stream, s->err.stream, s->terminal };

        /* A terminal's id is in, out and terminal at once: closed once. */
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen = seen || ids[j] == ids[i];
                if (ids[i] != 0 && !seen)
                        channel_stream_close(agent_channel(a), ids[i]);
        }
        s->in.stream = s->out.stream = s->err.stream = s->terminal = 0;
}

void agent_stdio_abort(struct agent *a, struct agent_stdio *s)
{
        agent_watch_close(a, &s->out.watch);
        agent_watch_close(a, &s->err.watch);
        agent_watch_close(a, &s->in.watch);
        free(s->in.buf);
        s->in.buf = NULL;
        s->in.len = 0;
        agent_stdio_release(a, s);
}

void agent_stdio_init(struct agent_stdio *s)
{
        memset(s, 0, sizeof(*s));
        s->in.watch = (struct agent_watch) { .fd = -EBADF, .handler = in_handler };
        s->out.watch = (struct agent_watch) { .fd = -EBADF, .handler = out_handler };
        s->err.watch = (struct agent_watch) { .fd = -EBADF, .handler = out_handler };
}

static int make_pipe(int fds[2], struct rv_error **err)
{
        if (pipe2(fds, O_CLOEXEC) < 0)
                return rv_error_set(err, errno, "pipe");
        /* Only faster: a lower pipe-max-size keeps the default 64 KiB. */
        (void) fcntl(fds[0], F_SETPIPE_SZ, STDIO_PIPE_SIZE);
        return 0;
}

int agent_stdio_open(struct agent *a, struct agent_stdio *s, const struct agent_stdio_streams *ids,
                     int ret_child_fds[3], struct rv_error **err)
{
        uint32_t want[4] = { ids->in, ids->out, ids->err, ids->terminal };
        int child[3] = { -1, -1, -1 };

        agent_stdio_init(s);

        /* Stream 0 is control: as a stdio id it means "none". */
        for (int i = 0; i < 4; i++)
                for (int j = 0; j < i; j++)
                        if (want[i] != 0 && want[i] == want[j])
                                return rv_error_setx(err, EINVAL, "stdio uses stream %u twice", want[i]);
        for (int i = 0; i < 3; i++) {
                int fds[2];

                if (want[i] == 0)
                        continue;
                if (channel_stream_open(agent_channel(a), want[i], err) < 0)
                        goto fail;
                if (i == 0)
                        s->in.stream = want[i];
                else if (i == 1)
                        s->out.stream = want[i];
                else
                        s->err.stream = want[i];
                if (make_pipe(fds, err) < 0)
                        goto fail;
                if (i == 0) {
                        child[0] = fds[0];
                        s->in.watch.fd = fds[1];
                } else {
                        child[i] = fds[1];
                        (i == 1 ? &s->out : &s->err)->watch.fd = fds[0];
                }
                if (fcntl(fds[i == 0 ? 1 : 0], F_SETFL, O_NONBLOCK) < 0) {
                        rv_error_set(err, errno, "set a stdio pipe non-blocking");
                        goto fail;
                }
        }
        if (ids->terminal != 0) {
                if (channel_stream_open(agent_channel(a), ids->terminal, err) < 0)
                        goto fail;
                s->terminal = ids->terminal;
        }
        memcpy(ret_child_fds, child, sizeof(child));
        return 0;
fail:
        for (int i = 0; i < 3; i++)
                if (child[i] >= 0)
                        close(child[i]);
        agent_stdio_abort(a, s);
        return rv_error_wrap(err, "stdio");
}

int agent_stdio_attach_tty(struct agent *a, struct agent_stdio *s, int master, struct rv_error **err)
{
        int wfd;

        if (s->terminal == 0)
                return rv_error_setx(err, EINVAL, "no terminal stream");
        if (fcntl(master, F_SETFL, O_NONBLOCK) < 0)
                return rv_error_set(err, errno, "set the pty master non-blocking");
        /* epoll keys on the fd number: the write side gets its own. */
        wfd = fcntl(master, F_DUPFD_CLOEXEC, 3);
        if (wfd < 0)
                return rv_error_set(err, errno, "dup the pty master");
        s->out.stream = s->in.stream = s->terminal;
        s->out.watch.fd = master;
        s->in.watch.fd = wfd;
        return 0;
}

int agent_stdio_tty_fd(const struct agent_stdio *s)
{
        return s->terminal != 0 ? s->out.watch.fd : -1;
}
