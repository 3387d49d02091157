/* SPDX-License-Identifier: Apache-2.0 */
/* runvm check [--format text|json] [--reprobe]: what this host offers and
 * what runvm will use. */
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "format", "f", CLI_FLAG_STRING, "select one of: text or json", "\"text\"" },
        { "reprobe", NULL, CLI_FLAG_BOOL, "probe KVM again instead of reading the cached verdict", NULL },
};
const struct cli_flag_set cmd_check_flags = CLI_FLAG_SET(flags);

int cmd_check(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *report = NULL;
        const char *format = cli_flags_string(f, "format");
        size_t len;

        if (format == NULL)
                format = "text";
        if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
                return rv_error_setx(err, EINVAL, "invalid format option `%s`: text or json", format);
        if (container_host_report(ctx, strcmp(format, "json") == 0, cli_flags_bool(f, "reprobe"),
                                  &report, err) < 0)
                return -1;
        len = strlen(report);
        if (cli_print(report, len == 0 || report[len - 1] != '\n', err) < 0)
                return -1;
        return 0;
}
