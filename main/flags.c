/* SPDX-License-Identifier: Apache-2.0 */
#include "main/flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const struct cli_flag help_flag = {
        "help", "h", CLI_FLAG_BOOL, "show help", NULL,
};

bool cli_parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcmp(s, yes[i]) == 0) {
                        *ret = true;
                        return true;
                }
                if (strcmp(s, no[i]) == 0) {
                        *ret = false;
                        return true;
                }
        }
        return false;
}

/* Go's strconv.ParseUint(s, 0, 64), without the digit separators. */
static bool parse_uint(const char *s, unsigned long long *ret)
{
        char *end = NULL;
        unsigned long long v;

        if (s[0] < '0' || s[0] > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end != '\0')
                return false;
        *ret = v;
        return true;
}

/* The flag named by key[0..len): its index, n_flags for the implicit
 * help flag, or -1. */
static long find_flag(const struct cli_flag *flags, size_t n_flags, const char *key, size_t len)
{
        for (size_t i = 0; i <= n_flags; i++) {
                const struct cli_flag *f = i < n_flags ? &flags[i] : &help_flag;

                if (strlen(f->name) == len && strncmp(f->name, key, len) == 0)
                        return (long) i;
                if (f->alias != NULL && strlen(f->alias) == len && strncmp(f->alias, key, len) == 0)
                        return (long) i;
        }
        return -1;
}

static int list_append(struct cli_flag_value *v, const char *s, struct rv_error **err)
{
        const char **n = realloc(v->list, (v->n_list + 2) * sizeof(*n));

        if (n == NULL)
                return rv_error_set(err, ENOMEM, "parse flags");
        n[v->n_list++] = s;
        n[v->n_list] = NULL;
        v->list = n;
        return 0;
}

/* Applies one flag word (argv[*i]); may consume the next word as its value.
 * Returns 1 when the word is not a known flag and may be a positional
 * argument (only asked for when reordering past the first positional). */
static int parse_one(const struct cli_flag *flags, size_t n_flags, int argc, char **argv, int *i,
                     bool unknown_is_arg, struct cli_flags_result *r, struct rv_error **err)
{
        const char *word = argv[*i];
        const char *name = word + 1;
        const char *eq, *value = NULL;
        size_t len;
        long idx;

        if (name[0] == '-')
                name++;
        if (name[0] == '\0' || name[0] == '-' || name[0] == '=') {
                if (unknown_is_arg)
                        return 1;
                return rv_error_set(err, 0, "bad flag syntax: %s", word);
        }
        eq = strchr(name, '=');
        len = eq != NULL ? (size_t) (eq - name) : strlen(name);
        if (eq != NULL)
                value = eq + 1;
        idx = find_flag(flags, n_flags, name, len);
        if (idx < 0) {
                if (unknown_is_arg)
                        return 1;
                return rv_error_set(err, 0, "flag provided but not defined: -%.*s", (int) len, name);
        }
        if ((size_t) idx == n_flags) {
                if (value != NULL && !cli_parse_bool(value, &r->help))
                        return rv_error_set(err, 0, "invalid boolean value \"%s\" for -%.*s: parse error",
                                            value, (int) len, name);
                if (value == NULL)
                        r->help = true;
                return 0;
        }

        const struct cli_flag *f = &flags[idx];
        struct cli_flag_value *v = &r->values[idx];

        if (f->type == CLI_FLAG_BOOL) {
                v->b = true;
                if (value != NULL && !cli_parse_bool(value, &v->b))
                        return rv_error_set(err, 0, "invalid boolean value \"%s\" for -%.*s: parse error",
                                            value, (int) len, name);
                v->set = true;
                return 0;
        }
        if (value == NULL) {
                if (*i + 1 >= argc)
                        return rv_error_set(err, 0, "flag needs an argument: -%.*s", (int) len, name);
                value = argv[++*i];
        }
        switch (f->type) {
        case CLI_FLAG_UINT:
                if (!parse_uint(value, &v->u))
                        return rv_error_set(err, 0, "invalid value \"%s\" for flag -%.*s: parse error",
                                            value, (int) len, name);
                break;
        case CLI_FLAG_LIST:
                if (list_append(v, value, err) < 0)
                        return -1;
                break;
        default:
                break;
        }
        v->s = value;
        v->set = true;
        return 0;
}

