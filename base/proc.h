/* SPDX-License-Identifier: Apache-2.0 */
/* Process identity (pid + start time), pidfds, deadlines. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat (clock ticks since boot). -errno on failure. */
int rv_proc_start_time(pid_t pid, uint64_t *ret_start_time);
/* The process exists and is the one that started at start_time (0: any). */
bool rv_proc_alive(pid_t pid, uint64_t start_time);
int rv_pidfd_open(pid_t pid);
/* The pid of the process behind pidfd as the /proc mounted at /proc
 * numbers it ("Pid:" of its fdinfo): the host's pid while /proc is the
 * host's, whatever pid namespace the caller is in. -errno on failure. */
pid_t rv_pidfd_proc_pid(int pidfd);
/* The caller's own pid as /proc numbers it (readlink /proc/self). */
pid_t rv_proc_self_pid(void);
/* Returns -1 with errno set on failure, as kill(2). */
int rv_pidfd_send_signal(int pidfd, int sig);
/* Waits until pidfd becomes readable (process exited) or timeout_ms passes.
 * Returns 0 when it exited, -ETIMEDOUT otherwise. */
int rv_pidfd_wait(int pidfd, int timeout_ms);
/* Exits the way a process that exited with code, or was killed by sig
 * (when > 0), did: raising the same signal (core dumps off) so a waiting
 * parent sees it; 128+sig for signals that do not terminate. */
_Noreturn void rv_exit_like(int code, int sig);
/* Monotonic milliseconds. */
int64_t rv_now_ms(void);
