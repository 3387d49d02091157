/* SPDX-License-Identifier: Apache-2.0 */
/* runvm check: what this host offers and what runvm will use. */
#include <string.h>

#include "libcontainer-vm/base/cleanup.h"
#include "main/cli.h"

int cmd_check(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *report = NULL;
        size_t len;

        if (container_host_report(ctx, &report, err) < 0)
                return -1;
        len = strlen(report);
        if (cli_print(report, len == 0 || report[len - 1] != '\n', err) < 0)
                return -1;
        return 0;
}
