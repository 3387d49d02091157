/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's event loop (monitor-loop.c). */
#pragma once

struct agent_client_ops;
struct loop_watch;
struct monitor;
struct rv_error;

/* How the agent client hands the monitor what the agent sends. */
extern const struct agent_client_ops monitor_agent_ops;

/* One turn: waits up to timeout_ms (-1: until something happens or a
 * deadline), handles what is ready. -1 when the channel or the VM failed. */
int monitor_loop_once(struct monitor *m, int timeout_ms, struct rv_error **err);
