/* SPDX-License-Identifier: Apache-2.0 */
/* Pseudo-terminals for container processes: the agent opens the master
 * (and keeps it, relaying it on the process's terminal stream); the
 * process gets the slave as stdin, stdout, stderr and controlling tty. */
#pragma once

/* The group of a container's terminals: runc mounts devpts with gid=5. */
#define AGENT_TTY_GID 5

#include <stdint.h>

struct rv_error;
struct spec_box;

/* Opens a pty pair on the devpts instance whose ptmx is `ptmx` (a path,
 * e.g. "/dev/pts/ptmx" or one through /proc/PID/root). Both fds are
 * O_CLOEXEC; the slave is opened with TIOCGPTPEER (no path lookup) and
 * O_NOCTTY. size (process.consoleSize) is applied when present. */
int agent_tty_open(const char *ptmx, const struct spec_box *size, int *ret_master, int *ret_slave,
                   char **ret_slave_name, struct rv_error **err);

/* TIOCSWINSZ on the master. */
int agent_tty_resize(int master, uint32_t height, uint32_t width, struct rv_error **err);
