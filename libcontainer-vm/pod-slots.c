/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pod-slots.h"

#include <string.h>

#include "libcontainer-vm/pod-join.h"
#include "spec/config.h"

static bool is_sandbox_type(const struct spec_config *spec, const char *key)
{
        const char *v = spec_config_annotation(spec, key);
        return v && strcmp(v, "sandbox") == 0;
}

/* podman's default infra command (containers.conf `infra_command`
 * unset): the catatonit it bind-mounts, as a pause process. */
static bool is_podman_infra(const struct spec_config *spec)
{
        char **a = spec->has_process ? spec->process.args : NULL;
        if (a == NULL || a[0] == NULL || a[1] == NULL || a[2] != NULL || strcmp(a[1], "-P") != 0)
                return false;
        const char *base = strrchr(a[0], '/');
        return strcmp(base ? base + 1 : a[0], "catatonit") == 0;
}

bool pod_is_sandbox(const struct spec_config *spec)
{
        return is_sandbox_type(spec, POD_CRIO_TYPE) || is_sandbox_type(spec, POD_CRI_TYPE) || is_podman_infra(spec);
}

unsigned pod_hotplug_slots(const struct spec_config *spec, unsigned configured)
{
        return pod_is_sandbox(spec) ? configured : 0;
}
