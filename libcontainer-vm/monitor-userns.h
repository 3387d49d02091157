/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor in the container's user namespace (docs/SECURITY.md, "The
 * monitor in the container's user namespace"): when the spec has one,
 * the monitor enters a user namespace with the spec's mappings once the
 * container started, so /proc/PID/uid_map of the pid runvm reports reads
 * as the container's. What needs the host's credentials after that
 * (killing QEMU, undoing the host networking, the host uid of a ctl.sock
 * client) goes through a keeper (keeper.h) forked just before. */
#pragma once

#include <stdbool.h>

struct monitor;
struct rv_error;

/* Enters the user namespace when the spec has one and it is not entered
 * yet; 0 without one. Call only once nothing else needs the host's
 * credentials (after start: a VM rebuilt before start needs them).
 * Fails with nothing changed. */
int monitor_userns_enter(struct monitor *m, struct rv_error **err);
/* The spec has a user namespace of the container's own that the monitor
 * has not entered yet. */
bool monitor_userns_pending(const struct monitor *m);
bool monitor_userns_entered(const struct monitor *m);
/* SIGKILLs the VM's processes through the keeper (after entering, the
 * monitor may not signal QEMU's uid); then vm_destroy only reaps. A
 * no-op before entering. */
void monitor_userns_kill_vm(struct monitor *m);
/* netns_unwire of the monitor's interfaces, by the keeper once entered. */
void monitor_userns_unwire(struct monitor *m);
/* A ctl.sock client's uid as the host sees it must be root or the
 * monitor's: SO_PEERCRED read inside the namespace shows every host uid
 * it does not map as the monitor's own (65534). Once entered, the keeper
 * reads it; before, ctl_conn_accept's check is the host's already. */
int monitor_userns_check_peer(struct monitor *m, int fd, struct rv_error **err);
/* Ends the keeper (the monitor's end). */
void monitor_userns_close(struct monitor *m);
