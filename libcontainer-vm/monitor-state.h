/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's records: state.json (status through the transition
 * table) and the state its hooks read. */
#pragma once

#include "libcontainer-vm/status.h"
#include "spec/state.h"

struct monitor;
struct rv_error;
struct spec_hook_list;

/* Records status; a create depends on it (a full state root fails it). */
int monitor_record(struct monitor *m, enum container_status status, struct rv_error **err);
/* The same, warning on failure: later records matter less. */
void monitor_save_state(struct monitor *m, enum container_status status);

/* The state hooks read (CONTRACT.md §5) in a given status. */
struct spec_state monitor_hook_state(const struct monitor *m, enum container_status status);
/* Runs host hooks (through create while it waits). */
int monitor_run_hooks(struct monitor *m, const struct spec_hook_list *l, const char *phase,
                      enum container_status status, struct rv_error **err);
/* Kept in the state dir for delete, and for the failure path. */
int monitor_save_poststop(struct monitor *m, struct rv_error **err);
