/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "libcontainer-vm/base/cleanup.h"
#include "libcontainer-vm/base/error.h"
#include "libcontainer-vm/base/fs.h"

static const char *const command_names[_CTL_COMMAND_MAX] = {
        [CTL_START] = "start",
        [CTL_KILL] = "kill",
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

int ctl_accept(int listen_fd, struct ctl_request *ret, struct rv_error **err)
{
        _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        struct ucred cred;
        socklen_t len = sizeof(cred);
        ssize_t n;

        if (fd < 0)
                return rv_error_set(err, errno, "accept ctl client");
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return rv_error_set(err, errno, "ctl peer credentials");
        if (cred.uid != 0 && cred.uid != geteuid())
                return rv_error_setx(err, EPERM, "ctl peer uid %u refused", (unsigned) cred.uid);
        /* A request is a few bytes sent at once: a peer that trickles is refused. */
        set_timeout(fd, 2000);
        n = rv_read_all(fd, ret, sizeof(*ret));
        if (n != (ssize_t) sizeof(*ret))
                return rv_error_set(err, n < 0 ? (int) -n : EPROTO, "read ctl request");
        if (ret->command == 0 || ret->command >= _CTL_COMMAND_MAX)
                return rv_error_setx(err, EPROTO, "unknown ctl command %u", ret->command);
        return TAKE_FD(fd);
}

int ctl_send_reply(int client_fd, int status, const char *message)
{
        struct ctl_reply r = { .status = status };

        if (message)
                snprintf(r.message, sizeof(r.message), "%s", message);
        return rv_write_all(client_fd, &r, sizeof(r));
}

int ctl_call(int dirfd, const struct ctl_request *req, int timeout_ms, struct rv_error **err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr;
        struct ctl_reply reply;
        ssize_t n;
        int r;

        if (fd < 0)
                return rv_error_set(err, errno, "ctl socket");
        if (ctl_address(dirfd, &addr) < 0)
                return rv_error_set(err, ENAMETOOLONG, "ctl socket");
        if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0)
                return rv_error_set(err, errno, "connect to the container's monitor");
        set_timeout(fd, timeout_ms);
        r = rv_write_all(fd, req, sizeof(*req));
        if (r < 0)
                return rv_error_set(err, -r, "send %s to the monitor", ctl_command_name(req->command));
        n = rv_read_all(fd, &reply, sizeof(reply));
        if (n != (ssize_t) sizeof(reply)) {
                int e = n < 0 ? (int) -n : ECONNRESET;
                if (e == EAGAIN)
                        e = ETIMEDOUT;
                return rv_error_set(err, e, "%s: no reply from the monitor", ctl_command_name(req->command));
        }
        reply.message[sizeof(reply.message) - 1] = '\0';
        if (reply.status < 0)
                return rv_error_setx(err, -reply.status, "%s", reply.message);
        return 0;
}
