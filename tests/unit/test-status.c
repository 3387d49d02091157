/* SPDX-License-Identifier: Apache-2.0 */
/* The status table: names, transitions, what each status takes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/status.h"

static void test_names(void **state)
{
        static const char *const names[] = { "creating", "created", "running", "paused", "stopped" };
        enum container_status s;

        assert_int_equal(_CONTAINER_STATUS_MAX, 5);
        for (int i = 0; i < _CONTAINER_STATUS_MAX; i++) {
                assert_string_equal(container_status_name(i), names[i]);
                assert_int_equal(container_status_from_name(names[i], &s), 0);
                assert_int_equal(s, i);
        }
        assert_int_equal(container_status_from_name("Running", &s), -1);
        assert_int_equal(container_status_from_name("", &s), -1);
        assert_int_equal(container_status_from_name(NULL, &s), -1);
}

/* Every pair, against the lifecycle runc has (and pause of a created
 * container, which runc also allows). */
static void test_transitions(void **state)
{
        enum { C = CONTAINER_CREATING, D = CONTAINER_CREATED, R = CONTAINER_RUNNING, P = CONTAINER_PAUSED,
               S = CONTAINER_STOPPED };
        static const bool allowed[5][5] = {
                /*          C      D      R      P      S */
                [C] = { true,  true,  false, false, true },
                [D] = { false, true,  true,  true,  true },
                [R] = { false, false, true,  true,  true },
                [P] = { false, true,  true,  true,  true },
                [S] = { false, false, false, false, true },
        };

        for (int from = 0; from < 5; from++)
                for (int to = 0; to < 5; to++)
                        if (container_status_can_become(from, to) != allowed[from][to])
                                fail_msg("%s -> %s: expected %s", container_status_name(from),
                                         container_status_name(to), allowed[from][to] ? "allowed" : "refused");
        assert_false(container_status_can_become(_CONTAINER_STATUS_MAX, CONTAINER_STOPPED));
        assert_false(container_status_can_become(CONTAINER_RUNNING, _CONTAINER_STATUS_MAX));
}

static void expect_refusal(enum container_status s, enum container_op op, int errnum, const char *msg)
{
        struct rv_error *err = NULL;

        assert_false(container_status_allows(s, op));
        assert_int_equal(container_status_check(s, op, &err), -1);
        assert_int_equal(err->status, errnum);
        assert_string_equal(err->msg, msg);
        rv_error_free(err);
}

static void test_ops(void **state)
{
        struct rv_error *err = NULL;

        assert_int_equal(container_status_check(CONTAINER_CREATED, CONTAINER_OP_START, &err), 0);
        assert_null(err);
        assert_true(container_status_allows(CONTAINER_RUNNING, CONTAINER_OP_PAUSE));
        assert_true(container_status_allows(CONTAINER_CREATED, CONTAINER_OP_PAUSE));
        assert_true(container_status_allows(CONTAINER_PAUSED, CONTAINER_OP_RESUME));
        assert_true(container_status_allows(CONTAINER_PAUSED, CONTAINER_OP_SIGNAL));
        assert_true(container_status_allows(CONTAINER_CREATED, CONTAINER_OP_DELETE));
        assert_true(container_status_allows(CONTAINER_STOPPED, CONTAINER_OP_DELETE));

        /* runc's words. */
        expect_refusal(CONTAINER_STOPPED, CONTAINER_OP_START, EINVAL, "cannot start a container that has stopped");
        expect_refusal(CONTAINER_RUNNING, CONTAINER_OP_START, EINVAL, "cannot start an already running container");
        expect_refusal(CONTAINER_PAUSED, CONTAINER_OP_START, EINVAL, "cannot start a container in the paused state");
        expect_refusal(CONTAINER_CREATING, CONTAINER_OP_START, EINVAL,
                       "cannot start a container in the creating state");
        expect_refusal(CONTAINER_PAUSED, CONTAINER_OP_PAUSE, EINVAL, "container not running");
        expect_refusal(CONTAINER_RUNNING, CONTAINER_OP_RESUME, EINVAL, "container not paused");
        expect_refusal(CONTAINER_STOPPED, CONTAINER_OP_EXEC, ESRCH, "cannot exec in a stopped container");
        expect_refusal(CONTAINER_CREATING, CONTAINER_OP_EXEC, ESRCH, "cannot exec in a stopped container");
        expect_refusal(CONTAINER_PAUSED, CONTAINER_OP_EXEC, EBUSY,
                       "cannot exec in a paused container (use --ignore-paused to override)");
        expect_refusal(CONTAINER_STOPPED, CONTAINER_OP_SIGNAL, ESRCH, "container not running");
        expect_refusal(CONTAINER_CREATING, CONTAINER_OP_SIGNAL, ESRCH, "container not running");
        expect_refusal(CONTAINER_RUNNING, CONTAINER_OP_DELETE, EBUSY, "container is not stopped");

        /* Every refusal has words. */
        for (int s = 0; s < _CONTAINER_STATUS_MAX; s++) {
                for (int op = 0; op < _CONTAINER_OP_MAX; op++) {
                        if (container_status_allows(s, op))
                                continue;
                        assert_int_equal(container_status_check(s, op, &err), -1);
                        assert_true(err->status > 0);
                        assert_true(err->msg[0] != '\0');
                        rv_error_release(&err);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_transitions),
                cmocka_unit_test(test_ops),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
