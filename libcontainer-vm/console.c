/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/console.h"

#include "base/text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_QUOTED 300

static const char *const explaining[] = {
        "Kernel panic", "not syncing", "Out of memory", "oom-kill", "BUG:", "Oops", "general protection fault",
        "runvm-agent", "No working init", "Failed to execute", "Unable to mount", "segfault",
        "Killed process", "Call Trace",
};

static bool line_explains(const char *s, size_t n)
{
        for (size_t i = 0; i < sizeof(explaining) / sizeof(explaining[0]); i++)
                if (memmem(s, n, explaining[i], strlen(explaining[i])) != NULL)
                        return true;
        return false;
}

char *console_explaining_line(const char *text, size_t len)
{
        const char *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t n = nl ? (size_t) (nl - (text + i)) : len - i;
                while (n > 0 && (text[i + n - 1] == '\r' || text[i + n - 1] == ' '))
                        n--;
                if (n > 0 && line_explains(text + i, n)) {
                        best = text + i;
                        best_len = n;
                }
                i += (nl ? (size_t) (nl - (text + i)) + 1 : len - i);
        }
        if (best == NULL)
                return NULL;
        if (best_len > LINE_MAX_QUOTED)
                best_len = LINE_MAX_QUOTED;
        /* Never a raw control character (C1 included) into a terminal. */
        return rv_text_sanitize(strndup(best, best_len));
}
