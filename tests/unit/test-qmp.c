/* SPDX-License-Identifier: Apache-2.0 */
/* The QMP client against a fake QEMU on a socketpair. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "libcontainer-vm/base/error.h"
#include "vm/qemu/qmp.h"

static void test_splitter_lines(void **unused)
{
        struct qmp_splitter s = { 0 };
        struct rv_error *err = NULL;
        char *line;

        assert_int_equal(qmp_splitter_feed(&s, "{\"a\":1}\r\n{\"b\"", 13, &err), 0);
        assert_int_equal(qmp_splitter_next(&s, &line), 1);
        assert_string_equal(line, "{\"a\":1}");
        free(line);
        assert_int_equal(qmp_splitter_next(&s, &line), 0);
        assert_int_equal(qmp_splitter_feed(&s, ":2}\n", 4, &err), 0);
        assert_int_equal(qmp_splitter_next(&s, &line), 1);
        assert_string_equal(line, "{\"b\":2}");
        free(line);
        qmp_splitter_clear(&s);
}

static void test_splitter_bounds_a_line(void **unused)
{
        struct qmp_splitter s = { 0 };
        struct rv_error *err = NULL;
        char *big = malloc(QMP_LINE_MAX + 2);

        memset(big, 'x', QMP_LINE_MAX + 1);
        assert_int_equal(qmp_splitter_feed(&s, big, QMP_LINE_MAX + 1, &err), -1);
        assert_int_equal(err->status, EMSGSIZE);
        rv_error_release(&err);
        free(big);
        qmp_splitter_clear(&s);
}

/* A fake QEMU: greeting, then answers each command by its id. */
static pid_t fake_qemu(int fd, const char *answer_template)
{
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        char buf[4096], out[512];
        const char *greet = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n";
        if (write(fd, greet, strlen(greet)) < 0)
                _exit(1);
        for (int i = 0; i < 2; i++) {
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                if (n <= 0)
                        _exit(1);
                buf[n] = '\0';
                int id = atoi(strstr(buf, "\"id\":") + 5);
                /* an event first: the client must skip it */
                const char *ev = "{\"event\": \"STOP\", \"timestamp\": {}}\r\n";
                if (write(fd, ev, strlen(ev)) < 0)
                        _exit(1);
                snprintf(out, sizeof(out), i == 0 ? "{\"return\": {}, \"id\": %d}\r\n" : answer_template, id);
                if (write(fd, out, strlen(out)) < 0)
                        _exit(1);
        }
        _exit(0);
}

static void test_execute_success(void **unused)
{
        int sv[2];
        struct qmp q;
        struct rv_error *err = NULL;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        pid_t pid = fake_qemu(sv[1], "{\"return\": {}, \"id\": %d}\r\n");
        qmp_init(&q, sv[0]);
        assert_int_equal(qmp_execute(&q, "quit", 2000, &err), 0);
        assert_null(err);
        qmp_clear(&q);
        waitpid(pid, NULL, 0);
        close(sv[0]);
        close(sv[1]);
}

static void test_execute_error_carries_desc(void **unused)
{
        int sv[2];
        struct qmp q;
        struct rv_error *err = NULL;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        pid_t pid = fake_qemu(sv[1], "{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}, \"id\": %d}\r\n");
        qmp_init(&q, sv[0]);
        assert_int_equal(qmp_execute(&q, "quit", 2000, &err), -1);
        assert_non_null(strstr(err->msg, "qmp: nope"));
        rv_error_release(&err);
        qmp_clear(&q);
        waitpid(pid, NULL, 0);
        close(sv[0]);
        close(sv[1]);
}

static void test_execute_times_out(void **unused)
{
        int sv[2];
        struct qmp q;
        struct rv_error *err = NULL;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        qmp_init(&q, sv[0]);
        /* no greeting ever comes */
        assert_int_equal(qmp_execute(&q, "quit", 200, &err), -1);
        assert_int_equal(err->status, ETIMEDOUT);
        rv_error_release(&err);
        qmp_clear(&q);
        close(sv[0]);
        close(sv[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_splitter_lines),
                cmocka_unit_test(test_splitter_bounds_a_line),
                cmocka_unit_test(test_execute_success),
                cmocka_unit_test(test_execute_error_carries_desc),
                cmocka_unit_test(test_execute_times_out),
        };
        return cmocka_run_group_tests_name("qmp", tests, NULL, NULL);
}
