/* SPDX-License-Identifier: Apache-2.0 */
/* Which console line explains a failed boot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libcontainer-vm/console.h"

static char *pick(const char *text)
{
        return console_explaining_line(text, strlen(text));
}

static void test_routine_noise_is_not_quoted(void **unused)
{
        assert_null(pick("[    0.380644] PCI: Fatal: No config space access function found\n"));
        assert_null(pick(""));
        assert_null(pick("\n\n"));
}

static void test_last_explaining_line(void **unused)
{
        char *s = pick("[    0.38] PCI: Fatal: No config space access function found\n"
                       "[    1.00] Out of memory: Killed process 1 (runvm-agent)\r\n"
                       "[    1.01] Kernel panic - not syncing: Attempted to kill init!\n"
                       "[    1.02] Kernel Offset: disabled\n");
        assert_non_null(s);
        assert_string_equal(s, "[    1.01] Kernel panic - not syncing: Attempted to kill init!");
        free(s);
}

static void test_bounded_and_no_control_chars(void **unused)
{
        char text[1024];
        memset(text, 'x', sizeof(text));
        memcpy(text, "BUG: \x1b[31m", 10);
        char *s = console_explaining_line(text, sizeof(text));
        assert_non_null(s);
        assert_int_equal(strlen(s), 300);
        assert_null(strchr(s, '\x1b'));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_routine_noise_is_not_quoted),
                cmocka_unit_test(test_last_explaining_line),
                cmocka_unit_test(test_bounded_and_no_control_chars),
        };
        return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
