/* SPDX-License-Identifier: Apache-2.0 */
/* `ps -ef` rows for list_processes, read from /proc: pids as the
 * container's PID namespace sees them (the last NSpid value). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct json_writer;

/* Writes a JSON array of {pid, ppid, uid, stime, tty, time, cmd}, sorted by
 * pid; processes gone meanwhile are left out. */
void agent_ps_write(const pid_t *pids, size_t n, struct json_writer *w);
