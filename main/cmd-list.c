/* SPDX-License-Identifier: Apache-2.0 */
/* runvm list [-f|--format table|json] [-q|--quiet] */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"
#include "main/table.h"

static const struct cli_flag flags[] = {
        { "format", "f", CLI_FLAG_STRING, "select one of: table or json", "\"table\"" },
        { "quiet", "q", CLI_FLAG_BOOL, "display only container IDs", NULL },
};

const struct cli_flag_set cmd_list_flags = CLI_FLAG_SET(flags);

struct info_list {
        struct container_info **v;
        size_t n;
};

static void info_list_clear(struct info_list *l)
{
        container_info_list_free(l->v, l->n);
        l->v = NULL;
        l->n = 0;
}

static void table_clearp(struct cli_table *t) { cli_table_clear(t); }

static int print_table(const struct info_list *l, struct rv_error **err)
{
        static const char *const header[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
        _cleanup_(table_clearp) struct cli_table t = CLI_TABLE_INIT;
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f;

        if (cli_table_add_row(&t, header, ARRAY_SIZE(header), err) < 0)
                return -1;
        for (size_t i = 0; i < l->n; i++) {
                const struct container_info *c = l->v[i];
                char pid[24];

                snprintf(pid, sizeof(pid), "%d", (int) c->pid);
                const char *row[] = { c->id, pid, c->status, c->bundle, c->created, c->owner };
                if (cli_table_add_row(&t, row, ARRAY_SIZE(row), err) < 0)
                        return -1;
        }
        f = open_memstream(&out, &len);
        if (f == NULL)
                return rv_error_set(err, errno, "format table");
        cli_table_write(&t, f);
        fclose(f);
        return cli_print(out, false, err);
}

int cmd_list(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_(info_list_clear) struct info_list l = { 0 };
        _cleanup_free_ char *json = NULL;
        const char *format = cli_flags_string(f, "format");

        if (format == NULL)
                format = "table";
        if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
                return rv_error_set(err, 0, "invalid format option");
        if (container_info_list(ctx, &l.v, &l.n, err) < 0)
                return -1;
        if (cli_flags_bool(f, "quiet")) {
                for (size_t i = 0; i < l.n; i++)
                        if (cli_print(l.v[i]->id, true, err) < 0)
                                return -1;
                return 0;
        }
        if (strcmp(format, "table") == 0)
                return print_table(&l, err);
        /* runc encodes a nil slice: `null` when there is no container. */
        if (l.n == 0)
                return cli_print("null", true, err);
        if (container_info_list_json(l.v, l.n, &json, err) < 0)
                return -1;
        return cli_print(json, true, err);
}
