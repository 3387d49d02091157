/* SPDX-License-Identifier: Apache-2.0 */
/* process.capabilities with libcap, in runc's order: the bounding set is
 * dropped while still root, the other sets after the user switch (with
 * PR_SET_KEEPCAPS in between). Unknown names are ignored like runc does;
 * no capabilities object means all five sets empty, as under runc. */
#pragma once

struct rv_error;
struct spec_capabilities;

int agent_caps_drop_bounding(const struct spec_capabilities *caps, struct rv_error **err);
int agent_caps_apply(const struct spec_capabilities *caps, struct rv_error **err);
