/* SPDX-License-Identifier: Apache-2.0 */
/* A warm pool VM's network namespaces. Its NICs (libcontainer-vm/pool-nic.h)
 * wait in the VM's namespace, up since the boot: configure_network's
 * `vm_macs` names those a container takes, each given its container
 * interface's name, MAC and MTU where it is. A container made while no
 * NIC was taken (one without an interface must not see one) and the VM's
 * later containers are made in the spare namespace, which has only lo.
 * Nothing moves between namespaces at a claim, and what a claim asks of
 * the guest kernel was done once before the hello: under TCG a move, an
 * up, an address are milliseconds each, more the first time
 * (docs/PERFORMANCE.md, "The pool VM's NIC"). */
#pragma once

#include <stdbool.h>

struct agent;
struct json_value;
struct netconf;
struct nl_sock;
struct rv_error;

struct agent_pool_netns {
        int spare_fd;                   /* lo only, or -1: not a pool VM */
        int home_fd;                    /* the VM's namespace, where the NICs are */
        bool nics_taken;                /* by a configure_network: containers are made at home */
        bool containers_in_spare;       /* a container was made in the spare one */
};
#define AGENT_POOL_NETNS_INIT { .spare_fd = -1, .home_fd = -1, .nics_taken = false, .containers_in_spare = false }

/* Makes the spare namespace, brings up both lo and the NICs, rehearses a
 * claim's requests on the first NIC (in a pool VM, before its hello). */
int agent_network_pool_prepare(struct agent_pool_netns *pn, struct rv_error **err);

/* The NICs of vm_macs (one MAC per interface of c, in order) renamed,
 * re-addressed and sized for c's interfaces, in one request each. */
int agent_network_take_pool_nics(struct nl_sock *sk, const struct agent_pool_netns *pn,
                                 const struct json_value *vm_macs, const struct netconf *c, struct rv_error **err);

/* Puts the calling thread in the namespace the VM's containers are made
 * in (inherited by what it forks), for a create; *restore is what
 * agent_network_leave takes back to (-1: nothing was changed). */
int agent_network_enter(const struct agent *a, int *restore, struct rv_error **err);
void agent_network_leave(int restore);
