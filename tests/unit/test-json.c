/* SPDX-License-Identifier: Apache-2.0 */
/* spec/json: parsing, typed readers with paths, generation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "spec/json.h"
#include "spec/spec-internal.h"

static struct json_value *parse_ok(const char *text)
{
        struct json_value *v = NULL;
        struct rv_error *err = NULL;

        assert_int_equal(json_parse(text, strlen(text), &v, &err), 0);
        assert_null(err);
        assert_non_null(v);
        return v;
}

static void expect_error(struct rv_error *err, int status, const char *msg)
{
        assert_non_null(err);
        assert_int_equal(err->status, status);
        assert_string_equal(err->msg, msg);
        rv_error_free(err);
}

static void test_parse_and_get(void **state)
{
        struct json_value *v = parse_ok("{\"a\": [1, \"x\", true, null, 2.5], \"b\": {\"c\": \"d\"}, \"a\": 7}");
        const struct json_value *a, *b;

        assert_true(json_is_object(v));
        assert_int_equal(json_object_size(v), 3);
        assert_string_equal(json_object_key(v, 0), "a");
        assert_null(json_object_key(v, 3));
        assert_null(json_object_value(v, 3));
        /* the last duplicate wins, like Go */
        a = json_get(v, "a");
        assert_true(json_is_integer(a));
        a = json_object_value(v, 0);
        assert_true(json_is_array(a));
        assert_int_equal(json_array_size(a), 5);
        assert_true(json_is_integer(json_array_get(a, 0)));
        assert_true(json_is_string(json_array_get(a, 1)));
        assert_true(json_is_bool(json_array_get(a, 2)));
        assert_true(json_is_null(json_array_get(a, 3)));
        assert_true(json_is_number(json_array_get(a, 4)));
        assert_false(json_is_integer(json_array_get(a, 4)));
        assert_null(json_array_get(a, 5));
        b = json_get(v, "b");
        assert_true(json_is_object(b));
        assert_string_equal(json_object_key(b, 0), "c");
        assert_null(json_get(v, "zzz"));
        assert_null(json_get(a, "x"));
        assert_int_equal(json_array_size(b), 0);
        assert_int_equal(json_object_size(a), 0);
        json_value_free(v);
        json_value_free(NULL);
}

