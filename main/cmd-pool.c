/* SPDX-License-Identifier: Apache-2.0 */
/* runvm pool fill [--depth N] | drain | status: the warm pool of this
 * --root (docs/ARCHITECTURE.md, "Warm pool"). fill waits until the VMs
 * are ready (tests, benchmarks, a service that warms the host); create
 * refills without waiting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/pool.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "depth", NULL, CLI_FLAG_UINT, "fill: VMs to keep ready (default: warm_pool of runvm.conf)", NULL },
};
const struct cli_flag_set cmd_pool_flags = CLI_FLAG_SET(flags);

static int fill(const struct runvm_context *ctx, const struct cli_flags_result *f, struct runvm_config *cfg,
                struct rv_error **err)
{
        struct pool_shape shapes[POOL_MAX_SHAPES];
        struct pool_status st;
        unsigned depth = cfg->warm_pool, started;
        size_t n = 0;
        char line[256];

        if (cli_flags_is_set(f, "depth"))
                depth = (unsigned) cli_flags_uint(f, "depth");
        if (depth == 0)
                return rv_error_setx(err, EINVAL, "pool fill: the warm pool is off (warm_pool = 0 in "
                                     "runvm.conf, and no --depth)");
        if (depth > 64)
                return rv_error_setx(err, EINVAL, "pool fill: --depth %u: at most 64", depth);
        if (pool_shapes(cfg, ctx->root, shapes, &n, err) < 0)
                return -1;
        /* One shape after the other, at normal priority (a background
         * fill's boots are niced until claimed). */
        for (size_t i = 0; i < n; i++) {
                if (pool_fill(ctx, cfg, &shapes[i], depth, true, &started, err) < 0 ||
                    pool_status(ctx->root, &st, err) < 0)
                        return -1;
                snprintf(line, sizeof(line), "%s: %u started, %u ready", shapes[i].key, started, st.ready);
                if (cli_print(line, true, err) < 0)
                        return -1;
        }
        return 0;
}

static int pool_verb(const struct runvm_context *ctx, const struct cli_flags_result *f, const char *verb,
                     struct runvm_config *cfg, struct rv_error **err)
{
        char line[256];

        if (strcmp(verb, "fill") == 0)
                return fill(ctx, f, cfg, err);
        if (strcmp(verb, "drain") == 0) {
                unsigned removed, serving;
                if (pool_drain(ctx->root, &removed, &serving, err) < 0)
                        return -1;
                snprintf(line, sizeof(line), "%u removed, %u serving a container", removed, serving);
                return cli_print(line, true, err);
        }
        if (strcmp(verb, "status") == 0) {
                struct pool_status st;
                if (pool_status(ctx->root, &st, err) < 0)
                        return -1;
                snprintf(line, sizeof(line), "depth %u, %u ready, %u booting, %u serving", cfg->warm_pool,
                         st.ready, st.booting, st.serving);
                return cli_print(line, true, err);
        }
        return rv_error_setx(err, EINVAL, "pool: unknown action `%s`: fill, drain or status", verb);
}

int cmd_pool(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        struct runvm_config c;
        int r;

        if (runvm_config_load(&c, err) < 0)
                return -1;
        r = pool_verb(ctx, f, f->args[0], &c, err);
        runvm_config_clear(&c);
        return r < 0 ? -1 : 0;
}
