/* SPDX-License-Identifier: Apache-2.0 */
/* runvm's entry point: global flags, the command table, the one place
 * where errors are printed. Exit codes: 0 success, 1 any error, 3 unknown
 * subcommand, a foreground run's workload status (CONTRACT.md §6). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "main/cli.h"
#include "main/flags.h"
#include "main/help.h"
#include "spec/config.h"

/* The libseccomp runvm enforces with is the one linked statically into the
 * guest agent; the headers it was built against give its version. */
#if __has_include(<seccomp.h>)
#include <seccomp.h>
#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBSECCOMP_VERSION STR(SCMP_VER_MAJOR) "." STR(SCMP_VER_MINOR) "." STR(SCMP_VER_MICRO)
#else
#define LIBSECCOMP_VERSION NULL
#endif

#if defined(__clang__)
#define CC_VERSION "clang " __clang_version__
#elif defined(__GNUC__)
#define CC_VERSION "gcc " __VERSION__
#else
#define CC_VERSION "unknown"
#endif

#define DEFAULT_ROOT "/run/runvm"

static const char app_help[] =
        "runvm is a command line client for running applications packaged according to\n"
        "the Open Container Initiative (OCI) format. It is a drop-in replacement for runc\n"
        "that runs every container inside its own QEMU microVM.\n"
        "\n"
        "Containers are configured using bundles. A bundle for a container is a directory\n"
        "that includes a specification file named \"config.json\" and a root filesystem.\n"
        "The root filesystem contains the contents of the container.\n"
        "\n"
        "To start a new instance of a container:\n"
        "\n"
        "    # runvm run [ -b bundle ] <container-id>\n"
        "\n"
        "Where \"<container-id>\" is your name for the instance of the container that you\n"
        "are starting. The name you provide for the container instance must be unique on\n"
        "your host. Providing the bundle directory using \"-b\" is optional. The default\n"
        "value for \"bundle\" is the current directory.\n";

static const struct cli_flag global_flags[] = {
        { "debug", NULL, CLI_FLAG_BOOL, "enable debug logging", NULL },
        { "log", NULL, CLI_FLAG_STRING,
          "set the log file to write runvm logs to (default is '/dev/stderr')", NULL },
        { "log-format", NULL, CLI_FLAG_STRING,
          "set the log format ('text' (default), or 'json')", "\"text\"" },
        { "root", NULL, CLI_FLAG_STRING,
          "root directory for storage of container state (this should be located in tmpfs)",
          "\"" DEFAULT_ROOT "\"" },
        { "criu", NULL, CLI_FLAG_STRING,
          "accepted for compatibility and ignored: runvm does not use criu", "\"criu\"" },
        { "systemd-cgroup", NULL, CLI_FLAG_BOOL,
          "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" "
          "for e.g. \"system.slice:runvm:434234\"", NULL },
        { "rootless", NULL, CLI_FLAG_STRING,
          "ignore cgroup permission errors ('true', 'false', or 'auto')", "\"auto\"" },
        { "version", "v", CLI_FLAG_BOOL, "print the version", NULL },
};

