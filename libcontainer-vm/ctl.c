/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"

static const char *const command_names[_CTL_COMMAND_MAX] = {
        [CTL_START] = "start",
        [CTL_KILL] = "kill",
        [CTL_EXEC] = "exec",
        [CTL_RESIZE] = "resize",
        [CTL_PS] = "ps",
        [CTL_PAUSE] = "pause",
        [CTL_RESUME] = "resume",
        [CTL_UPDATE] = "update",
        [CTL_STATS] = "stats",
        [CTL_EVENTS] = "events",
        [CTL_MEMBER] = "member",
        [CTL_NET_CHANGED] = "net-changed",
};

struct reply_header {
        int32_t status;
        uint32_t length;
};

const char *ctl_command_name(uint32_t command)
{
        if (command >= _CTL_COMMAND_MAX || command_names[command] == NULL)
                return "unknown";
        return command_names[command];
}

/* Through /proc/self/fd the socket path stays short whatever the root. */
static int ctl_address(int dirfd, struct sockaddr_un *addr)
{
        memset(addr, 0, sizeof(*addr));
        addr->sun_family = AF_UNIX;
        int n = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/" CTL_SOCKET, dirfd);
        return n > 0 && (size_t) n < sizeof(addr->sun_path) ? 0 : -1;
}

int ctl_listen(int dirfd, struct rv_error **err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_un addr;

        if (fd < 0)
                return rv_error_set(err, errno, "ctl socket");
        if (ctl_address(dirfd, &addr) < 0)
                return rv_error_set(err, ENAMETOOLONG, "ctl socket");
        unlinkat(dirfd, CTL_SOCKET, 0);
        if (bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(fd, 16) < 0)
                return rv_error_set(err, errno, "listen on ctl socket");
        return TAKE_FD(fd);
}

static void set_timeout(int fd, int timeout_ms)
{
        struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void ctl_request_clear(struct ctl_request *r)
{
        free(r->payload);
        r->payload = NULL;
        for (size_t i = 0; i < r->n_fds; i++)
                if (r->fds[i] >= 0)
                        close(r->fds[i]);
        r->n_fds = 0;
}

/* Reads what is there of the header, with any fds sent alongside it. */
static int recv_header(struct ctl_conn *c, struct rv_error **err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
                struct cmsghdr align;
        } control;
        struct ctl_request *r = &c->req;
        struct iovec iov = { (char *) &r->h + c->header_got, sizeof(r->h) - c->header_got };
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
        };
        ssize_t n;

        do
                n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                return 0;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *fds = (int *) CMSG_DATA(cm);
                for (size_t i = 0; i < count; i++) {
                        if (r->n_fds < CTL_MAX_FDS)
                                r->fds[r->n_fds++] = fds[i];
                        else
                                close(fds[i]);
                }
        }
        if (n <= 0)
                return rv_error_set(err, n < 0 ? errno : EPROTO, "read ctl request");
        if (msg.msg_flags & MSG_CTRUNC)
                return rv_error_setx(err, EPROTO, "ctl request: too many fds");
        c->header_got += (size_t) n;
        return 0;
}

struct ctl_conn *ctl_conn_accept(int listen_fd, struct rv_error **err)
{
        _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (fd < 0) {
                rv_error_set(err, errno, "accept ctl client");
                return NULL;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                rv_error_set(err, errno, "ctl peer credentials");
                return NULL;
        }
        if (cred.uid != 0 && cred.uid != geteuid()) {
                rv_error_setx(err, EPERM, "ctl peer uid %u refused", (unsigned) cred.uid);
                return NULL;
        }
        struct ctl_conn *c = calloc(1, sizeof(*c));
        if (c == NULL) {
                rv_error_set(err, ENOMEM, "accept ctl client");
                return NULL;
        }
        c->fd = TAKE_FD(fd);
        c->deadline_ms = rv_now_ms() + CTL_REQUEST_DEADLINE_MS;
        return c;
}

