/* SPDX-License-Identifier: Apache-2.0 */
/* runvm ps [-f table|json] ID [ps options] */
#include <errno.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "format", "f", CLI_FLAG_STRING, "select one of: table or json", "\"table\"" },
};

const struct cli_flag_set cmd_ps_flags = CLI_FLAG_SET(flags);

int cmd_ps(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *out = NULL;
        const char *format = cli_flags_string(f, "format");
        const char *id;

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (format == NULL || strcmp(format, "table") == 0) {
                if (f->n_args > 1)
                        return rv_error_setx(err, ENOTSUP, "ps options are not supported: the container's "
                                             "processes live in its VM, where the host's ps cannot see them");
                if (container_ps_table(ctx, id, &out, err) < 0)
                        return -1;
                return cli_print(out, false, err);
        }
        if (strcmp(format, "json") != 0)
                return rv_error_setx(err, EINVAL, "invalid format option");
        if (container_ps_json(ctx, id, &out, err) < 0)
                return -1;
        return cli_print(out, true, err);
}