static const struct cli_command commands[] = {
        { .name = "checkpoint", .handler = cmd_checkpoint, .args_usage = "<container-id>",
          .description = "checkpoint a running container (not supported)",
          .max_args = -1, .unparsed = true },
        { .name = "create", .handler = cmd_create, .args_usage = "<container-id>",
          .description = "create a container",
          .flags = &cmd_create_flags, .min_args = 1, .max_args = 1 },
        { .name = "delete", .handler = cmd_delete, .args_usage = "<container-id>",
          .description = "delete any resources held by the container often used with detached container",
          .flags = &cmd_delete_flags, .min_args = 1, .max_args = 1 },
        { .name = "events", .handler = cmd_events, .args_usage = "<container-id>",
          .description = "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
          .flags = &cmd_events_flags, .min_args = 1, .max_args = 1 },
        { .name = "exec", .handler = cmd_exec, .args_usage = "<container-id> <command> [command options]",
          .description = "execute new process inside the container",
          .flags = &cmd_exec_flags, .min_args = 1, .max_args = -1, .no_reorder = true,
          .failure_status = 255 },
        { .name = "kill", .handler = cmd_kill, .args_usage = "<container-id> [signal]",
          .description = "kill sends the specified signal (default: SIGTERM) to the container's init process",
          .flags = &cmd_kill_flags, .min_args = 1, .max_args = 2 },
        { .name = "list", .handler = cmd_list, .args_usage = "",
          .description = "lists containers started by runvm with the given root",
          .flags = &cmd_list_flags },
        { .name = "pause", .handler = cmd_pause, .args_usage = "<container-id>",
          .description = "pause suspends all processes inside the container",
          .min_args = 1, .max_args = 1 },
        { .name = "ps", .handler = cmd_ps, .args_usage = "<container-id> [ps options]",
          .description = "ps displays the processes running inside a container",
          .flags = &cmd_ps_flags, .min_args = 1, .max_args = -1, .no_reorder = true },
        { .name = "restore", .handler = cmd_restore, .args_usage = "<container-id>",
          .description = "restore a container from a previous checkpoint (not supported)",
          .max_args = -1, .unparsed = true },
        { .name = "resume", .handler = cmd_resume, .args_usage = "<container-id>",
          .description = "resumes all processes that have been previously paused",
          .min_args = 1, .max_args = 1 },
        { .name = "run", .handler = cmd_run, .args_usage = "<container-id>",
          .description = "create and run a container",
          .flags = &cmd_run_flags, .min_args = 1, .max_args = 1 },
        { .name = "spec", .handler = cmd_spec, .args_usage = "",
          .description = "create a new specification file",
          .flags = &cmd_spec_flags },
        { .name = "start", .handler = cmd_start, .args_usage = "<container-id>",
          .description = "executes the user defined process in a created container",
          .min_args = 1, .max_args = 1 },
        { .name = "state", .handler = cmd_state, .args_usage = "<container-id>",
          .description = "output the state of a container", .min_args = 1, .max_args = 1 },
        { .name = "update", .handler = cmd_update, .args_usage = "<container-id>",
          .description = "update container resource constraints",
          .flags = &cmd_update_flags, .min_args = 1, .max_args = 1 },
        { .name = "features", .handler = cmd_features, .args_usage = "",
          .description = "show the enabled features" },
        { .name = "check", .handler = cmd_check, .args_usage = "",
          .description = "report what this host offers runvm (KVM, QEMU, kernel, ...)",
          .flags = &cmd_check_flags },
        { .name = "pool", .handler = cmd_pool, .args_usage = "fill|drain|status",
          .description = "fill, drain or show the warm pool of pre-booted VMs of this --root",
          .flags = &cmd_pool_flags, .min_args = 1, .max_args = 1 },
};

/* Every fatal error: logged once; printed plainly on stderr as well when
 * the log is a file, as runc does. */
static void report_error(const char *msg)
{
        rv_log(RV_LOG_ERROR, "%s", msg);
        if (rv_log_is_file())
                fprintf(stderr, "%s\n", msg);
}

/* runc's lines in runc's order; its go: line (the toolchain) is cc: here. */
static void print_version_details(FILE *out)
{
        fprintf(out, "commit: %s\n", RUNVM_COMMIT);
        fprintf(out, "spec: %s\n", SPEC_OCI_VERSION);
        fprintf(out, "cc: %s\n", CC_VERSION);
        if (LIBSECCOMP_VERSION != NULL)
                fprintf(out, "libseccomp: %s\n", LIBSECCOMP_VERSION);
}

static void print_version(FILE *out)
{
        fprintf(out, "runvm version %s\n", RUNVM_VERSION);
        print_version_details(out);
}

