/* SPDX-License-Identifier: Apache-2.0 */
/* pod-size: a CRI sandbox's VM from the pod's total (containerd's and
 * CRI-O's annotations), and a member that must fit in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/pod-size.h"
#include "libcontainer-vm/sizing.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"

static struct spec_config *spec_with(const char *resources, const char *annotations)
{
        char text[4096];
        struct spec_config *sc = NULL;
        struct rv_error *err = NULL;

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}, \"annotations\": %s,"
                 " \"linux\": {\"resources\": %s}}", annotations, resources);
        assert_int_equal(spec_config_parse(text, strlen(text), &sc, &err), 0);
        return sc;
}

static const struct runvm_config cfg = {
        .default_memory_mib = 2048, .base_memory_mib = 64, .default_vcpus = 0, .max_vcpus = 4,
};

/* The VM a sandbox gets: its resources with the pod's total applied. */
static int size(const char *resources, const char *annotations, unsigned *mib, unsigned *vcpus,
                struct rv_error **err)
{
        struct spec_config *sc = spec_with(resources, annotations);
        struct spec_config sized = *sc;
        struct pod_total t;
        int r = pod_total_from(sc, &t, err);

        if (r == 0) {
                pod_total_apply(&t, &sized);
                r = vm_size_plan(&sized, &cfg, 8192, mib, vcpus, err);
        }
        spec_config_free(sc);
        return r;
}

#define CRI_SANDBOX "\"io.kubernetes.cri.container-type\": \"sandbox\""
#define CRIO_SANDBOX "\"io.kubernetes.cri-o.ContainerType\": \"sandbox\""

static void test_containerd(void **unused)
{
        struct rv_error *err = NULL;
        unsigned mib, vcpus;

        /* The pause container's own tiny limit gives way to the pod's. */
        assert_int_equal(size("{\"memory\": {\"limit\": 8388608}}",
                              "{" CRI_SANDBOX ", \"io.kubernetes.cri.sandbox-memory\": \"536870912\","
                              " \"io.kubernetes.cri.sandbox-cpu-quota\": \"250000\","
                              " \"io.kubernetes.cri.sandbox-cpu-period\": \"100000\"}", &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 512 + 64);
        assert_int_equal(vcpus, 3);
        /* "0" and "-1" are none: the default. */
        assert_int_equal(size("{}", "{" CRI_SANDBOX ", \"io.kubernetes.cri.sandbox-memory\": \"0\","
                              " \"io.kubernetes.cri.sandbox-cpu-quota\": \"-1\"}", &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 2048);
        assert_int_equal(vcpus, 4);
        /* Not a sandbox: its own limits only. */
        assert_int_equal(size("{}", "{\"io.kubernetes.cri.sandbox-memory\": \"536870912\"}", &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 2048);
        assert_int_equal(size("{}", "{" CRI_SANDBOX ", \"io.kubernetes.cri.sandbox-memory\": \"lots\"}", &mib,
                              &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "annotation `io.kubernetes.cri.sandbox-memory` `lots`: expected an integer"));
        rv_error_release(&err);
}

static void test_crio(void **unused)
{
        struct rv_error *err = NULL;
        unsigned mib, vcpus;

        /* The pod's resources plus its runtime-class overhead. */
        assert_int_equal(size("{}", "{" CRIO_SANDBOX ", \"io.kubernetes.cri-o.PodLinuxResources\":"
                              " \"{\\\"cpu_period\\\":100000,\\\"cpu_quota\\\":150000,\\\"memory_limit_in_bytes\\\":268435456}\","
                              " \"io.kubernetes.cri-o.PodLinuxOverhead\": \"{\\\"memory_limit_in_bytes\\\":67108864}\"}",
                              &mib, &vcpus, &err), 0);
        assert_int_equal(mib, 256 + 64 + 64);
        assert_int_equal(vcpus, 2);
        /* An empty total ("{}": no limits in the pod) is the default. */
        assert_int_equal(size("{}", "{" CRIO_SANDBOX ", \"io.kubernetes.cri-o.PodLinuxResources\": \"{}\"}", &mib,
                              &vcpus, &err), 0);
        assert_int_equal(mib, 2048);
        assert_int_equal(size("{}", "{" CRIO_SANDBOX ", \"io.kubernetes.cri-o.PodLinuxResources\": \"[\"}", &mib,
                              &vcpus, &err), -1);
        assert_non_null(strstr(err->msg, "annotation `io.kubernetes.cri-o.PodLinuxResources`"));
        rv_error_release(&err);
}

static void test_member_fits(void **unused)
{
        struct container_state sb = { .id = "infra", .memory_mib = 576, .vcpus = 2 };
        struct rv_error *err = NULL;
        struct spec_config *sc;

        sc = spec_with("{\"memory\": {\"limit\": 268435456}, \"cpu\": {\"quota\": 200000, \"period\": 100000}}", "{}");
        assert_int_equal(pod_member_fits(sc, &sb, &err), 0);
        spec_config_free(sc);
        sc = spec_with("{\"memory\": {\"limit\": 1073741824}}", "{}");
        assert_int_equal(pod_member_fits(sc, &sb, &err), -1);
        assert_non_null(strstr(err->msg, "`linux.resources.memory.limit`: 1073741824 bytes is more than the pod's VM "
                                         "has (576 MiB, sandbox `infra`)"));
        rv_error_release(&err);
        spec_config_free(sc);
        sc = spec_with("{\"cpu\": {\"quota\": 300000}}", "{}");
        assert_int_equal(pod_member_fits(sc, &sb, &err), -1);
        assert_non_null(strstr(err->msg, "needs 3 CPUs; the pod's VM has 2 (sandbox `infra`)"));
        rv_error_release(&err);
        spec_config_free(sc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_containerd),
                cmocka_unit_test(test_crio),
                cmocka_unit_test(test_member_fits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
