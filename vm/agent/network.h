/* SPDX-License-Identifier: Apache-2.0 */
/* `configure_network`: the NICs, addresses, routes, rules and neighbour
 * entries of the container's network namespace, applied in the guest. */
#pragma once

struct agent;
struct json_value;
struct json_writer;
struct rv_error;

/* A warm pool VM's NICs (libcontainer-vm/pool-nic.h) wait outside the
 * VM's network namespace, which is the containers': one without an
 * interface must not see one. configure_network's `vm_macs` names those
 * it takes back, each given its container interface's MAC. */
struct agent_nic_park {
        int netns_fd;                   /* where they wait, or -1 */
        int home_fd;                    /* the VM's namespace */
};
#define AGENT_NIC_PARK_INIT { .netns_fd = -1, .home_fd = -1 }

/* Moves every NIC but lo into a namespace of their own (in a pool VM,
 * before its hello). */
int agent_network_park(struct agent_nic_park *park, struct rv_error **err);

int agent_network_configure(struct agent *a, const struct json_value *params, struct json_writer *w,
                            struct rv_error **err);
