/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side terminals: the pty pair whose master goes to the caller's
 * console socket, raw mode, window sizes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

struct rv_error;

/* Opens a pty pair, applies the size (when height and width are not 0),
 * sends the master to the console socket (CONTRACT.md §5: one message,
 * name "/dev/ptmx", one SCM_RIGHTS fd) and returns the slave, in raw mode
 * (the line discipline that matters is the guest's). */
int tty_console_create(const char *console_socket, uint16_t height, uint16_t width,
                       int *ret_slave, struct rv_error **err);
/* Makes fd the calling process's controlling terminal (after setsid). */
int tty_make_controlling(int fd, struct rv_error **err);
int tty_get_size(int fd, uint16_t *ret_height, uint16_t *ret_width);
/* Raw mode on a tty the caller uses (foreground run -t); restore with
 * tty_restore. Returns 0 without changing anything when fd is no tty. */
int tty_set_raw(int fd, struct termios *ret_saved, bool *ret_changed, struct rv_error **err);
void tty_restore(int fd, const struct termios *saved);
