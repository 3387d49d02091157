/* SPDX-License-Identifier: Apache-2.0 */
/* sizing: the VM's memory and vCPUs from the container's resources, the
 * configuration and the org.runvm.vm.* annotations. */
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
#include "libcontainer-vm/sizing.h"
#include "spec/config.h"
#include "vm/vm.h"

static const struct runvm_config cfg = {
        .default_memory_mib = 2048, .base_memory_mib = 64, .default_vcpus = 0, .max_vcpus = 4,
};

/* Sizes a config with linux.resources `resources` and annotations
 * `annotations` (a JSON object) on a host with 8 GiB. */
static int size(const char *resources, const char *annotations, const struct runvm_config *c,
                unsigned *mib, unsigned *vcpus, struct rv_error **err)
{
        char text[2048];
        struct spec_config *sc = NULL;

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}, \"annotations\": %s,"
                 " \"linux\": {\"resources\": %s}}", annotations, resources);
        assert_int_equal(spec_config_parse(text, strlen(text), &sc, err), 0);
        int r = vm_size_plan(sc, c ? c : &cfg, 8192, mib, vcpus, err);
        spec_config_free(sc);
        return r;
}

/* Whether vm_size_vcpus_follow_accel says the default applies. */
static bool follows(const char *resources, const char *annotations, const struct runvm_config *c)
{
        char text[2048];
        struct spec_config *sc = NULL;
        struct rv_error *err = NULL;

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}, \"annotations\": %s,"
                 " \"linux\": {\"resources\": %s}}", annotations, resources);
        assert_int_equal(spec_config_parse(text, strlen(text), &sc, &err), 0);
        bool r = vm_size_vcpus_follow_accel(sc, c ? c : &cfg);
        spec_config_free(sc);
        return r;
}

/* Only a count nobody asked for is one under TCG. */
static void test_vcpus_follow_accel(void **unused)
{
        (void) unused;
        struct runvm_config two = cfg;
        two.default_vcpus = 2;

        assert_true(follows("{}", "{}", NULL));
        assert_false(follows("{}", "{}", &two));
        assert_false(follows("{\"cpu\": {\"quota\": 200000, \"period\": 100000}}", "{}", NULL));
        assert_false(follows("{\"cpu\": {\"cpus\": \"0\"}}", "{}", NULL));
        assert_false(follows("{}", "{\"org.runvm.vm.vcpus\": \"2\"}", NULL));
        /* A quota of -1 is "no quota". */
        assert_true(follows("{\"cpu\": {\"quota\": -1}}", "{}", NULL));
}

