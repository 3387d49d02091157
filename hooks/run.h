/* SPDX-License-Identifier: Apache-2.0 */
/* How one OCI hook runs, the same on the host (prestart, createRuntime,
 * createContainer, poststart, poststop) and in the guest (startContainer,
 * in the container's init), the way runc's libcontainer/configs
 * Command.Run does it (CONTRACT.md §5):
 * - argv = args (or [path]), stdin = the state document, stdout and
 *   stderr captured (16 KiB each) into the error text;
 * - only stdin, stdout and stderr cross exec: every other fd is closed,
 *   whatever the caller left without O_CLOEXEC;
 * - env = the hook's own env when it has one (even an empty one), else
 *   default_env when the caller gives one, else the caller's environment
 *   (runc: exec.Cmd with a nil Env inherits the runtime's; in the guest
 *   the runtime is the container's init, whose environment runc has made
 *   process.env by then, so the agent passes that);
 * - its timeout (or HOOKS_DEFAULT_TIMEOUT_S) enforced with SIGKILL on its
 *   process group, in its own process group, dying with its parent.
 * It needs neither pidfds nor close_range (a container's seccomp filter
 * may deny both): without them it polls and walks /proc/self/fd. */
#pragma once

#include "spec/config.h"

struct rv_error;
struct spec_hook;
struct spec_hook_list;

/* A hook without a timeout is still bounded: create must not hang on it
 * forever (runc would). Seconds. */
#define HOOKS_DEFAULT_TIMEOUT_S SPEC_HOOK_DEFAULT_TIMEOUT_S

/* Runs one hook in cwd (NULL: the current one). On failure the message is
 * runc's inner one: "error running hook: exit status 1, stdout: ...,
 * stderr: ...", "hook ran past specified timeout of 1.0s", or why it could
 * not start ("exec `/x`: No such file or directory"). Nothing the hook
 * started in its process group survives a timeout. */
int hooks_run_one(const struct spec_hook *h, const char *state_json, const char *cwd,
                  char *const *default_env, struct rv_error **err);

/* Runs the hooks of one phase in order; the first failure stops the
 * phase: "error running prestart hook #0: error running hook: ...". */
int hooks_run_env(const struct spec_hook_list *list, const char *phase, const char *state_json,
                  const char *cwd, char *const *default_env, struct rv_error **err);

/* hooks_run_env with the caller's environment as the default (the host). */
int hooks_run(const struct spec_hook_list *list, const char *phase, const char *state_json,
              const char *cwd, struct rv_error **err);
