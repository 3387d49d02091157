/* SPDX-License-Identifier: Apache-2.0 */
/* What main.c and the cmd-<verb>.c files share: the command table entry,
 * the handlers, and the few helpers every command needs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "libcontainer-vm/container.h"
#include "main/flags.h"
#include "main/path.h"

struct rv_error;

/* Returns < 0 with *err set on failure, otherwise the exit status. */
typedef int (*cli_handler)(const struct runvm_context *ctx, const struct cli_flags_result *f,
                           struct rv_error **err);

struct cli_command {
        const char *name;
        cli_handler handler;
        const char *args_usage;         /* e.g. "<container-id>" */
        const char *description;        /* one line, for the command list (urfave's Usage) */
        /* The long texts of --help are runc's, in main/help.c. */
        const struct cli_flag_set *flags; /* NULL: no flags */
        int min_args, max_args;         /* max_args < 0: no maximum */
        bool no_reorder;                /* exec, ps: words after the ID are the command's */
        bool unparsed;                  /* flags passed through unparsed (checkpoint, restore) */
        int failure_status;             /* exit status on failure; 0 means 1 (exec: 255) */
};

/* Each command's flags live in its cmd-<verb>.c. */
extern const struct cli_flag_set cmd_create_flags;
extern const struct cli_flag_set cmd_run_flags;
extern const struct cli_flag_set cmd_kill_flags;
extern const struct cli_flag_set cmd_delete_flags;
extern const struct cli_flag_set cmd_list_flags;
extern const struct cli_flag_set cmd_check_flags;
extern const struct cli_flag_set cmd_pool_flags;
extern const struct cli_flag_set cmd_spec_flags;
extern const struct cli_flag_set cmd_exec_flags;
extern const struct cli_flag_set cmd_ps_flags;
extern const struct cli_flag_set cmd_events_flags;
extern const struct cli_flag_set cmd_update_flags;

int cmd_create(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_start(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_run(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_kill(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_delete(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_features(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_state(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_list(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_spec(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_checkpoint(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_restore(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_check(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_pool(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_exec(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_ps(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_pause(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_resume(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_events(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);
int cmd_update(const struct runvm_context *ctx, const struct cli_flags_result *f, struct rv_error **err);

/* The first positional argument, checked as a container ID. */
int cli_container_id(const struct cli_flags_result *f, const char **ret, struct rv_error **err);

/* create and run share their flags: the options they describe. The strings
 * made absolute are owned by ret_paths. */
struct cli_create_paths {
        char *bundle, *pid_file, *console_socket;
};
int cli_create_options(const struct cli_flags_result *f, struct container_create_options *ret,
                       struct cli_create_paths *ret_paths, struct rv_error **err);
void cli_create_paths_clear(struct cli_create_paths *p);

/* Writes s and flushes stdout; a failed write is an error. */
int cli_print(const char *s, bool newline, struct rv_error **err);
