/* SPDX-License-Identifier: Apache-2.0 */
/* runvm delete [-f|--force] ID */
#include <errno.h>
#include <string.h>

#include "base/error.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "force", "f", CLI_FLAG_BOOL,
          "Forcibly deletes the container if it is still running (uses SIGKILL)", NULL },
};

const struct cli_flag_set cmd_delete_flags = CLI_FLAG_SET(flags);

/* container.h: a missing container is ENOENT with this message. */
#define MISSING "container does not exist"

int cmd_delete(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        struct rv_error *e = NULL;
        const char *id;
        bool force = cli_flags_bool(f, "force");

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (container_delete(ctx, id, force, &e) == 0)
                return 0;
        /* `delete --force` of a container that does not exist succeeds
         * (CONTRACT.md §6): callers clean up with it unconditionally. */
        if (force && e->status == ENOENT && e->msg != NULL &&
            strncmp(e->msg, MISSING, strlen(MISSING)) == 0) {
                rv_error_free(e);
                return 0;
        }
        *err = e;
        return -1;
}
