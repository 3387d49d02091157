/* SPDX-License-Identifier: Apache-2.0 */
/* startContainer hooks, run by the container's init after start_container
 * released it: inside the container (after pivot_root, in its namespaces,
 * as its user), just before the user process, the state JSON on stdin,
 * each hook's timeout enforced with SIGKILL. A failing hook fails start
 * with runc's text: "error running startContainer hook #N: exit status 1,
 * stdout: ..., stderr: ..." (or "hook ran past specified timeout of Ns"). */
#pragma once

struct rv_error;
struct spec_hook_list;
struct json_value;

/* state: the state document (JSON text, may be NULL: "{}"). */
int agent_hooks_run(const char *name, const struct spec_hook_list *hooks, const char *state,
                    struct rv_error **err);

/* create_container's "hook_state" object as JSON text (*ret NULL when v
 * is NULL). */
int agent_hook_state_text(const struct json_value *v, char **ret, struct rv_error **err);
