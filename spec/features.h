/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime-spec features document (`runvm features`): what runvm
 * really honours, most of it enforced by the guest agent. */
#pragma once

struct rv_error;

/* Indented like `runc features` (4 spaces), no trailing newline. */
int spec_features_json(char **ret, struct rv_error **err);
