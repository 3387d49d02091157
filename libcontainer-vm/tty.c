/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"

static int send_master(const char *path, int fd, struct rv_error **err)
{
        _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        static const char name[] = "/dev/ptmx";
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct iovec iov = { (void *) name, sizeof(name) - 1 };
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1,
                .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *c;

        if (sock < 0)
                return rv_error_set(err, errno, "console socket");
        if (strlen(path) >= sizeof(addr.sun_path))
                return rv_error_setx(err, ENAMETOOLONG, "console socket `%s`: path too long", path);
        strcpy(addr.sun_path, path);
        if (connect(sock, (struct sockaddr *) &addr, sizeof(addr)) < 0)
                return rv_error_set(err, errno, "connect to console socket `%s`", path);
        memset(&control, 0, sizeof(control));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
                return rv_error_set(err, errno, "send the console to `%s`", path);
        return 0;
}

int tty_console_create(const char *console_socket, uint16_t height, uint16_t width,
                       int *ret_slave, struct rv_error **err)
{
        _cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        _cleanup_close_ int slave = -EBADF;
        struct termios t;
        char name[64];

        if (master < 0)
                return rv_error_set(err, errno, "open a pty");
        if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                return rv_error_set(err, errno, "set up the pty");
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return rv_error_set(err, errno, "open `%s`", name);
        if (height && width) {
                struct winsize ws = { .ws_row = height, .ws_col = width };
                if (ioctl(master, TIOCSWINSZ, &ws) < 0)
                        return rv_error_set(err, errno, "set the console size");
        }
        if (tcgetattr(slave, &t) < 0)
                return rv_error_set(err, errno, "console attributes");
        cfmakeraw(&t);
        if (tcsetattr(slave, TCSANOW, &t) < 0)
                return rv_error_set(err, errno, "console raw mode");
        if (send_master(console_socket, master, err) < 0)
                return -1;
        *ret_slave = TAKE_FD(slave);
        return 0;
}

int tty_make_controlling(int fd, struct rv_error **err)
{
        if (ioctl(fd, TIOCSCTTY, 0) < 0)
                return rv_error_set(err, errno, "make the console the controlling terminal");
        return 0;
}

int tty_get_size(int fd, uint16_t *ret_height, uint16_t *ret_width)
{
        struct winsize ws;

        if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
                return -errno;
        *ret_height = ws.ws_row;
        *ret_width = ws.ws_col;
        return 0;
}

int tty_set_raw(int fd, struct termios *ret_saved, bool *ret_changed, struct rv_error **err)
{
        struct termios t;

        *ret_changed = false;
        if (!isatty(fd))
                return 0;
        if (tcgetattr(fd, ret_saved) < 0)
                return rv_error_set(err, errno, "terminal attributes");
        t = *ret_saved;
        cfmakeraw(&t);
        /* Output post-processing stays: the guest's tty sends "\r\n" itself,
         * but a raw host tty must not eat what the caller expects. */
        if (tcsetattr(fd, TCSANOW, &t) < 0)
                return rv_error_set(err, errno, "terminal raw mode");
        *ret_changed = true;
        return 0;
}

void tty_restore(int fd, const struct termios *saved)
{
        tcsetattr(fd, TCSANOW, saved);
}
