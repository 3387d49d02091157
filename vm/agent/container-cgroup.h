/* SPDX-License-Identifier: Apache-2.0 */
/* A container's cgroup as the host reaches it: pause and resume (answered
 * once cgroup.events agrees), ps, stats, update. */
#pragma once

#include <stdint.h>

#include "vm/agent/agent.h"

int agent_container_list_processes(struct agent *a, const struct json_value *params, struct json_writer *w,
                                   struct rv_error **err);
int agent_container_stats(struct agent *a, const struct json_value *params, struct json_writer *w,
                          struct rv_error **err);
int agent_container_pause(struct agent *a, const struct json_value *params, struct json_writer *w,
                          struct rv_error **err);
int agent_container_resume(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err);
int agent_container_update(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err);
/* A pause or resume still waiting: answers it once done or timed out;
 * lowers *timeout_ms to the next poll. */
void agent_container_freeze_tick(struct agent *a, struct agent_container *c, int64_t now, int *timeout_ms);
