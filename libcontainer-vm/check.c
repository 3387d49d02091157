/* SPDX-License-Identifier: Apache-2.0 */
/* `runvm check`: what the host offers and what runvm will use. */
#include "libcontainer-vm/container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "libcontainer-vm/accel.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/pool.h"
#include "netns/netns.h"
#include "spec/json.h"
#include "vm/qemu/accel.h"
#include "vm/qemu/argv.h"
#include "vm/vm.h"

struct host_facts {
        struct runvm_accel_choice accel;
        uint32_t tsc_khz;
        char tsc_error[256];
        bool vhost_vsock, vhost_net;
        bool net_ok;                    /* TAPs + tc mirred work (netns_host_probe) */
        char net_error[256];
        const char *cgroups;
        int ksm_run;                    /* /sys/kernel/mm/ksm/run, -1: no KSM */
        struct pool_status pool;        /* the warm pool of this root (pool.h) */
};

#define KSM_RUN "/sys/kernel/mm/ksm/run"

static int ksm_state(void)
{
        _cleanup_fclose_ FILE *f = fopen(KSM_RUN, "re");
        int v;

        return f && fscanf(f, "%d", &v) == 1 ? v : -1;
}

/* KSM merges only private anonymous memory: the guest RAM is a shared
 * memfd (vhost-user-fs maps it in virtiofsd), which it never merges,
 * running or not. Said so that nobody enables it for runvm's sake. */
static const char *ksm_text(int run)
{
        switch (run) {
        case -1:
                return "absent (no " KSM_RUN ")";
        case 0:
                return "off (" KSM_RUN " = 0; `echo 1 > " KSM_RUN "` starts it); it would not merge the "
                       "guest memory: virtio-fs needs it shared (memfd), and KSM merges only private memory";
        case 1:
                return "running (" KSM_RUN " = 1); it does not merge the guest memory: virtio-fs needs it "
                       "shared (memfd), and KSM merges only private memory";
        default:
                return "stopped, merged pages unmerged (" KSM_RUN " = 2; `echo 1 > " KSM_RUN "` starts it)";
        }
}

static const char *accel_setting(enum runvm_accel a)
{
        return a == RUNVM_ACCEL_KVM ? "kvm" : a == RUNVM_ACCEL_TCG ? "tcg" : "auto";
}

/* The verdict in one line: what KVM is here, and what runvm does about it. */
static void kvm_line(FILE *out, const struct runvm_accel_choice *a)
{
        const char *use = a->refused ? "accel = kvm: create will fail" : a->kvm ? "using KVM" : "using TCG";

        if (!a->probed)
                fprintf(out, "kvm: not probed (%s); using TCG\n", a->reason);
        else if (a->kvm_usable)
                fprintf(out, "kvm: usable: %s; %s\n", a->reason, use);
        else if (a->booted)
                fprintf(out, "kvm: /dev/kvm present but unusable: %s; %s\n", a->reason, use);
        else
                fprintf(out, "kvm: %s; %s\n", a->reason, use);
}

static const char *found(const char *path)
{
        return access(path, R_OK) == 0 ? "found" : "MISSING";
}

