/* SPDX-License-Identifier: Apache-2.0 */
/* The protocol table: names both ways, the hello check, and
 * docs/PROTOCOL.md listing exactly the table's methods and events. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "spec/json.h"
#include "vm/channel/protocol.h"

static void test_names_round_trip(void **state)
{
        for (int i = 0; i < _PROTO_METHOD_MAX; i++) {
                const char *name = proto_method_name(i);
                assert_non_null(name);
                assert_int_equal(proto_method_lookup(name), i);
        }
        for (int i = 0; i < _PROTO_EVENT_MAX; i++)
                assert_int_equal(proto_event_lookup(proto_event_name(i)), i);
        assert_int_equal(proto_method_lookup("no_such_method"), -1);
        assert_int_equal(proto_method_lookup(NULL), -1);
        assert_int_equal(proto_event_lookup("process_exited"), PROTO_EVENT_PROCESS_EXITED);
        assert_string_equal(proto_method_name(PROTO_HELLO), "hello");
        assert_string_equal(proto_method_name(_PROTO_METHOD_MAX), "?");
}

static struct json_value *parse(const char *text)
{
        struct json_value *v = NULL;
        struct rv_error *err = NULL;

        assert_int_equal(json_parse(text, strlen(text), &v, &err), 0);
        return v;
}

/* A hello answer with the agent's own capabilities, extra spliced in. */
static struct json_value *hello_with(const char *extra)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_free_ char *text = NULL, *spliced = NULL;
        struct rv_error *err = NULL;

        json_write_object_begin(w);
        json_write_key(w, "version");
        json_write_int64(w, PROTO_VERSION);
        proto_hello_write_capabilities(w);
        json_write_object_end(w);
        assert_int_equal(json_writer_finish(w, &text, NULL, &err), 0);
        text[strlen(text) - 1] = '\0';        /* the closing brace */
        assert_true(asprintf(&spliced, "%s%s}", text, extra) > 0);
        return parse(spliced);
}

/* The agent's own capabilities pass the host's check. */
static void test_hello_own_capabilities(void **state)
{
        _cleanup_(json_value_freep) struct json_value *v = hello_with("");
        struct rv_error *err = NULL;

        assert_int_equal(proto_hello_check(v, &err), 0);
        assert_null(err);
}

static void expect_hello_error(const char *text, int status, const char *needle)
{
        _cleanup_(json_value_freep) struct json_value *v = parse(text);
        struct rv_error *err = NULL;

        assert_int_equal(proto_hello_check(v, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->status, status);
        if (strstr(err->msg, needle) == NULL)
                fail_msg("`%s` lacks `%s`", err->msg, needle);
        rv_error_free(err);
}

static void test_hello_mismatch(void **state)
{
        /* Version 1's agent: its smaller credit window would break streams. */
        expect_hello_error("{\"version\":1,\"capabilities\":[]}", EPROTONOSUPPORT, "speaks protocol 1");
        expect_hello_error("{\"version\":3,\"capabilities\":[]}", EPROTONOSUPPORT, "speaks protocol 3");
        expect_hello_error("{\"agent\":\"0.1.0\"}", EPROTO, "no protocol version");
        expect_hello_error("{\"version\":2}", EPROTO, "no capabilities");
        expect_hello_error("{\"version\":2,\"capabilities\":[\"hello\"]}", EPROTONOSUPPORT,
                           "does not serve `configure_network`");
}

static void test_hello_ram(void **state)
{
        struct rv_error *err = NULL;
        uint64_t addr = 0;

        /* RAM left out at boot that the kernel cannot add fails the boot. */
        _cleanup_(json_value_freep) struct json_value *a = hello_with(",\"ram_unreachable_mib\":1792");
        assert_int_equal(proto_hello_check(a, &err), -1);
        assert_int_equal(err->status, EOPNOTSUPP);
        assert_non_null(strstr(err->msg, "cannot add the 1792 MiB"));
        assert_non_null(strstr(err->msg, "set boot_memory_mib = 0"));
        rv_error_release(&err);
        _cleanup_(json_value_freep) struct json_value *b = hello_with(",\"ram_unreachable_mib\":0");
        assert_int_equal(proto_hello_check(b, &err), 0);
        assert_false(proto_hello_initrd_moved_from(b, &addr));
        /* Where the initramfs was; nonsense is ignored. */
        _cleanup_(json_value_freep) struct json_value *c = hello_with(",\"initrd_moved_from\":2145644544");
        assert_int_equal(proto_hello_check(c, &err), 0);
        assert_true(proto_hello_initrd_moved_from(c, &addr));
        assert_int_equal(addr, 2145644544);
        _cleanup_(json_value_freep) struct json_value *d = hello_with(",\"initrd_moved_from\":-4096");
        assert_false(proto_hello_initrd_moved_from(d, &addr));
        _cleanup_(json_value_freep) struct json_value *e = hello_with(",\"initrd_moved_from\":\"x\"");
        assert_false(proto_hello_initrd_moved_from(e, &addr));
}

/* Names written **`like_this`** at the start of lines between two
 * headings of docs/PROTOCOL.md. */
static size_t doc_names(const char *doc, const char *from, const char *to, char names[][64], size_t max)
{
        const char *p = strstr(doc, from), *end;
        size_t n = 0;

        if (p == NULL)
                fail_msg("docs/PROTOCOL.md: no heading `%s`", from);
        end = strstr(p, to);
        if (end == NULL)
                fail_msg("docs/PROTOCOL.md: no heading `%s`", to);
        for (; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strncmp(p, "**`", 3) != 0)
                        continue;
                /* every **`name`** on the line */
                const char *eol = strchr(p, '\n');
                for (const char *q = p; (q = strstr(q, "**`")) && q < eol;) {
                        const char *close = strstr(q + 3, "`**");
                        assert_non_null(close);
                        assert_true(n < max);
                        snprintf(names[n++], 64, "%.*s", (int) (close - q - 3), q + 3);
                        q = close + 3;
                }
        }
        return n;
}

