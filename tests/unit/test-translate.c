/* SPDX-License-Identifier: Apache-2.0 */
/* translate: VM sizes from the spec, with checked arithmetic. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/fs.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/translate.h"
#include "spec/config.h"

static char bundle[256];

static int setup(void **state)
{
        char path[300];
        snprintf(bundle, sizeof(bundle), "/tmp/runvm-test-translate-XXXXXX");
        assert_non_null(mkdtemp(bundle));
        snprintf(path, sizeof(path), "%s/rootfs", bundle);
        assert_int_equal(mkdir(path, 0755), 0);
        return 0;
}

static int teardown(void **state)
{
        struct rv_error *err = NULL;
        rv_rm_rf_at(AT_FDCWD, bundle, &err);
        rv_error_release(&err);
        return 0;
}

/* Translates a config whose linux.resources is `resources`. */
static int plan(const char *resources, unsigned max_vcpus, struct vm_plan *ret, struct rv_error **err)
{
        char text[1024];
        struct spec_config *c = NULL;
        struct runvm_config cfg = { .default_memory_mib = 256, .base_memory_mib = 64, .max_vcpus = max_vcpus };

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"},"
                 " \"linux\": {\"namespaces\": [{\"type\": \"network\"}, {\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}], \"resources\": %s}}", resources);
        assert_int_equal(spec_config_parse(text, strlen(text), &c, err), 0);
        int r = translate_spec(c, bundle, &cfg, ret, err);
        spec_config_free(c);
        return r;
}

static void test_memory_near_int64_max_is_refused(void **unused)
{
        struct vm_plan p = { 0 };
        struct rv_error *err = NULL;

        assert_int_equal(plan("{\"memory\": {\"limit\": 9223372036854775807}}", 2, &p, &err), -1);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "`linux.resources.memory.limit`"));
        assert_non_null(strstr(err->msg, "the host has only"));
        rv_error_release(&err);
        assert_int_equal(plan("{\"memory\": {\"limit\": 9223372036854775000}}", 2, &p, &err), -1);
        rv_error_release(&err);
        /* A sane limit: limit + base, rounded up. */
        assert_int_equal(plan("{\"memory\": {\"limit\": 104857601}}", 2, &p, &err), 0);
        assert_int_equal(p.memory_mib, 101 + 64);
        vm_plan_clear(&p);
}

static void test_vcpus_are_clamped_never_wrapped(void **unused)
{
        struct vm_plan p = { 0 };
        struct rv_error *err = NULL;

        /* A quota of INT64_MAX µs per 1 µs period. */
        assert_int_equal(plan("{\"cpu\": {\"quota\": 9223372036854775807, \"period\": 1}}", 4, &p, &err), 0);
        assert_int_equal(p.vcpus, 4);
        vm_plan_clear(&p);
        /* max_vcpus 0 (unknown host CPU count) is not "no limit". */
        assert_int_equal(plan("{\"cpu\": {\"quota\": 9223372036854775807, \"period\": 1}}", 0, &p, &err), 0);
        assert_int_equal(p.vcpus, 1);
        vm_plan_clear(&p);
        assert_int_equal(plan("{\"cpu\": {\"quota\": 150000, \"period\": 100000}}", 4, &p, &err), 0);
        assert_int_equal(p.vcpus, 2);
        vm_plan_clear(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_memory_near_int64_max_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vcpus_are_clamped_never_wrapped, setup, teardown),
        };
        return cmocka_run_group_tests_name("translate", tests, NULL, NULL);
}