static void test_parse_errors(void **state)
{
        struct json_value *v = NULL;
        struct rv_error *err = NULL;
        char deep[1000];

        assert_int_equal(json_parse("{\"a\": ", 6, &v, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->status, EINVAL);
        assert_null(strchr(err->msg, '\n'));
        rv_error_release(&err);

        assert_int_equal(json_parse("{} x", 4, &v, &err), -1);
        assert_non_null(err);
        rv_error_release(&err);

        /* not NUL-terminated input is fine; embedded NUL is not */
        assert_int_equal(json_parse("[1]garbage", 3, &v, &err), 0);
        json_value_free(v);
        assert_int_equal(json_parse("[1]\0", 4, &v, &err), -1);
        rv_error_release(&err);

        /* invalid UTF-8 in a string */
        assert_int_equal(json_parse("[\"\xff\"]", 5, &v, &err), -1);
        rv_error_release(&err);

        memset(deep, '[', sizeof(deep));
        assert_int_equal(json_parse(deep, sizeof(deep), &v, &err), -1);
        assert_non_null(strstr(err->msg, "nested deeper"));
        rv_error_release(&err);

        /* brackets in strings and comments do not count; hidden ones do */
        {
                char *buf = malloc(3000);
                size_t n = 0;
                n += (size_t) sprintf(buf, "/* \" */ // \"\n[\"");
                memset(buf + n, '[', 500);
                n += 500;
                n += (size_t) sprintf(buf + n, "\"]");
                assert_int_equal(json_parse(buf, n, &v, &err), 0);
                json_value_free(v);
                n = (size_t) sprintf(buf, "/* \" */ // \"\n");
                memset(buf + n, '[', 500);
                n += 500;
                assert_int_equal(json_parse(buf, n, &v, &err), -1);
                assert_non_null(strstr(err->msg, "nested deeper"));
                rv_error_release(&err);
                free(buf);
        }
}

static void test_read_integers(void **state)
{
        struct json_value *v = parse_ok(
                "{\"big\": 18446744073709551615, \"over\": 18446744073709551616,"
                " \"i64max\": 9223372036854775807, \"i64min\": -9223372036854775808,"
                " \"neg\": -1, \"frac\": 1.5, \"one\": 1.0, \"exp\": 1e3, \"s\": \"1\","
                " \"u32max\": 4294967295, \"u32over\": 4294967296, \"i32min\": -2147483648,"
                " \"mz\": -0}");
        struct rv_error *err = NULL;
        uint64_t u;
        int64_t i;
        uint32_t u32;
        int32_t i32;
        uint16_t u16;

        assert_int_equal(json_read_uint64(json_get(v, "big"), "x.big", &u, &err), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(json_read_uint64(json_get(v, "over"), "x.over", &u, &err), -1);
        expect_error(err, EINVAL, "`x.over`: integer 18446744073709551616 out of range");
        err = NULL;
        assert_int_equal(json_read_int64(json_get(v, "big"), "x.big", &i, &err), -1);
        expect_error(err, EINVAL,
                     "`x.big`: integer 18446744073709551615 out of range [-9223372036854775808, 9223372036854775807]");
        err = NULL;
        assert_int_equal(json_read_int64(json_get(v, "i64max"), "p", &i, &err), 0);
        assert_true(i == INT64_MAX);
        assert_int_equal(json_read_int64(json_get(v, "i64min"), "p", &i, &err), 0);
        assert_true(i == INT64_MIN);
        assert_int_equal(json_read_uint64(json_get(v, "i64max"), "p", &u, &err), 0);
        assert_true(u == (uint64_t) INT64_MAX);

        /* negative into unsigned */
        assert_int_equal(json_read_uint64(json_get(v, "neg"), "linux.resources.memory.swappiness", &u, &err), -1);
        expect_error(err, EINVAL,
                     "`linux.resources.memory.swappiness`: integer -1 out of range [0, 18446744073709551615]");
        err = NULL;
        assert_int_equal(json_read_uint32(json_get(v, "neg"), "process.user.uid", &u32, &err), -1);
        expect_error(err, EINVAL, "`process.user.uid`: integer -1 out of range [0, 4294967295]");
        err = NULL;
        assert_int_equal(json_read_int64(json_get(v, "neg"), "p", &i, &err), 0);
        assert_int_equal(i, -1);
        assert_int_equal(json_read_uint64(json_get(v, "mz"), "p", &u, &err), 0);
        assert_int_equal(u, 0);

        /* not integers */
        assert_int_equal(json_read_int64(json_get(v, "frac"), "linux.resources.memory.limit", &i, &err), -1);
        expect_error(err, EINVAL, "`linux.resources.memory.limit`: expected an integer, got 1.5");
        err = NULL;
        assert_int_equal(json_read_int64(json_get(v, "one"), "p", &i, &err), -1);
        rv_error_release(&err);
        assert_int_equal(json_read_uint64(json_get(v, "exp"), "p", &u, &err), -1);
        rv_error_release(&err);
        assert_int_equal(json_read_int64(json_get(v, "s"), "linux.resources.memory.limit", &i, &err), -1);
        expect_error(err, EINVAL, "`linux.resources.memory.limit`: expected an integer");
        err = NULL;
        assert_int_equal(json_read_int64(NULL, "missing", &i, &err), -1);
        expect_error(err, EINVAL, "`missing`: expected an integer");
        err = NULL;

        assert_int_equal(json_read_uint32(json_get(v, "u32max"), "p", &u32, &err), 0);
        assert_true(u32 == UINT32_MAX);
        assert_int_equal(json_read_uint32(json_get(v, "u32over"), "p", &u32, &err), -1);
        rv_error_release(&err);
        assert_int_equal(json_read_int32(json_get(v, "i32min"), "p", &i32, &err), 0);
        assert_true(i32 == INT32_MIN);
        assert_int_equal(json_read_int32(json_get(v, "u32max"), "p", &i32, &err), -1);
        rv_error_release(&err);
        assert_int_equal(json_read_uint16(json_get(v, "u32max"), "w", &u16, &err), -1);
        expect_error(err, EINVAL, "`w`: integer 4294967295 out of range [0, 65535]");
        json_value_free(v);
}

static void test_read_others(void **state)
{
        struct json_value *v = parse_ok("{\"s\": \"hi\", \"b\": false, \"d\": 2.5, \"i\": 3,"
                                        " \"args\": [\"a\", \"b\", 3], \"ok\": [\"x\"], \"e\": []}");
        struct rv_error *err = NULL;
        const char *s;
        bool b = true;
        double d;
        char **strv = NULL;

        assert_int_equal(json_read_string(json_get(v, "s"), "p", &s, &err), 0);
        assert_string_equal(s, "hi");
        assert_int_equal(json_read_string(json_get(v, "b"), "process.cwd", &s, &err), -1);
        expect_error(err, EINVAL, "`process.cwd`: expected a string");
        err = NULL;
        assert_int_equal(json_read_bool(json_get(v, "b"), "p", &b, &err), 0);
        assert_false(b);
        assert_int_equal(json_read_bool(json_get(v, "s"), "process.terminal", &b, &err), -1);
        expect_error(err, EINVAL, "`process.terminal`: expected a boolean");
        err = NULL;
        assert_int_equal(json_read_double(json_get(v, "d"), "p", &d, &err), 0);
        assert_true(d == 2.5);
        assert_int_equal(json_read_double(json_get(v, "i"), "p", &d, &err), 0);
        assert_true(d == 3.0);
        assert_int_equal(json_read_double(json_get(v, "s"), "p", &d, &err), -1);
        expect_error(err, EINVAL, "`p`: expected a number");
        err = NULL;

        assert_int_equal(json_read_strv(json_get(v, "args"), "process.args", &strv, &err), -1);
        expect_error(err, EINVAL, "`process.args[2]`: expected a string");
        err = NULL;
        assert_null(strv);
        assert_int_equal(json_read_strv(json_get(v, "s"), "process.args", &strv, &err), -1);
        expect_error(err, EINVAL, "`process.args`: expected an array of strings");
        err = NULL;
        assert_int_equal(json_read_strv(json_get(v, "ok"), "p", &strv, &err), 0);
        assert_string_equal(strv[0], "x");
        assert_null(strv[1]);
        for (char **p = strv; *p; p++)
                free(*p);
        free(strv);
        assert_int_equal(json_read_strv(json_get(v, "e"), "p", &strv, &err), 0);
        assert_null(strv[0]);
        free(strv);
        json_value_free(v);
}

static char *finish(struct json_writer *w)
{
        struct rv_error *err = NULL;
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(json_writer_finish(w, &out, &len, &err), 0);
        assert_null(err);
        assert_int_equal(len, strlen(out));
        json_writer_free(w);
        return out;
}

static void write_sample(struct json_writer *w)
{
        json_write_object_begin(w);
        json_write_key(w, "s");
        json_write_string(w, "a\"b\n\xc3\xa9/");
        json_write_key(w, "n");
        json_write_null(w);
        json_write_key(w, "null_string");
        json_write_string(w, NULL);
        json_write_key(w, "i");
        json_write_int64(w, INT64_MIN);
        json_write_key(w, "u");
        json_write_uint64(w, UINT64_MAX);
        json_write_key(w, "d");
        json_write_double(w, 0.5);
        json_write_key(w, "b");
        json_write_bool(w, true);
        json_write_key(w, "empty_a");
        json_write_array_begin(w);
        json_write_array_end(w);
        json_write_key(w, "empty_o");
        json_write_object_begin(w);
        json_write_object_end(w);
        json_write_key(w, "a");
        json_write_array_begin(w);
        json_write_int64(w, 1);
        json_write_string(w, "[,:]{}");
        json_write_array_end(w);
        json_write_object_end(w);
}

static void test_writer(void **state)
{
        struct json_writer *w = json_writer_new(NULL);
        struct json_value *v;
        char *out, *again;
        uint64_t u;
        struct rv_error *err = NULL;

        write_sample(w);
        out = finish(w);
        assert_string_equal(out,
                "{\"s\":\"a\\\"b\\n\xc3\xa9/\",\"n\":null,\"null_string\":null,"
                "\"i\":-9223372036854775808,\"u\":18446744073709551615,\"d\":0.5,\"b\":true,"
                "\"empty_a\":[],\"empty_o\":{},\"a\":[1,\"[,:]{}\"]}");

        /* round trip through the parser and json_write_value */
        v = parse_ok(out);
        assert_int_equal(json_read_uint64(json_get(v, "u"), "u", &u, &err), 0);
        assert_true(u == UINT64_MAX);
        w = json_writer_new(NULL);
        json_write_value(w, v);
        again = finish(w);
        assert_string_equal(out, again);
        free(again);
        json_value_free(v);
        free(out);

        /* pretty: Go's MarshalIndent shape, no trailing newline */
        w = json_writer_new("  ");
        json_write_object_begin(w);
        json_write_key(w, "a");
        json_write_array_begin(w);
        json_write_int64(w, 1);
        json_write_int64(w, 2);
        json_write_array_end(w);
        json_write_key(w, "e");
        json_write_array_begin(w);
        json_write_array_end(w);
        json_write_key(w, "o");
        json_write_object_begin(w);
        json_write_key(w, "k");
        json_write_string(w, "v: {x}, [y]");
        json_write_object_end(w);
        json_write_object_end(w);
        out = finish(w);
        assert_string_equal(out,
                "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": [],\n  \"o\": {\n    \"k\": \"v: {x}, [y]\"\n  }\n}");
        free(out);

        w = json_writer_new("\t");
        json_write_string(w, "top");
        out = finish(w);
        assert_string_equal(out, "\"top\"");
        free(out);
}

static void test_writer_errors(void **state)
{
        struct json_writer *w;
        struct rv_error *err = NULL;
        char *out = NULL;

        /* invalid UTF-8 is refused */
        w = json_writer_new(NULL);
        json_write_array_begin(w);
        json_write_string(w, "ok");
        json_write_string(w, "bad \xff\xfe");
        json_write_array_end(w);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), -1);
        expect_error(err, EINVAL, "generate JSON: invalid UTF-8 in string");
        err = NULL;
        assert_null(out);
        json_writer_free(w);

        /* unbalanced */
        w = json_writer_new("\t");
        json_write_object_begin(w);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), -1);
        expect_error(err, EINVAL, "generate JSON: unbalanced nesting");
        err = NULL;
        json_writer_free(w);

        /* a value where a key belongs */
        w = json_writer_new(NULL);
        json_write_object_begin(w);
        json_write_int64(w, 1);
        json_write_object_end(w);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), -1);
        rv_error_release(&err);
        json_writer_free(w);

        /* two top-level values */
        w = json_writer_new(NULL);
        json_write_int64(w, 1);
        json_write_int64(w, 2);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), -1);
        rv_error_release(&err);
        json_writer_free(w);

        /* nothing */
        w = json_writer_new(NULL);
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), -1);
        rv_error_release(&err);
        json_writer_free(w);
        json_writer_free(NULL);
}

