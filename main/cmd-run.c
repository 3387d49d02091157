/* SPDX-License-Identifier: Apache-2.0 */
/* runvm run [create's flags] [-d] [--keep] [--no-subreaper] ID: exits with
 * the container's status in the foreground. */
#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "bundle", "b", CLI_FLAG_STRING,
          "path to the root of the bundle directory, defaults to the current directory", NULL },
        { "console-socket", NULL, CLI_FLAG_STRING,
          "path to an AF_UNIX socket which will receive a file descriptor referencing the master end "
          "of the console's pseudoterminal", NULL },
        { "detach", "d", CLI_FLAG_BOOL, "detach from the container's process", NULL },
        { "keep", NULL, CLI_FLAG_BOOL, "do not delete the container after it exits", NULL },
        { "pid-file", NULL, CLI_FLAG_STRING, "specify the file to write the process id to", NULL },
        { "no-subreaper", NULL, CLI_FLAG_BOOL,
          "disable the use of the subreaper used to reap reparented processes", NULL },
        { "no-pivot", NULL, CLI_FLAG_BOOL,
          "accepted for compatibility; the container's root is set up inside its VM", NULL },
        { "no-new-keyring", NULL, CLI_FLAG_BOOL,
          "do not create a new session keyring for the container", NULL },
        { "preserve-fds", NULL, CLI_FLAG_UINT,
          "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)", "0" },
        { "pidfd-socket", NULL, CLI_FLAG_STRING,
          "not supported by runvm: fails when given", NULL },
};

const struct cli_flag_set cmd_run_flags = CLI_FLAG_SET(flags);

int cmd_run(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_(cli_create_paths_clear) struct cli_create_paths paths = { 0 };
        struct container_create_options o;
        struct container_run_options r = {
                .detach = cli_flags_bool(f, "detach"),
                .keep = cli_flags_bool(f, "keep"),
                .no_subreaper = cli_flags_bool(f, "no-subreaper"),
        };
        int status = 0;

        if (cli_create_options(f, &o, &paths, err) < 0)
                return -1;
        if (container_run(ctx, &o, &r, &status, err) < 0)
                return -1;
        return status;
}
