/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's VM (monitor-vm.c): assembled from the plan through the
 * driver interface, booted, the container created in it, rebuilt,
 * stopped. */
#pragma once

struct monitor;
struct rv_error;

/* A new VM, started, recorded in state.json, its agent answering
 * `hello` (checked: version, capabilities). */
int monitor_vm_boot(struct monitor *m, struct rv_error **err);
/* Frees the host's copy of what the boot left in RAM the guest's kernel
 * was not given (hello's initrd_moved_from): once the container's create
 * (and a run's start) was answered, off the path a caller waits on; or,
 * for a run, before the monitor enters the container's user namespace,
 * where QEMU's fds are not its to open (monitor.c). */
void monitor_vm_free_leftovers(struct monitor *m);
/* create_container in the guest, with the init's stdio. */
int monitor_vm_create_container(struct monitor *m, struct rv_error **err);
/* A new VM for the container, not started yet, with the network as it
 * is now (boot, configure_network, create_container again). */
int monitor_reboot(struct monitor *m, struct rv_error **err);
/* The VM is killed, the channel closed: at the end (the container's exit
 * is recorded first, so nothing waits for a guest power-off) and on a
 * failure. */
void monitor_vm_destroy(struct monitor *m);
void monitor_vm_close_channel(struct monitor *m);
/* The console line that explains a failure, if one does (malloc'ed). */
char *monitor_vm_console_line(struct monitor *m);
