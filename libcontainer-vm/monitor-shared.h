/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's state: what its parts share. Each part's own state is
 * its module's (ctl.sock's in monitor-ctl.c, exec sessions' in
 * monitor-exec.c, ...); the loop (monitor-loop.c) is the one place that
 * knows every part. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/loop.h"
#include "libcontainer-vm/agent-client.h"
#include "libcontainer-vm/monitor-io.h"
#include "libcontainer-vm/monitor-ns.h"
#include "libcontainer-vm/monitor-options.h"
#include "libcontainer-vm/status.h"
#include "libcontainer-vm/stdio.h"
#include "vm/channel/channel.h"
#include "vm/channel/message.h"
#include "vm/vm.h"

struct json_writer;
struct json_value;
struct netconf;
struct netns_nic;
struct netns_watch;

#define DRAIN_TIMEOUT_MS 10000

struct monitor_ctl;
struct monitor_events;
struct monitor_execs;
struct monitor_pod;
struct keeper;

struct monitor {
        struct monitor_options *o;
        struct vm *vm;
        struct channel *ch;
        int sigfd;
        struct monitor_ctl *ctl;        /* ctl.sock (monitor-ctl.c) */
        struct agent_client *agent;     /* requests on ch, their answers, events */
        struct loop loop;
        struct loop_watch w_channel, w_signal, w_netns, w_vm[VM_WATCH_MAX];
        bool channel_hangup;            /* this turn */
        bool vm_event;                  /* this turn: vm_check after it */
        struct proc_io init;
        struct proc_io_streams streams; /* the stream ids init and exec sessions hold */
        int tty_fd;                     /* where the init's window size is read, or -1 */
        struct monitor_execs *execs;    /* exec sessions (monitor-exec.c) */
        struct monitor_events *events;  /* `events` subscribers (monitor-events.c) */
        struct monitor_pod *pod;        /* a pod's other containers (monitor-pod.c) */
        enum container_status status_before_pause;
        bool exited;
        int exit_code, exit_signal;
        bool vm_gone;
        uint64_t initrd_moved_from;     /* hello's, until monitor_vm_free_leftovers (0: none) */
        struct monitor_ns ns;           /* host pid, mount namespaces (monitor-ns.h) */
        struct netconf *netconf;        /* the namespace as scanned, for the guest */
        struct netns_nic *nics;         /* its interfaces, wired to TAPs */
        size_t n_nics;
        struct vm_nic *vm_nics;         /* the same, as QEMU gets them */
        size_t n_vm_nics;
        struct netns_watch *net_watch;  /* changes after create */
        bool nic_for_member;            /* a pool VM: vm_nics[0] waits for its member's interface (pool-nic.h) */
        int pool_tap_fd;                /* a pool VM: its TAP, kept while persistent (pool-nic.h); else -1 */
        bool net_changed;               /* before start: the VM's network is out of date */
        struct keeper *keeper;          /* once in the container's user namespace (monitor-userns.c) */
};
