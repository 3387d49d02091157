/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/argv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/error.h"

/* microvm without ACPI has one IOAPIC and so 8 virtio-mmio transports,
 * which QEMU then names on the kernel command line itself
 * (virtio_mmio.device=); with ACPI, 24 in its tables. */
#define MICROVM_MMIO_WITHOUT_ACPI 8u

bool qemu_wants_acpi(const struct vm_config *c, const struct qemu_devices *d, bool vfs)
{
        /* virtio-serial, rng and balloon, then virtio-fs, NICs, disks. */
        size_t mmio = 3 + (vfs ? 1 : 0) + d->n_nics + d->n_disks;

        /* Debian's kernel finds virtio-mmio devices only through ACPI, and
         * every kernel finds the root ports' PCIe bridge only there. */
        return !c->mmio_cmdline || c->hotplug_slots > 0 || mmio > MICROVM_MMIO_WITHOUT_ACPI;
}

int qemu_kernel_cmdline(const struct vm_config *c, bool acpi, char **ret, struct rv_error **err)
{
        _cleanup_free_ char *tsc = NULL, *lapic = NULL, *mem = NULL;
        char *line = NULL;
        unsigned boot_mib = vm_boot_ram_mib(c->memory_mib, c->boot_memory_mib);

        /* Each trim is measured in shared/guest-kernel/README.md (with
         * hot-plug slots, PCI stays, and the root ports' hot-plug is the
         * kernel's: microvm's ACPI grants no _OSC control). Under TCG
         * microvm needs tsc_early_khz or its TSC calibration can hang, and
         * its CPU model has no TSC-deadline timer: lapic_timer_khz (the
         * guest kernel's patch, vm/image/kernel-patches/) tells the LAPIC
         * timer's rate instead of a 100 ms calibration. KVM's `-cpu host`
         * has the deadline timer, which needs neither. */
        if (!c->kvm && c->tsc_khz > 0 && asprintf(&tsc, " tsc_early_khz=%u", c->tsc_khz) < 0)
                return rv_error_set(err, ENOMEM, "kernel command line");
        if (!c->kvm && asprintf(&lapic, " lapic_timer_khz=%u", QEMU_TCG_LAPIC_TIMER_KHZ) < 0)
                return rv_error_set(err, ENOMEM, "kernel command line");
        /* The struct pages of RAM given at boot are written at boot (64
         * bytes per 4 KiB page): the rest is added by the agent when the
         * guest uses it, each block's own struct pages placed on it
         * (vm/agent/ram.h, the kernel's probe patch). */
        if (boot_mib > 0 && asprintf(&mem, " mem=%uM memory_hotplug.memmap_on_memory=1", boot_mib) < 0)
                return rv_error_set(err, ENOMEM, "kernel command line");
        /* The agent channel's receive queues get 64 pages each, not one per
         * descriptor (1024: 8 MiB written at boot; stdin moved as fast
         * with 32: the guest kernel's patch, docs/PERFORMANCE.md). */
        /* The dentry and TCP hash tables are sized by the VM's RAM (2 MiB
         * and 640 KiB at 2 GiB) and written at boot: a container's guest
         * needs far fewer buckets (~2 MiB less touched memory per VM,
         * docs/PERFORMANCE.md). */
        /* Per-CPU memory in 4 KiB pages, not 2 MiB units: each chunk after
         * the first keeps a memcg pointer per 4 bytes of its unit, zeroed
         * (4 MiB of a 2 MiB unit's chunk; the boot's cgroups and network
         * namespace need a second chunk). */
        /* Without ACPI (the guest kernel's ACPICA parsing microvm's
         * tables: ~5 MiB of TCG's translated code), reset is the way out:
         * a triple fault, which -no-reboot makes QEMU's exit; a power-off
         * would only halt (vm/agent/power.c). */
        if (asprintf(&line, "console=ttyS0 %s panic=-1 cryptomgr.notests no_timer_check %s%s"
                     "nokaslr lsm=capability,landlock secretmem.enable=1 8250.nr_uarts=1 random.trust_cpu=on "
                     "dhash_entries=32768 thash_entries=4096 virtio_console.in_bufs=64 percpu_alloc=page%s%s%s%s%s",
                     c->debug ? "runvm.debug=1" : "quiet", c->hotplug_slots ? "pcie_ports=native " : "pci=off ",
                     acpi ? "" : "acpi=off reboot=t ",
                     tsc ? tsc : "", lapic ? lapic : "", mem ? mem : "",
                     c->extra_cmdline && *c->extra_cmdline ? " " : "",
                     c->extra_cmdline ? c->extra_cmdline : "") < 0)
                return rv_error_set(err, ENOMEM, "kernel command line");
        *ret = line;
        return 0;
}

