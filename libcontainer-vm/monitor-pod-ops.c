/* SPDX-License-Identifier: Apache-2.0 */
/* The commands the sandbox's monitor serves for a pod member beyond its
 * create (docs/ARCHITECTURE.md, "Pods"): start, kill, pause, resume, ps,
 * update, its oom and network events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-oom.h"
#include "libcontainer-vm/monitor-pod-member.h"
#include "libcontainer-vm/monitor-pod.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/status.h"
#include "spec/json.h"
#include "vm/channel/protocol.h"

/* Start, kill, pause, resume: answered on fd. */
void monitor_pod_member_command(struct pod_member *mb, int fd, const struct ctl_request *req)
{
        struct rv_error *err = NULL;
        enum container_op op;
        int r;

        switch (req->h.command) {
        case CTL_START: op = CONTAINER_OP_START; break;
        case CTL_PAUSE: op = CONTAINER_OP_PAUSE; break;
        case CTL_RESUME: op = CONTAINER_OP_RESUME; break;
        case CTL_KILL: op = CONTAINER_OP_SIGNAL; break;
        default:
                ctl_send_error(fd, -ENOTSUP, "this command is not served for a pod's member container yet");
                return;
        }
        if (container_status_check(mb->state->status, op, &err) < 0) {
                ctl_send_error(fd, -err->status, err->msg);
                rv_error_release(&err);
                return;
        }
        if (req->h.command == CTL_KILL) {
                struct proto_signal s = { .signal = req->h.arg, .all = (req->h.flags & CTL_FLAG_ALL) != 0 };
                r = monitor_pod_call(mb, PROTO_SIGNAL_PROCESS, proto_write_signal, &s, &err);
        } else if (req->h.command == CTL_START) {
                r = monitor_pod_call(mb, PROTO_START_CONTAINER, NULL, NULL, &err);
                if (r == 0 && mb->state->status == CONTAINER_CREATED)
                        monitor_pod_member_record(mb, CONTAINER_RUNNING);
        } else if (req->h.command == CTL_PAUSE) {
                r = monitor_pod_call(mb, PROTO_PAUSE_CONTAINER, NULL, NULL, &err);
                if (r == 0) {
                        mb->before_pause = mb->state->status;
                        monitor_pod_member_record(mb, CONTAINER_PAUSED);
                }
        } else {
                r = monitor_pod_call(mb, PROTO_RESUME_CONTAINER, NULL, NULL, &err);
                if (r == 0)
                        monitor_pod_member_record(mb, mb->before_pause);
        }
        monitor_pod_reply_result(fd, r, err);
        rv_error_release(&err);
}

/* The guest's processes of the member; the host pids are its own. */
void monitor_pod_member_ps(struct pod_member *mb, int fd)
{
        struct monitor_ps_of *of = malloc(sizeof(*of) + strlen(mb->id) + 1);
        struct rv_error *tmp_err = NULL;

        if (of == NULL) {
                ctl_send_error(fd, -ENOMEM, "ps: out of memory");
                close(fd);
                return;
        }
        of->host_pid = (int) mb->state->monitor_pid;
        strcpy(of->id, mb->id);
        agent_client_set_target(mb->m->agent, mb->id);
        int r = monitor_request(mb->m, PROTO_LIST_PROCESSES, NULL, NULL, PENDING_PS, fd, of, &tmp_err);
        agent_client_set_target(mb->m->agent, NULL);
        if (r < 0) {
                free(of);
                ctl_send_error(fd, -(tmp_err->status > 0 ? tmp_err->status : EIO), tmp_err->msg);
                rv_error_release(&tmp_err);
                close(fd);
        }
}

int monitor_pod_read_limit(const struct json_value *v, const char *obj, const char *key, int64_t *ret)
{
        const struct json_value *o = json_get(v, obj), *n = o ? json_get(o, key) : NULL;

        *ret = 0;
        return n && json_is_integer(n) && json_read_int64(n, key, ret, NULL) == 0 && *ret > 0;
}

/* The member's guest cgroup; more than the pod's VM has is refused, as
 * at its create (pod-size.c): the VM does not grow while it runs. */
