/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's pure parts: the flag parser (every form runc accepts), signal
 * names, the list table aligner and path cleaning.
 *
 * main/ is not part of build/libruntime-testing.a (it holds main()), so the
 * modules under test are compiled into this file directly: the Makefile
 * rule builds `cc ... -o build/tests/test-cli tests/unit/test-cli.c
 * build/libruntime-testing.a`, and libruntime-testing.a supplies rv_error. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "main/flags.c"
#include "main/path.c"
#include "main/signals.c"
#include "main/table.c"

/* --- helpers ----------------------------------------------------------- */

static const struct cli_flag test_flags[] = {
        { "bundle", "b", CLI_FLAG_STRING, "bundle", NULL },
        { "detach", "d", CLI_FLAG_BOOL, "detach", NULL },
        { "no-subreaper", NULL, CLI_FLAG_BOOL, "no subreaper", NULL },
        { "preserve-fds", NULL, CLI_FLAG_UINT, "fds", "0" },
        { "env", "e", CLI_FLAG_LIST, "env", NULL },
        { "all", "a", CLI_FLAG_BOOL, "all", NULL },
};

struct parsed {
        struct cli_flags_result r;
        struct rv_error *err;
        int rc;
};

/* Parses a NULL-terminated word list. */
static struct parsed parse_words(bool reorder, const char **words)
{
        struct parsed p = { 0 };
        int argc = 0;

        while (words[argc] != NULL)
                argc++;
        p.rc = cli_flags_parse(test_flags, ARRAY_SIZE(test_flags), argc, (char **) words, reorder,
                               &p.r, &p.err);
        return p;
}

static void parsed_clear(struct parsed *p)
{
        cli_flags_result_clear(&p->r);
        rv_error_release(&p->err);
}

#define PARSE(reorder, ...) parse_words(reorder, (const char *[]) { __VA_ARGS__, NULL })

static void assert_args(const struct parsed *p, size_t n, const char **want)
{
        assert_int_equal(p->rc, 0);
        assert_int_equal(p->r.n_args, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(p->r.args[i], want[i]);
}

#define ASSERT_ARGS(p, ...)                                                             \
        assert_args(p, ARRAY_SIZE(((const char *[]) { __VA_ARGS__ })),                  \
                    (const char *[]) { __VA_ARGS__ })

static void assert_error(const struct parsed *p, const char *msg)
{
        assert_int_equal(p->rc, -1);
        assert_non_null(p->err);
        assert_string_equal(p->err->msg, msg);
}

/* --- flag forms -------------------------------------------------------- */

static void test_string_forms(void **state)
{
        static const char *forms[][4] = {
                { "--bundle", "/b", "id", NULL }, { "--bundle=/b", "id", NULL, NULL },
                { "-bundle", "/b", "id", NULL },  { "-bundle=/b", "id", NULL, NULL },
                { "-b", "/b", "id", NULL },       { "--b", "/b", "id", NULL },
                { "-b=/b", "id", NULL, NULL },    { "id", "--bundle", "/b", NULL },
        };

        for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
                struct parsed p = parse_words(true, forms[i]);

                ASSERT_ARGS(&p, "id");
                assert_true(cli_flags_is_set(&p.r, "bundle"));
                assert_string_equal(cli_flags_string(&p.r, "bundle"), "/b");
                parsed_clear(&p);
        }
}

static void test_value_may_look_like_a_flag(void **state)
{
        struct parsed p = PARSE(true, "--bundle", "-x", "id");

        ASSERT_ARGS(&p, "id");
        assert_string_equal(cli_flags_string(&p.r, "bundle"), "-x");
        parsed_clear(&p);

        p = PARSE(true, "--bundle=", "id");
        assert_string_equal(cli_flags_string(&p.r, "bundle"), "");
        parsed_clear(&p);
}

static void test_last_string_wins(void **state)
{
        struct parsed p = PARSE(true, "-b", "one", "--bundle=two", "id");

        assert_string_equal(cli_flags_string(&p.r, "bundle"), "two");
        parsed_clear(&p);
}

