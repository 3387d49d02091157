/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pod-hooks.h"

#include <stdlib.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "hooks/hooks.h"
#include "libcontainer-vm/monitor-options.h"
#include "libcontainer-vm/monitor-sync.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"
#include "spec/json.h"
#include "spec/state.h"

static struct spec_state hook_state(const struct monitor_options *o, enum container_status status)
{
        return (struct spec_state) {
                .id = o->state->id, .status = container_status_name(status),
                .pid = status != CONTAINER_STOPPED ? o->state->monitor_pid : 0,
                .bundle = o->state->bundle,
                .annotations = o->guest_spec->annotations,
                .n_annotations = o->guest_spec->n_annotations,
        };
}

int pod_hooks_run(const struct monitor_options *o, const struct spec_hook_list *l, const char *phase,
                  enum container_status status, struct rv_error **err)
{
        _cleanup_free_ char *json = NULL;
        struct spec_state s = hook_state(o, status);

        if (l->n == 0)
                return 0;
        if (hooks_state_json(&s, &json, err) < 0)
                return -1;
        return monitor_sync_run_hooks(o->sync_fd, phase, json, err);
}

int pod_hooks_save_poststop(const struct monitor_options *o, struct rv_error **err)
{
        struct spec_state s = hook_state(o, CONTAINER_STOPPED);
        return hooks_poststop_save(o->dir->dirfd, &o->guest_spec->hooks.poststop, &s, err);
}

void pod_hooks_write_guest_state(struct json_writer *w, const struct monitor_options *o)
{
        struct spec_state s = hook_state(o, CONTAINER_CREATED);

        if (o->guest_spec->hooks.start_container.n == 0)
                return;
        json_write_key(w, "hook_state");
        spec_state_write_hook(w, &s);
}
