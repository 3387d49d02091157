/* SPDX-License-Identifier: Apache-2.0 */
/* runvm features: the runtime-spec features document, as `runc features`. */
#include "base/cleanup.h"
#include "main/cli.h"
#include "spec/features.h"

int cmd_features(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *json = NULL;

        if (spec_features_json(&json, err) < 0)
                return -1;
        if (cli_print(json, true, err) < 0)
                return -1;
        return 0;
}
