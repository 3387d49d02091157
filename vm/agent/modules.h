/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel modules from the initramfs, loaded in the builder's order. */
#pragma once

struct rv_error;

#define AGENT_MODULES_ORDER "/lib/modules/load.order"

/* Loads every module listed (one absolute path a line) in order with
 * finit_module; a module already loaded (EEXIST) is fine. A missing list
 * means a kernel with everything built in: nothing to do. */
int agent_modules_load(const char *order_path, struct rv_error **err);
