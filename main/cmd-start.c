/* SPDX-License-Identifier: Apache-2.0 */
/* runvm start ID */
#include "main/cli.h"

int cmd_start(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        const char *id;

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (container_start(ctx, id, err) < 0)
                return -1;
        return 0;
}