static int member_update_check(struct pod_member *mb, const struct json_value *v, struct rv_error **err)
{
        const struct container_state *vm = mb->m->o->state;
        int64_t bytes, quota, period;

        if (monitor_pod_read_limit(v, "memory", "limit", &bytes) && vm->memory_mib > 0 &&
            bytes > (int64_t) vm->memory_mib * 1024 * 1024)
                return rv_error_setx(err, EINVAL, "memory limit %lld exceeds the pod's VM (%u MiB, sandbox `%s`): "
                                     "the VM cannot grow while it runs; size the pod for it", (long long) bytes,
                                     vm->memory_mib, vm->id);
        if (monitor_pod_read_limit(v, "cpu", "quota", &quota) && vm->vcpus > 0) {
                if (!monitor_pod_read_limit(v, "cpu", "period", &period))
                        period = 100000;
                int64_t need = quota / period + (quota % period != 0);
                if (need > (int64_t) vm->vcpus)
                        return rv_error_setx(err, EINVAL, "cpu quota %lld per %lld µs needs %lld CPUs; the pod's VM has "
                                             "%u (sandbox `%s`)", (long long) quota, (long long) period,
                                             (long long) need, vm->vcpus, vm->id);
        }
        return 0;
}

static void fill_resources(struct json_writer *w, const void *data)
{
        json_write_key(w, "resources");
        json_write_value(w, data);
}

void monitor_pod_member_update(struct pod_member *mb, int fd, const struct ctl_request *req)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        struct rv_error *err = NULL;
        int r;

        if (req->payload == NULL || json_parse(req->payload, req->h.length, &v, &err) < 0 || !json_is_object(v)) {
                ctl_send_error(fd, -EINVAL, err ? err->msg : "update: expected a resources object");
                rv_error_release(&err);
                return;
        }
        r = member_update_check(mb, v, &err);
        if (r == 0)
                r = monitor_pod_call(mb, PROTO_UPDATE_RESOURCES, fill_resources, v, &err);
        int64_t bytes;
        if (r == 0 && monitor_pod_read_limit(v, "memory", "limit", &bytes))
                mb->memory_limit = bytes;       /* what its oom events report */
        monitor_pod_reply_result(fd, r, err);
        rv_error_release(&err);
}

bool monitor_pod_oom(struct monitor *m, const struct json_value *data)
{
        const struct json_value *idv = json_get(data, "id");
        const char *id = NULL;
        struct pod_member *mb;
        _cleanup_free_ char *line = NULL;

        if (idv == NULL || !json_is_string(idv) || json_read_string(idv, "id", &id, NULL) < 0 ||
            (mb = monitor_pod_find(m, id)) == NULL)
                return false;
        line = monitor_oom_event(mb->id, mb->memory_limit, m->o->state->memory_mib);
        if (line)
                monitor_events_send(m, mb->events, line);
        rv_log(RV_LOG_INFO, "member `%s`: out of memory in its guest cgroup", mb->id);
        /* conmon learns it from the member's bundle, as a container's. */
        monitor_oom_tell_bundle(m, mb->state->bundle);
        return true;
}

/* A warm pool VM's container's namespace changed (pool-member's watch):
 * reported, not followed, as a cold VM's after start (monitor-net.c). The
 * payload came with its header. */
void monitor_pod_member_net_changed(struct pod_member *mb, uint32_t length)
{
        char buf[CTL_NET_CHANGED_MAX + 1];
        _cleanup_free_ char *line = NULL;

        /* The member's monitor sends no more (pod-member.c); the payload
         * came in the header's send, so it is here to read. */
        if (length < 4 || length > CTL_NET_CHANGED_MAX ||
            recv(mb->client_fd, buf, length, MSG_DONTWAIT | MSG_WAITALL) != (ssize_t) length)
                return;
        buf[length] = '\0';
        const char *interface = buf, *change = buf + strlen(buf) + 1;
        if (change >= buf + length)
                return;
        rv_debug("member `%s`: network: `%s` %s", mb->id, interface, change);
        if ((line = monitor_net_event(mb->id, interface, change, false)) != NULL)
                monitor_events_send(mb->m, mb->events, line);
}
