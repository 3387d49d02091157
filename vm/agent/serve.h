/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's event loop: one thread, epoll over the channel, a signalfd
 * for SIGCHLD and the processes' pipes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Serves the channel on port_fd (taken) until `shutdown`, then powers the
 * VM off. ready_ms (uptime when boot finished) is reported by `hello`.
 * Never returns. */
__attribute__((noreturn)) void agent_serve(int port_fd, bool debug, int64_t ready_ms);
