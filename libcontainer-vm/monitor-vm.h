/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's VM: assembled from the plan, booted, rebuilt, stopped. */
#pragma once

struct monitor;
struct rv_error;

/* A new VM for the container, not started yet, with the network as it
 * is now (boot, configure_network, create_container again). */
int monitor_reboot(struct monitor *m, struct rv_error **err);
