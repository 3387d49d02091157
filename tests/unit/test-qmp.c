/* SPDX-License-Identifier: Apache-2.0 */
/* The QMP client against a fake QEMU on a socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

#include "base/error.h"
#include "vm/qemu/qmp.h"
#include "tests/unit/fake-qemu.h"

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

/* Each answer follows an event, which the client must skip. */
#define STOP_EVENT "{\"event\": \"STOP\", \"timestamp\": {}}\r\n"

static pid_t fake_qemu(int fd, const char *answer_template)
{
        char answer[512];
        snprintf(answer, sizeof(answer), STOP_EVENT "%s", answer_template);
        const char *replies[] = { STOP_EVENT "{\"return\": {}, \"id\": %d}\r\n", answer };
        return fake_qemu_start(fd, replies, 2, false);
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
        assert_int_equal(err->status, EIO);
        rv_error_release(&err);
        qmp_clear(&q);
        waitpid(pid, NULL, 0);
        close(sv[0]);
        close(sv[1]);
}

/* DeviceNotFound is told apart (a device the guest unplugged is out of
 * QEMU's tree before its DEVICE_DELETED): ENODEV; other classes EIO. */
static void test_device_not_found_is_enodev(void **unused)
{
        int sv[2];
        struct qmp q;
        struct rv_error *err = NULL;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        pid_t pid = fake_qemu(sv[1], "{\"error\": {\"class\": \"DeviceNotFound\", "
                                     "\"desc\": \"Device 'd0' not found\"}, \"id\": %d}\r\n");
        qmp_init(&q, sv[0]);
        assert_int_equal(qmp_execute_args(&q, "device_del", "{\"id\":\"d0\"}", -1, 2000, NULL, &err), -1);
        assert_int_equal(err->status, ENODEV);
        assert_non_null(strstr(err->msg, "Device 'd0' not found"));
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

/* A command with arguments and an fd reaches QEMU whole, with the fd;
 * DEVICE_DELETED events are remembered by device id, counted from
 * `since` so an older one of the same id does not count. */
static void test_args_fd_and_device_deleted(void **unused)
{
        int sv[2];
        struct qmp q;
        struct rv_error *err = NULL;
        const char *replies[] = {
                "{\"return\": {}, \"id\": %d}\r\n",
                "{\"return\": {\"fdset-id\": 7, \"fd\": 30}, \"id\": %d}\r\n",
                "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/d0/virtio-backend\"}}\r\n"
                "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"d0\", \"path\": \"/x\"}}\r\n"
                "{\"return\": {}, \"id\": %d}\r\n",
        };

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        pid_t pid = fake_qemu_start(sv[1], replies, 3, false);
        qmp_init(&q, sv[0]);
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(devnull >= 0);
        assert_int_equal(qmp_execute_args(&q, "add-fd", "{\"fdset-id\":7}", devnull, 2000, NULL, &err), 0);
        assert_int_equal(q.n_deleted, 0);
        size_t since = q.n_deleted;
        assert_int_equal(qmp_execute_args(&q, "device_del", "{\"id\":\"d0\"}", -1, 2000, NULL, &err), 0);
        assert_int_equal(qmp_wait_device_deleted(&q, "d0", since, 2000, &err), 0);
        /* Once more from now: that event was before, and no other comes
         * (the fake is gone: the wait ends on its hang-up). */
        assert_int_equal(qmp_wait_device_deleted(&q, "d0", q.n_deleted, 100, &err), -1);
        rv_error_release(&err);
        assert_int_equal(qmp_wait_device_deleted(&q, "d1", since, 100, &err), -1);
        rv_error_release(&err);
        /* A command name that would need escaping is refused. */
        assert_int_equal(qmp_execute_args(&q, "a\"b", "{}", -1, 100, NULL, &err), -1);
        assert_int_equal(err->status, EINVAL);
        rv_error_release(&err);
        close(devnull);
        qmp_clear(&q);
        waitpid(pid, NULL, 0);
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
                cmocka_unit_test(test_device_not_found_is_enodev),
                cmocka_unit_test(test_execute_times_out),
                cmocka_unit_test(test_args_fd_and_device_deleted),
        };
        return cmocka_run_group_tests_name("qmp", tests, NULL, NULL);
}
