/* SPDX-License-Identifier: Apache-2.0 */
/* The guest OOM-killed a process of the container: `runvm events`
 * subscribers hear it (runc's {"type":"oom"} with what the VM had, so a
 * container without a limit learns that the VM's size was the bound), and
 * conmon-based callers learn it (cgroup-oom.c). */
#include <inttypes.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "libcontainer-vm/cgroup-oom.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-oom.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"
#include "spec/json.h"

void monitor_oom_tell_bundle(struct monitor *m, const char *bundle)
{
        struct rv_error *tmp_err = NULL;

        /* The bundle is a host path. */
        if (monitor_ns_to_host(&m->ns, &tmp_err) < 0 || host_cgroup_reflect_oom(bundle, &tmp_err) < 0)
                rv_warn("%s", tmp_err->msg);
        rv_error_release(&tmp_err);
        if (monitor_ns_to_view(&m->ns, &tmp_err) < 0)
                rv_warn("%s", tmp_err->msg);
        rv_error_release(&tmp_err);
}

char *monitor_oom_event(const char *id, int64_t limit, unsigned vm_memory_mib)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        char *line = NULL;
        struct rv_error *tmp_err = NULL;

        json_write_object_begin(w);
        json_write_key(w, "type"); json_write_string(w, "oom");
        json_write_key(w, "id"); json_write_string(w, id);
        json_write_key(w, "data");
        json_write_object_begin(w);
        json_write_key(w, "memory_limit");
        if (limit > 0)
                json_write_int64(w, limit);
        else
                json_write_null(w);
        json_write_key(w, "vm_memory_mib");
        json_write_uint64(w, vm_memory_mib);
        json_write_object_end(w);
        json_write_object_end(w);
        if (json_writer_finish(w, &line, NULL, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        return line;
}

void monitor_oom(struct monitor *m)
{
        const struct spec_memory *mem = &m->o->guest_spec->linux_.resources.memory;
        bool limited = mem->has_limit && mem->limit > 0;
        _cleanup_free_ char *line = monitor_oom_event(m->o->state->id, limited ? mem->limit : 0,
                                                      m->o->state->memory_mib);

        if (line)
                monitor_events_publish(m, line);
        if (limited)
                rv_log(RV_LOG_INFO, "out of memory: the container's limit is %" PRId64 " bytes", mem->limit);
        else
                rv_warn("out of memory: the container has no memory limit and its VM has %u MiB "
                        "(default_memory_mib, or org.runvm.vm.memory_mib)", m->o->state->memory_mib);
        monitor_oom_tell_bundle(m, m->o->state->bundle);
}
