/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks on the host (CONTRACT.md §5): each hook runs with argv = args
 * (or [path]), env = its env (else the runtime's), the compact state
 * document on stdin, stdout and stderr captured into the error, and its
 * timeout enforced with SIGKILL. */
#pragma once

#include "spec/config.h"

#include <stddef.h>

struct rv_error;
struct spec_hook_list;
struct spec_state;

/* A hook without a timeout is still bounded: create must not hang on it
 * forever (runc would). Seconds. */
#define HOOKS_DEFAULT_TIMEOUT_S SPEC_HOOK_DEFAULT_TIMEOUT_S

/* The name of the file in a container's state directory that keeps its
 * poststop hooks and their state document for delete. */
#define HOOKS_POSTSTOP_FILE "poststop.json"

/* Runs the hooks of one phase in order, in cwd (NULL: the current one),
 * each fed state_json on stdin. The first failure stops the phase:
 * "error running prestart hook #0: error running hook: exit status 1,
 * stdout: ..., stderr: ..." or "... hook ran past specified timeout of
 * 1.0s". Nothing the hook started in its process group survives a
 * timeout. */
int hooks_run(const struct spec_hook_list *list, const char *phase, const char *state_json,
              const char *cwd, struct rv_error **err);

/* The compact state document hooks read on stdin (spec_state_write_hook). */
int hooks_state_json(const struct spec_state *s, char **ret, struct rv_error **err);

/* Keeps poststop hooks and their state document (status "stopped", no
 * pid) in dirfd, for delete. Writes nothing when the list is empty. */
int hooks_poststop_save(int dirfd, const struct spec_hook_list *poststop,
                        const struct spec_state *s, struct rv_error **err);
/* Runs the poststop hooks saved in dirfd (none saved: success) and removes
 * the file, so they run once. */
int hooks_poststop_run_saved(int dirfd, const char *cwd, struct rv_error **err);
