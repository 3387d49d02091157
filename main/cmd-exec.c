/* SPDX-License-Identifier: Apache-2.0 */
/* runvm exec [flags] ID [COMMAND ARGS...] */
#include <errno.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "main/cli.h"

static const struct cli_flag flags[] = {
        { "console-socket", NULL, CLI_FLAG_STRING,
          "path to an AF_UNIX socket which will receive a file descriptor referencing the master end "
          "of the console's pseudoterminal", NULL },
        { "cwd", NULL, CLI_FLAG_STRING, "current working directory in the container", NULL },
        { "env", "e", CLI_FLAG_LIST, "set environment variables", NULL },
        { "tty", "t", CLI_FLAG_BOOL, "allocate a pseudo-TTY", NULL },
        { "user", "u", CLI_FLAG_STRING, "UID (format: <uid>[:<gid>], or names from the container's /etc/passwd)", NULL },
        { "additional-gids", "g", CLI_FLAG_LIST, "additional gids", NULL },
        { "process", "p", CLI_FLAG_STRING, "path to the process.json", NULL },
        { "detach", "d", CLI_FLAG_BOOL, "detach from the container's process", NULL },
        { "pid-file", NULL, CLI_FLAG_STRING, "specify the file to write the process id to", NULL },
        { "process-label", NULL, CLI_FLAG_STRING, "set the asm process label for the process commonly used with selinux", NULL },
        { "apparmor", NULL, CLI_FLAG_STRING, "set the apparmor profile for the process", NULL },
        { "no-new-privs", NULL, CLI_FLAG_BOOL, "set the no new privileges value for the process", NULL },
        { "cap", "c", CLI_FLAG_LIST, "add a capability to the bounding set for the process", NULL },
        { "preserve-fds", NULL, CLI_FLAG_UINT,
          "Pass N additional file descriptors to the container (not possible into a VM: fails)", "0" },
        { "cgroup", NULL, CLI_FLAG_LIST, "run the process in an (existing) sub-cgroup (not supported)", NULL },
        { "ignore-paused", NULL, CLI_FLAG_BOOL, "allow exec in a paused container", NULL },
};

const struct cli_flag_set cmd_exec_flags = CLI_FLAG_SET(flags);

static int absolute(const struct cli_flags_result *f, const char *name, char **ret, struct rv_error **err)
{
        const char *v = cli_flags_string(f, name);
        *ret = NULL;
        return v ? cli_path_absolute(v, ret, err) : 0;
}

int cmd_exec(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err)
{
        _cleanup_free_ char *process = NULL, *pid_file = NULL, *console = NULL;
        const char *id;
        int status = 0;

        if (cli_container_id(f, &id, err) < 0)
                return rv_error_wrap(err, "exec failed");
        if (cli_flags_is_set(f, "cgroup"))
                return rv_error_setx(err, ENOTSUP, "exec failed: --cgroup: sub-cgroups are not supported");
        if (absolute(f, "process", &process, err) < 0 || absolute(f, "pid-file", &pid_file, err) < 0 ||
            absolute(f, "console-socket", &console, err) < 0)
                return rv_error_wrap(err, "exec failed");
        struct container_exec_options o = {
                .id = id,
                .process_path = process,
                .args = f->n_args > 1 ? f->args + 1 : NULL,
                .tty = cli_flags_bool(f, "tty"),
                .cwd = cli_flags_string(f, "cwd"),
                .env = (char *const *) cli_flags_list(f, "env", NULL),
                .user = cli_flags_string(f, "user"),
                .additional_gids = (char *const *) cli_flags_list(f, "additional-gids", NULL),
                .caps = (char *const *) cli_flags_list(f, "cap", NULL),
                .no_new_privs = cli_flags_bool(f, "no-new-privs"),
                .apparmor = cli_flags_string(f, "apparmor"),
                .process_label = cli_flags_string(f, "process-label"),
                .console_socket = console,
                .pid_file = pid_file,
                .detach = cli_flags_bool(f, "detach"),
                .preserve_fds = (unsigned) cli_flags_uint(f, "preserve-fds"),
                .ignore_paused = cli_flags_bool(f, "ignore-paused"),
        };
        if (container_exec(ctx, &o, &status, err) < 0)
                return rv_error_wrap(err, "exec failed");
        return status;
}
