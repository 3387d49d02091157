/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor: the container's host-side stand-in for its init process
 * (DESIGN.md §2). Forked by create/run, it owns the VM, relays stdio,
 * serves ctl.sock, forwards the signals it receives, and finally exits
 * with the container's status or dies by the same signal. */
#pragma once

#include <stdbool.h>

#include "libcontainer-vm/monitor-options.h"

struct rv_error;

/* In the forked child: never returns. */
_Noreturn void monitor_main(struct monitor_options *o);


#include <signal.h>
/* The signals the monitor (and a foreground run) take for the container. */
void monitor_signal_set(sigset_t *set);
