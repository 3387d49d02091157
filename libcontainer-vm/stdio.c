/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "vm/channel/channel.h"

/* Regular files never block; sockets take per-call MSG_DONTWAIT; anything
 * else (pipes, ttys, /dev/null) is reopened through /proc so O_NONBLOCK
 * sits on our own file description, not the caller's. */
static int make_nonblocking(int fd, int accmode, bool owned, bool *ret_socket, struct rv_error **err)
{
        struct stat st;
        char path[64];

        *ret_socket = false;
        if (owned) {
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                        return rv_error_set(err, errno, "make fd %d non-blocking", fd);
                return 0;
        }
        if (fstat(fd, &st) < 0)
                return rv_error_set(err, errno, "stat fd %d", fd);
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
                return 0;
        if (S_ISSOCK(st.st_mode)) {
                *ret_socket = true;
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int nfd = open(path, accmode | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (nfd < 0) {
                /* Not reopenable (e.g. a pipe from another user namespace):
                 * share the caller's description rather than block. */
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                        return rv_error_set(err, errno, "make fd %d non-blocking", fd);
                return 0;
        }
        if (dup3(nfd, fd, O_CLOEXEC) < 0) {
                int saved = errno;
                close(nfd);
                return rv_error_set(err, saved, "dup fd %d", fd);
        }
        close(nfd);
        return 0;
}

int stdio_sink_init(struct stdio_sink *s, int fd, uint32_t stream, bool owned, struct rv_error **err)
{
        memset(s, 0, sizeof(*s));
        s->fd = fd;
        s->stream = stream;
        return make_nonblocking(fd, O_WRONLY, owned, &s->use_send, err);
}

void stdio_sink_clear(struct stdio_sink *s)
{
        free(s->buf);
        s->buf = NULL;
        s->len = s->cap = 0;
}

int stdio_sink_push(struct stdio_sink *s, const void *data, size_t len, struct rv_error **err)
{
        if (s->broken)
                return 0;
        if (s->len + len > s->cap) {
                size_t ncap = s->cap ? s->cap : 65536;
                while (ncap < s->len + len)
                        ncap *= 2;
                char *n = realloc(s->buf, ncap);
                if (n == NULL)
                        return rv_error_set(err, ENOMEM, "buffer output");
                s->buf = n;
                s->cap = ncap;
        }
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        return 0;
}

int stdio_sink_flush(struct stdio_sink *s, struct channel *ch, struct rv_error **err)
{
        size_t done = 0;

        while (done < s->len && !s->broken) {
                ssize_t n = s->use_send ? send(s->fd, s->buf + done, s->len - done, MSG_DONTWAIT | MSG_NOSIGNAL)
                                        : write(s->fd, s->buf + done, s->len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        /* The reader went away: keep the guest flowing, as a
                         * process writing to a closed pipe would see EPIPE there. */
                        rv_debug("stream %u: write: %s; dropping further output", s->stream, strerror(errno));
                        s->broken = true;
                        break;
                }
                done += (size_t) n;
        }
        if (s->broken)
                done = s->len;
        if (done > 0) {
                memmove(s->buf, s->buf + done, s->len - done);
                s->len -= done;
                if (!s->eof && channel_stream_is_open(ch, s->stream) &&
                    channel_send_credit(ch, s->stream, (uint32_t) done, err) < 0)
                        return -1;
        }
        return 0;
}

bool stdio_sink_want_write(const struct stdio_sink *s)
{
        return s->len > 0 && !s->broken;
}

bool stdio_sink_done(const struct stdio_sink *s)
{
        return s->eof && (s->len == 0 || s->broken);
}

int stdio_source_init(struct stdio_source *s, int fd, uint32_t stream, bool owned, struct rv_error **err)
{
        memset(s, 0, sizeof(*s));
        s->fd = fd;
        s->stream = stream;
        return make_nonblocking(fd, O_RDONLY, owned, &s->use_recv, err);
}

bool stdio_source_want_read(const struct stdio_source *s, const struct channel *ch)
{
        return !s->eof && channel_stream_send_credit(ch, s->stream) > 0;
}

/* Read straight into the channel's output queue: one copy less per byte. */
int stdio_source_pump(struct stdio_source *s, struct channel *ch, struct rv_error **err)
{
        while (!s->eof) {
                size_t room = CHANNEL_MAX_DATA_PAYLOAD;
                uint8_t *buf;

                if (channel_stream_send_credit(ch, s->stream) == 0)
                        return 0;
                buf = channel_data_reserve(ch, s->stream, &room, err);
                if (buf == NULL)
                        return -1;
                ssize_t n = s->use_recv ? recv(s->fd, buf, room, MSG_DONTWAIT) : read(s->fd, buf, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        /* An unreadable stdin (EIO: the console's master was
                         * closed) ends input, as EOF would. */
                        rv_debug("stdin: read: %s", strerror(errno));
                        n = 0;
                }
                if (n == 0) {
                        s->eof = true;
                        return channel_send_eof(ch, s->stream, err);
                }
                if (channel_data_commit(ch, s->stream, (size_t) n, err) < 0)
                        return -1;
                /* Do not let one source monopolize the loop or the queue. */
                if (channel_pending_bytes(ch) > (1u << 20))
                        return 0;
        }
        return 0;
}

int stdio_reopen_tty(int fd, struct rv_error **err)
{
        char path[64];
        int nfd;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        nfd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (nfd < 0)
                return rv_error_set(err, errno, "reopen the terminal");
        if (dup3(nfd, fd, O_CLOEXEC) < 0) {
                int saved = errno;
                close(nfd);
                return rv_error_set(err, saved, "reopen the terminal");
        }
        close(nfd);
        return 0;
}

int stdio_release(struct rv_error **err)
{
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null < 0)
                return rv_error_set(err, errno, "open /dev/null");
        for (int fd = 0; fd <= 2; fd++)
                if (dup2(null, fd) < 0)
                        return rv_error_set(err, errno, "release stdio");
        return 0;
}