static void print_app_help(FILE *out)
{
        size_t width = strlen("help, h");

        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strlen(commands[i].name) > width)
                        width = strlen(commands[i].name);
        fputs("NAME:\n   runvm - Open Container Initiative runtime on microVMs\n\n", out);
        fputs(app_help, out);
        fputs("\nUSAGE:\n   runvm [global options] command [command options] [arguments...]\n\n", out);
        /* runc's VERSION section: the bare version, then the other lines. */
        fprintf(out, "VERSION:\n   %s\n", RUNVM_VERSION);
        print_version_details(out);
        fputs("\nCOMMANDS:\n", out);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(out, "   %-*s  %s\n", (int) width, commands[i].name, commands[i].description);
        fprintf(out, "   %-*s  %s\n", (int) width, "help, h", "Shows a list of commands or help for one command");
        fputs("\nGLOBAL OPTIONS:\n", out);
        /* runc lists --help before --version, the last flag. */
        cli_flags_print_help_width(out, global_flags, ARRAY_SIZE(global_flags) - 1, global_flags,
                                   ARRAY_SIZE(global_flags));
        fputs("   --help, -h          show help\n", out);
        cli_flags_print_help_width(out, &global_flags[ARRAY_SIZE(global_flags) - 1], 1, global_flags,
                                   ARRAY_SIZE(global_flags));
}

static void print_command_help(FILE *out, const struct cli_command *c)
{
        help_print_command(out, c->name, c->description, c->args_usage,
                           c->flags != NULL ? c->flags->flags : NULL, c->flags != NULL ? c->flags->n : 0);
}

static const struct cli_command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

/* runc's checkArgs texts, with "runvm" for os.Args[0]. */
static int check_args(const struct cli_command *c, size_t n, struct rv_error **err)
{
        if (c->min_args == c->max_args && n != (size_t) c->min_args)
                return rv_error_set(err, 0, "runvm: \"%s\" requires exactly %d argument(s)",
                                    c->name, c->min_args);
        if (n < (size_t) c->min_args)
                return rv_error_set(err, 0, "runvm: \"%s\" requires a minimum of %d argument(s)",
                                    c->name, c->min_args);
        if (c->max_args >= 0 && n > (size_t) c->max_args)
                return rv_error_set(err, 0, "runvm: \"%s\" requires a maximum of %d argument(s)",
                                    c->name, c->max_args);
        return 0;
}

struct globals {
        struct runvm_context ctx;
        char *root;
};

static void globals_clear(struct globals *g)
{
        free(g->root);
        g->root = NULL;
}

/* Validates the global flags, opens the log and fills the context. */
static int build_context(const struct cli_flags_result *f, struct globals *g, struct rv_error **err)
{
        const char *format = cli_flags_string(f, "log-format");
        const char *rootless = cli_flags_string(f, "rootless");
        const char *root = cli_flags_string(f, "root");
        const char *log_path = cli_flags_string(f, "log");
        bool ignored;
        int r;

        g->ctx.log_format = RV_LOG_FORMAT_TEXT;
        if (format != NULL && strcmp(format, "json") == 0)
                g->ctx.log_format = RV_LOG_FORMAT_JSON;
        else if (format != NULL && strcmp(format, "text") != 0)
                return rv_error_set(err, 0, "invalid log-format: %s", format);
        g->ctx.debug = cli_flags_bool(f, "debug");
        g->ctx.systemd_cgroup = cli_flags_bool(f, "systemd-cgroup");
        g->ctx.log_path = log_path != NULL && log_path[0] != '\0' ? log_path : NULL;

        r = rv_log_open(g->ctx.log_path, g->ctx.log_format, g->ctx.debug);
        if (r < 0)
                return rv_error_set(err, -r, "open log file `%s`", g->ctx.log_path);

        /* A VM needs no cgroup delegation tricks: the value is only checked. */
        if (rootless != NULL && strcasecmp(rootless, "auto") != 0 && rootless[0] != '\0' &&
            !cli_parse_bool(rootless, &ignored))
                return rv_error_set(err, 0, "invalid --rootless value \"%s\": expected true, false or auto",
                                    rootless);

        if (cli_path_absolute(root != NULL ? root : DEFAULT_ROOT, &g->root, err) < 0)
                return -1;
        if (strcmp(g->root, "/") == 0)
                return rv_error_set(err, 0, "option --root argument should not be set to /");
        g->ctx.root = g->root;
        return 0;
}

