/* SPDX-License-Identifier: Apache-2.0 */
/* A pod member's OCI hooks (docs/ARCHITECTURE.md, "Pods"): run by its own
 * monitor in runc's order, through create (the caller's namespaces), with
 * the member's state (its id, bundle, annotations, and its pid: the
 * member's monitor, the pid callers see); startContainer by the agent in
 * the guest, from the hook state the member hands over; poststop kept in
 * its state dir for delete, as any container's. */
#pragma once

#include "libcontainer-vm/status.h"

struct json_writer;
struct monitor_options;
struct rv_error;
struct spec_hook_list;

/* One phase (prestart, createRuntime, createContainer, poststart). */
int pod_hooks_run(const struct monitor_options *o, const struct spec_hook_list *l, const char *phase,
                  enum container_status status, struct rv_error **err);
/* The poststop hooks and their state, for delete (and for a failed create). */
int pod_hooks_save_poststop(const struct monitor_options *o, struct rv_error **err);
/* The member's "hook_state" for the guest's startContainer hooks, when
 * it has any. */
void pod_hooks_write_guest_state(struct json_writer *w, const struct monitor_options *o);