static void test_booleans(void **state)
{
        struct parsed p = PARSE(true, "-d", "--no-subreaper", "id");

        ASSERT_ARGS(&p, "id");
        assert_true(cli_flags_bool(&p.r, "detach"));
        assert_true(cli_flags_bool(&p.r, "no-subreaper"));
        assert_false(cli_flags_bool(&p.r, "all"));
        assert_false(cli_flags_is_set(&p.r, "all"));
        parsed_clear(&p);

        static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *no[] = { "0", "f", "F", "FALSE", "false", "False" };
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                snprintf(buf, sizeof(buf), "--detach=%s", yes[i]);
                p = PARSE(true, buf, "id");
                assert_int_equal(p.rc, 0);
                assert_true(cli_flags_bool(&p.r, "detach"));
                parsed_clear(&p);
                snprintf(buf, sizeof(buf), "-no-subreaper=%s", no[i]);
                p = PARSE(true, "-no-subreaper", buf, "id");
                assert_int_equal(p.rc, 0);
                assert_false(cli_flags_bool(&p.r, "no-subreaper"));
                assert_true(cli_flags_is_set(&p.r, "no-subreaper"));
                parsed_clear(&p);
        }
}

static void test_bool_takes_no_separate_value(void **state)
{
        /* Go: a boolean never consumes the next word. */
        struct parsed p = PARSE(true, "--detach", "false", "id");

        ASSERT_ARGS(&p, "false", "id");
        assert_true(cli_flags_bool(&p.r, "detach"));
        parsed_clear(&p);
}

static void test_bad_boolean(void **state)
{
        struct parsed p = PARSE(true, "-d=maybe", "id");

        assert_error(&p, "invalid boolean value \"maybe\" for -d: parse error");
        parsed_clear(&p);
}

static void test_uint(void **state)
{
        struct parsed p = PARSE(true, "--preserve-fds", "3", "id");

        assert_int_equal(cli_flags_uint(&p.r, "preserve-fds"), 3);
        parsed_clear(&p);

        p = PARSE(true, "--preserve-fds=0x10", "id");
        assert_int_equal(cli_flags_uint(&p.r, "preserve-fds"), 16);
        parsed_clear(&p);

        static const char *bad[] = { "x", "-1", "", " 1", "1x", "99999999999999999999999" };
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char want[128];

                snprintf(buf, sizeof(buf), "--preserve-fds=%s", bad[i]);
                snprintf(want, sizeof(want), "invalid value \"%s\" for flag -preserve-fds: parse error", bad[i]);
                p = PARSE(true, buf, "id");
                assert_error(&p, want);
                parsed_clear(&p);
        }
}

static void test_repeated_list(void **state)
{
        struct parsed p = PARSE(true, "-e", "A=1", "--env=B=2", "-env", "C=3", "id");
        const char *const *v;
        size_t n;

        ASSERT_ARGS(&p, "id");
        v = cli_flags_list(&p.r, "env", &n);
        assert_int_equal(n, 3);
        assert_string_equal(v[0], "A=1");
        assert_string_equal(v[1], "B=2");
        assert_string_equal(v[2], "C=3");
        assert_null(v[3]);
        parsed_clear(&p);

        p = PARSE(true, "id");
        v = cli_flags_list(&p.r, "env", &n);
        assert_int_equal(n, 0);
        assert_null(v);
        parsed_clear(&p);
}

static void test_missing_value(void **state)
{
        struct parsed p = PARSE(true, "id", "-b");

        assert_error(&p, "flag needs an argument: -b");
        parsed_clear(&p);
}

static void test_unknown_flag(void **state)
{
        struct parsed p = PARSE(true, "--foo", "id");

        assert_error(&p, "flag provided but not defined: -foo");
        parsed_clear(&p);

        p = PARSE(true, "-foo=bar", "id");
        assert_error(&p, "flag provided but not defined: -foo");
        parsed_clear(&p);

        p = PARSE(true, "---x", "id");
        assert_error(&p, "bad flag syntax: ---x");
        parsed_clear(&p);

        p = PARSE(true, "-=x");
        assert_error(&p, "bad flag syntax: -=x");
        parsed_clear(&p);
}

static void test_help(void **state)
{
        struct parsed p = PARSE(true, "-h");

        assert_int_equal(p.rc, 0);
        assert_true(p.r.help);
        parsed_clear(&p);

        p = PARSE(true, "id", "--help");
        assert_true(p.r.help);
        parsed_clear(&p);

        p = PARSE(true, "id");
        assert_false(p.r.help);
        parsed_clear(&p);
}

/* --- position ---------------------------------------------------------- */

static void test_flags_after_id_are_moved(void **state)
{
        struct parsed p = PARSE(true, "id", "KILL", "-a", "--bundle", "/b", "-d=false");

        ASSERT_ARGS(&p, "id", "KILL");
        assert_true(cli_flags_bool(&p.r, "all"));
        assert_string_equal(cli_flags_string(&p.r, "bundle"), "/b");
        assert_true(cli_flags_is_set(&p.r, "detach"));
        assert_false(cli_flags_bool(&p.r, "detach"));
        parsed_clear(&p);
}

