/* SPDX-License-Identifier: Apache-2.0 */
/* pod-slots: which VMs start with hot-plug slots (a pod's sandbox, by
 * the CRI annotations or podman's infra command) and which do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "libcontainer-vm/pod-slots.h"
#include "spec/config.h"

static unsigned slots_of(const char *args, const char *annotations)
{
        char text[2048];
        struct spec_config *sc = NULL;
        struct rv_error *err = NULL;

        snprintf(text, sizeof(text),
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                 " \"process\": {\"args\": %s, \"cwd\": \"/\"}, \"annotations\": %s}", args, annotations);
        assert_int_equal(spec_config_parse(text, strlen(text), &sc, &err), 0);
        unsigned n = pod_hotplug_slots(sc, POD_HOTPLUG_SLOTS);
        /* Configured off: no sandbox gets any. */
        assert_int_equal(pod_hotplug_slots(sc, 0), 0);
        assert_int_equal(pod_is_sandbox(sc), n > 0);
        spec_config_free(sc);
        return n;
}

static void test_cri_sandboxes(void **unused)
{
        assert_int_equal(slots_of("[\"/pause\"]", "{\"io.kubernetes.cri-o.ContainerType\": \"sandbox\"}"),
                         POD_HOTPLUG_SLOTS);
        assert_int_equal(slots_of("[\"/pause\"]", "{\"io.kubernetes.cri.container-type\": \"sandbox\"}"),
                         POD_HOTPLUG_SLOTS);
        /* Their members, and everything else, boot without. */
        assert_int_equal(slots_of("[\"sh\"]", "{\"io.kubernetes.cri-o.ContainerType\": \"container\"}"), 0);
        assert_int_equal(slots_of("[\"sh\"]", "{\"io.kubernetes.cri.container-type\": \"container\"}"), 0);
        assert_int_equal(slots_of("[\"sh\"]", "{}"), 0);
}

static void test_podman_infra(void **unused)
{
        assert_int_equal(slots_of("[\"/catatonit\", \"-P\"]", "{\"io.container.manager\": \"libpod\"}"),
                         POD_HOTPLUG_SLOTS);
        assert_int_equal(slots_of("[\"/usr/libexec/podman/catatonit\", \"-P\"]", "{}"), POD_HOTPLUG_SLOTS);
        /* catatonit as a container's init (`podman run --init`) is no pod. */
        assert_int_equal(slots_of("[\"/run/podman-init\", \"--\", \"sh\"]", "{}"), 0);
        assert_int_equal(slots_of("[\"/catatonit\", \"--\", \"sh\"]", "{}"), 0);
        assert_int_equal(slots_of("[\"/catatonit\", \"-P\", \"x\"]", "{}"), 0);
        assert_int_equal(slots_of("[\"/notcatatonit\", \"-P\"]", "{}"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cri_sandboxes),
                cmocka_unit_test(test_podman_infra),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
