/* SPDX-License-Identifier: Apache-2.0 */
/* A warm pool VM's NIC (docs/ARCHITECTURE.md, "Warm pool"): booted with
 * one, its TAP in the pool monitor's network namespace and the guest's
 * NIC waiting up in the VM's namespace (vm/agent/network-pool.h), so that a
 * container whose namespace the engine made (podman's CNI, a path in
 * `linux.namespaces`) can be served warm. At the claim the member's
 * monitor moves the TAP into the container's namespace and wires it to
 * the interface there as a cold monitor wires the TAP it makes
 * (netns/netns.h); the guest gives the waiting NIC the
 * interface's MAC, name and MTU where it is, and applies the namespace's addresses
 * and routes. A container without an interface leaves it unused.
 * The TAP is persistent until a container's namespace may have it: the
 * VM's end (QEMU's last close) then waits for no RCU barrier, and the
 * TAP goes with the pool monitor's namespace. */
#pragma once

#include <stddef.h>

struct json_value;
struct monitor;
struct monitor_options;
struct netconf;
struct netns_nic;
struct rv_error;

/* The TAP's name in the pool monitor's namespace. */
#define POOL_NIC_TAP "tap0_runvm"
/* How many interfaces a pool VM can take. */
#define POOL_NICS 1

/* In create, before the claim: how many interfaces of the namespace at
 * path would be mirrored (its scan, made there and undone). Fails for a
 * namespace a cold boot could not mirror either. */
int pool_nic_count(const char *path, size_t *ret, struct rv_error **err);

/* Pool monitor, in its own namespace before the boot: the TAP, and the
 * NIC for the VM with a random locally administered MAC. */
int pool_nic_open(struct monitor *m, struct rv_error **err);
/* After the boot: QEMU holds the TAP; the monitor keeps an fd of it
 * while it is persistent. */
void pool_nic_vm_started(struct monitor *m);
/* A member's `network` (the netconf its monitor scanned) into the guest:
 * configure_network with the pool NIC's MAC. Once per VM. The TAP, in
 * the container's namespace now, goes with QEMU again. */
int pool_nic_configure(struct monitor *m, const struct json_value *network, struct rv_error **err);
/* Before the VM is torn down: a TAP that left the pool monitor's
 * namespace is made to go with QEMU; the monitor's fd goes. */
void pool_nic_end(struct monitor *m);

/* The member's monitor's network. */
struct pool_nic_member {
        struct netconf *netconf;        /* the container's namespace as scanned; NULL: the pool's own */
        struct netns_nic *nics;
        size_t n_nics;
        int pool_netns;                 /* the pool monitor's, until the TAP left it */
};

#define POOL_NIC_MEMBER_INIT { .pool_netns = -1 }

/* Member's monitor, in the pool monitor's network namespace: joins the
 * container's (o->plan->netns_path), scans it and records what it will
 * wire in state.json (delete's cleanup after a kill). */
int pool_nic_scan(struct pool_nic_member *pn, struct monitor_options *o, struct rv_error **err);
/* Moves the TAP in and wires it (once: again is nothing), while the
 * guest configures the NIC and makes the container: moving a link
 * between namespaces waits for the kernel's RCU grace periods, ~20 ms.
 * Before create returns, and before the container may start. */
int pool_nic_wire(struct pool_nic_member *pn, struct monitor_options *o, struct rv_error **err);
/* Once the VM is gone: the redirects (and the TAP if still there)
 * removed, the record dropped. Idempotent. */
void pool_nic_release(struct pool_nic_member *pn, struct monitor_options *o);
