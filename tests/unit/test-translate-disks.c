/* SPDX-License-Identifier: Apache-2.0 */
/* Which device rules let a container write a block device, and which
 * rule sets are --privileged's "every device" (libcontainer-vm/translate-disks.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "libcontainer-vm/translate-disks.h"
#include "spec/config.h"

#define RULE(a, t, maj, min, acc) \
        { .allow = (a), .type = (t), .has_major = (maj) != -2, .major = (maj), .has_minor = (min) != -2, \
          .minor = (min), .access = (acc) }
#define ANY -2  /* absent from the spec */

static void test_default_deny_then_allow(void **unused)
{
        struct spec_device_rule rw[] = { RULE(false, NULL, ANY, ANY, "rwm"), RULE(true, "b", 7, 0, "rwm") };
        struct spec_device_rule ro[] = { RULE(false, NULL, ANY, ANY, "rwm"), RULE(true, "b", 7, 0, "rm") };
        bool named = false;

        assert_true(disk_rules_allow_write(rw, 2, 7, 0, &named));
        assert_true(named);
        /* Another loop device is still denied, and not named. */
        assert_false(disk_rules_allow_write(rw, 2, 7, 1, &named));
        assert_false(named);
        /* `rm`: readable, not writable. */
        assert_false(disk_rules_allow_write(ro, 2, 7, 0, &named));
        assert_true(named);
}

static void test_last_matching_rule_with_w_decides(void **unused)
{
        struct spec_device_rule r[] = {
                RULE(true, "b", 7, ANY, "rwm"),         /* every loop device */
                RULE(false, "b", 7, 3, "w"),            /* but not loop3 for writing */
                RULE(true, "c", 7, 3, "rwm"),           /* a character device: not this */
                RULE(true, "b", 7, 3, "r"),             /* no w: does not decide */
        };

        assert_true(disk_rules_allow_write(r, 4, 7, 2, NULL));
        assert_false(disk_rules_allow_write(r, 4, 7, 3, NULL));
        /* No rule at all: nothing is allowed (the guest's default). */
        assert_false(disk_rules_allow_write(NULL, 0, 7, 3, NULL));
        /* -1 is a wildcard too. */
        struct spec_device_rule wild[] = { RULE(true, "b", -1, -1, "rwm") };
        bool named = true;
        assert_true(disk_rules_allow_write(wild, 1, 8, 16, &named));
        assert_false(named);
}

static void test_allow_all_is_privileged_shape(void **unused)
{
        struct spec_device_rule priv[] = { RULE(false, NULL, ANY, ANY, "rwm"), RULE(true, "a", ANY, ANY, "rwm") };
        struct spec_device_rule untyped[] = { RULE(true, NULL, ANY, ANY, NULL) };
        struct spec_device_rule blocks[] = { RULE(true, "b", ANY, ANY, "rwm") };
        struct spec_device_rule no_mknod[] = { RULE(true, "a", ANY, ANY, "rw") };
        struct spec_device_rule one[] = { RULE(true, "a", 7, ANY, "rwm") };

        assert_true(disk_rules_allow_all(priv, 2));
        assert_true(disk_rules_allow_all(untyped, 1));
        assert_false(disk_rules_allow_all(blocks, 1));
        assert_false(disk_rules_allow_all(no_mknod, 1));
        assert_false(disk_rules_allow_all(one, 1));
        assert_false(disk_rules_allow_all(NULL, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_deny_then_allow),
                cmocka_unit_test(test_last_matching_rule_with_w_decides),
                cmocka_unit_test(test_allow_all_is_privileged_shape),
        };
        return cmocka_run_group_tests_name("translate-disks", tests, NULL, NULL);
}
