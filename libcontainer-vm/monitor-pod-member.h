/* SPDX-License-Identifier: Apache-2.0 */
/* A pod member as the sandbox's monitor keeps it (monitor-pod.c), shared
 * with the commands it serves for it (monitor-pod-ops.c). Private to
 * those two. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/loop.h"
#include "libcontainer-vm/agent-client.h"
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/status.h"

/* fds of CTL_MEMBER, in order; the share trees follow, then the disks. */
enum { MEMBER_FD_DIR, MEMBER_FD_STDIN, MEMBER_FD_STDOUT, MEMBER_FD_STDERR, MEMBER_FD_TREES };

struct ctl_request;
struct json_value;
struct monitor;
struct rv_error;

struct pod_member {
        char *id;
        struct monitor *m;
        int client_fd;                  /* the member's monitor; -1 once gone */
        int dirfd;                      /* its state dir */
        int listen_fd;                  /* its ctl.sock, served here */
        struct container_state *state;  /* its state.json, written here */
        enum container_status before_pause;
        int64_t memory_limit;           /* its spec's, for its oom events; 0: none */
        char **disk_ids;                /* hot-plugged for it; leave with it */
        size_t n_disks;
        int start_hooks_ms;             /* its startContainer hooks' bound, added to start's */
        struct monitor_events *events;  /* its `events` clients */
        struct proc_io io;
        struct loop_watch w_client, w_listen;
        int busy;                       /* its requests under way (monitor-pod.c) */
        bool exit_pending;              /* its exit came, to be finished once not busy */
        int64_t orphan_deadline;        /* its monitor went: its exit awaited until then (ms); 0: not */
        struct pod_member *next;
};

struct pod_member *monitor_pod_find(struct monitor *m, const char *id);
/* One synchronous request naming the member. */
int monitor_pod_call(struct pod_member *mb, enum proto_method method, agent_fill_fn fill, const void *data,
                     struct rv_error **err);
/* r's outcome to a ctl client (ESRCH: "container not running"). */
void monitor_pod_reply_result(int fd, int r, struct rv_error *err);
/* A positive integer obj.key of v into *ret (0 otherwise): true when one was there. */
int monitor_pod_read_limit(const struct json_value *v, const char *obj, const char *key, int64_t *ret);
/* Its state recorded (state.json in its dir). */
void monitor_pod_member_record(struct pod_member *mb, enum container_status status);
/* CTL_START, CTL_KILL, CTL_PAUSE, CTL_RESUME (replies on fd). */
void monitor_pod_member_command(struct pod_member *mb, int fd, const struct ctl_request *req);
/* CTL_PS (takes fd), CTL_UPDATE (replies on fd) for the member. */
void monitor_pod_member_ps(struct pod_member *mb, int fd);
void monitor_pod_member_update(struct pod_member *mb, int fd, const struct ctl_request *req);
/* CTL_NET_CHANGED on the member's connection: its header read, length
 * bytes of payload follow. */
void monitor_pod_member_net_changed(struct pod_member *mb, uint32_t length);
/* At its create (monitor-pod-vm.c): its trees (req's fds from
 * MEMBER_FD_TREES) into the export; its disks (req's fds from first) into
 * the running VM, each remembered in mb as soon as it is in. */
int monitor_pod_add_shares(struct monitor *m, const struct json_value *shares, struct ctl_request *req,
                           struct rv_error **err);
int monitor_pod_add_disks(struct monitor *m, struct pod_member *mb, const struct json_value *disks, size_t first,
                          struct ctl_request *req, struct rv_error **err);
