/* SPDX-License-Identifier: Apache-2.0 */
/* Go's filepath.Abs and filepath.Clean, for --root, --bundle, --pid-file. */
#include "main/path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"

void cli_path_clean(char *path)
{
        /* Writes "/component" for each kept component; the writer never
         * passes the reader, which always has consumed a '/' more. */
        char *out = path;
        const char *p = path;

        while (*p != '\0') {
                const char *start;
                size_t len;

                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                start = p;
                while (*p != '\0' && *p != '/')
                        p++;
                len = (size_t) (p - start);
                if (len == 1 && start[0] == '.')
                        continue;
                if (len == 2 && start[0] == '.' && start[1] == '.') {
                        while (out > path && *--out != '/')
                                ;
                        continue;
                }
                *out = '/';
                memmove(out + 1, start, len);
                out += 1 + len;
        }
        if (out == path)
                *out++ = '/';
        *out = '\0';
}

int cli_path_absolute(const char *path, char **ret, struct rv_error **err)
{
        _cleanup_free_ char *cwd = NULL;
        char *abs = NULL;

        if (path[0] == '/') {
                abs = strdup(path);
        } else {
                cwd = getcwd(NULL, 0);
                if (cwd == NULL)
                        return rv_error_set(err, errno, "get current directory");
                if (asprintf(&abs, "%s/%s", cwd, path) < 0)
                        abs = NULL;
        }
        if (abs == NULL)
                return rv_error_set(err, ENOMEM, "make `%s` absolute", path);
        cli_path_clean(abs);
        *ret = abs;
        return 0;
}