int cli_flags_parse(const struct cli_flag *flags, size_t n_flags, int argc, char **argv,
                    bool reorder, struct cli_flags_result *ret, struct rv_error **err)
{
        struct cli_flags_result r = { .flags = flags, .n_flags = n_flags };
        bool positional_seen = false, ended = false;

        r.values = calloc(n_flags + 1, sizeof(*r.values));
        r.args = calloc((size_t) argc + 1, sizeof(*r.args));
        if (r.values == NULL || r.args == NULL) {
                cli_flags_result_clear(&r);
                return rv_error_set(err, ENOMEM, "parse flags");
        }
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                int rc;

                if (ended || (positional_seen && !reorder)) {
                        r.args[r.n_args++] = argv[i];
                        continue;
                }
                if (strcmp(a, "--") == 0) {
                        ended = true;
                        continue;
                }
                if (a[0] != '-' || a[1] == '\0') {
                        r.args[r.n_args++] = argv[i];
                        positional_seen = true;
                        continue;
                }
                rc = parse_one(flags, n_flags, argc, argv, &i, positional_seen, &r, err);
                if (rc < 0) {
                        cli_flags_result_clear(&r);
                        return -1;
                }
                if (rc > 0)
                        r.args[r.n_args++] = argv[i];
        }
        *ret = r;
        return 0;
}

void cli_flags_result_clear(struct cli_flags_result *r)
{
        if (r->values != NULL)
                for (size_t i = 0; i < r->n_flags; i++)
                        free(r->values[i].list);
        free(r->values);
        free(r->args);
        r->values = NULL;
        r->args = NULL;
        r->n_args = 0;
}

static const struct cli_flag_value *lookup(const struct cli_flags_result *r, const char *name)
{
        for (size_t i = 0; i < r->n_flags; i++)
                if (strcmp(r->flags[i].name, name) == 0)
                        return &r->values[i];
        /* A name missing from the command's own table is a bug in main/. */
        abort();
}

bool cli_flags_is_set(const struct cli_flags_result *r, const char *name)
{
        return lookup(r, name)->set;
}

bool cli_flags_bool(const struct cli_flags_result *r, const char *name)
{
        return lookup(r, name)->b;
}

const char *cli_flags_string(const struct cli_flags_result *r, const char *name)
{
        return lookup(r, name)->s;
}

unsigned long long cli_flags_uint(const struct cli_flags_result *r, const char *name)
{
        return lookup(r, name)->u;
}

const char *const *cli_flags_list(const struct cli_flags_result *r, const char *name,
                                  size_t *ret_n)
{
        const struct cli_flag_value *v = lookup(r, name);

        if (ret_n)
                *ret_n = v->n_list;
        return v->n_list > 0 ? v->list : NULL;
}

static size_t flag_label(char *buf, size_t size, const struct cli_flag *f)
{
        const char *value = f->type == CLI_FLAG_BOOL ? "" : " value";
        int n;

        if (f->alias != NULL)
                n = snprintf(buf, size, "--%s%s, -%s%s", f->name, value, f->alias, value);
        else
                n = snprintf(buf, size, "--%s%s", f->name, value);
        return n < 0 ? 0 : (size_t) n;
}

void cli_flags_print_help(FILE *out, const struct cli_flag *flags, size_t n_flags)
{
        cli_flags_print_help_width(out, flags, n_flags, flags, n_flags);
}

void cli_flags_print_help_width(FILE *out, const struct cli_flag *flags, size_t n_flags,
                                const struct cli_flag *all, size_t n_all)
{
        char label[128];
        size_t width = 0;

        for (size_t i = 0; i < n_all; i++) {
                size_t n = flag_label(label, sizeof(label), &all[i]);

                if (n > width)
                        width = n;
        }
        for (size_t i = 0; i < n_flags; i++) {
                flag_label(label, sizeof(label), &flags[i]);
                fprintf(out, "   %-*s  %s", (int) width, label, flags[i].usage);
                if (flags[i].default_text != NULL)
                        fprintf(out, " (default: %s)", flags[i].default_text);
                fputc('\n', out);
        }
}
