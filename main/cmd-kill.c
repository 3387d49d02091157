/* SPDX-License-Identifier: Apache-2.0 */
/* runvm kill [-a|--all] ID [SIGNAL] */
#include <signal.h>

#include "main/cli.h"
#include "main/signals.h"

static const struct cli_flag flags[] = {
        { "all", "a", CLI_FLAG_BOOL, "send the specified signal to all processes inside the container", NULL },
};

const struct cli_flag_set cmd_kill_flags = CLI_FLAG_SET(flags);

int cmd_kill(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        const char *id;
        int sig = SIGTERM;

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (f->n_args > 1 && cli_signal_parse(f->args[1], &sig, err) < 0)
                return -1;
        if (container_kill(ctx, id, sig, cli_flags_bool(f, "all"), err) < 0)
                return -1;
        return 0;
}