static void test_unknown_after_id_is_an_argument(void **state)
{
        /* urfave/cli only moves flags it knows: `kill ID -5` keeps -5. */
        struct parsed p = PARSE(true, "id", "-5");

        ASSERT_ARGS(&p, "id", "-5");
        parsed_clear(&p);

        p = PARSE(true, "id", "--foo", "---x");
        ASSERT_ARGS(&p, "id", "--foo", "---x");
        parsed_clear(&p);
}

static void test_no_reorder(void **state)
{
        /* exec and ps: everything after the ID is the command's, even
         * words that are our flags and a `--`. */
        struct parsed p = PARSE(false, "-d", "id", "sh", "-c", "-e", "x", "--", "-b");

        ASSERT_ARGS(&p, "id", "sh", "-c", "-e", "x", "--", "-b");
        assert_true(cli_flags_bool(&p.r, "detach"));
        assert_false(cli_flags_is_set(&p.r, "env"));
        assert_false(cli_flags_is_set(&p.r, "bundle"));
        parsed_clear(&p);

        p = PARSE(false, "--foo", "id");
        assert_error(&p, "flag provided but not defined: -foo");
        parsed_clear(&p);
}

static void test_double_dash(void **state)
{
        struct parsed p = PARSE(true, "-a", "--", "-d", "id", "--bundle");

        ASSERT_ARGS(&p, "-d", "id", "--bundle");
        assert_true(cli_flags_bool(&p.r, "all"));
        assert_false(cli_flags_bool(&p.r, "detach"));
        parsed_clear(&p);

        p = PARSE(true, "id", "--", "9");
        ASSERT_ARGS(&p, "id", "9");
        parsed_clear(&p);

        p = PARSE(false, "--", "-d", "x");
        ASSERT_ARGS(&p, "-d", "x");
        parsed_clear(&p);
}

static void test_lone_dash_is_an_argument(void **state)
{
        struct parsed p = PARSE(true, "-", "-a");

        ASSERT_ARGS(&p, "-");
        assert_true(cli_flags_bool(&p.r, "all"));
        parsed_clear(&p);
}

static void test_global_style_stop_at_subcommand(void **state)
{
        /* main() parses the global flags without reordering: the first
         * word that is not a flag is the subcommand. */
        struct parsed p = PARSE(false, "--bundle", "/r", "-d", "create", "--bundle", "x", "c1");

        ASSERT_ARGS(&p, "create", "--bundle", "x", "c1");
        assert_string_equal(cli_flags_string(&p.r, "bundle"), "/r");
        parsed_clear(&p);
}

/* --- signals ----------------------------------------------------------- */

static void test_signal_names(void **state)
{
        static const struct { const char *in; int want; } ok[] = {
                { "KILL", SIGKILL }, { "kill", SIGKILL }, { "SIGKILL", SIGKILL },
                { "sigkill", SIGKILL }, { "SigTerm", SIGTERM }, { "HUP", SIGHUP },
                { "USR1", SIGUSR1 }, { "SIGUSR2", SIGUSR2 }, { "WINCH", SIGWINCH },
                { "CHLD", SIGCHLD }, { "CLD", SIGCHLD }, { "IOT", SIGABRT },
                { "STOP", SIGSTOP }, { "CONT", SIGCONT }, { "SYS", SIGSYS },
                { "9", 9 }, { "0", 0 }, { "15", 15 }, { "64", 64 }, { "+2", 2 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                struct rv_error *err = NULL;
                int sig = -1;

                assert_int_equal(cli_signal_parse(ok[i].in, &sig, &err), 0);
                assert_null(err);
                assert_int_equal(sig, ok[i].want);
        }
}

static void test_signal_unknown(void **state)
{
        static const char *bad[] = { "FOO", "SIG", "", "-5", "65", "9x", " 9", "SIGSIGKILL", "RTMIN" };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct rv_error *err = NULL;
                char want[64];
                int sig = 1234;

                snprintf(want, sizeof(want), "unknown signal \"%s\"", bad[i]);
                assert_int_equal(cli_signal_parse(bad[i], &sig, &err), -1);
                assert_non_null(err);
                assert_string_equal(err->msg, want);
                assert_int_equal(sig, 1234);
                rv_error_release(&err);
        }
}

/* --- table ------------------------------------------------------------- */

static char *table_text(const struct cli_table *t)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        assert_non_null(f);
        cli_table_write(t, f);
        fclose(f);
        return out;
}

static void add_row(struct cli_table *t, const char **cells, size_t n)
{
        struct rv_error *err = NULL;

        assert_int_equal(cli_table_add_row(t, cells, n, &err), 0);
}

