/* SPDX-License-Identifier: Apache-2.0 */
/* keeper: operations run in a fork, with the fds the request brings and
 * none of the caller's; verdicts and errors come back; it goes at EOF. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/proc.h"
#include "libcontainer-vm/keeper.h"

struct data {
        pid_t caller;
        int marker;             /* set by child_init in the keeper's copy */
};

/* value: arg, the number of fds, whether it runs in another process,
 * and whether child_init ran there. */
static int op_echo(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                   struct rv_error **err)
{
        struct data *d = data;
        *ret_value = arg * 1000 + (int32_t) n_fds * 100 + (getpid() != d->caller) * 10 + d->marker;
        return 0;
}

static int op_write(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                    struct rv_error **err)
{
        if (n_fds != 1 || write(fds[0], "k", 1) != 1)
                return rv_error_set(err, EBADF, "write");
        return 0;
}

static int op_fail(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                   struct rv_error **err)
{
        return rv_error_setx(err, EPERM, "refused %d", arg);
}

/* value: 1 when fd number arg is open in the keeper. */
static int op_is_open(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                      struct rv_error **err)
{
        *ret_value = fcntl(arg, F_GETFD) >= 0;
        return 0;
}

static int op_kill(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                   struct rv_error **err)
{
        for (size_t i = 0; i < n_fds; i++)
                if (rv_pidfd_send_signal(fds[i], arg) < 0)
                        return rv_error_set(err, errno, "kill");
        return 0;
}

static void child_init(void *data)
{
        ((struct data *) data)->marker = 1;
}

static const keeper_op_fn ops[] = { op_echo, op_write, op_fail, op_is_open, NULL, op_kill };
static const struct keeper_ops kops = { .ops = ops, .n_ops = 6, .child_init = child_init };

static struct keeper *start(struct data *d)
{
        struct keeper *k = NULL;
        struct rv_error *err = NULL;

        d->caller = getpid();
        assert_int_equal(keeper_start(&kops, d, &k, &err), 0);
        assert_non_null(k);
        return k;
}

static void test_runs_in_a_fork_with_the_request_fds(void **unused)
{
        struct data d = { 0 };
        struct keeper *k = start(&d);
        struct rv_error *err = NULL;
        int32_t v = -1;
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(keeper_call(k, 0, 7, p, 2, &v, &err), 0);
        assert_int_equal(v, 7211);
        /* The caller's memory is untouched by child_init. */
        assert_int_equal(d.marker, 0);
        assert_int_equal(keeper_call(k, 1, 0, &p[1], 1, NULL, &err), 0);
        char c = 0;
        assert_int_equal(read(p[0], &c, 1), 1);
        assert_int_equal(c, 'k');
        close(p[0]);
        close(p[1]);
        keeper_free(k);
}

static void test_errors_come_back_and_bad_requests_are_refused(void **unused)
{
        struct data d = { 0 };
        struct keeper *k = start(&d);
        struct rv_error *err = NULL;

        assert_int_equal(keeper_call(k, 2, 42, NULL, 0, NULL, &err), -1);
        assert_int_equal(err->status, EPERM);
        assert_string_equal(err->msg, "refused 42");
        rv_error_release(&err);
        /* No such operation, and a hole in the table. */
        assert_int_equal(keeper_call(k, 99, 0, NULL, 0, NULL, &err), -1);
        assert_int_equal(err->status, EPROTO);
        rv_error_release(&err);
        assert_int_equal(keeper_call(k, 4, 0, NULL, 0, NULL, &err), -1);
        assert_int_equal(err->status, EPROTO);
        rv_error_release(&err);
        /* Still serving after them. */
        int32_t v = -1;
        assert_int_equal(keeper_call(k, 0, 1, NULL, 0, &v, &err), 0);
        assert_int_equal(v, 1011);
        keeper_free(k);
}

static void test_holds_none_of_the_callers_fds(void **unused)
{
        struct data d = { 0 };
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        struct keeper *k = start(&d);
        struct rv_error *err = NULL;
        int32_t v = -1;
        assert_int_equal(keeper_call(k, 3, p[0], NULL, 0, &v, &err), 0);
        assert_int_equal(v, 0);
        assert_int_equal(keeper_call(k, 3, 0, NULL, 0, &v, &err), 0);
        assert_int_equal(v, 0);         /* stdio too */
        /* The write end is the caller's alone: EOF once it closes. */
        close(p[1]);
        char c;
        assert_int_equal(read(p[0], &c, 1), 0);
        close(p[0]);
        keeper_free(k);
}

static void test_kills_by_pidfd_and_is_reaped_at_free(void **unused)
{
        struct data d = { 0 };
        pid_t victim = fork();
        assert_true(victim >= 0);
        if (victim == 0) {
                for (;;)
                        pause();
        }
        int pidfd = rv_pidfd_open(victim);
        assert_true(pidfd >= 0);
        struct keeper *k = start(&d);
        struct rv_error *err = NULL;
        assert_int_equal(keeper_call(k, 5, SIGKILL, &pidfd, 1, NULL, &err), 0);
        int status = 0;
        assert_int_equal(waitpid(victim, &status, 0), victim);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(pidfd);
        keeper_free(k);
        /* No child left: the keeper was reaped. */
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runs_in_a_fork_with_the_request_fds),
                cmocka_unit_test(test_errors_come_back_and_bad_requests_are_refused),
                cmocka_unit_test(test_holds_none_of_the_callers_fds),
                cmocka_unit_test(test_kills_by_pidfd_and_is_reaped_at_free),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