static int run_command(const struct runvm_context *ctx, const struct cli_command *c, int argc,
                       char **argv)
{
        _cleanup_error_ struct rv_error *err = NULL;
        struct cli_flags_result f = { 0 };
        int status;

        if (c->unparsed) {
                if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
                        print_command_help(stdout, c);
                        return 0;
                }
                f.args = argv;
                f.n_args = (size_t) argc;
        } else if (cli_flags_parse(c->flags != NULL ? c->flags->flags : NULL,
                                   c->flags != NULL ? c->flags->n : 0, argc, argv, !c->no_reorder, &f, &err) < 0) {
                printf("Incorrect Usage: %s\n\n", err->msg);
                print_command_help(stdout, c);
                report_error(err->msg);
                return 1;
        }
        if (f.help) {
                print_command_help(stdout, c);
                cli_flags_result_clear(&f);
                return 0;
        }
        if (!c->unparsed && check_args(c, f.n_args, &err) < 0) {
                fputs("Incorrect Usage.\n\n", stdout);
                print_command_help(stdout, c);
                report_error(err->msg);
                cli_flags_result_clear(&f);
                return 1;
        }
        /* --debug: what runc's callers grep for, in its level=debug shape. */
        rv_debug("%s: root %s, container %s", c->name, ctx->root,
                 !c->unparsed && f.n_args > 0 && c->min_args > 0 ? f.args[0] : "(none)");
        status = c->handler(ctx, &f, &err);
        if (status >= 0)
                rv_debug("%s: done, exit status %d", c->name, status);
        if (!c->unparsed)
                cli_flags_result_clear(&f);
        if (status < 0) {
                report_error(err != NULL && err->msg != NULL ? err->msg : "unknown error");
                return c->failure_status ? c->failure_status : 1;
        }
        return status;
}

int main(int argc, char **argv)
{
        _cleanup_error_ struct rv_error *err = NULL;
        _cleanup_(globals_clear) struct globals g = { 0 };
        struct cli_flags_result f = { 0 };
        const struct cli_command *c;
        const char *name;
        int status;

        if (cli_flags_parse(global_flags, ARRAY_SIZE(global_flags), argc - 1, argv + 1, false, &f,
                            &err) < 0) {
                printf("Incorrect Usage. %s\n\n", err->msg);
                print_app_help(stdout);
                fflush(stdout);
                report_error(err->msg);
                return 1;
        }
        if (f.help) {
                print_app_help(stdout);
                cli_flags_result_clear(&f);
                return 0;
        }
        if (cli_flags_bool(&f, "version")) {
                print_version(stdout);
                cli_flags_result_clear(&f);
                return 0;
        }
        if (build_context(&f, &g, &err) < 0) {
                report_error(err->msg);
                cli_flags_result_clear(&f);
                return 1;
        }
        if (f.n_args == 0) {
                print_app_help(stdout);
                cli_flags_result_clear(&f);
                return 0;
        }
        name = f.args[0];
        if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
                c = f.n_args > 1 ? find_command(f.args[1]) : NULL;
                if (f.n_args > 1 && c == NULL) {
                        rv_error_set(&err, 0, "No help topic for '%s'", f.args[1]);
                        report_error(err->msg);
                        cli_flags_result_clear(&f);
                        return 3;
                }
                if (c != NULL)
                        print_command_help(stdout, c);
                else
                        print_app_help(stdout);
                cli_flags_result_clear(&f);
                return 0;
        }
        c = find_command(name);
        if (c == NULL) {
                rv_error_set(&err, 0, "No help topic for '%s'", name);
                report_error(err->msg);
                cli_flags_result_clear(&f);
                return 3;
        }
        status = run_command(&g.ctx, c, (int) f.n_args - 1, f.args + 1);
        cli_flags_result_clear(&f);
        if (fflush(stdout) != 0 && status == 0) {
                rv_error_set(&err, errno, "write to stdout");
                report_error(err->msg);
                status = 1;
        }
        rv_log_close();
        return status;
}
