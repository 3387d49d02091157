/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/share-layout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *out = s;

        for (char *p = s; *p != '\0'; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        *out++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else {
                        *out++ = *p;
                }
        }
        *out = '\0';
}

/* Length of the mount point mnt as a path prefix of path, or -1. */
static long prefix_len(const char *mnt, const char *path)
{
        size_t n = strlen(mnt);

        if (strcmp(mnt, "/") == 0)
                return 0;
        if (strncmp(mnt, path, n) != 0 || (path[n] != '\0' && path[n] != '/'))
                return -1;
        return (long) n;
}

int share_layout_root(const char *mountinfo, const char *real_path, char **ret, struct rv_error **err)
{
        _cleanup_free_ char *copy = strdup(mountinfo), *best_root = NULL;
        long best = -1;
        char *save = NULL;

        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "mountinfo");
        /* The last mount on the longest mount point covers the path: later
         * lines are mounted over earlier ones. */
        for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
                char root[4096], mnt[4096];
                long n;

                if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
                        continue;
                unescape(root);
                unescape(mnt);
                n = prefix_len(mnt, real_path);
                if (n < 0 || n < best)
                        continue;
                free(best_root);
                best_root = strdup(root);
                if (best_root == NULL)
                        return rv_error_set(err, ENOMEM, "mountinfo");
                best = n;
        }
        if (best < 0)
                return rv_error_setx(err, ENOENT, "`%s`: on no mount of this host", real_path);
        const char *rest = real_path + best;
        bool root_is_slash = strcmp(best_root, "/") == 0;
        if (asprintf(ret, "%s%s", root_is_slash && rest[0] != '\0' ? "" : best_root,
                     rest[0] != '\0' ? rest : "") < 0)
                return rv_error_set(err, ENOMEM, "mountinfo");
        return 0;
}