#define ADD_ROW(t, ...) add_row(t, (const char *[]) { __VA_ARGS__ }, \
                                ARRAY_SIZE(((const char *[]) { __VA_ARGS__ })))

static void test_table_header_only(void **state)
{
        struct cli_table t = CLI_TABLE_INIT;
        char *s;

        ADD_ROW(&t, "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        s = table_text(&t);
        /* runc's output with no containers, byte for byte. */
        assert_string_equal(s, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
        free(s);
        cli_table_clear(&t);
}

static void test_table_runc_layout(void **state)
{
        struct cli_table t = CLI_TABLE_INIT;
        char *s;

        ADD_ROW(&t, "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        ADD_ROW(&t, "a1", "14451", "running", "/tmp/bb", "2026-11-23T18:38:56.236015177Z", "root");
        ADD_ROW(&t, "longer-name-2", "14465", "running", "/tmp/bb", "2026-11-23T18:38:56.303371642Z", "root");
        s = table_text(&t);
        /* Captured from runc 1.1.5 `list` with two busybox containers. */
        assert_string_equal(s,
                "ID              PID         STATUS      BUNDLE      CREATED                          OWNER\n"
                "a1              14451       running     /tmp/bb     2026-11-23T18:38:56.236015177Z   root\n"
                "longer-name-2   14465       running     /tmp/bb     2026-11-23T18:38:56.303371642Z   root\n");
        free(s);
        cli_table_clear(&t);
}

static void test_table_utf8_and_last_column(void **state)
{
        struct cli_table t = { .min_width = 0, .padding = 3 };
        char *s;

        ADD_ROW(&t, "héllo", "x", "a-very-long-last-cell");
        ADD_ROW(&t, "a", "yy", "z");
        s = table_text(&t);
        assert_string_equal(s,
                "héllo   x    a-very-long-last-cell\n"
                "a       yy   z\n");
        free(s);
        cli_table_clear(&t);
}

/* --- paths ------------------------------------------------------------- */

static void test_path_clean(void **state)
{
        static const struct { const char *in, *want; } cases[] = {
                { "/", "/" }, { "//", "/" }, { "/a/b", "/a/b" }, { "/a/b/", "/a/b" },
                { "/a//b", "/a/b" }, { "/a/./b", "/a/b" }, { "/a/../b", "/b" },
                { "/..", "/" }, { "/../../a", "/a" }, { "/a/b/../..", "/" },
                { "/a/b/c/../../d/.", "/a/d" }, { "/run/runvm", "/run/runvm" },
                { "/a/..b/c", "/a/..b/c" }, { "/a/.b", "/a/.b" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char buf[64];

                snprintf(buf, sizeof(buf), "%s", cases[i].in);
                cli_path_clean(buf);
                assert_string_equal(buf, cases[i].want);
        }
}

static void test_path_absolute(void **state)
{
        struct rv_error *err = NULL;
        char *cwd = getcwd(NULL, 0), *p = NULL, want[4200];

        assert_int_equal(cli_path_absolute("x/../y/", &p, &err), 0);
        snprintf(want, sizeof(want), "%s/y", strcmp(cwd, "/") == 0 ? "" : cwd);
        assert_string_equal(p, want);
        free(p);
        assert_int_equal(cli_path_absolute("/abs//z", &p, &err), 0);
        assert_string_equal(p, "/abs/z");
        free(p);
        free(cwd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_string_forms),
                cmocka_unit_test(test_value_may_look_like_a_flag),
                cmocka_unit_test(test_last_string_wins),
                cmocka_unit_test(test_booleans),
                cmocka_unit_test(test_bool_takes_no_separate_value),
                cmocka_unit_test(test_bad_boolean),
                cmocka_unit_test(test_uint),
                cmocka_unit_test(test_repeated_list),
                cmocka_unit_test(test_missing_value),
                cmocka_unit_test(test_unknown_flag),
                cmocka_unit_test(test_help),
                cmocka_unit_test(test_flags_after_id_are_moved),
                cmocka_unit_test(test_unknown_after_id_is_an_argument),
                cmocka_unit_test(test_no_reorder),
                cmocka_unit_test(test_double_dash),
                cmocka_unit_test(test_lone_dash_is_an_argument),
                cmocka_unit_test(test_global_style_stop_at_subcommand),
                cmocka_unit_test(test_signal_names),
                cmocka_unit_test(test_signal_unknown),
                cmocka_unit_test(test_table_header_only),
                cmocka_unit_test(test_table_runc_layout),
                cmocka_unit_test(test_table_utf8_and_last_column),
                cmocka_unit_test(test_path_clean),
                cmocka_unit_test(test_path_absolute),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
