/* SPDX-License-Identifier: Apache-2.0 */
/* Every container and the processes exec'ed in them: what the loop routes
 * to whichever process it names (a reaped pid, stdin data, a signal, a
 * terminal size) and the periodic tick (exits to report, deadlines). The
 * one module that knows both container.h and exec.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/agent/agent.h"

int agent_container_signal(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err);
int agent_container_resize_tty(struct agent *a, const struct json_value *params, struct json_writer *w,
                               struct rv_error **err);

/* A child was reaped (SIGCHLD): records a container init's or an exec'ed
 * process's exit. False when the pid is none of theirs. */
bool agent_container_reaped(struct agent *a, pid_t pid, int status);
/* Sends the exits whose output is drained or whose drain deadline passed;
 * lowers *timeout_ms to the next deadline. */
void agent_containers_tick(struct agent *a, int *timeout_ms);
/* Re-arms every process's pipes (after credit or stdin data arrived). */
void agent_containers_refresh(struct agent *a);
/* Routes DATA / EOF from the host to a process's stdin. */
void agent_containers_stream_data(struct agent *a, uint32_t stream, const void *data, size_t len);
void agent_containers_stream_eof(struct agent *a, uint32_t stream);
