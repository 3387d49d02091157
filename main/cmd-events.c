/* SPDX-License-Identifier: Apache-2.0 */
/* runvm events [--interval 5s] [--stats] ID */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "interval", NULL, CLI_FLAG_STRING, "set the stats collection interval", "5s" },
        { "stats", NULL, CLI_FLAG_BOOL, "display the container's stats then exit", NULL },
};

const struct cli_flag_set cmd_events_flags = CLI_FLAG_SET(flags);

/* Go durations as runc takes them: "5s", "500ms", "1m", "1.5s". */
static int parse_duration(const char *s, int *ret_ms, struct rv_error **err)
{
        static const struct { const char *unit; double ms; } units[] = {
                { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        };
        char *end;
        double v = strtod(s, &end);

        for (size_t i = 0; end != s && i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcmp(end, units[i].unit) == 0 && v * units[i].ms >= 1 && v * units[i].ms < 1e9) {
                        *ret_ms = (int) (v * units[i].ms);
                        return 0;
                }
        }
        return rv_error_setx(err, EINVAL, "invalid value \"%s\" for flag -interval: parse error", s);
}

static int print_line(const char *line, void *data)
{
        if (printf("%s\n", line) < 0 || fflush(stdout) != 0)
                return -1;
        return 0;
}

int cmd_events(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        const char *interval = cli_flags_string(f, "interval");
        const char *id;
        int ms = 5000;

        if (cli_container_id(f, &id, err) < 0)
                return -1;
        if (interval && parse_duration(interval, &ms, err) < 0)
                return -1;
        if (cli_flags_bool(f, "stats")) {
                _cleanup_free_ char *line = NULL;
                if (container_stats_event(ctx, id, &line, err) < 0)
                        return -1;
                return cli_print(line, true, err);
        }
        return container_events(ctx, id, ms, print_line, NULL, err);
}