int ctl_conn_read(struct ctl_conn *c, struct rv_error **err)
{
        struct ctl_request *r = &c->req;

        if (c->header_got < sizeof(r->h)) {
                if (recv_header(c, err) < 0)
                        return -1;
                if (c->header_got < sizeof(r->h))
                        return 0;
                if (r->h.command == 0 || r->h.command >= _CTL_COMMAND_MAX || r->h.length > CTL_PAYLOAD_MAX)
                        return rv_error_setx(err, EPROTO, "bad ctl request (command %u, %u bytes)",
                                             r->h.command, r->h.length);
                if (r->h.length > 0) {
                        r->payload = malloc(r->h.length + 1);
                        if (r->payload == NULL)
                                return rv_error_set(err, ENOMEM, "ctl request payload");
                        r->payload[r->h.length] = '\0';
                }
        }
        while (c->payload_got < r->h.length) {
                ssize_t n = recv(c->fd, r->payload + c->payload_got, r->h.length - c->payload_got,
                                 MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        return rv_error_setx(err, EPROTO, "read ctl request payload");
                c->payload_got += (size_t) n;
        }
        return 1;
}

void ctl_conn_free(struct ctl_conn *c)
{
        if (c == NULL)
                return;
        ctl_request_clear(&c->req);
        if (c->fd >= 0)
                close(c->fd);
        free(c);
}

/* The monitor's client fds are non-blocking: a client that does not read
 * gets REPLY_WAIT_MS in all to take a reply, then loses it. */
#define REPLY_WAIT_MS 200

static int send_bounded(int fd, const char *p, size_t len, int64_t deadline)
{
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        int64_t left = deadline - rv_now_ms();
                        struct pollfd pfd = { fd, POLLOUT, 0 };
                        if (left <= 0 || poll(&pfd, 1, (int) left) <= 0)
                                return -EAGAIN;
                        continue;
                }
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int ctl_send_reply(int client_fd, int status, const void *payload, size_t len)
{
        struct reply_header h = { .status = status, .length = (uint32_t) len };
        int64_t deadline = rv_now_ms() + REPLY_WAIT_MS;
        int r = send_bounded(client_fd, (const char *) &h, sizeof(h), deadline);
        if (r == 0 && len > 0)
                r = send_bounded(client_fd, payload, len, deadline);
        return r;
}

int ctl_connect(int dirfd, struct rv_error **err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr;

        if (fd < 0)
                return rv_error_set(err, errno, "ctl socket");
        if (ctl_address(dirfd, &addr) < 0)
                return rv_error_set(err, ENAMETOOLONG, "ctl socket");
        if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0)
                return rv_error_set(err, errno, "connect to the container's monitor");
        return TAKE_FD(fd);
}

int ctl_send_request(int fd, const struct ctl_header *h, const void *payload,
                     const int *fds, size_t n_fds, struct rv_error **err)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
                struct cmsghdr align;
        } control;
        struct iovec iov = { (void *) h, sizeof(*h) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (n_fds > CTL_MAX_FDS || h->length > CTL_PAYLOAD_MAX)
                return rv_error_setx(err, EINVAL, "ctl request too large");
        if (n_fds > 0) {
                memset(&control, 0, sizeof(control));
                msg.msg_control = control.buf;
                msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof(*h))
                return rv_error_set(err, n < 0 ? errno : EIO, "send %s to the monitor",
                                    ctl_command_name(h->command));
        if (h->length > 0) {
                int r = rv_write_all(fd, payload, h->length);
                if (r < 0)
                        return rv_error_set(err, -r, "send %s to the monitor", ctl_command_name(h->command));
        }
        return 0;
}

int ctl_read_reply(int fd, int timeout_ms, char **ret_payload, size_t *ret_len,
                   struct rv_error **err)
{
        _cleanup_free_ char *payload = NULL;
        struct reply_header h;
        ssize_t n;

        if (timeout_ms >= 0) {
                struct pollfd pfd = { fd, POLLIN, 0 };
                int r;
                do
                        r = poll(&pfd, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                if (r == 0)
                        return rv_error_setx(err, ETIMEDOUT, "no reply from the monitor");
        }
        set_timeout(fd, 5000);
        n = rv_read_all(fd, &h, sizeof(h));
        if (n != (ssize_t) sizeof(h))
                return rv_error_setx(err, n < 0 ? (int) -n : ECONNRESET, "no reply from the monitor");
        if (h.length > CTL_PAYLOAD_MAX)
                return rv_error_setx(err, EPROTO, "ctl reply too large");
        payload = malloc(h.length + 1);
        if (payload == NULL)
                return rv_error_set(err, ENOMEM, "ctl reply");
        if (rv_read_all(fd, payload, h.length) != (ssize_t) h.length)
                return rv_error_setx(err, ECONNRESET, "truncated reply from the monitor");
        payload[h.length] = '\0';
        if (h.status < 0)
                return rv_error_setx(err, -h.status, "%s", payload);
        if (ret_payload)
                *ret_payload = TAKE_PTR(payload);
        if (ret_len)
                *ret_len = h.length;
        return 0;
}

int ctl_call(int dirfd, const struct ctl_header *h, const void *payload, int timeout_ms,
             char **ret_payload, size_t *ret_len, struct rv_error **err)
{
        _cleanup_close_ int fd = ctl_connect(dirfd, err);

        if (fd < 0)
                return -1;
        if (ctl_send_request(fd, h, payload, NULL, 0, err) < 0)
                return -1;
        if (ctl_read_reply(fd, timeout_ms, ret_payload, ret_len, err) < 0)
                return -1;
        return 0;
}