void qemu_argv_clear(struct qemu_argv *a)
{
        for (size_t i = 0; a->argv && i < a->n; i++)
                free(a->argv[i]);
        free(a->argv);
        free(a->fds);
        *a = (struct qemu_argv) { 0 };
}

struct builder {
        struct qemu_argv a;
        size_t cap, cap_fds;
        bool oom;
};

static void push(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void push(struct builder *b, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        if (b->oom)
                return;
        if (b->a.n + 2 > b->cap) {
                size_t cap = b->cap ? 2 * b->cap : 64;
                char **v = realloc(b->a.argv, cap * sizeof(*v));
                if (v == NULL) {
                        b->oom = true;
                        return;
                }
                b->a.argv = v;
                b->cap = cap;
        }
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                b->oom = true;
                return;
        }
        b->a.argv[b->a.n++] = s;
        b->a.argv[b->a.n] = NULL;
}

static void pass_fd(struct builder *b, int fd)
{
        if (b->oom)
                return;
        if (b->a.n_fds == b->cap_fds) {
                size_t cap = b->cap_fds ? 2 * b->cap_fds : 16;
                int *v = realloc(b->a.fds, cap * sizeof(*v));
                if (v == NULL) {
                        b->oom = true;
                        return;
                }
                b->a.fds = v;
                b->cap_fds = cap;
        }
        b->a.fds[b->a.n_fds++] = fd;
}

/* -netdev tap,fd=N + -device virtio-net-device per NIC. */
static void nic_args(struct builder *b, const struct qemu_devices *d)
{
        for (size_t i = 0; i < d->n_nics; i++) {
                const struct vm_nic *nic = &d->nics[i];
                char vhost[64] = "vhost=off";
                if (nic->vhost_fd >= 0) {
                        snprintf(vhost, sizeof(vhost), "vhost=on,vhostfd=%d", nic->vhost_fd);
                        pass_fd(b, nic->vhost_fd);
                }
                pass_fd(b, nic->tap_fd);
                push(b, "-netdev");
                push(b, "tap,id=net%zu,fd=%d,%s", i, nic->tap_fd, vhost);
                push(b, "-device");
                char mtu[32] = "";
                /* Without one the guest may set any MTU (a pool VM's NIC
                 * gets its container's interface's later). */
                if (nic->mtu)
                        snprintf(mtu, sizeof(mtu), ",host_mtu=%u", nic->mtu);
                push(b, "virtio-net-device,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x%s", i,
                     nic->mac[0], nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5], mtu);
        }
}

/* Each disk's fd goes into an fdset QEMU opens as /dev/fdset/N: QEMU
 * itself may open nothing (no uid of its own can, and its sandbox would
 * not let it anyway). A read-only disk is read-only at every layer (the
 * guest sees VIRTIO_BLK_F_RO) and takes no lock and shares with every
 * other reader and writer (force-share): an image other VMs use too is
 * not refused, and it is never attached share-rw. */
static void disk_args(struct builder *b, const struct qemu_devices *d)
{
        for (size_t i = 0; i < d->n_disks; i++) {
                const struct vm_disk *k = &d->disks[i];
                pass_fd(b, k->fd);
                push(b, "-add-fd");
                push(b, "fd=%d,set=%zu", k->fd, i + 1);
                push(b, "-blockdev");
                push(b, "driver=%s,node-name=disk%zu,filename=/dev/fdset/%zu,%s", k->is_block ? "host_device" : "file",
                     i, i + 1, k->readonly ? "read-only=on,force-share=on,locking=off" : "read-only=off");
                push(b, "-device");
                push(b, "virtio-blk-device,drive=disk%zu,serial=%s", i, k->id);
        }
}

/* Empty PCIe root ports (native hot-plug) on microvm's PCIe host bridge,
 * for the disks a pod member brings later (qemu-hotplug.c names them
 * QEMU_HOTPLUG_PORT N). */
static void hotplug_slot_args(struct builder *b, const struct vm_config *c)
{
        for (unsigned i = 0; i < c->hotplug_slots; i++) {
                push(b, "-device");
                push(b, "pcie-root-port,id=" QEMU_HOTPLUG_PORT "%u,bus=pcie.0,chassis=%u", i, i + 1);
        }
}

static bool disk_id_ok(const char *id)
{
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n > VM_DISK_ID_MAX)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}

int qemu_argv_build(const struct vm_config *c, const struct qemu_devices *d, const struct qemu_fds *fds,
                    struct qemu_argv *ret, struct rv_error **err)
{
        _cleanup_free_ char *cmdline = NULL;
        struct builder b = { { 0 } };

