/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

struct monitor;

/* The `events` line of an OOM kill: runc's {"type":"oom","id":ID} with
 * data {memory_limit (null when limit is 0), vm_memory_mib}; malloc'ed,
 * or NULL. Shared by containers and pod members. */
char *monitor_oom_event(const char *id, int64_t limit, unsigned vm_memory_mib);

/* conmon-based callers learn of an OOM kill from the bundle's `oom`
 * file (cgroup-oom.h): written from the host's view, the monitor's view
 * restored after. */
void monitor_oom_tell_bundle(struct monitor *m, const char *bundle);
/* The guest OOM-killed in the container: events subscribers and
 * conmon-based callers hear it. */
void monitor_oom(struct monitor *m);
