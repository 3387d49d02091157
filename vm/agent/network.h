/* SPDX-License-Identifier: Apache-2.0 */
/* `configure_network`: the NICs, addresses, routes, rules and neighbour
 * entries of the container's network namespace, applied in the guest. */
#pragma once

#include <stdbool.h>

struct agent;
struct json_value;
struct json_writer;
struct rv_error;

/* A warm pool VM's network namespaces. Its NICs (libcontainer-vm/pool-nic.h)
 * wait in the VM's namespace, down: configure_network's `vm_macs` names
 * those a container takes, each given its container interface's name,
 * MAC and MTU where it is. A container made while no NIC was taken (one
 * without an interface must not see one) and the VM's later containers
 * are made in the spare namespace, which has only lo. Both namespaces'
 * lo are up from the boot, so that a claim moves no NIC between
 * namespaces (a move is milliseconds of the guest kernel's under TCG:
 * docs/PERFORMANCE.md). */
struct agent_pool_netns {
        int spare_fd;                   /* lo only, or -1: not a pool VM */
        int home_fd;                    /* the VM's namespace, where the NICs are */
        bool nics_taken;                /* by a configure_network: containers are made at home */
        bool containers_in_spare;       /* a container was made in the spare one */
};
#define AGENT_POOL_NETNS_INIT { .spare_fd = -1, .home_fd = -1, .nics_taken = false, .containers_in_spare = false }

/* Makes the spare namespace and brings up both lo (in a pool VM, before
 * its hello). */
int agent_network_pool_prepare(struct agent_pool_netns *pn, struct rv_error **err);

/* Puts the calling thread in the namespace the VM's containers are made
 * in (inherited by what it forks), for a create or an exec; *restore is
 * what agent_network_leave takes back to (-1: nothing was changed). */
int agent_network_enter(const struct agent *a, int *restore, struct rv_error **err);
void agent_network_leave(int restore);

int agent_network_configure(struct agent *a, const struct json_value *params, struct json_writer *w,
                            struct rv_error **err);