static void test_raw_and_text(void **state)
{
        struct json_value *v = parse_ok("{\"x\": [1, {\"y\": -2.5e10}], \"z\": \"\\u00e9\"}");
        struct rv_error *err = NULL;
        struct json_writer *w;
        char *text = NULL, *out;

        assert_int_equal(json_value_to_text(v, &text, &err), 0);
        assert_string_equal(text, "{\"x\":[1,{\"y\":-2.5e10}],\"z\":\"\xc3\xa9\"}");
        w = json_writer_new(NULL);
        json_write_array_begin(w);
        json_write_raw(w, text);
        json_write_array_end(w);
        out = finish(w);
        assert_string_equal(out, "[{\"x\":[1,{\"y\":-2.5e10}],\"z\":\"\xc3\xa9\"}]");
        free(out);
        free(text);
        json_value_free(v);

        w = json_writer_new(NULL);
        json_write_raw(w, "{bad");
        assert_int_equal(json_writer_finish(w, &out, NULL, &err), -1);
        rv_error_release(&err);
        json_writer_free(w);
}

/* yajl cuts a string at an escaped NUL: json_find_nul says where it is. */
static void test_find_nul(void **unused)
{
        char path[256];
        const char *a = "{\"process\": {\"env\": [\"A=1\"], /* c \"\\u0000\" */ \"args\": [\"echo\", \"a\\u0000b\"]}}";
        const char *b = "{\"x\": {\"k\\u0000\": 1}}";
        const char *c = "{\"a\": \"\\\\u0000\", \"b\": [[1, 2], {\"c\": [\"\", \"\\u0000\"]}]}";
        const char *d = "\"\\u0000\"";

        assert_true(json_find_nul(a, strlen(a), path, sizeof(path)));
        assert_string_equal(path, "process.args[1]");
        assert_true(json_find_nul(b, strlen(b), path, sizeof(path)));
        assert_string_equal(path, "x");
        assert_true(json_find_nul(c, strlen(c), path, sizeof(path)));
        assert_string_equal(path, "b[1].c[1]");
        assert_true(json_find_nul(d, strlen(d), path, sizeof(path)));
        assert_string_equal(path, "");
        /* An escaped backslash before u0000 is no NUL. */
        const char *e = "{\"a\": \"\\\\u0000\"}";
        assert_false(json_find_nul(e, strlen(e), path, sizeof(path)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find_nul),
                cmocka_unit_test(test_parse_and_get),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_read_integers),
                cmocka_unit_test(test_read_others),
                cmocka_unit_test(test_writer),
                cmocka_unit_test(test_writer_errors),
                cmocka_unit_test(test_raw_and_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
