/* SPDX-License-Identifier: Apache-2.0 */
/* `runvm check`: what the host offers and what runvm will use. */
#include "libcontainer-vm/container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "libcontainer-vm/base/cleanup.h"
#include "libcontainer-vm/base/error.h"
#include "libcontainer-vm/config.h"
#include "netns/netns.h"
#include "vm/qemu/vm.h"

static const char *found(const char *path)
{
        return access(path, R_OK) == 0 ? "found" : "MISSING";
}

int container_host_report(const struct runvm_context *ctx, char **ret, struct rv_error **err)
{
        struct runvm_config cfg;
        struct statfs fs;
        char *text = NULL;
        size_t len = 0;
        uint32_t khz = 0;
        struct rv_error *tmp_err = NULL;
        FILE *out;

        if (runvm_config_load(&cfg, err) < 0)
                return -1;
        out = open_memstream(&text, &len);
        if (out == NULL) {
                runvm_config_clear(&cfg);
                return rv_error_set(err, ENOMEM, "check");
        }
        bool kvm = vm_kvm_usable();
        bool use_kvm = cfg.accel == RUNVM_ACCEL_KVM || (cfg.accel == RUNVM_ACCEL_AUTO && kvm);
        fprintf(out, "kvm: %s\n", kvm ? "/dev/kvm usable" : "no usable /dev/kvm");
        fprintf(out, "accelerator: %s\n", use_kvm ? "kvm" : "tcg (software emulation)");
        if (!use_kvm) {
                if (vm_host_tsc_khz(NULL, &khz, &tmp_err) == 0)
                        fprintf(out, "host tsc: %u kHz (passed as tsc_early_khz)\n", khz);
                else
                        fprintf(out, "host tsc: %s\n", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        fprintf(out, "vhost-vsock: %s\n", access("/dev/vhost-vsock", R_OK | W_OK) == 0 ? "available" : "absent (virtio-serial is used)");
        fprintf(out, "vhost-net: %s\n", access("/dev/vhost-net", R_OK | W_OK) == 0 ? "available" : "absent");
        netns_host_report(out);
        fprintf(out, "qemu: %s (%s)\n", cfg.qemu_path, found(cfg.qemu_path));
        fprintf(out, "virtiofsd: %s (%s)\n", cfg.virtiofsd_path, found(cfg.virtiofsd_path));
        fprintf(out, "kernel: %s (%s)\n", cfg.kernel, found(cfg.kernel));
        fprintf(out, "initrd: %s (%s)\n", cfg.initrd, found(cfg.initrd));
        if (statfs("/sys/fs/cgroup", &fs) == 0)
                fprintf(out, "host cgroups: %s\n", fs.f_type == CGROUP2_SUPER_MAGIC ? "v2 (unified)" :
                        access("/sys/fs/cgroup/unified", F_OK) == 0 ? "v1 (hybrid)" : "v1");
        fprintf(out, "state root: %s\n", ctx->root);
        fclose(out);
        runvm_config_clear(&cfg);
        *ret = text;
        return 0;
}
