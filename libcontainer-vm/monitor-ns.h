/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's namespaces (docs/SECURITY.md, "The monitor is the
 * container's host-side stand-in"). The pid runvm reports is the
 * monitor's, and host tools act on the namespaces of that pid: so the
 * monitor has its own pid (it is pid 2 of it, under an init create made),
 * ipc, uts (the container's hostname), cgroup and mount namespaces, and
 * the root of its mount
 * namespace is the container's rootfs with the spec's host bind mounts at
 * their destinations: /proc/PID/root, `nsenter -m` and `podman cp` act on
 * the container's files, through the same host mounts the guest sees.
 *
 * Two mount namespaces: "host", a copy of the host's (slave: host mounts
 * still arrive) where QEMU and virtiofsd start with host paths, and
 * "view", where the monitor pivots into the container's tree once the
 * VM runs. The monitor moves back with setns() for host-path work. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rv_error;
struct spec_config;
struct vm_plan;

struct monitor_ns {
        pid_t host_pid;                 /* the monitor's pid on the host */
        uint64_t host_start_time;
        int *vfs_trees;                 /* one tree per share, for virtiofsd */
        int *view_trees;                /* one per share, for the view */
        int *spare_trees;               /* one per share, for a VM rebuilt before start */
        size_t n_trees;
        int host_mnt;                   /* the "host" mount namespace, once left */
        int view_mnt;                   /* the "view" one, once made */
};

#define MONITOR_NS_INIT { .host_mnt = -1, .view_mnt = -1 }

/* In the host's namespaces, first thing: who we are on the host, and the
 * detached copies of every share (their fds only work from here). */
int monitor_ns_prepare(struct monitor_ns *ns, const struct vm_plan *plan, struct rv_error **err);
/* New mount ("host"), ipc, uts and cgroup namespaces; the hostname. Call
 * after the monitor entered its host cgroup. */
int monitor_ns_unshare(struct monitor_ns *ns, const struct spec_config *spec, struct rv_error **err);
/* Builds the "view" namespace below state_dir/shared and pivots into it.
 * The guest spec's bind mounts whose source is a share name their
 * destinations. */
int monitor_ns_enter_view(struct monitor_ns *ns, const struct vm_plan *plan,
                          const struct spec_config *guest_spec, const char *state_dir,
                          struct rv_error **err);
/* For hooks and other host-path work once in the view: to the "host"
 * namespace and back. No-ops before the view exists. */
int monitor_ns_to_host(struct monitor_ns *ns, struct rv_error **err);
/* Fresh trees for virtiofsd, for a VM rebuilt before start (the network
 * changed): the spare set, once; a second rebuild fails clearly, since
 * the shares' fds cannot be cloned again outside the host's namespace. */
int monitor_ns_rearm(struct monitor_ns *ns, struct rv_error **err);
int monitor_ns_to_view(struct monitor_ns *ns, struct rv_error **err);
void monitor_ns_clear(struct monitor_ns *ns);
