/* SPDX-License-Identifier: Apache-2.0 */
/* exec sessions in the monitor (monitor-exec.c owns them): an exec
 * client's stdio relayed with its guest process, its signals and
 * resizes forwarded, its exit status answered. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "libcontainer-vm/status.h"

struct channel_message;
struct ctl_request;
struct exec_session;
struct json_value;
struct json_writer;
struct monitor;
struct monitor_execs;
struct rv_error;
struct stdio_sink;

struct monitor_execs *monitor_execs_new(void);

/* CTL_EXEC: the client's fds become a session; exec_process is sent. */
void monitor_exec_start(struct monitor *m, int client_fd, struct ctl_request *req);
/* The same in a pod's member container (target: its id), whose status
 * decides as the container's own does. */
void monitor_exec_start_in(struct monitor *m, int client_fd, struct ctl_request *req, const char *target,
                           enum container_status status);
/* The guest answered exec_process. */
void monitor_exec_started(struct monitor *m, struct exec_session *e, const struct channel_message *msg,
                          int client_fd);
/* process_exited for an exec id. */
void monitor_exec_exited(struct monitor *m, const char *exec_id, const struct json_value *data);
/* Finishes sessions whose process exited and whose output is written
 * (force: all of them, the container is going). */
void monitor_exec_reap(struct monitor *m, bool force);
/* The guest never answered the exec request: the session goes, and the
 * process is killed in case it started after all. */
void monitor_exec_abandon(struct monitor *m, struct exec_session *e);

/* For the loop: the sessions' watches, their output, their sinks. */
int monitor_exec_watch(struct monitor *m, struct rv_error **err);
int monitor_exec_flush(struct monitor *m, struct rv_error **err);
struct stdio_sink *monitor_exec_sink(struct monitor *m, uint32_t stream);
bool monitor_exec_any(const struct monitor *m);
/* The exec clients' host pids (what `ps` adds to the monitor's). */
/* Of the sessions in target's container (NULL: the monitor's own). */
void monitor_exec_write_client_pids(const struct monitor *m, struct json_writer *w, const char *target);
