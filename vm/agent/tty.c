/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "spec/config.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int agent_tty_resize(int master, uint32_t height, uint32_t width, struct rv_error **err)
{
        struct winsize ws = { .ws_row = (unsigned short) height, .ws_col = (unsigned short) width };

        if (height > 0xffff || width > 0xffff)
                return rv_error_setx(err, EINVAL, "terminal size %ux%u out of range", width, height);
        if (ioctl(master, TIOCSWINSZ, &ws) < 0)
                return rv_error_set(err, errno, "set the terminal size");
        return 0;
}

int agent_tty_open(const char *ptmx, const struct spec_box *size, int *ret_master, int *ret_slave,
                   char **ret_slave_name, struct rv_error **err)
{
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        int unlock = 0;
        unsigned int n;

        master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return rv_error_set(err, errno, "open `%s`", ptmx);
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return rv_error_set(err, errno, "unlock the pty");
        if (ioctl(master, TIOCGPTN, &n) < 0)
                return rv_error_set(err, errno, "pty number");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return rv_error_set(err, errno, "open the pty slave");
        if (size != NULL && size->has && agent_tty_resize(master, size->height, size->width, err) < 0)
                return -1;
        if (ret_slave_name != NULL && asprintf(ret_slave_name, "/dev/pts/%u", n) < 0)
                return rv_error_set(err, ENOMEM, "pty name");
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}
