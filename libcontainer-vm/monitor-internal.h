/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's parts: the core (monitor.c: boot, loop, teardown), the
 * ctl handlers (monitor-ctl.c) and exec sessions (monitor-exec.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libcontainer-vm/ctl.h"
#include "libcontainer-vm/monitor-ns.h"
#include "libcontainer-vm/monitor.h"
#include "libcontainer-vm/stdio.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/vm.h"

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
};

struct exec_session;

struct pending {
        uint32_t id;
        enum pending_kind kind;
        int client_fd;                  /* ctl client waiting, or -1 */
        struct exec_session *exec;      /* PENDING_EXEC */
        int64_t deadline_ms;            /* a guest that has not answered by then never will */
};

struct exec_session {
        char exec_id[16];
        int client_fd;                  /* the exec client's connection, -1 once gone */
        pid_t client_pid;               /* the exec client (what `ps` reports) */
        struct proc_io io;
        bool started, exited;
        int exit_code, exit_signal;
        int64_t exited_at;
        struct exec_session *next;
};

struct subscriber {
        int fd;                         /* an `events` client */
        struct subscriber *next;
};

struct monitor {
        struct monitor_options *o;
        struct vm *vm;
        struct channel *ch;
        int sigfd;
        int ctl_fd;
        uint32_t next_id;
        struct pending pending[MAX_PENDING];
        size_t n_pending;
        struct ctl_conn *conns;         /* requests still arriving */
        size_t n_conns;
        struct proc_io init;
        int tty_fd;                     /* where the init's window size is read, or -1 */
        struct exec_session *execs;
        unsigned next_exec;
        struct subscriber *subscribers;
        char *status_before_pause;
        bool exited;
        int exit_code, exit_signal;
        bool vm_gone;
        struct monitor_ns ns;           /* host pid, mount namespaces (monitor-ns.h) */
        struct netconf *netconf;        /* the namespace as scanned, for the guest */
        struct netns_nic *nics;         /* its interfaces, wired to TAPs */
        size_t n_nics;
        struct vm_nic *vm_nics;         /* the same, as QEMU gets them */
        size_t n_vm_nics;
        struct netns_watch *net_watch;  /* changes after create */
        bool net_changed;               /* before start: the VM's network is out of date */
};

/* monitor.c */
void monitor_save_state(struct monitor *m, const char *status);
int monitor_send_request(struct monitor *m, const char *method, uint32_t *ret_id,
                         void (*fill)(struct json_writer *, const void *), const void *data,
                         struct rv_error **err);
/* Capacity is checked before a request is sent: a request the guest acts
 * on always has its entry. */
bool monitor_pending_full(const struct monitor *m);
/* Never fails after !monitor_pending_full(m). */
struct pending *monitor_pending_add(struct monitor *m, uint32_t id, enum pending_kind kind, int client_fd);
/* Answers ETIMEDOUT for requests past their deadline; returns the time
 * (ms) until the next deadline, -1 when none. */
int monitor_pending_expire(struct monitor *m);
/* Sends a request and queues the answer for client_fd (closed on failure). */
void monitor_forward(struct monitor *m, int client_fd, enum pending_kind kind, const char *method,
                     void (*fill)(struct json_writer *, const void *), const void *data);
/* Lowest stream id not in use. */
uint32_t monitor_stream_alloc(struct monitor *m);
void monitor_fill_signal(struct json_writer *w, const void *header);

/* Sends a request and runs the loop until its answer (bounded). */
int monitor_call(struct monitor *m, const char *method, void (*fill)(struct json_writer *, const void *),
                 const void *data, int timeout_ms, struct rv_error **err);

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
void monitor_reply_client(struct monitor *m, const struct pending *p, const struct channel_message *msg);
void monitor_notify_subscribers(struct monitor *m, const char *event_json);
/* The guest OOM-killed in the container (monitor-oom.c). */
void monitor_oom(struct monitor *m);
void monitor_close_subscribers(struct monitor *m);

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
