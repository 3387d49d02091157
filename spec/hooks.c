/* SPDX-License-Identifier: Apache-2.0 */
#include "spec/config.h"

int64_t spec_hooks_max_ms(const struct spec_hook_list *l)
{
        int64_t ms = 0;

        for (size_t i = 0; i < l->n; i++)
                ms += (int64_t) (l->hooks[i].has_timeout ? l->hooks[i].timeout : SPEC_HOOK_DEFAULT_TIMEOUT_S) * 1000;
        return ms;
}
