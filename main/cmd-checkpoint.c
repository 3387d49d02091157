/* SPDX-License-Identifier: Apache-2.0 */
/* runvm checkpoint / restore: refused. A container's state lives in its
 * VM's memory and devices; runvm has no way to save and restore it. */
#include "base/error.h"
#include "main/cli.h"

int cmd_checkpoint(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        return rv_error_set(err, 0, "checkpoint is not supported: a VM's state cannot be checkpointed by runvm");
}

int cmd_restore(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        return rv_error_set(err, 0, "restore is not supported: a VM's state cannot be checkpointed by runvm");
}
