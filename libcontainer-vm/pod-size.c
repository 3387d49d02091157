/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pod-size.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "libcontainer-vm/state.h"
#include "spec/config.h"
#include "spec/json.h"

#define MIB (1024ll * 1024ll)

static bool is_sandbox(const struct spec_config *spec)
{
        const char *a = spec_config_annotation(spec, "io.kubernetes.cri-o.ContainerType");
        const char *b = spec_config_annotation(spec, "io.kubernetes.cri.container-type");
        return (a && strcmp(a, "sandbox") == 0) || (b && strcmp(b, "sandbox") == 0);
}

/* A decimal integer; absent: *ret untouched. */
static int annotation_int(const struct spec_config *spec, const char *key, int64_t *ret, bool *has,
                          struct rv_error **err)
{
        const char *v = spec_config_annotation(spec, key);
        char *end;

        if (v == NULL)
                return 0;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (v[0] == '\0' || *end != '\0' || errno != 0)
                return rv_error_setx(err, EINVAL, "annotation `%s` `%s`: expected an integer", key, v);
        *ret = n;
        *has = true;
        return 0;
}

/* CRI's LinuxContainerResources as Go marshals it: snake_case keys,
 * zeros left out. */
static int add_resources(const struct spec_config *spec, const char *key, struct pod_total *t,
                         struct rv_error **err)
{
        const char *v = spec_config_annotation(spec, key);
        _cleanup_(json_value_freep) struct json_value *j = NULL;
        int64_t n;

        if (v == NULL)
                return 0;
        if (json_parse(v, strlen(v), &j, err) < 0)
                return rv_error_wrap(err, "annotation `%s`", key);
        if (!json_is_object(j))
                return rv_error_setx(err, EINVAL, "annotation `%s`: not a JSON object", key);
        const struct json_value *mem = json_get(j, "memory_limit_in_bytes");
        const struct json_value *quota = json_get(j, "cpu_quota"), *period = json_get(j, "cpu_period");
        if (mem) {
                if (json_read_int64(mem, "memory_limit_in_bytes", &n, err) < 0)
                        return rv_error_wrap(err, "annotation `%s`", key);
                if (n > 0) {
                        t->memory += n;
                        t->has_memory = true;
                }
        }
        if (period) {
                if (json_read_int64(period, "cpu_period", &n, err) < 0)
                        return rv_error_wrap(err, "annotation `%s`", key);
                if (n > 0)
                        t->period = (uint64_t) n;
        }
        if (quota) {
                if (json_read_int64(quota, "cpu_quota", &n, err) < 0)
                        return rv_error_wrap(err, "annotation `%s`", key);
                if (n > 0) {
                        t->quota += n;
                        t->has_quota = true;
                }
        }
        return 0;
}

int pod_total_from(const struct spec_config *spec, struct pod_total *ret, struct rv_error **err)
{
        struct pod_total t = { .period = 100000 };
        bool has = false;
        int64_t n = 0;

        *ret = t;
        if (!is_sandbox(spec))
                return 0;
        if (annotation_int(spec, POD_CRI_SANDBOX_MEMORY, &n, &has, err) < 0)
                return -1;
        if (has && n > 0)
                t.has_memory = true, t.memory = n;
        has = false;
        if (annotation_int(spec, POD_CRI_SANDBOX_PERIOD, &n, &has, err) < 0)
                return -1;
        if (has && n > 0)
                t.period = (uint64_t) n;
        has = false;
        if (annotation_int(spec, POD_CRI_SANDBOX_QUOTA, &n, &has, err) < 0)
                return -1;
        if (has && n > 0)
                t.has_quota = true, t.quota = n;
        if (!t.has_memory && !t.has_quota &&
            (add_resources(spec, POD_CRIO_RESOURCES, &t, err) < 0 ||
             ((t.has_memory || t.has_quota) && add_resources(spec, POD_CRIO_OVERHEAD, &t, err) < 0)))
                return -1;
        *ret = t;
        return 0;
}

void pod_total_apply(const struct pod_total *t, struct spec_config *sized)
{
        if (t->has_memory) {
                sized->linux_.resources.memory.has_limit = true;
                sized->linux_.resources.memory.limit = t->memory;
        }
        if (t->has_quota) {
                sized->linux_.resources.cpu.has_quota = true;
                sized->linux_.resources.cpu.quota = t->quota;
                sized->linux_.resources.cpu.has_period = true;
                sized->linux_.resources.cpu.period = t->period;
        }
}

int pod_member_fits(const struct spec_config *member, const struct container_state *sandbox,
                    struct rv_error **err)
{
        const struct spec_memory *mem = &member->linux_.resources.memory;
        const struct spec_cpu *cpu = &member->linux_.resources.cpu;

        if (mem->has_limit && mem->limit > 0 && sandbox->memory_mib > 0 &&
            mem->limit > (int64_t) sandbox->memory_mib * MIB)
                return rv_error_setx(err, ENOMEM, "`linux.resources.memory.limit`: %lld bytes is more than the "
                                     "pod's VM has (%u MiB, sandbox `%s`)", (long long) mem->limit,
                                     sandbox->memory_mib, sandbox->id);
        if (cpu->has_quota && cpu->quota > 0 && sandbox->vcpus > 0) {
                uint64_t period = cpu->has_period && cpu->period > 0 ? cpu->period : 100000;
                uint64_t need = (uint64_t) cpu->quota / period + ((uint64_t) cpu->quota % period != 0);
                if (need > sandbox->vcpus)
                        return rv_error_setx(err, ERANGE, "`linux.resources.cpu.quota`: %lld per %llu µs needs %llu "
                                             "CPUs; the pod's VM has %u (sandbox `%s`)", (long long) cpu->quota,
                                             (unsigned long long) period, (unsigned long long) need,
                                             sandbox->vcpus, sandbox->id);
        }
        return 0;
}
