/* SPDX-License-Identifier: Apache-2.0 */
/* What the monitor records and what hooks see: the status (only as the
 * transition table allows), state.json, the hooks' state. */
#include "libcontainer-vm/monitor-state.h"

#include <errno.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "hooks/hooks.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-sync.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"
#include "spec/state.h"

/* Records status (only as the transition table allows); a create
 * depends on it (a full state root fails it). */
int monitor_record(struct monitor *m, enum container_status status, struct rv_error **err)
{
        enum container_status now = m->o->state->status;

        if (!container_status_can_become(now, status))
                return rv_error_setx(err, EINVAL, "save state: a %s container cannot become %s",
                                     container_status_name(now), container_status_name(status));
        m->o->state->status = status;
        return state_save(m->o->dir->dirfd, m->o->state, err);
}

void monitor_save_state(struct monitor *m, enum container_status status)
{
        struct rv_error *tmp_err = NULL;

        if (monitor_record(m, status, &tmp_err) < 0)
                rv_log(RV_LOG_WARNING, "save state: %s", tmp_err->msg);
        rv_error_release(&tmp_err);
}

/* The state hooks read (CONTRACT.md §5): pid = the monitor, the pid
 * callers see; none once stopped. */
struct spec_state monitor_hook_state(const struct monitor *m, enum container_status status)
{
        return (struct spec_state) {
                .id = m->o->state->id, .status = container_status_name(status),
                .pid = status != CONTAINER_STOPPED ? m->ns.host_pid : 0,
                .bundle = m->o->state->bundle,
                .annotations = m->o->guest_spec->annotations,
                .n_annotations = m->o->guest_spec->n_annotations,
        };
}

/* Host hooks run in the bundle, as runc's do (it chdirs there). */
int monitor_run_hooks(struct monitor *m, const struct spec_hook_list *l, const char *phase,
                     enum container_status status, struct rv_error **err)
{
        _cleanup_free_ char *json = NULL;
        struct spec_state s = monitor_hook_state(m, status);

        if (l->n == 0)
                return 0;
        if (hooks_state_json(&s, &json, err) < 0)
                return -1;
        if (m->o->sync_fd >= 0)
                return monitor_sync_run_hooks(m->o->sync_fd, phase, json, err);
        return hooks_run(l, phase, json, m->o->state->bundle, err);
}

/* Kept in the state dir for delete, and for the failure path here. */
int monitor_save_poststop(struct monitor *m, struct rv_error **err)
{
        struct spec_state s = monitor_hook_state(m, CONTAINER_STOPPED);
        return hooks_poststop_save(m->o->dir->dirfd, &m->o->guest_spec->hooks.poststop, &s, err);
}
