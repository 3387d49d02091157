/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's event loop: one thread, epoll over the channel, a signalfd
 * for SIGCHLD and the processes' pipes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct agent_bpf_cache;
struct agent_pool_netns;
struct agent_ram;

/* Serves the channel on port_fd (taken) until `shutdown`, then powers the
 * VM off. ready_ms (uptime when boot finished) is reported by `hello`;
 * progs holds the device programs loaded before (vm/agent/warm.h) and
 * those the containers load; pool_netns a pool VM's network namespaces
 * (vm/agent/network.h); ram the RAM still to add (vm/agent/ram.h).
 * Never returns. */
__attribute__((noreturn)) void agent_serve(int port_fd, bool debug, int64_t ready_ms,
                                           struct agent_bpf_cache *progs, struct agent_pool_netns *pool_netns,
                                           struct agent_ram *ram);
