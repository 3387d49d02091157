/* SPDX-License-Identifier: Apache-2.0 */
/* runvm pause ID, runvm resume ID */
#include "main/cli.h"

int cmd_pause(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        const char *id;

        if (cli_container_id(f, &id, err) < 0 || container_pause(ctx, id, err) < 0)
                return -1;
        return 0;
}

int cmd_resume(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        const char *id;

        if (cli_container_id(f, &id, err) < 0 || container_resume(ctx, id, err) < 0)
                return -1;
        return 0;
}
