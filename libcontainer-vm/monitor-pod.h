/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's sandbox (docs/ARCHITECTURE.md, "Pods"): the monitor that owns
 * the VM also runs the pod's other containers in it. A member's own
 * monitor (pod-member.c) hands over its stdio, its share trees and its
 * state dir with CTL_MEMBER; here its files are added to the running
 * export, the guest creates it, its ctl.sock is served (start, kill,
 * pause, resume, exec, stats, ps, events, update), its state.json
 * written, and its exit answered on the member monitor's connection. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ctl_request;
struct json_value;
struct monitor;
struct rv_error;
struct stdio_sink;

struct monitor_pod *monitor_pod_new(void);
/* CTL_MEMBER on the sandbox's ctl.sock. */
void monitor_pod_member(struct monitor *m, int fd, struct ctl_request *req);
/* process_exited for container id: true when id is a member's (handled). */
bool monitor_pod_exited(struct monitor *m, const char *id, const struct json_value *data);
/* An oom event for container id (data): true when id is a member's
 * (its `events` clients hear it). */
bool monitor_pod_oom(struct monitor *m, const struct json_value *data);
/* Per turn, as exec sessions: watches, output, the sink of a stream. */
int monitor_pod_watch(struct monitor *m, struct rv_error **err);
int monitor_pod_flush(struct monitor *m, struct rv_error **err);
struct stdio_sink *monitor_pod_sink(struct monitor *m, uint32_t stream);
/* Members whose monitor went are waited for (their exit, bounded) and
 * then go; ms to the next such bound, -1: none. */
int monitor_pod_expire(struct monitor *m);
/* Members still there: the VM stays while any is. */
bool monitor_pod_any(const struct monitor *m);
/* The VM is going: every member's monitor learns it (its connection
 * closes without an exit), its ctl.sock goes. */
void monitor_pod_close(struct monitor *m);
