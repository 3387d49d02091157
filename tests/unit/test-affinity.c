/* SPDX-License-Identifier: Apache-2.0 */
/* cpu.cpus lists: what the VM's vCPU count and pinning are made from. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/error.h"
#include "vm/qemu/affinity.h"

static void test_lists(void **state)
{
        struct rv_error *err = NULL;
        unsigned highest = 99;
        cpu_set_t set;

        assert_int_equal(vm_cpuset_parse("0-1", &set, &highest, &err), 0);
        assert_int_equal(highest, 1);
        assert_int_equal(CPU_COUNT(&set), 2);
        assert_int_equal(vm_cpuset_parse("3,0-1,7\n", &set, &highest, &err), 0);
        assert_int_equal(highest, 7);
        assert_int_equal(CPU_COUNT(&set), 4);
        assert_true(CPU_ISSET(3, &set) && CPU_ISSET(7, &set) && !CPU_ISSET(2, &set));
        assert_int_equal(vm_cpuset_parse("5", &set, &highest, &err), 0);
        assert_int_equal(highest, 5);
}

static void test_bad_lists(void **state)
{
        static const char *const bad[] = { "", "a", "1-", "-1", "2-1", "1,,2", "1;2", "0-99999", "1 2" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct rv_error *err = NULL;
                unsigned highest;
                cpu_set_t set;

                assert_int_equal(vm_cpuset_parse(bad[i], &set, &highest, &err), -1);
                assert_non_null(err);
                assert_int_equal(err->status, EINVAL);
                rv_error_release(&err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lists),
                cmocka_unit_test(test_bad_lists),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
