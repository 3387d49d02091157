/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/container-cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/proc.h"
#include "spec/config.h"
#include "spec/json.h"
#include "vm/agent/blockdev.h"
#include "vm/agent/cgroup.h"
#include "vm/agent/container.h"
#include "vm/agent/ps.h"


#define FREEZE_TIMEOUT_MS 10000
#define FREEZE_POLL_MS 10

void agent_container_freeze_tick(struct agent *a, struct agent_container *c, int64_t now, int *timeout_ms)
{
        _cleanup_error_ struct rv_error *tmp = NULL;
        bool frozen = !c->freeze_target;
        int64_t left;

        if (!c->freeze_pending)
                return;
        if (agent_cgroup_frozen(&c->cgroup, &frozen, &tmp) == 0 && frozen == c->freeze_target) {
                struct json_writer *w = agent_reply_begin(c->freeze_request);
                c->freeze_pending = false;
                if (w != NULL) {
                        agent_write_empty(w);
                        agent_reply_end(a, w);
                }
                return;
        }
        if (now >= c->freeze_deadline) {
                struct rv_error e = { .status = ETIMEDOUT };
                char msg[128];

                c->freeze_pending = false;
                if (c->freeze_target) {
                        /* Half frozen helps no one: thaw again, as runc does. */
                        rv_error_release(&tmp);
                        agent_cgroup_set_freeze(&c->cgroup, false, &tmp);
                        c->paused = false;
                }
                snprintf(msg, sizeof(msg), "container did not %s in %d ms", c->freeze_target ? "freeze" : "thaw",
                         FREEZE_TIMEOUT_MS);
                e.msg = msg;
                agent_reply_error(a, c->freeze_request, &e);
                return;
        }
        left = c->freeze_deadline - now;
        if (left > FREEZE_POLL_MS)
                left = FREEZE_POLL_MS;
        if (*timeout_ms < 0 || left < *timeout_ms)
                *timeout_ms = (int) left;
}

/* Writes cgroup.freeze and answers once cgroup.events says so (bounded;
 * polled from the loop, which keeps serving meanwhile). */
static int container_freeze(struct agent *a, const struct json_value *params, struct json_writer *w, bool freeze,
                            struct rv_error **err)
{
        _cleanup_error_ struct rv_error *tmp = NULL;
        struct agent_container *c;
        bool frozen = false;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (c->state == AGENT_CONTAINER_EXITED)
                return rv_error_setx(err, ESRCH, "container not running");
        if (c->freeze_pending)
                return rv_error_setx(err, EBUSY, "a pause or resume of the container is in progress");
        if (freeze && c->paused)
                return rv_error_setx(err, EBUSY, "container already paused");
        if (!freeze && !c->paused)
                return rv_error_setx(err, EINVAL, "container not paused");
        if (c->cgroup.fd < 0)
                return rv_error_setx(err, EOPNOTSUPP, "container has no cgroup");
        if (agent_cgroup_set_freeze(&c->cgroup, freeze, err) < 0)
                return rv_error_wrap(err, freeze ? "pause" : "resume");
        c->paused = freeze;
        if (agent_cgroup_frozen(&c->cgroup, &frozen, &tmp) == 0 && frozen == freeze) {
                agent_write_empty(w);
                return 0;
        }
        c->freeze_pending = true;
        c->freeze_target = freeze;
        c->freeze_request = agent_request_id(a);
        c->freeze_deadline = rv_now_ms() + FREEZE_TIMEOUT_MS;
        return AGENT_REPLY_LATER;
}

int agent_container_pause(struct agent *a, const struct json_value *params, struct json_writer *w,
                          struct rv_error **err)
{
        return container_freeze(a, params, w, true, err);
}

int agent_container_resume(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err)
{
        return container_freeze(a, params, w, false, err);
}

int agent_container_list_processes(struct agent *a, const struct json_value *params, struct json_writer *w,
                                   struct rv_error **err)
{
        _cleanup_free_ pid_t *pids = NULL;
        struct agent_container *c;
        size_t n = 0;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (c->cgroup.fd < 0)
                return rv_error_setx(err, EOPNOTSUPP, "container has no cgroup");
        if (agent_cgroup_procs(&c->cgroup, &pids, &n, err) < 0)
                return -1;
        json_write_object_begin(w);
        json_write_key(w, "processes");
        agent_ps_write(pids, n, w);
        json_write_object_end(w);
        return 0;
}

int agent_container_stats(struct agent *a, const struct json_value *params, struct json_writer *w,
                          struct rv_error **err)
{
        struct agent_container *c;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (c->cgroup.fd < 0)
                return rv_error_setx(err, EOPNOTSUPP, "container has no cgroup");
        return agent_cgroup_stats(&c->cgroup, c->pid, w, err);
}

int agent_container_update(struct agent *a, const struct json_value *params, struct json_writer *w,
                           struct rv_error **err)
{
        struct agent_container *c;
        struct spec_resources r = { 0 };
        const struct json_value *v;
        int ret;

        if (agent_container_lookup(a, params, &c, err) < 0)
                return -1;
        if (c->state == AGENT_CONTAINER_EXITED)
                return rv_error_setx(err, ESRCH, "container not running");
        v = json_get(params, "resources");
        if (v == NULL)
                return rv_error_setx(err, EINVAL, "`resources`: missing");
        if (spec_resources_from_json(v, "resources", &r, err) < 0)
                return -1;
        r.has = true;
        ret = agent_blockdev_map_rules(&r, err) < 0 ? -1 : agent_cgroup_apply(&c->cgroup, &r, a->progs, err);
        spec_resources_clear(&r);
        if (ret < 0)
                return rv_error_wrap(err, "update");
        agent_write_empty(w);
        return 0;
}
