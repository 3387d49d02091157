/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks on the host (CONTRACT.md §5): the state document they read
 * and the poststop hooks kept for delete. How a hook runs (argv, env,
 * fds, stdin, output, timeout) is hooks/run.h, shared with the guest. */
#pragma once

#include "hooks/run.h"
#include "spec/config.h"

#include <stddef.h>

struct rv_error;
struct spec_hook_list;
struct spec_state;

/* The name of the file in a container's state directory that keeps its
 * poststop hooks and their state document for delete. */
#define HOOKS_POSTSTOP_FILE "poststop.json"

/* The compact state document hooks read on stdin (spec_state_write_hook). */
int hooks_state_json(const struct spec_state *s, char **ret, struct rv_error **err);

/* Keeps poststop hooks and their state document (status "stopped", no
 * pid) in dirfd, for delete. Writes nothing when the list is empty. */
int hooks_poststop_save(int dirfd, const struct spec_hook_list *poststop,
                        const struct spec_state *s, struct rv_error **err);
/* Runs the poststop hooks saved in dirfd (none saved: success) and removes
 * the file, so they run once. */
int hooks_poststop_run_saved(int dirfd, const char *cwd, struct rv_error **err);
