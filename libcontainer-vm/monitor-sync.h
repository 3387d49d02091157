/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's side of the sync socket to create (SOCK_SEQPACKET): the
 * verdict, and the runtime's hooks create runs for it. create's side is
 * monitor_wait_created, below.
 *
 * The rule for a monitor whose create died (docs/ARCHITECTURE.md): until
 * create has its verdict, create's death is the create's failure: the
 * monitor tears down what it started and records `stopped` with the
 * reason; delete removes the rest. */
#pragma once

struct rv_error;

#define MONITOR_SYNC_GONE_MSG "create exited before the container was created"

/* The final verdict (status 0: created). Fails when create is gone
 * (EPIPE: SIGPIPE is ignored); nothing to do for fd -1. */
int monitor_sync_report(int fd, int status, const char *message);
/* ECANCELED once create is gone. */
int monitor_sync_check(int fd, struct rv_error **err);
/* Runs hooks through create, in the caller's pid, mount and network
 * namespaces: the monitor's are the container's. */
int monitor_sync_run_hooks(int fd, const char *phase, const char *state_json, struct rv_error **err);

/* In create/run: waits for the monitor's verdict on sync_fd. On failure
 * the monitor has already torn everything down; its message is in *err. */
/* Meanwhile it runs the hooks the monitor asks for (prestart,
 * createRuntime, createContainer, poststart): here, in the caller's
 * namespaces, as runc runs them. */
struct spec_hooks;
int monitor_wait_created(int sync_fd, const struct spec_hooks *hooks, const char *bundle,
                         struct rv_error **err);
