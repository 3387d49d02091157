/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/monitor-pod.h"
#include "libcontainer-vm/monitor-pod-member.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/cgroup-oom.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-ns.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-userns.h"
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/pool-nic.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/status.h"
#include "spec/json.h"
#include "vm/channel/protocol.h"
#include "vm/vm.h"

/* How long a member whose monitor went may take to exit once killed. */
#define ORPHAN_EXIT_TIMEOUT_MS 5000

struct monitor_pod {
        struct pod_member *list;
};

struct monitor_pod *monitor_pod_new(void)
{
        return calloc(1, sizeof(struct monitor_pod));
}

void monitor_pod_member_record(struct pod_member *mb, enum container_status status)
{
        struct rv_error *tmp_err = NULL;

        mb->state->status = status;
        if (state_save(mb->dirfd, mb->state, &tmp_err) < 0) {
                rv_log(RV_LOG_WARNING, "member `%s`: save state: %s", mb->id, tmp_err->msg);
                rv_error_release(&tmp_err);
        }
}

/* Its files leave the export once its container ended (or is being
 * killed): a long-lived pod does not pile up mounts. The guest's mounts
 * of them went with the member's mount namespace. */
static void member_unshare(struct monitor *m, struct pod_member *mb)
{
        struct rv_error *tmp_err = NULL;
        char prefix[300];

        if (mb->id == NULL || m->vm == NULL || m->vm_gone || m->channel_hangup)
                return;
        /* The guest forgets an ended member (a killed one's answer is
         * EBUSY; monitor_pod_exited asks again when its exit comes). */
        /* With disks, waited for: the guest unmounts their filesystems
         * and lets their slots go (vm/agent/blockdev-slot.h) first. */
        if (mb->n_disks > 0 && monitor_pod_call(mb, PROTO_REMOVE_CONTAINER, NULL, NULL, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        agent_client_set_target(m->agent, mb->id);
        if (mb->n_disks == 0 && monitor_send_request(m, PROTO_REMOVE_CONTAINER, NULL, NULL, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        agent_client_set_target(m->agent, NULL);
        snprintf(prefix, sizeof(prefix), ".runvm-pods/%s", mb->id);     /* POD_MEMBERS_DIR, pod-member.h */
        if (vm_remove_shares(m->vm, prefix, &tmp_err) < 0) {
                rv_log(RV_LOG_WARNING, "member `%s`: %s", mb->id, tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        /* Its disks leave the VM: the host's devices are free again. */
        for (size_t i = 0; i < mb->n_disks; i++) {
                if (vm_remove_disk(m->vm, mb->disk_ids[i], &tmp_err) < 0) {
                        rv_log(RV_LOG_WARNING, "member `%s`: %s", mb->id, tmp_err->msg);
                        rv_error_release(&tmp_err);
                }
                free(mb->disk_ids[i]);
        }
        mb->n_disks = 0;
}

static void member_free(struct monitor *m, struct pod_member *mb)
{
        for (struct pod_member **p = &m->pod->list; *p; p = &(*p)->next) {
                if (*p == mb) {
                        *p = mb->next;
                        break;
                }
        }
        proc_io_close(&mb->io, &m->loop, &m->streams);
        /* Its `events` end with it, as a container's do. */
        if (mb->events) {
                monitor_events_close_list(m, mb->events);
                free(mb->events);
        }
        loop_watch_remove(&m->loop, &mb->w_client);
        loop_watch_remove(&m->loop, &mb->w_listen);
        if (mb->client_fd >= 0)
                close(mb->client_fd);
        if (mb->listen_fd >= 0) {
                unlinkat(mb->dirfd, CTL_SOCKET, 0);
                close(mb->listen_fd);
        }
        if (mb->dirfd >= 0)
                close(mb->dirfd);
        container_state_free(mb->state);
        for (size_t i = 0; i < mb->n_disks; i++)
                free(mb->disk_ids[i]);
        free(mb->disk_ids);
        free(mb->id);
        free(mb);
}

/* Its exit (read into its state) recorded and told; the member freed. */
static void member_ended(struct monitor *m, struct pod_member *mb)
{
        char reply[64];

        mb->busy++;     /* its unshare's calls dispatch too */
        proc_io_drain(&mb->io, DRAIN_TIMEOUT_MS);
        mb->state->exited = true;
        monitor_pod_member_record(mb, CONTAINER_STOPPED);
        if (mb->state->exit_signal)
                snprintf(reply, sizeof(reply), "{\"signal\":%d}", mb->state->exit_signal);
        else
                snprintf(reply, sizeof(reply), "{\"exit_code\":%d}", mb->state->exit_code);
        /* With disks, its exit is told once they are out of the VM (its
         * filesystems written back): the host may use them right after. */
        bool disks = mb->n_disks > 0;
        if (disks)
                member_unshare(m, mb);
        if (mb->client_fd >= 0)
                ctl_send_reply(mb->client_fd, 0, reply, strlen(reply));
        rv_log(RV_LOG_INFO, "member `%s` exited: %s", mb->id, reply);
        if (!disks)
                member_unshare(m, mb);
        member_free(m, mb);
}

/* A synchronous call dispatches whatever else arrives, the member's exit
 * among them: while one of its requests is handled, its exit waits, and
 * is finished when the request is. */
static void member_release(struct monitor *m, struct pod_member *mb)
{
        if (--mb->busy == 0 && mb->exit_pending)
                member_ended(m, mb);
}

struct pod_member *monitor_pod_find(struct monitor *m, const char *id)
{
        for (struct pod_member *mb = m->pod->list; mb; mb = mb->next)
                if (id && mb->id && strcmp(mb->id, id) == 0)
                        return mb;
        return NULL;
}

/* One synchronous request naming the member. */
int monitor_pod_call(struct pod_member *mb, enum proto_method method, agent_fill_fn fill, const void *data,
                       struct rv_error **err)
{
        agent_client_set_target(mb->m->agent, mb->id);
        int timeout_ms = REQUEST_TIMEOUT_MS + (method == PROTO_START_CONTAINER ? mb->start_hooks_ms : 0);
        int r = monitor_call(mb->m, method, fill, data, timeout_ms, err);
        agent_client_set_target(mb->m->agent, NULL);
        return r;
}

/* --- the member's ctl.sock ---------------------------------------------------- */

void monitor_pod_reply_result(int fd, int r, struct rv_error *err)
{
        if (r == 0) {
                ctl_send_reply(fd, 0, NULL, 0);
                return;
        }
        int e = err->status > 0 ? err->status : EIO;
        ctl_send_error(fd, -e, e == ESRCH ? "container not running" : err->msg);
}

/* Takes fd: replies and closes it, or an exec session (or `events`)
 * keeps it. */
static void member_request(struct pod_member *mb, int fd, struct ctl_request *req)
{
        if (req->h.command == CTL_EXEC) {
                monitor_exec_start_in(mb->m, fd, req, mb->id, mb->state->status);
                return;
        }
        if (req->h.command == CTL_PS) {
                monitor_pod_member_ps(mb, fd);
                return;
        }
        if (req->h.command == CTL_EVENTS) {
                if (monitor_events_add(mb->events, fd) < 0) {
                        ctl_send_error(fd, -ENOMEM, "events: out of memory");
                        close(fd);
                        return;
                }
                ctl_send_reply(fd, 0, NULL, 0);
                return;
        }
        if (req->h.command == CTL_UPDATE) {
                monitor_pod_member_update(mb, fd, req);
                close(fd);
                return;
        }
        /* The member's own guest cgroup; the answer goes as the guest's. */
        if (req->h.command == CTL_STATS) {
                agent_client_set_target(mb->m->agent, mb->id);
                monitor_forward(mb->m, fd, PENDING_REPLY_RESULT, PROTO_STATS, NULL, NULL);
                agent_client_set_target(mb->m->agent, NULL);
                return;
        }
        monitor_pod_member_command(mb, fd, req);
        close(fd);
}


/* Requests are small and whole at once: read with a bound, never
 * holding the sandbox longer than that. */
static int on_listen(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        struct pod_member *mb = w->data;
        struct rv_error *tmp_err = NULL;
        struct ctl_conn *c = ctl_conn_accept(mb->listen_fd, &tmp_err);
        int64_t deadline = rv_now_ms() + 2000;
        int r = 0;

        /* A member that joined before the sandbox started. */
        if (c == NULL || monitor_userns_check_peer(mb->m, c->fd, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                ctl_conn_free(c);
                return 0;
        }
        while ((r = ctl_conn_read(c, &tmp_err)) == 0 && rv_now_ms() < deadline) {
                struct pollfd p = { c->fd, POLLIN, 0 };
                poll(&p, 1, (int) (deadline - rv_now_ms()));
        }
        if (r == 1) {
                int fd = c->fd;
                c->fd = -1;
                mb->busy++;
                member_request(mb, fd, &c->req);
        } else if (r < 0)
                rv_debug("member `%s`: ctl: %s", mb->id, tmp_err->msg);
        rv_error_release(&tmp_err);
        ctl_conn_free(c);
        if (r == 1)
                member_release(mb->m, mb);
        return 0;
}

/* The member's monitor sends CTL_KILL (signals it received), or goes:
 * then its container goes too, as a process dies with its runc. */
static int on_client(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err)
{
        struct pod_member *mb = w->data;
        struct monitor *m = mb->m;
        struct ctl_header h;
        ssize_t n = recv(mb->client_fd, &h, sizeof(h), MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        /* Its terminal's new size is read from the sandbox's own end of it. */
        if (n == (ssize_t) sizeof(h) && h.command == CTL_RESIZE) {
                proc_io_check_size(&mb->io);
                return 0;
        }
        if (n == (ssize_t) sizeof(h) && h.command == CTL_NET_CHANGED) {
                monitor_pod_member_net_changed(mb, h.length);
                return 0;
        }
        if (n == (ssize_t) sizeof(h) && h.command == CTL_KILL) {
                struct proto_signal s = { .signal = h.arg, .all = false };
                agent_client_set_target(m->agent, mb->id);
                if (monitor_send_request(m, PROTO_SIGNAL_PROCESS, proto_write_signal, &s, err) < 0)
                        rv_error_release(err);
                agent_client_set_target(m->agent, NULL);
                return 0;
        }
        rv_log(RV_LOG_INFO, "member `%s`: its monitor went; killing the container", mb->id);
        struct proto_signal s = { .signal = SIGKILL, .all = true };
        agent_client_set_target(m->agent, mb->id);
        if (monitor_send_request(m, PROTO_SIGNAL_PROCESS, proto_write_signal, &s, err) < 0)
                rv_error_release(err);
        agent_client_set_target(m->agent, NULL);
        /* Its exit is awaited (bounded) and it goes as any member does
         * (member_ended): its state says `stopped`, its files leave the
         * export once its processes are gone, and its disks' filesystems
         * are written back and their slots let go from inside the guest,
         * where a device_del takes pciehp's 5 s, holding this monitor,
         * with a filesystem still mounted. */
        if (!m->vm_gone && !m->channel_hangup) {
                loop_watch_remove(&m->loop, &mb->w_client);
                close(mb->client_fd);
                mb->client_fd = -1;
                mb->orphan_deadline = rv_now_ms() + ORPHAN_EXIT_TIMEOUT_MS;
                return 0;
        }
        mb->busy++;     /* freed here, its exit or not */
        member_unshare(m, mb);
        member_free(m, mb);
        return 0;
}

int monitor_pod_expire(struct monitor *m)
{
        int64_t now = rv_now_ms(), next = -1;

        for (struct pod_member *mb = m->pod ? m->pod->list : NULL, *after; mb; mb = after) {
                after = mb->next;
                if (mb->orphan_deadline == 0)
                        continue;
                if (mb->orphan_deadline > now || mb->busy > 0) {
                        int64_t left = mb->orphan_deadline > now ? mb->orphan_deadline - now : 1;
                        if (next < 0 || left < next)
                                next = left;
                        continue;
                }
                rv_log(RV_LOG_WARNING, "member `%s`: no exit %d ms after it was killed", mb->id,
                       ORPHAN_EXIT_TIMEOUT_MS);
                mb->busy++;
                member_unshare(m, mb);
                member_free(m, mb);
                after = m->pod->list;   /* the unshare's calls dispatch: start again */
        }
        return (int) next;
}

/* --- CTL_MEMBER ------------------------------------------------------------- */

/* The size-before-input rule of monitor-io.h, for the member's init. */
static void member_resized(void *ctx, uint16_t rows, uint16_t cols)
{
        struct pod_member *mb = ctx;
        struct proto_resize r = { NULL, rows, cols };
        struct rv_error *tmp_err = NULL;

        if (mb->state == NULL || mb->state->status == CONTAINER_CREATING) {
                mb->io.rows = mb->io.cols = 0;  /* not told: again with the next input */
                return;
        }
        agent_client_set_target(mb->m->agent, mb->id);
        if (monitor_send_request(mb->m, PROTO_RESIZE_TTY, proto_write_resize, &r, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        agent_client_set_target(mb->m->agent, NULL);
}

struct create_params {
        const struct json_value *spec, *hook_state;
        const struct proc_io *io;
};

static void fill_create(struct json_writer *w, const void *data)
{
        const struct create_params *p = data;
        json_write_key(w, "spec");
        json_write_value(w, p->spec);
        json_write_key(w, "stdio");
        proc_io_write_stdio(w, p->io);
        /* For its startContainer hooks, which the agent runs in the guest. */
        if (p->hook_state) {
                json_write_key(w, "hook_state");
                json_write_value(w, p->hook_state);
        }
}

static int member_create(struct monitor *m, struct pod_member *mb, struct ctl_request *req, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        const char *id = NULL;

        if (m->exited || m->vm_gone)
                return rv_error_setx(err, ESRCH, "the sandbox's VM is stopping");
        /* Its trees are attached from virtiofsd's mount namespace, which
         * a monitor in a user namespace may not enter (docs/SECURITY.md). */
        if (monitor_userns_entered(m))
                return rv_error_setx(err, ENOTSUP, "the sandbox's monitor is in the container's user "
                                     "namespace: a pod member cannot join it");
        if (req->n_fds < MEMBER_FD_TREES)
                return rv_error_setx(err, EINVAL, "a member brings its state dir and stdio");
        if (req->payload == NULL || json_parse(req->payload, req->h.length, &v, err) < 0 ||
            json_read_string(json_get(v, "id"), "id", &id, err) < 0)
                return -1;
        if (monitor_pod_find(m, id) != NULL || strcmp(id, m->o->state->id) == 0)
                return rv_error_setx(err, EEXIST, "container `%s` is already in this pod", id);
        if ((mb->id = strdup(id)) == NULL)
                return rv_error_set(err, ENOMEM, "member");
        mb->dirfd = req->fds[MEMBER_FD_DIR];
        req->fds[MEMBER_FD_DIR] = -1;
        if (state_load(mb->dirfd, &mb->state, err) < 0)
                return rv_error_wrap(err, "member `%s`", id);
        const struct json_value *spec = json_get(v, "spec"), *lx = spec ? json_get(spec, "linux") : NULL;
        monitor_pod_read_limit(lx ? json_get(lx, "resources") : NULL, "memory", "limit", &mb->memory_limit);
        int64_t hooks_ms = 0;
        const struct json_value *hv = json_get(v, "start_hooks_ms");
        if (hv && json_is_integer(hv) && json_read_int64(hv, "start_hooks_ms", &hooks_ms, NULL) == 0 &&
            hooks_ms > 0 && hooks_ms < 24 * 3600 * 1000)
                mb->start_hooks_ms = (int) hooks_ms;
        if (monitor_pod_add_shares(m, json_get(v, "shares"), req, err) < 0)
                return rv_error_wrap(err, "member `%s`", id);
        if (monitor_pod_add_disks(m, mb, json_get(v, "disks"), MEMBER_FD_TREES + json_array_size(json_get(v, "shares")),
                      req, err) < 0)
                return rv_error_wrap(err, "member `%s`", id);
        /* A terminal: its input and output end (the third slot is unused). */
        bool terminal = (req->h.flags & CTL_FLAG_TERMINAL) != 0;
        int fds[3] = { req->fds[MEMBER_FD_STDIN], req->fds[MEMBER_FD_STDOUT], req->fds[MEMBER_FD_STDERR] };
        if (proc_io_open(&mb->io, m->ch, &m->streams, terminal, fds, terminal ? 2 : 3, false, err) < 0)
                return -1;
        for (int i = MEMBER_FD_STDIN; i <= (terminal ? MEMBER_FD_STDOUT : MEMBER_FD_STDERR); i++)
                req->fds[i] = -1;
        if (terminal) {
                mb->io.resized = member_resized;
                mb->io.resized_ctx = mb;
        }
        /* A warm pool VM's container brings the namespace the engine made. */
        const struct json_value *network = json_get(v, "network");
        if (network && pool_nic_configure(m, network, err) < 0)
                return rv_error_wrap(err, "member `%s`", id);
        struct create_params p = { json_get(v, "spec"), json_get(v, "hook_state"), &mb->io };
        if (monitor_pod_call(mb, PROTO_CREATE_CONTAINER, fill_create, &p, err) < 0)
                return -1;
        monitor_pod_member_record(mb, CONTAINER_CREATED);
        if ((req->h.flags & CTL_FLAG_AUTOSTART) && monitor_pod_call(mb, PROTO_START_CONTAINER, NULL, NULL, err) < 0)
                return -1;
        if (req->h.flags & CTL_FLAG_AUTOSTART)
                monitor_pod_member_record(mb, CONTAINER_RUNNING);
        mb->listen_fd = ctl_listen(mb->dirfd, err);
        if (mb->listen_fd < 0)
                return rv_error_wrap(err, "member `%s`", id);
        return 0;
}

void monitor_pod_member(struct monitor *m, int fd, struct ctl_request *req)
{
        struct rv_error *err = NULL;
        struct pod_member *mb = calloc(1, sizeof(*mb));

        if (mb == NULL) {
                ctl_send_error(fd, -ENOMEM, "member: out of memory");
                close(fd);
                return;
        }
        /* Held until its create is answered (member_release). */
        *mb = (struct pod_member) { .m = m, .client_fd = -1, .dirfd = -1, .listen_fd = -1, .io = PROC_IO_INIT, .busy = 1,
                                    .events = monitor_events_new(),
                                    .w_client = LOOP_WATCH_INIT(on_client, NULL),
                                    .w_listen = LOOP_WATCH_INIT(on_listen, NULL) };
        mb->w_client.data = mb->w_listen.data = mb;
        mb->next = m->pod->list;
        m->pod->list = mb;
        if (mb->events == NULL)
                rv_error_set(&err, ENOMEM, "member");
        if (err != NULL || member_create(m, mb, req, &err) < 0) {
                rv_log(RV_LOG_ERROR, "%s", err->msg);
                ctl_send_error(fd, -(err->status > 0 ? err->status : EIO), err->msg);
                rv_error_release(&err);
                close(fd);
                if (mb->id && mb->state && mb->state->status == CONTAINER_CREATED) {
                        struct proto_signal s = { .signal = SIGKILL, .all = true };
                        monitor_pod_call(mb, PROTO_SIGNAL_PROCESS, proto_write_signal, &s, &err);
                        rv_error_release(&err);
                }
                member_unshare(m, mb);
                member_free(m, mb);
                return;
        }
        rv_log(RV_LOG_INFO, "member `%s` created in the pod", mb->id);
        mb->client_fd = fd;
        ctl_send_reply(fd, 0, NULL, 0);
        member_release(m, mb);
}

/* --- in the loop ------------------------------------------------------------ */

bool monitor_pod_exited(struct monitor *m, const char *id, const struct json_value *data)
{
        struct pod_member *mb = monitor_pod_find(m, id);

        if (mb == NULL && id != NULL && strcmp(id, m->o->state->id) != 0) {
                /* A member whose monitor went before its exit: the guest
                 * can forget it now. */
                struct rv_error *tmp_err = NULL;
                agent_client_set_target(m->agent, id);
                if (monitor_send_request(m, PROTO_REMOVE_CONTAINER, NULL, NULL, &tmp_err) < 0)
                        rv_error_release(&tmp_err);
                agent_client_set_target(m->agent, NULL);
                return true;
        }
        if (mb == NULL)
                return false;
        monitor_read_exit(data, &mb->state->exit_code, &mb->state->exit_signal);
        mb->exit_pending = true;
        if (mb->busy == 0)
                member_ended(m, mb);
        return true;
}

int monitor_pod_watch(struct monitor *m, struct rv_error **err)
{
        for (struct pod_member *mb = m->pod->list; mb; mb = mb->next) {
                /* Between turns: those that left the last one are freed. */
                monitor_events_reap(mb->events);
                if (proc_io_watch(&mb->io, &m->loop, err) < 0 ||
                    monitor_events_watch_list(m, mb->events, err) < 0)
                        return -1;
                if (mb->client_fd >= 0 && mb->w_client.events == 0) {
                        mb->w_client.fd = mb->client_fd;
                        if (loop_watch_set(&m->loop, &mb->w_client, EPOLLIN, err) < 0)
                                return -1;
                }
                if (mb->listen_fd >= 0 && mb->w_listen.events == 0) {
                        mb->w_listen.fd = mb->listen_fd;
                        if (loop_watch_set(&m->loop, &mb->w_listen, EPOLLIN, err) < 0)
                                return -1;
                }
        }
        return 0;
}

int monitor_pod_flush(struct monitor *m, struct rv_error **err)
{
        for (struct pod_member *mb = m->pod->list; mb; mb = mb->next)
                if (proc_io_flush(&mb->io, err) < 0)
                        return -1;
        return 0;
}

struct stdio_sink *monitor_pod_sink(struct monitor *m, uint32_t stream)
{
        struct stdio_sink *s = NULL;

        for (struct pod_member *mb = m->pod->list; s == NULL && mb; mb = mb->next)
                s = proc_io_sink(&mb->io, stream);
        return s;
}

bool monitor_pod_any(const struct monitor *m)
{
        return m->pod != NULL && m->pod->list != NULL;
}

void monitor_pod_close(struct monitor *m)
{
        while (m->pod && m->pod->list)
                member_free(m, m->pod->list);
}
