/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the commands. */
#include "main/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"

int cli_container_id(const struct cli_flags_result *f, const char **ret, struct rv_error **err)
{
        const char *id = f->n_args > 0 ? f->args[0] : "";

        if (!container_id_is_valid(id))
                return rv_error_set(err, 0, "invalid container ID format");
        *ret = id;
        return 0;
}

void cli_create_paths_clear(struct cli_create_paths *p)
{
        free(p->bundle);
        free(p->pid_file);
        free(p->console_socket);
        *p = (struct cli_create_paths) { 0 };
}

int cli_create_options(const struct cli_flags_result *f, struct container_create_options *ret,
                       struct cli_create_paths *ret_paths, struct rv_error **err)
{
        _cleanup_(cli_create_paths_clear) struct cli_create_paths paths = { 0 };
        struct container_create_options o = { 0 };
        const char *bundle = cli_flags_string(f, "bundle");
        const char *pid_file = cli_flags_string(f, "pid-file");
        const char *console_socket = cli_flags_string(f, "console-socket");
        unsigned long long preserve_fds = cli_flags_uint(f, "preserve-fds");

        if (cli_container_id(f, &o.id, err) < 0)
                return -1;
        if (cli_flags_is_set(f, "pidfd-socket"))
                return rv_error_set(err, 0, "--pidfd-socket is not supported by runvm");
        if (preserve_fds > INT_MAX)
                return rv_error_set(err, 0, "invalid --preserve-fds %llu: too many file descriptors",
                                    preserve_fds);
        if (cli_path_absolute(bundle != NULL && bundle[0] != '\0' ? bundle : ".", &paths.bundle, err) < 0)
                return -1;
        if (pid_file != NULL && pid_file[0] != '\0' &&
            cli_path_absolute(pid_file, &paths.pid_file, err) < 0)
                return -1;
        if (console_socket != NULL && console_socket[0] != '\0' &&
            cli_path_absolute(console_socket, &paths.console_socket, err) < 0)
                return -1;
        o.bundle = paths.bundle;
        o.pid_file = paths.pid_file;
        o.console_socket = paths.console_socket;
        o.no_pivot = cli_flags_bool(f, "no-pivot");
        o.no_new_keyring = cli_flags_bool(f, "no-new-keyring");
        o.preserve_fds = (unsigned) preserve_fds;
        *ret = o;
        *ret_paths = paths;
        paths = (struct cli_create_paths) { 0 };
        return 0;
}

int cli_print(const char *s, bool newline, struct rv_error **err)
{
        fputs(s, stdout);
        if (newline)
                fputc('\n', stdout);
        if (fflush(stdout) != 0 || ferror(stdout))
                return rv_error_set(err, errno, "write to stdout");
        return 0;
}