static void expect_same(char names[][64], size_t n, const char *what, int count, int (*lookup)(const char *))
{
        bool seen[64] = { false };

        for (size_t i = 0; i < n; i++) {
                int id = lookup(names[i]);
                if (id < 0)
                        fail_msg("docs/PROTOCOL.md lists %s `%s`, which protocol.def lacks", what, names[i]);
                seen[id] = true;
        }
        for (int i = 0; i < count; i++)
                if (!seen[i])
                        fail_msg("protocol.def has %s `%s`, which docs/PROTOCOL.md does not list", what,
                                 lookup == proto_method_lookup ? proto_method_name(i) : proto_event_name(i));
}

static void test_doc_lists_the_table(void **state)
{
        _cleanup_free_ char *doc = NULL;
        struct rv_error *err = NULL;
        size_t len;
        char names[64][64];

        /* make unit runs from the top of the tree. */
        if (rv_read_file_at(AT_FDCWD, "docs/PROTOCOL.md", 1 << 20, &doc, &len, &err) < 0)
                fail_msg("%s (run from the top of the tree)", err->msg);
        size_t n = doc_names(doc, "### 4.1 Methods", "### 4.2 Events", names, 64);
        expect_same(names, n, "method", _PROTO_METHOD_MAX, proto_method_lookup);
        n = doc_names(doc, "### 4.2 Events", "## 5.", names, 64);
        expect_same(names, n, "event", _PROTO_EVENT_MAX, proto_event_lookup);
}

static char *params_text(void (*agent_fill)(struct json_writer *, const void *), const void *data)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        char *text = NULL;
        struct rv_error *err = NULL;

        json_write_object_begin(w);
        agent_fill(w, data);
        json_write_object_end(w);
        assert_int_equal(json_writer_finish(w, &text, NULL, &err), 0);
        return text;
}

static void test_param_writers(void **state)
{
        struct proto_signal init_kill = { .signal = 15, .all = true };
        struct proto_signal exec_kill = { .exec_id = "e2", .signal = 9 };
        struct proto_resize init_size = { .height = 24, .width = 80 };
        struct proto_resize exec_size = { .exec_id = "e3", .height = 40, .width = 120 };
        char *t;

        t = params_text(proto_write_signal, &init_kill);
        assert_string_equal(t, "{\"signal\":15,\"all\":true}");
        free(t);
        t = params_text(proto_write_signal, &exec_kill);
        assert_string_equal(t, "{\"exec_id\":\"e2\",\"signal\":9,\"all\":false}");
        free(t);
        t = params_text(proto_write_resize, &init_size);
        assert_string_equal(t, "{\"height\":24,\"width\":80}");
        free(t);
        t = params_text(proto_write_resize, &exec_size);
        assert_string_equal(t, "{\"exec_id\":\"e3\",\"height\":40,\"width\":120}");
        free(t);
        t = params_text(proto_write_hello, NULL);
        assert_string_equal(t, "{\"version\":2}");
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_round_trip),
                cmocka_unit_test(test_hello_own_capabilities),
                cmocka_unit_test(test_hello_mismatch),
                cmocka_unit_test(test_hello_ram),
                cmocka_unit_test(test_doc_lists_the_table),
                cmocka_unit_test(test_param_writers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