        if (d->n_nics > VM_MAX_NICS)
                return rv_error_setx(err, E2BIG, "more than %d NICs", VM_MAX_NICS);
        if (c->hotplug_slots > VM_MAX_HOTPLUG_SLOTS)
                return rv_error_setx(err, E2BIG, "more than %d hot-plug slots", VM_MAX_HOTPLUG_SLOTS);
        if (d->n_disks > VM_MAX_DISKS)
                return rv_error_setx(err, E2BIG, "more than %d disks", VM_MAX_DISKS);
        for (size_t i = 0; i < d->n_disks; i++)
                if (!disk_id_ok(d->disks[i].id))
                        return rv_error_setx(err, EINVAL, "disk `%s`: its id `%s` is not 1 to %d letters, digits or -",
                                             d->disks[i].source, d->disks[i].id ? d->disks[i].id : "",
                                             VM_DISK_ID_MAX);
        bool acpi = qemu_wants_acpi(c, d, fds->vfs >= 0);
        if (qemu_kernel_cmdline(c, acpi, &cmdline, err) < 0)
                return -1;

        push(&b, "%s", c->vmm_path);
        push(&b, "-M"); push(&b, "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem%s",
                             c->hotplug_slots ? ",pcie=on" : acpi ? "" : ",acpi=off");
        /* TCG's translation cache is anonymous memory, touched as code is
         * translated, that the host cgroup counts (QEMU's own cap is
         * 1 GiB): `tcg_tb_size_mib` bounds what a guest keeps, within
         * overhead_memory_mib (docs/RESOURCES.md, docs/PERFORMANCE.md). */
        if (c->kvm || c->tcg_tb_size_mib == 0) {
                push(&b, "-accel"); push(&b, "%s", c->kvm ? "kvm" : "tcg");
        } else {
                push(&b, "-accel"); push(&b, "tcg,tb-size=%u", c->tcg_tb_size_mib);
        }
        push(&b, "-cpu"); push(&b, "%s", c->kvm ? "host" : "max");
        push(&b, "-smp"); push(&b, "%u", c->vcpus);
        /* vCPU threads named "CPU N/..." (affinity.c pins them). */
        push(&b, "-name"); push(&b, "runvm,debug-threads=on");
        push(&b, "-m"); push(&b, "%uM", c->memory_mib);
        push(&b, "-object"); push(&b, "memory-backend-memfd,id=mem,size=%uM,share=on", c->memory_mib);
        push(&b, "-nodefaults"); push(&b, "-no-user-config"); push(&b, "-nographic"); push(&b, "-no-reboot");
        /* virtiofsd refuses legacy virtio devices. */
        push(&b, "-global"); push(&b, "virtio-mmio.force-legacy=false");
        push(&b, "-kernel"); push(&b, "/proc/self/fd/%d", fds->kernel);
        push(&b, "-initrd"); push(&b, "/proc/self/fd/%d", fds->initrd);
        push(&b, "-append"); push(&b, "%s", cmdline);
        push(&b, "-chardev"); push(&b, "socket,id=console,fd=%d", fds->console);
        push(&b, "-serial"); push(&b, "chardev:console");
        push(&b, "-device"); push(&b, "virtio-serial-device,max_ports=2");
        push(&b, "-chardev"); push(&b, "socket,id=agent,fd=%d", fds->agent);
        push(&b, "-device"); push(&b, "virtserialport,chardev=agent,name=runvm.agent");
        if (fds->vfs >= 0) {
                push(&b, "-chardev"); push(&b, "socket,id=vfs,fd=%d", fds->vfs);
                push(&b, "-device"); push(&b, "vhost-user-fs-device,chardev=vfs,queue-size=1024,tag=runvm");
        }
        push(&b, "-device"); push(&b, "virtio-rng-device");
        /* Pages the guest frees go back to the host (free page reporting;
         * the memfd's holes are punched): a VM sized for a big default
         * costs what it uses. deflate-on-oom: a guest under OOM gets back
         * what an inflated balloon holds before it kills. */
        push(&b, "-device"); push(&b, "virtio-balloon-device,free-page-reporting=on,deflate-on-oom=on");
        push(&b, "-chardev"); push(&b, "socket,id=qmp,fd=%d", fds->qmp);
        push(&b, "-mon"); push(&b, "chardev=qmp,mode=control");
        /* Everything QEMU needs is open by now: what an escape from device
         * emulation could still do is what this filter and an unprivileged
         * uid without capabilities allow. */
        push(&b, "-sandbox"); push(&b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        pass_fd(&b, fds->agent);
        pass_fd(&b, fds->qmp);
        pass_fd(&b, fds->console);
        pass_fd(&b, fds->kernel);
        pass_fd(&b, fds->initrd);
        /* No virtiofsd (vfs -1) for a probe boot. */
        if (fds->vfs >= 0)
                pass_fd(&b, fds->vfs);
        nic_args(&b, d);
        disk_args(&b, d);
        hotplug_slot_args(&b, c);
        if (b.oom) {
                qemu_argv_clear(&b.a);
                return rv_error_set(err, ENOMEM, "qemu arguments");
        }
        *ret = b.a;
        return 0;
}