static int report_text(const struct runvm_context *ctx, const struct runvm_config *cfg,
                       const struct host_facts *h, char **ret, struct rv_error **err)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);

        if (out == NULL)
                return rv_error_set(err, ENOMEM, "check");
        kvm_line(out, &h->accel);
        if (h->accel.probed)
                fprintf(out, "kvm verdict: %s (%s/@host/" VM_KVM_VERDICT_FILE ")\n",
                        h->accel.cached ? "cached" : "probed now", ctx->root);
        fprintf(out, "accelerator: %s (accel = %s)\n", h->accel.kvm ? "kvm" : "tcg (software emulation)",
                accel_setting(cfg->accel));
        if (!h->accel.kvm) {
                if (h->tsc_khz)
                        fprintf(out, "host tsc: %u kHz (passed as tsc_early_khz)\n", h->tsc_khz);
                else
                        fprintf(out, "host tsc: %s\n", h->tsc_error);
                fprintf(out, "lapic timer: %u kHz (TCG's; passed as lapic_timer_khz, no calibration at boot)\n",
                        QEMU_TCG_LAPIC_TIMER_KHZ);
        }
        fprintf(out, "vhost-vsock: %s\n", h->vhost_vsock ? "available" : "absent (virtio-serial is used)");
        fprintf(out, "vhost-net: %s\n", h->vhost_net ? "available" : "absent");
        fprintf(out, "ksm: %s\n", ksm_text(h->ksm_run));
        if (cfg->boot_memory_mib > 0)
                fprintf(out, "guest ram: %u MiB at boot, the rest added as used (boot_memory_mib; VMs of whole "
                        "128 MiB blocks)\n", cfg->boot_memory_mib);
        else
                fprintf(out, "guest ram: all of it at boot (boot_memory_mib = 0)\n");
        if (h->net_ok)
                fprintf(out, "network: TAP + tc mirred: working (each interface of the container's network "
                        "namespace becomes a virtio-net NIC)\n");
        else
                fprintf(out, "network: TAP + tc mirred: NOT working: %s\n", h->net_error);
        fprintf(out, "hypervisor: %s (hypervisor in runvm.conf)\n", vm_driver_name(cfg->driver));
        fprintf(out, "qemu: %s (%s)\n", cfg->qemu_path, found(cfg->qemu_path));
        fprintf(out, "virtiofsd: %s (%s)\n", cfg->virtiofsd_path, found(cfg->virtiofsd_path));
        fprintf(out, "kernel: %s (%s)\n", cfg->kernel, found(cfg->kernel));
        fprintf(out, "initrd: %s (%s)\n", cfg->initrd, found(cfg->initrd));
        if (h->cgroups)
                fprintf(out, "host cgroups: %s\n", h->cgroups);
        fprintf(out, "state root: %s\n", ctx->root);
        fprintf(out, "warm pool: depth %u, %u ready, %u booting, %u serving (warm_pool in runvm.conf%s)\n",
                cfg->warm_pool, h->pool.ready, h->pool.booting, h->pool.serving,
                cfg->warm_pool ? "" : "; off");
        fclose(out);
        *ret = text;
        return 0;
}

static void write_file(struct json_writer *w, const char *key, const char *path)
{
        json_write_key(w, key);
        json_write_object_begin(w);
        json_write_key(w, "path");
        json_write_string(w, path);
        json_write_key(w, "found");
        json_write_bool(w, access(path, R_OK) == 0);
        json_write_object_end(w);
}

