/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's networking (monitor-net.c): wire the namespace's
 * interfaces before boot, configure the guest, watch for changes. */
#pragma once

#include <stdbool.h>

struct monitor;
struct rv_error;

/* Scans the namespace, records and wires its interfaces (before boot). */
int monitor_net_setup(struct monitor *m, struct rv_error **err);
/* Closes the monitor's copies of the fds QEMU now holds. */
void monitor_net_vm_started(struct monitor *m);
/* `configure_network` to the guest (after hello, before create). */
int monitor_net_configure(struct monitor *m, struct rv_error **err);
int monitor_net_watch_fd(const struct monitor *m);
void monitor_net_watch_event(struct monitor *m);
/* Before start: 1 when the namespace changed since create and the VM
 * must be rebuilt with it; -1 when it cannot be (processes run). */
int monitor_net_before_start(struct monitor *m, struct rv_error **err);
/* Undoes the wiring and forgets the record. Idempotent. */
void monitor_net_teardown(struct monitor *m);
/* The `network` event of container id (caller frees; NULL: no memory):
 * {"type":"network","id":..,"data":{"interface","change","mirrored"}}. */
char *monitor_net_event(const char *id, const char *interface, const char *change, bool mirrored);
