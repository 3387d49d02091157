/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's parts: the core (monitor.c: boot, loop, teardown), the
 * ctl handlers (monitor-ctl.c) and exec sessions (monitor-exec.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"
#include "libcontainer-vm/agent-client.h"
#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-ns.h"
#include "libcontainer-vm/monitor.h"
#include "libcontainer-vm/status.h"
#include "libcontainer-vm/stdio.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/qemu/vm.h"

struct json_writer;
struct json_value;
struct netconf;
struct netns_nic;
struct netns_watch;

#define REQUEST_TIMEOUT_MS 30000
#define DRAIN_TIMEOUT_MS 10000
#define MAX_PENDING 64
/* A ctl-driven request the guest has not answered by then fails with
 * ETIMEDOUT; below the CLI's own 30 s, so the caller learns why. */
#define PENDING_TIMEOUT_MS 25000
/* Connections whose request is still arriving; more are refused. */
#define MAX_CTL_CONNS 32

/* One process's stdio relayed between host fds and guest streams. A
 * terminal is one stream: `in` and `out` share it, `err` is unused. */
struct proc_io {
        bool terminal;
        struct stdio_source in;
        struct stdio_sink out, err;
        struct loop_watch w_in, w_out, w_err;   /* in the monitor's loop */
};

/* What to do with the guest's answer to a request. */
enum pending_kind {
        PENDING_REPLY,          /* forward success/error to the ctl client */
        PENDING_REPLY_RESULT,   /* forward the result object as the payload */
        PENDING_START,
        PENDING_PAUSE,
        PENDING_RESUME,
        PENDING_EXEC,
        PENDING_PS,
        PENDING_NONE,           /* nobody waits (forwarded signals, resizes) */
        PENDING_CALL,           /* monitor_call waits (ptr: its struct call) */
};

struct exec_session {
        char exec_id[16];
        int client_fd;                  /* the exec client's connection, -1 once gone */
        pid_t client_pid;               /* the exec client (what `ps` reports) */
        struct proc_io io;
        bool started, exited;
        int exit_code, exit_signal;
        int64_t exited_at;
        struct loop_watch w_client;
        struct exec_session *next;
};

struct subscriber {
        int fd;                         /* an `events` client */
        struct loop_watch w;
        struct subscriber *next;
};

struct monitor {
        struct monitor_options *o;
        struct vm vm;
        struct channel *ch;
        int sigfd;
        int ctl_fd;
        struct agent_client *agent;     /* requests on ch, their answers, events */
        struct loop loop;
        struct loop_watch w_channel, w_signal, w_ctl, w_qemu, w_helper, w_netns, w_logs[VM_N_LOGS];
        bool channel_hangup;            /* this turn */
        struct ctl_conn *conns;         /* requests still arriving */
        size_t n_conns;
        struct proc_io init;
        int tty_fd;                     /* where the init's window size is read, or -1 */
        struct exec_session *execs;
        unsigned next_exec;
        struct subscriber *subscribers;
        enum container_status status_before_pause;
        bool exited;
        int exit_code, exit_signal;
        bool vm_gone;
        struct monitor_ns ns;           /* host pid, mount namespaces (monitor-ns.h) */
        const char *helper_gone;        /* a helper of the VM (virtiofsd) that exited */
        struct netconf *netconf;        /* the namespace as scanned, for the guest */
        struct netns_nic *nics;         /* its interfaces, wired to TAPs */
        size_t n_nics;
        struct vm_nic *vm_nics;         /* the same, as QEMU gets them */
        size_t n_vm_nics;
        struct netns_watch *net_watch;  /* changes after create */
        bool net_changed;               /* before start: the VM's network is out of date */
};

/* monitor.c */
extern const struct agent_client_ops monitor_agent_ops;
/* Takes w out of the loop: before its fd is closed. */
void monitor_unwatch(struct monitor *m, struct loop_watch *w);
void monitor_save_state(struct monitor *m, enum container_status status);
/* A request nobody waits for (its answer is dropped). */
int monitor_send_request(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                         struct rv_error **err);
bool monitor_pending_full(const struct monitor *m);
/* A request whose answer goes to monitor_reply_client with kind,
 * client_fd and ptr (the agent client's table: capacity checked first). */
int monitor_request(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                    enum pending_kind kind, int client_fd, void *ptr, struct rv_error **err);
/* Sends a request and queues the answer for client_fd (closed on failure). */
void monitor_forward(struct monitor *m, int client_fd, enum pending_kind kind, enum proto_method method,
                     agent_fill_fn fill, const void *data);
/* Lowest stream id not in use. */
uint32_t monitor_stream_alloc(struct monitor *m);
void monitor_fill_signal(struct json_writer *w, const void *header);

/* Sends a request and runs the loop until its answer (bounded). */
int monitor_call(struct monitor *m, enum proto_method method, agent_fill_fn fill, const void *data,
                 int timeout_ms, struct rv_error **err);

/* A new VM for the container, not started yet, with the network as it
 * is now (boot, configure_network, create_container again). */
int monitor_reboot(struct monitor *m, struct rv_error **err);

/* monitor-net.c */
/* Scans the namespace, records and wires its interfaces (before boot). */
int monitor_net_setup(struct monitor *m, struct rv_error **err);
/* Closes the monitor's copies of the fds QEMU now holds. */
void monitor_net_vm_started(struct monitor *m);
/* `configure_network` to the guest (after hello, before create). */
int monitor_net_configure(struct monitor *m, struct rv_error **err);
int monitor_net_watch_fd(const struct monitor *m);
void monitor_net_watch_event(struct monitor *m);
/* Before start: when the namespace changed since create, reboots the VM
 * with it. An error means the container cannot start as configured. */
int monitor_net_before_start(struct monitor *m, struct rv_error **err);
/* Undoes the wiring and forgets the record. Idempotent. */
void monitor_net_teardown(struct monitor *m);

/* proc_io */
int proc_io_open(struct monitor *m, struct proc_io *io, bool terminal, const int *fds, size_t n_fds,
                 bool owned, struct rv_error **err);
void proc_io_write_stdio(struct json_writer *w, const struct proc_io *io);
struct stdio_sink *proc_io_sink(struct proc_io *io, uint32_t stream);
bool proc_io_drained(const struct proc_io *io);
void proc_io_close(struct monitor *m, struct proc_io *io);

/* monitor-ctl.c */
/* Accepts a client; its request is read by monitor_ctl_conn_event. */
void monitor_handle_ctl(struct monitor *m);
void monitor_ctl_conn_event(struct monitor *m, struct ctl_conn *c);
/* Drops connections past their deadline; returns ms until the next, or -1. */
int monitor_ctl_expire(struct monitor *m);
void monitor_ctl_close_conns(struct monitor *m);
/* Answers a client whose request the guest answered. */
void monitor_reply_client(struct monitor *m, const struct agent_request *p, const struct channel_message *msg);
void monitor_notify_subscribers(struct monitor *m, const char *event_json);
void monitor_close_subscribers(struct monitor *m);
/* An events client's fd is readable: it left. */
int monitor_on_subscriber(void *ctx, struct loop_watch *w, uint32_t revents, struct rv_error **err);
/* Frees the subscribers that left (after a turn). */
void monitor_reap_subscribers(struct monitor *m);

/* monitor-exec.c */
void monitor_exec_start(struct monitor *m, int client_fd, struct ctl_request *req);
void monitor_exec_started(struct monitor *m, struct exec_session *e, const struct channel_message *msg,
                          int client_fd);
void monitor_exec_exited(struct monitor *m, const char *exec_id, const struct json_value *data);
/* A message from an exec client (signal, resize) or its hang-up. */
void monitor_exec_client_event(struct monitor *m, struct exec_session *e);
/* Finishes sessions whose process exited and whose output is written. */
void monitor_exec_reap(struct monitor *m, bool force);
/* The guest never answered the exec request: the session goes, and the
 * process is killed in case it started after all. */
void monitor_exec_abandon(struct monitor *m, struct exec_session *e);
struct exec_session *monitor_exec_find(struct monitor *m, const char *exec_id);
