/* SPDX-License-Identifier: Apache-2.0 */
/* Where a bind source is laid out in the share: its path in the host
 * filesystem that holds it, as the host's mountinfo says. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/share-layout.h"

static const char mountinfo[] =
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "23 22 0:21 / /tmp rw shared:2 - tmpfs tmpfs rw\n"
        "24 22 254:0 /srv/data /data rw - ext4 /dev/vda rw\n"
        "25 22 0:30 / /mnt/with\\040space rw - tmpfs tmpfs rw\n"
        "26 23 0:31 / /tmp/over rw - tmpfs tmpfs rw\n"
        "27 23 0:32 / /tmp/over rw - tmpfs tmpfs rw\n";

static void expect(const char *path, const char *want)
{
        struct rv_error *err = NULL;
        char *got = NULL;

        assert_int_equal(share_layout_root(mountinfo, path, &got, &err), 0);
        assert_string_equal(got, want);
        free(got);
}

static void test_roots(void **state)
{
        expect("/home/u/src", "/home/u/src");   /* on / */
        expect("/tmp/x/y", "/x/y");             /* a tmpfs on /tmp */
        expect("/tmp", "/");
        expect("/tmpfoo/z", "/tmpfoo/z");       /* not under /tmp */
        expect("/data/sub", "/srv/data/sub");   /* a bind mount's own root */
        expect("/data", "/srv/data");
        expect("/mnt/with space/f", "/f");      /* escaped mount points */
        expect("/tmp/over/a", "/a");            /* the last of two stacked mounts */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roots),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
