/* SPDX-License-Identifier: Apache-2.0 */
/* runvm state ID: the indented state document, no trailing newline. */
#include "base/cleanup.h"
#include "main/cli.h"

DEFINE_CLEANUP_FUNC(struct container_info *, container_info_free)

int cmd_state(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_(container_info_freep) struct container_info *info = NULL;
        _cleanup_free_ char *json = NULL;
        const char *id;

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (container_info_load(ctx, id, &info, err) < 0)
                return -1;
        if (container_info_state_json(info, &json, err) < 0)
                return -1;
        if (cli_print(json, false, err) < 0)
                return -1;
        return 0;
}
