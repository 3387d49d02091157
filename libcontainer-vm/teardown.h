/* SPDX-License-Identifier: Apache-2.0 */
/* Stopping everything a container's state records, whatever phase it died
 * in: the monitor, the processes it started (state.processes), the host
 * cgroup dirs and the resources it made (state.resources). delete and a
 * failed create use it; a state dir is removed only after it succeeded. */
#pragma once

struct container_state;
struct rv_error;

/* How one kind of recorded resource is removed (for state_add_resource). */
struct teardown_kind {
        const char *kind;
        int (*remove)(const char *name, struct rv_error **err);
};

/* SIGKILLs the monitor and every recorded process still alive (pid and
 * start time must match), waits (bounded) for all of them to be gone,
 * then removes cgroup dirs and resources. Fails (EBUSY) when a process
 * did not exit: the caller must then keep the state dir. A resource that
 * cannot be removed only warns. */
int container_teardown(const struct container_state *st, struct rv_error **err);
