/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime-spec features document (`runvm features`): what runvm
 * really honours, most of it enforced by the guest agent. */
#pragma once

#include <stdbool.h>

struct rv_error;

/* A capability name the guest knows (the features document's list): what
 * the host warns about when it is not. */
bool spec_capability_known(const char *name);

/* Indented like `runc features` (4 spaces), no trailing newline. */
int spec_features_json(char **ret, struct rv_error **err);
