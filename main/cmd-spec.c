/* SPDX-License-Identifier: Apache-2.0 */
/* runvm spec [-b DIR] [--rootless]: writes DIR/config.json, never over an
 * existing one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"
#include "spec/config.h"

static const struct cli_flag flags[] = {
        { "bundle", "b", CLI_FLAG_STRING, "path to the root of the bundle directory", NULL },
        { "rootless", NULL, CLI_FLAG_BOOL, "generate a configuration for a rootless container", NULL },
};

const struct cli_flag_set cmd_spec_flags = CLI_FLAG_SET(flags);

int cmd_spec(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *json = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *bundle = cli_flags_string(f, "bundle");
        size_t len, off = 0;

        if (bundle == NULL || bundle[0] == '\0')
                bundle = ".";
        if (asprintf(&path, "%s/config.json", bundle) < 0) {
                path = NULL;
                return rv_error_set(err, ENOMEM, "spec");
        }
        if (spec_default_config_json(cli_flags_bool(f, "rootless"), &json, err) < 0)
                return -1;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
                return rv_error_set(err, 0, "File config.json exists. Remove it first");
        if (fd < 0)
                return rv_error_set(err, errno, "create `%s`", path);
        len = strlen(json);
        while (off < len) {
                ssize_t n = write(fd, json + off, len - off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;

                        unlink(path);
                        return rv_error_set(err, e, "write `%s`", path);
                }
                off += (size_t) n;
        }
        return 0;
}
