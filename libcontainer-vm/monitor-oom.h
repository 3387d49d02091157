/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

struct monitor;

/* The guest OOM-killed in the container: events subscribers and
 * conmon-based callers hear it. */
void monitor_oom(struct monitor *m);