static int report_json(const struct runvm_context *ctx, const struct runvm_config *cfg,
                       const struct host_facts *h, char **ret, struct rv_error **err)
{
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new("  ");
        const struct runvm_accel_choice *a = &h->accel;

        json_write_object_begin(w);
        json_write_key(w, "hypervisor");
        json_write_string(w, vm_driver_name(cfg->driver));
        json_write_key(w, "accelerator");
        json_write_string(w, a->kvm ? "kvm" : "tcg");
        json_write_key(w, "accel");
        json_write_string(w, accel_setting(cfg->accel));
        json_write_key(w, "kvm");
        json_write_object_begin(w);
        json_write_key(w, "probed");
        json_write_bool(w, a->probed);
        json_write_key(w, "usable");
        json_write_bool(w, a->kvm_usable);
        json_write_key(w, "device_usable");
        json_write_bool(w, a->booted);
        json_write_key(w, "cached");
        json_write_bool(w, a->cached);
        json_write_key(w, "reason");
        json_write_string(w, a->reason);
        json_write_object_end(w);
        json_write_key(w, "refused");
        json_write_bool(w, a->refused);
        json_write_key(w, "tsc_khz");
        if (h->tsc_khz)
                json_write_uint64(w, h->tsc_khz);
        else
                json_write_null(w);
        json_write_key(w, "vhost_vsock");
        json_write_bool(w, h->vhost_vsock);
        json_write_key(w, "vhost_net");
        json_write_bool(w, h->vhost_net);
        json_write_key(w, "warm_pool");
        json_write_object_begin(w);
        json_write_key(w, "depth");
        json_write_uint64(w, cfg->warm_pool);
        json_write_key(w, "ready");
        json_write_uint64(w, h->pool.ready);
        json_write_key(w, "booting");
        json_write_uint64(w, h->pool.booting);
        json_write_key(w, "serving");
        json_write_uint64(w, h->pool.serving);
        json_write_object_end(w);
        json_write_key(w, "boot_memory_mib");
        json_write_uint64(w, cfg->boot_memory_mib);
        json_write_key(w, "ksm_run");
        if (h->ksm_run >= 0)
                json_write_uint64(w, (uint64_t) h->ksm_run);
        else
                json_write_null(w);
        json_write_key(w, "network");
        json_write_object_begin(w);
        json_write_key(w, "tap_mirred");
        json_write_bool(w, h->net_ok);
        json_write_key(w, "error");
        json_write_string(w, h->net_ok ? NULL : h->net_error);
        json_write_object_end(w);
        write_file(w, "qemu", cfg->qemu_path);
        write_file(w, "virtiofsd", cfg->virtiofsd_path);
        write_file(w, "kernel", cfg->kernel);
        write_file(w, "initrd", cfg->initrd);
        json_write_key(w, "host_cgroups");
        json_write_string(w, h->cgroups);
        json_write_key(w, "state_root");
        json_write_string(w, ctx->root);
        json_write_object_end(w);
        char *text = NULL;
        size_t len = 0;
        if (json_writer_finish(w, &text, &len, err) < 0)
                return -1;
        /* One document, one line ending, like every other JSON output. */
        char *nl = NULL;
        if (asprintf(&nl, "%s\n", text) < 0) {
                free(text);
                return rv_error_set(err, ENOMEM, "check");
        }
        free(text);
        *ret = nl;
        return 0;
}

int container_host_report(const struct runvm_context *ctx, bool json, bool reprobe, char **ret,
                          struct rv_error **err)
{
        struct runvm_config cfg;
        struct host_facts h = { 0 };
        struct statfs fs;
        struct rv_error *tmp_err = NULL;
        int r;

        if (runvm_config_load(&cfg, err) < 0)
                return -1;
        if (runvm_accel_choose(&cfg, ctx->root, reprobe, &h.accel, err) < 0) {
                runvm_config_clear(&cfg);
                return -1;
        }
        if (!h.accel.kvm) {
                _cleanup_free_ char *cache = NULL;
                /* The same cached measurement the containers get. */
                if (runvm_host_cache_dir(ctx->root, &cache, &tmp_err) < 0)
                        rv_error_release(&tmp_err);
                if (vm_host_tsc_khz(cache, &h.tsc_khz, &tmp_err) < 0) {
                        snprintf(h.tsc_error, sizeof(h.tsc_error), "%s", tmp_err->msg);
                        h.tsc_khz = 0;
                }
                rv_error_release(&tmp_err);
        }
        h.vhost_vsock = access("/dev/vhost-vsock", R_OK | W_OK) == 0;
        h.vhost_net = access("/dev/vhost-net", R_OK | W_OK) == 0;
        h.ksm_run = ksm_state();
        if (pool_status(ctx->root, &h.pool, &tmp_err) < 0)
                rv_error_release(&tmp_err);
        h.net_ok = netns_host_probe(h.net_error, sizeof(h.net_error));
        if (statfs("/sys/fs/cgroup", &fs) == 0)
                h.cgroups = fs.f_type == CGROUP2_SUPER_MAGIC ? "v2 (unified)" :
                            access("/sys/fs/cgroup/unified", F_OK) == 0 ? "v1 (hybrid)" : "v1";
        r = json ? report_json(ctx, &cfg, &h, ret, err) : report_text(ctx, &cfg, &h, ret, err);
        runvm_config_clear(&cfg);
        return r;
}
