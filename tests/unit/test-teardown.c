/* SPDX-License-Identifier: Apache-2.0 */
/* teardown: every recorded process is stopped, only if it is the one
 * recorded (pid and start time). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/proc.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/teardown.h"

static pid_t sleeper(void)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        return pid;
}

/* Reaps pid if it died; true when it did. */
static bool died(pid_t pid)
{
        int status;
        for (int i = 0; i < 100; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
                usleep(10000);
        }
        return false;
}

static void test_kills_monitor_and_recorded_processes(void **unused)
{
        struct container_state st = { .status = CONTAINER_CREATING };
        struct rv_error *err = NULL;
        pid_t mon = sleeper(), qemu = sleeper(), vfs = sleeper(), init = sleeper();

        st.monitor_pid = mon;
        assert_int_equal(rv_proc_start_time(mon, &st.monitor_start_time), 0);
        st.pidns_init_pid = init;
        assert_int_equal(rv_proc_start_time(init, &st.pidns_init_start_time), 0);
        assert_int_equal(state_add_proc(&st, "qemu", qemu, &err), 0);
        assert_int_equal(state_add_proc(&st, "virtiofsd", vfs, &err), 0);
        /* Zombies of our own children count as exited for pidfd and state. */
        assert_int_equal(container_teardown(&st, &err), 0);
        assert_null(err);
        assert_true(died(mon));
        assert_true(died(qemu));
        assert_true(died(vfs));
        assert_true(died(init));
}

static void test_spares_a_reused_pid(void **unused)
{
        struct container_state st = { .status = CONTAINER_RUNNING };
        struct rv_error *err = NULL;
        pid_t other = sleeper();

        /* The recorded process started at another time: not ours. */
        assert_int_equal(state_add_proc(&st, "qemu", other, &err), 0);
        st.procs[0].start_time += 1;
        assert_int_equal(container_teardown(&st, &err), 0);
        assert_false(died(other));
        kill(other, SIGKILL);
        waitpid(other, NULL, 0);
}

static void test_never_kills_the_caller(void **unused)
{
        struct container_state st = { .status = CONTAINER_CREATING, .monitor_pid = getpid() };
        struct rv_error *err = NULL;

        assert_int_equal(rv_proc_start_time(getpid(), &st.monitor_start_time), 0);
        assert_int_equal(container_teardown(&st, &err), 0);
}

static void test_unknown_resource_kind_only_warns(void **unused)
{
        struct container_state st = { .status = CONTAINER_STOPPED };
        struct rv_error *err = NULL;

        assert_int_equal(state_add_resource(&st, "no-such-kind", "x", &err), 0);
        assert_int_equal(container_teardown(&st, &err), 0);
        free(st.resources[0].kind);
        free(st.resources[0].name);
        free(st.resources);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kills_monitor_and_recorded_processes),
                cmocka_unit_test(test_spares_a_reused_pid),
                cmocka_unit_test(test_never_kills_the_caller),
                cmocka_unit_test(test_unknown_resource_kind_only_warns),
        };
        return cmocka_run_group_tests_name("teardown", tests, NULL, NULL);
}
