/* SPDX-License-Identifier: Apache-2.0 */
/* runc's command-line grammar (Go's flag package behind urfave/cli v1):
 * `--name value`, `--name=value`, `-name`, `-name=value`, single-letter
 * aliases with one or two dashes, booleans as `--flag` or
 * `--flag=true|false`, repeatable list flags, `--` ends the flags.
 *
 * With reordering (every command but exec and ps), known flags after the
 * first positional argument are still taken as flags, the way urfave/cli
 * moves them before it; an unknown dash-word there stays a positional
 * argument (`kill ID -5`). Without reordering everything from the first
 * positional argument on belongs to the command (`exec ID sh -c ...`). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct rv_error;

enum cli_flag_type {
        CLI_FLAG_BOOL,
        CLI_FLAG_STRING,        /* repeated: the last value wins */
        CLI_FLAG_UINT,
        CLI_FLAG_LIST,          /* repeatable: every value kept, in order */
};

struct cli_flag {
        const char *name;       /* long name, without dashes */
        const char *alias;      /* one-letter alias or NULL */
        enum cli_flag_type type;
        const char *usage;      /* one line for --help */
        const char *default_text; /* shown as "(default: X)", or NULL */
};

struct cli_flag_set {
        const struct cli_flag *flags;
        size_t n;
};
#define CLI_FLAG_SET(a) { (a), sizeof(a) / sizeof((a)[0]) }

struct cli_flag_value {
        bool set;
        bool b;
        const char *s;
        unsigned long long u;
        const char **list;      /* NULL-terminated when n_list > 0 */
        size_t n_list;
};

struct cli_flags_result {
        const struct cli_flag *flags;
        size_t n_flags;
        struct cli_flag_value *values;  /* one per flag */
        char **args;                    /* positional arguments, borrowed */
        size_t n_args;
        bool help;                      /* -h or --help was given */
};

/* Parses argv[0..argc) (the words after the command name). Strings are
 * borrowed from argv. `-h`/`--help` are implicit boolean flags. Errors
 * carry Go's texts: "flag provided but not defined: -foo", "flag needs an
 * argument: -b", "invalid boolean value \"x\" for -d: parse error",
 * "invalid value \"x\" for flag -preserve-fds: parse error",
 * "bad flag syntax: ---x". */
int cli_flags_parse(const struct cli_flag *flags, size_t n_flags, int argc, char **argv,
                    bool reorder, struct cli_flags_result *ret, struct rv_error **err);
void cli_flags_result_clear(struct cli_flags_result *r);

/* Look-ups by long name; the name must be one of the parser's flags. */
bool cli_flags_is_set(const struct cli_flags_result *r, const char *name);
bool cli_flags_bool(const struct cli_flags_result *r, const char *name);
const char *cli_flags_string(const struct cli_flags_result *r, const char *name);
unsigned long long cli_flags_uint(const struct cli_flags_result *r, const char *name);
const char *const *cli_flags_list(const struct cli_flags_result *r, const char *name,
                                  size_t *ret_n);

/* Go's strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False. */
bool cli_parse_bool(const char *s, bool *ret);

/* The OPTIONS block of a help text, urfave/cli's layout. */
void cli_flags_print_help(FILE *out, const struct cli_flag *flags, size_t n_flags);
/* As cli_flags_print_help, aligned as if all n_all flags were listed. */
void cli_flags_print_help_width(FILE *out, const struct cli_flag *flags, size_t n_flags,
                                const struct cli_flag *all, size_t n_all);
