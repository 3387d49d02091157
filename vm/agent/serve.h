/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's event loop: one thread, epoll over the channel, a signalfd
 * for SIGCHLD and the processes' pipes. */
#pragma once

#include <stdbool.h>

/* Serves the channel on port_fd (taken) until `shutdown`, then powers the
 * VM off. Never returns. */
__attribute__((noreturn)) void agent_serve(int port_fd, bool debug);