static void test_memory(void **unused)
{
        struct rv_error *err = NULL;
        unsigned mib, vcpus;

        /* No limit: the default. */
        assert_int_equal(size("{}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 2048);
        /* A limit: limit + base, rounded up to MiB. */
        assert_int_equal(size("{\"memory\": {\"limit\": 536870913}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 513 + 64);
        /* Never under 128 MiB. */
        assert_int_equal(size("{\"memory\": {\"limit\": 4194304}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, VM_MIN_MEMORY_MIB);
        /* More than the host has: refused, naming the field. */
        assert_int_equal(size("{\"memory\": {\"limit\": 17179869184}}", "{}", NULL, &mib, &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "`linux.resources.memory.limit`"));
        rv_error_release(&err);
}

/* With RAM added after boot, a limit's VM is rounded up to whole 128 MiB
 * blocks where that lets it boot with boot_memory_mib, and only there. */
static void test_memory_whole_blocks(void **unused)
{
        struct runvm_config c = cfg;
        struct rv_error *err = NULL;
        unsigned mib, vcpus;

        c.boot_memory_mib = 256;
        /* 512 + 64: 640, booted with 256. */
        assert_int_equal(size("{\"memory\": {\"limit\": 536870912}}", "{}", &c, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 640);
        assert_int_equal(vm_boot_ram_mib(mib, c.boot_memory_mib), 256);
        /* 200 + 64: 384, the smallest VM a block above the boot RAM. */
        assert_int_equal(size("{\"memory\": {\"limit\": 209715200}}", "{}", &c, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 384);
        /* 100 + 64 would need 384: kept, booted with all of it. */
        assert_int_equal(size("{\"memory\": {\"limit\": 104857600}}", "{}", &c, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 164);
        assert_int_equal(vm_boot_ram_mib(mib, c.boot_memory_mib), 0);
        /* Already whole: unchanged. */
        assert_int_equal(size("{\"memory\": {\"limit\": 469762048}}", "{}", &c, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 512);
        /* No limit, or an annotation: as given. */
        assert_int_equal(size("{}", "{}", &c, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 2048);
        assert_int_equal(size("{\"memory\": {\"limit\": 536870912}}", "{\"org.runvm.vm.memory_mib\": \"600\"}", &c,
                              &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 600);
        /* A kernel booted with all its RAM (boot_memory_mib 0): no rounding. */
        c.boot_memory_mib = 0;
        assert_int_equal(size("{\"memory\": {\"limit\": 536870912}}", "{}", &c, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 576);
        rv_error_release(&err);
}

static void test_memory_annotation(void **unused)
{
        struct rv_error *err = NULL;
        unsigned mib, vcpus;

        assert_int_equal(size("{}", "{\"org.runvm.vm.memory_mib\": \"512\"}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 512);
        /* At or under the limit, the guest kernel would run out first. */
        assert_int_equal(size("{\"memory\": {\"limit\": 268435456}}", "{\"org.runvm.vm.memory_mib\": \"256\"}",
                              NULL, &mib, &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "annotation `org.runvm.vm.memory_mib` `256`"));
        assert_non_null(strstr(err->msg, "above the memory limit"));
        rv_error_release(&err);
        static const char *const bad[] = { "abc", "-1", "64", "1e3", "", "99999999", " 512" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char ann[128];
                snprintf(ann, sizeof(ann), "{\"org.runvm.vm.memory_mib\": \"%s\"}", bad[i]);
                assert_int_equal(size("{}", ann, NULL, &mib, &vcpus, &err), -1);
                assert_non_null(strstr(err->msg, "annotation `org.runvm.vm.memory_mib`"));
                assert_null(strchr(err->msg, '\n'));
                rv_error_release(&err);
        }
}

static void test_vcpus(void **unused)
{
        struct rv_error *err = NULL;
        unsigned mib, vcpus;
        struct runvm_config two = cfg;

        /* No limits: default_vcpus, 0 meaning the host's. */
        assert_int_equal(size("{}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 4);
        two.default_vcpus = 2;
        assert_int_equal(size("{}", "{}", &two, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 2);
        /* ceil(quota / period), at most the host's. */
        assert_int_equal(size("{\"cpu\": {\"quota\": 150000, \"period\": 100000}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 2);
        assert_int_equal(size("{\"cpu\": {\"quota\": 50000}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 1);
        assert_int_equal(size("{\"cpu\": {\"quota\": 9000000000, \"period\": 1000}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 4);
        /* cpu.cpus: a vCPU for the highest CPU named, also under a small quota. */
        assert_int_equal(size("{\"cpu\": {\"cpus\": \"0,1\"}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 2);
        assert_int_equal(size("{\"cpu\": {\"cpus\": \"2\", \"quota\": 10000}}", "{}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 3);
        assert_int_equal(size("{\"cpu\": {\"cpus\": \"7\"}}", "{}", NULL, &mib, &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "`linux.resources.cpu.cpus` `7`"));
        rv_error_release(&err);
}

static void test_vcpus_annotation(void **unused)
{
        struct rv_error *err = NULL;
        unsigned mib, vcpus;

        assert_int_equal(size("{}", "{\"org.runvm.vm.vcpus\": \"1\"}", NULL, &mib, &vcpus, &err), 0);
        assert_int_equal(vcpus, 1);
        assert_int_equal(size("{}", "{\"org.runvm.vm.vcpus\": \"5\"}", NULL, &mib, &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "annotation `org.runvm.vm.vcpus` `5`: expected an integer from 1 to 4"));
        rv_error_release(&err);
        /* Fewer than cpu.cpus needs. */
        assert_int_equal(size("{\"cpu\": {\"cpus\": \"0-2\"}}", "{\"org.runvm.vm.vcpus\": \"2\"}", NULL, &mib,
                              &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "from 3 to 4"));
        rv_error_release(&err);
        assert_int_equal(size("{}", "{\"org.runvm.vm.vcpus\": \"0\"}", NULL, &mib, &vcpus, &err), -1);
        rv_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_memory),
                cmocka_unit_test(test_memory_whole_blocks),
                cmocka_unit_test(test_memory_annotation),
                cmocka_unit_test(test_vcpus),
                cmocka_unit_test(test_vcpus_annotation),
                cmocka_unit_test(test_vcpus_follow_accel),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
