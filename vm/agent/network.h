/* SPDX-License-Identifier: Apache-2.0 */
/* `configure_network`: the NICs, addresses, routes, rules and neighbour
 * entries of the container's network namespace, applied in the guest. */
#pragma once

struct agent;
struct json_value;
struct json_writer;
struct rv_error;

/* Applied in the VM's network namespace; in a pool VM its `vm_macs`
 * first take the pool NICs (network-pool.h). */

int agent_network_configure(struct agent *a, const struct json_value *params, struct json_writer *w,
                            struct rv_error **err);
