/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/accel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "libcontainer-vm/config.h"
#include "vm/vm.h"

int runvm_host_cache_dir(const char *root, char **ret, struct rv_error **err)
{
        char *dir = NULL;

        /* `@` cannot appear in a container ID: no collision with a state dir. */
        if (asprintf(&dir, "%s/@host", root) < 0)
                return rv_error_set(err, ENOMEM, "host cache");
        if (rv_mkdir_p(dir, 0700, err) < 0) {
                free(dir);
                return -1;
        }
        *ret = dir;
        return 0;
}

int runvm_accel_choose(const struct runvm_config *cfg, const char *root, bool reprobe,
                       struct runvm_accel_choice *ret, struct rv_error **err)
{
        _cleanup_free_ char *cache = NULL;
        struct runvm_accel_choice c = { 0 };
        struct vm_probe_verdict v = { 0 };

        if (cfg->accel == RUNVM_ACCEL_TCG) {
                snprintf(c.reason, sizeof(c.reason), "accel = tcg in the configuration");
                *ret = c;
                return 0;
        }
        if (runvm_host_cache_dir(root, &cache, err) < 0)
                return -1;
        struct vm_probe p = {
                .vmm_path = cfg->qemu_path, .kernel = cfg->kernel, .initrd = cfg->initrd,
                .cache_dir = cache, .timeout_ms = cfg->kvm_probe_timeout_ms, .reprobe = reprobe,
                .mmio_cmdline = cfg->own_kernel,
        };
        if (vm_probe(cfg->driver, &p, &v, err) < 0)
                return -1;
        c.probed = true;
        c.cached = v.cached;
        c.kvm_usable = v.usable;
        c.booted = v.booted;
        snprintf(c.reason, sizeof(c.reason), "%s", v.reason);
        c.kvm = v.usable;
        c.refused = cfg->accel == RUNVM_ACCEL_KVM && !v.usable;
        *ret = c;
        return 0;
}
