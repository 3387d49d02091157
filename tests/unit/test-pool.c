/* SPDX-License-Identifier: Apache-2.0 */
/* pool: the warm pool's shape keys and which containers it may serve. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/pool.h"
#include "libcontainer-vm/translate.h"
#include "spec/config.h"

static struct runvm_config base_cfg(void)
{
        return (struct runvm_config) {
                .kernel = "/k", .initrd = "/i", .qemu_path = "/q", .virtiofsd_path = "/v",
                .tcg_tb_size_mib = 16, .warm_pool = 1,
        };
}

static void test_shape_key(void **state)
{
        struct runvm_config c = base_cfg();
        struct pool_shape a, b;

        pool_shape_make(&c, 2048, 1, false, &a);
        assert_int_equal(strncmp(a.key, "m2048-c1-tcg-n1-", 16), 0);
        pool_shape_make(&c, 2048, 1, false, &b);
        assert_string_equal(a.key, b.key);
        /* Anything a booted VM cannot change makes another shape. */
        pool_shape_make(&c, 2048, 2, false, &b);
        assert_string_not_equal(a.key, b.key);
        pool_shape_make(&c, 1024, 1, false, &b);
        assert_string_not_equal(a.key, b.key);
        pool_shape_make(&c, 2048, 1, true, &b);
        assert_string_not_equal(a.key, b.key);
        c.kernel = "/other";
        pool_shape_make(&c, 2048, 1, false, &b);
        assert_string_not_equal(a.key, b.key);
        c = base_cfg();
        c.kernel_params = "quiet";
        pool_shape_make(&c, 2048, 1, false, &b);
        assert_string_not_equal(a.key, b.key);
        c = base_cfg();
        c.tcg_tb_size_mib = 32;
        pool_shape_make(&c, 2048, 1, false, &b);
        assert_string_not_equal(a.key, b.key);
}

static void test_eligible(void **state)
{
        struct runvm_config c = base_cfg();
        struct spec_config s = { 0 };
        struct vm_plan p = { 0 };
        struct spec_hook hook = { 0 };
        struct spec_string_pair ann = { .key = "io.kubernetes.cri.container-type", .value = "sandbox" };

        assert_true(pool_eligible(&s, &p, &c, false));
        assert_false(pool_eligible(&s, &p, &c, true));          /* a pod's member: its sandbox's VM */
        c.warm_pool = 0;
        assert_false(pool_eligible(&s, &p, &c, false));         /* off */
        c.warm_pool = 1;
        s.process.terminal = true;
        assert_false(pool_eligible(&s, &p, &c, false));
        s.process.terminal = false;
        p.netns_path = "/run/netns/x";                           /* its NICs are counted by the caller */
        assert_true(pool_eligible(&s, &p, &c, false));
        p.netns_path = NULL;
        p.ipcns_path = "/run/ipc";                                /* a CRI sandbox's pinned namespaces */
        assert_false(pool_eligible(&s, &p, &c, false));
        p.ipcns_path = NULL;
        p.cpus = "0";
        assert_false(pool_eligible(&s, &p, &c, false));
        p.cpus = NULL;
        p.n_disks = 1;
        assert_false(pool_eligible(&s, &p, &c, false));
        p.n_disks = 0;
        s.hooks.poststop.hooks = &hook;
        s.hooks.poststop.n = 1;
        assert_false(pool_eligible(&s, &p, &c, false));
        s.hooks.poststop.n = 0;
        s.annotations = &ann;
        s.n_annotations = 1;
        assert_false(pool_eligible(&s, &p, &c, false));
        ann.key = "io.kubernetes.cri-o.TTY";                    /* podman's, on every container */
        assert_true(pool_eligible(&s, &p, &c, false));
        s.n_annotations = 0;
        assert_true(pool_eligible(&s, &p, &c, false));
        /* podman's pod infra: a sandbox that needs hot-plug slots. */
        char *infra[] = { "/catatonit", "-P", NULL };
        s.has_process = true;
        s.process.args = infra;
        assert_false(pool_eligible(&s, &p, &c, false));
        s.process.args = NULL;
        assert_true(pool_eligible(&s, &p, &c, false));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shape_key),
                cmocka_unit_test(test_eligible),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
