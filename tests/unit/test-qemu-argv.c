/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU's command line as a function of the VM's config and devices
 * (vm/qemu/argv.c): machine, memory, vCPUs, TCG vs KVM, virtio-fs, NICs,
 * disks and what makes a disk read-only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "vm/qemu/argv.h"

static const struct qemu_fds fds = {
        .console = 10, .agent = 11, .qmp = 12, .vfs = 13, .kernel = 14, .initrd = 15,
};

static struct vm_config config(bool kvm)
{
        return (struct vm_config) {
                .vmm_path = "/usr/bin/qemu-system-x86_64", .virtiofsd_path = "/usr/lib/qemu/virtiofsd",
                .kernel = "/k", .initrd = "/i", .memory_mib = 512, .vcpus = 3, .kvm = kvm,
                .tsc_khz = 2100000, .state_dir = "/run/x", .extra_cmdline = "runvm.x=1",
                .tcg_tb_size_mib = 16, .mmio_cmdline = true,
        };
}

/* The value after the n-th (0-based) occurrence of opt, or NULL. */
static const char *value_of(const struct qemu_argv *a, const char *opt, int nth)
{
        for (size_t i = 0; i + 1 < a->n; i++)
                if (strcmp(a->argv[i], opt) == 0 && nth-- == 0)
                        return a->argv[i + 1];
        return NULL;
}

/* opt val appears as a pair. */
static bool has_pair(const struct qemu_argv *a, const char *opt, const char *val)
{
        for (size_t i = 0; i + 1 < a->n; i++)
                if (strcmp(a->argv[i], opt) == 0 && strcmp(a->argv[i + 1], val) == 0)
                        return true;
        return false;
}

static bool passes_fd(const struct qemu_argv *a, int fd)
{
        for (size_t i = 0; i < a->n_fds; i++)
                if (a->fds[i] == fd)
                        return true;
        return false;
}

static bool any_arg_contains(const struct qemu_argv *a, const char *needle)
{
        for (size_t i = 0; i < a->n; i++)
                if (strstr(a->argv[i], needle))
                        return true;
        return false;
}

static void build(const struct vm_config *c, const struct qemu_devices *d, const struct qemu_fds *f,
                  struct qemu_argv *a)
{
        struct rv_error *err = NULL;
        int r = qemu_argv_build(c, d, f, a, &err);
        if (r < 0)
                fail_msg("%s", err->msg);
        assert_null(a->argv[a->n]);
}

static void test_tcg_machine(void **unused)
{
        struct vm_config c = config(false);
        struct qemu_devices d = { 0 };
        struct qemu_argv a = { 0 };

        build(&c, &d, &fds, &a);
        assert_string_equal(a.argv[0], "/usr/bin/qemu-system-x86_64");
        assert_string_equal(value_of(&a, "-M", 0),
                            "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem,acpi=off");
        /* The translation cache bounded: overhead_memory_mib counts it. */
        assert_string_equal(value_of(&a, "-accel", 0), "tcg,tb-size=16");
        /* Freed guest pages go back to the host. */
        assert_true(has_pair(&a, "-device", "virtio-balloon-device,free-page-reporting=on,deflate-on-oom=on"));
        assert_string_equal(value_of(&a, "-cpu", 0), "max");
        assert_string_equal(value_of(&a, "-smp", 0), "3");
        assert_string_equal(value_of(&a, "-m", 0), "512M");
        assert_true(has_pair(&a, "-object", "memory-backend-memfd,id=mem,size=512M,share=on"));
        assert_string_equal(value_of(&a, "-kernel", 0), "/proc/self/fd/14");
        assert_string_equal(value_of(&a, "-initrd", 0), "/proc/self/fd/15");
        const char *append = value_of(&a, "-append", 0);
        assert_non_null(strstr(append, " tsc_early_khz=2100000"));
        /* TCG's LAPIC timer runs at 1 GHz: the guest needs no calibration. */
        assert_non_null(strstr(append, " lapic_timer_khz=1000000"));
        /* Hash tables sized for a container, not for the VM's RAM. */
        assert_non_null(strstr(append, " dhash_entries=32768 thash_entries=4096"));
        /* The agent channel's receive buffers bounded (the kernel's patch). */
        assert_non_null(strstr(append, " virtio_console.in_bufs=64"));
        /* Per-CPU chunks of pages: a 2 MiB unit's chunk is 4 MiB of maps. */
        assert_non_null(strstr(append, " percpu_alloc=page"));
        assert_non_null(strstr(append, " quiet "));
        /* No ACPI: the way out is a reset (a triple fault). */
        assert_non_null(strstr(append, " acpi=off reboot=t "));
        /* The extra command line comes last. */
        assert_non_null(strstr(append, " runvm.x=1"));
        assert_string_equal(strstr(append, " runvm.x=1"), " runvm.x=1");
        assert_true(has_pair(&a, "-chardev", "socket,id=agent,fd=11"));
        assert_true(has_pair(&a, "-device", "virtserialport,chardev=agent,name=runvm.agent"));
        assert_true(has_pair(&a, "-chardev", "socket,id=qmp,fd=12"));
        assert_true(has_pair(&a, "-chardev", "socket,id=console,fd=10"));
        assert_non_null(value_of(&a, "-sandbox", 0));
        assert_true(has_pair(&a, "-chardev", "socket,id=vfs,fd=13"));
        assert_true(has_pair(&a, "-device", "vhost-user-fs-device,chardev=vfs,queue-size=1024,tag=runvm"));
        for (int fd = 10; fd <= 15; fd++)
                assert_true(passes_fd(&a, fd));
        assert_int_equal(a.n_fds, 6);
        assert_false(any_arg_contains(&a, "virtio-blk"));
        assert_false(any_arg_contains(&a, "-netdev"));
        qemu_argv_clear(&a);
        assert_null(a.argv);
}

/* Builds c with d and checks the machine and the command line agree on
 * ACPI: acpi=off (and the reset way out) on both, or on neither. */
static void assert_acpi(const struct vm_config *c, const struct qemu_devices *d, bool acpi)
{
        struct qemu_argv a = { 0 };

        assert_int_equal(qemu_wants_acpi(c, d, true), acpi);
        build(c, d, &fds, &a);
        const char *machine = value_of(&a, "-M", 0), *append = value_of(&a, "-append", 0);
        if (acpi) {
                assert_null(strstr(machine, "acpi"));
                assert_null(strstr(append, "acpi=off"));
                assert_null(strstr(append, "reboot=t"));
        } else {
                assert_non_null(strstr(machine, ",acpi=off"));
                assert_non_null(strstr(append, " acpi=off reboot=t "));
        }
        qemu_argv_clear(&a);
}

/* Without ACPI microvm has 8 virtio-mmio transports: the 4 of every VM
 * (serial, virtio-fs, rng, balloon) and 4 NICs or disks. One more, and
 * the VM keeps ACPI (24 transports). */
static void test_acpi_by_device_count(void **unused)
{
        struct vm_config c = config(false);
        struct vm_nic nics[5];
        struct qemu_devices d = { .nics = nics };

        for (size_t i = 0; i < 5; i++)
                nics[i] = (struct vm_nic) { .tap_fd = 20 + (int) i, .vhost_fd = -1, .mac = { 2, 0, 0, 0, 0, (uint8_t) i } };
        d.n_nics = 4;
        assert_acpi(&c, &d, false);
        d.n_nics = 5;
        assert_acpi(&c, &d, true);
        /* A probe boot has no virtio-fs: one more for NICs or disks. */
        assert_false(qemu_wants_acpi(&c, &d, false));
        /* A kernel that finds virtio-mmio devices only in ACPI (Debian's). */
        c.mmio_cmdline = false;
        d.n_nics = 0;
        assert_acpi(&c, &d, true);
}

/* A pod's sandbox: PCIe on microvm, empty root ports with their ids,
 * PCI enumeration and native hot-plug in the guest; without slots none
 * of that (test_tcg_machine: pci=off). */
static void test_hotplug_slots(void **unused)
{
        struct vm_config c = config(false);
        struct qemu_devices d = { 0 };
        struct qemu_argv a = { 0 };
        struct rv_error *err = NULL;

        c.hotplug_slots = 3;
        build(&c, &d, &fds, &a);
        assert_string_equal(value_of(&a, "-M", 0),
                            "microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem,pcie=on");
        for (unsigned i = 0; i < 3; i++) {
                char want[128];
                snprintf(want, sizeof(want), "pcie-root-port,id=" QEMU_HOTPLUG_PORT "%u,bus=pcie.0,chassis=%u", i, i + 1);
                assert_true(has_pair(&a, "-device", want));
        }
        assert_false(any_arg_contains(&a, QEMU_HOTPLUG_PORT "3"));
        const char *append = value_of(&a, "-append", 0);
        assert_null(strstr(append, "pci=off"));
        assert_non_null(strstr(append, " pcie_ports=native "));
        /* The root ports are found through ACPI. */
        assert_null(strstr(append, "acpi=off"));
        /* No fd more: a disk's comes over QMP when it is plugged. */
        assert_int_equal(a.n_fds, 6);
        qemu_argv_clear(&a);

        c.hotplug_slots = 0;
        build(&c, &d, &fds, &a);
        assert_false(any_arg_contains(&a, "pcie"));
        assert_non_null(strstr(value_of(&a, "-append", 0), " pci=off "));
        qemu_argv_clear(&a);

        c.hotplug_slots = VM_MAX_HOTPLUG_SLOTS + 1;
        assert_int_equal(qemu_argv_build(&c, &d, &fds, &a, &err), -1);
        assert_int_equal(err->status, E2BIG);
        rv_error_release(&err);
}

static void test_kvm_machine_without_virtiofs(void **unused)
{
        struct vm_config c = config(true);
        struct qemu_fds f = fds;
        struct qemu_devices d = { 0 };
        struct qemu_argv a = { 0 };

        c.debug = true;
        f.vfs = -1;
        build(&c, &d, &f, &a);
        assert_string_equal(value_of(&a, "-accel", 0), "kvm");
        assert_string_equal(value_of(&a, "-cpu", 0), "host");
        const char *append = value_of(&a, "-append", 0);
        /* KVM's TSC needs no hint; debug shows in the guest. */
        assert_null(strstr(append, "tsc_early_khz"));
        assert_null(strstr(append, "lapic_timer_khz"));
        assert_non_null(strstr(append, "runvm.debug=1"));
        assert_false(any_arg_contains(&a, "vhost-user-fs"));
        assert_false(passes_fd(&a, 13));
        assert_int_equal(a.n_fds, 5);
        qemu_argv_clear(&a);
}

/* The translation cache cap is TCG's alone; 0 leaves QEMU's default. */
static void test_tcg_tb_size(void **unused)
{
        struct vm_config c = config(false);
        struct qemu_devices d = { 0 };
        struct qemu_argv a = { 0 };

        c.tcg_tb_size_mib = 24;
        build(&c, &d, &fds, &a);
        assert_string_equal(value_of(&a, "-accel", 0), "tcg,tb-size=24");
        assert_null(value_of(&a, "-accel", 1));
        qemu_argv_clear(&a);
        c.tcg_tb_size_mib = 0;
        build(&c, &d, &fds, &a);
        assert_string_equal(value_of(&a, "-accel", 0), "tcg");
        qemu_argv_clear(&a);
        c = config(true);
        c.tcg_tb_size_mib = 16;
        build(&c, &d, &fds, &a);
        assert_string_equal(value_of(&a, "-accel", 0), "kvm");
        qemu_argv_clear(&a);
}

/* RAM given at boot, up to a block boundary: the rest is whole 128 MiB
 * blocks the agent adds. A VM less than a block larger than the boot
 * size, or whose RAM ends inside a block, boots with all of it. */
static void test_boot_memory(void **unused)
{
        static const struct { unsigned vm, boot; const char *mem; } cases[] = {
                { 2048, 256, " mem=256M memory_hotplug.memmap_on_memory=1 " },
                { 2048, 512, " mem=512M memory_hotplug.memmap_on_memory=1 " },
                { 2112, 256, NULL },
                { 576, 256, NULL },
                { 640, 512, " mem=512M " },
                { 512, 512, NULL },
                { 2048, 0, NULL },
                { 1024, 100, " mem=128M " },
                { 8192, 300, " mem=384M " },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vm_config c = config(false);
                struct qemu_devices d = { 0 };
                struct qemu_argv a = { 0 };

                c.memory_mib = cases[i].vm;
                c.boot_memory_mib = cases[i].boot;
                build(&c, &d, &fds, &a);
                const char *append = value_of(&a, "-append", 0);
                if (cases[i].mem == NULL) {
                        assert_null(strstr(append, " mem="));
                        assert_null(strstr(append, "memmap_on_memory"));
                } else {
                        assert_non_null(strstr(append, cases[i].mem));
                }
                /* QEMU has the whole VM's RAM either way. */
                char m[32];
                snprintf(m, sizeof(m), "%uM", cases[i].vm);
                assert_string_equal(value_of(&a, "-m", 0), m);
                qemu_argv_clear(&a);
        }
}

static void test_nics(void **unused)
{
        struct vm_config c = config(false);
        struct vm_nic nics[2] = {
                { .tap_fd = 20, .vhost_fd = 21, .mac = { 0x02, 0, 0, 0, 0, 0x0a }, .mtu = 1500 },
                { .tap_fd = 22, .vhost_fd = -1, .mac = { 0x02, 0, 0, 0, 0, 0x0b }, .mtu = 9000 },
        };
        struct qemu_devices d = { .nics = nics, .n_nics = 2 };
        struct qemu_argv a = { 0 };

        build(&c, &d, &fds, &a);
        assert_true(has_pair(&a, "-netdev", "tap,id=net0,fd=20,vhost=on,vhostfd=21"));
        assert_true(has_pair(&a, "-device", "virtio-net-device,netdev=net0,mac=02:00:00:00:00:0a,host_mtu=1500"));
        assert_true(has_pair(&a, "-netdev", "tap,id=net1,fd=22,vhost=off"));
        assert_true(has_pair(&a, "-device", "virtio-net-device,netdev=net1,mac=02:00:00:00:00:0b,host_mtu=9000"));
        assert_true(passes_fd(&a, 20) && passes_fd(&a, 21) && passes_fd(&a, 22));
        qemu_argv_clear(&a);
        /* A pool VM's NIC: the MTU comes later, the guest is told none. */
        nics[0].mtu = 0;
        d.n_nics = 1;
        build(&c, &d, &fds, &a);
        assert_true(has_pair(&a, "-device", "virtio-net-device,netdev=net0,mac=02:00:00:00:00:0a"));
        qemu_argv_clear(&a);
}

static void test_disks_readonly_and_writable(void **unused)
{
        struct vm_config c = config(false);
        struct vm_disk disks[3] = {
                { .id = "runvm-d0", .source = "/dev/loop7", .fd = 30, .is_block = true },
                { .id = "runvm-d1", .source = "/dev/loop8", .fd = 31, .is_block = true, .readonly = true },
                { .id = "img", .source = "/tmp/x.img", .fd = 32, .is_block = false, .readonly = true },
        };
        struct qemu_devices d = { .disks = disks, .n_disks = 3 };
        struct qemu_argv a = { 0 };

        build(&c, &d, &fds, &a);
        /* Each fd in its own fdset: QEMU opens nothing itself. */
        assert_true(has_pair(&a, "-add-fd", "fd=30,set=1"));
        assert_true(has_pair(&a, "-add-fd", "fd=31,set=2"));
        assert_true(has_pair(&a, "-add-fd", "fd=32,set=3"));
        assert_true(passes_fd(&a, 30) && passes_fd(&a, 31) && passes_fd(&a, 32));
        assert_true(has_pair(&a, "-blockdev", "driver=host_device,node-name=disk0,filename=/dev/fdset/1,read-only=off"));
        assert_true(has_pair(&a, "-blockdev", "driver=host_device,node-name=disk1,filename=/dev/fdset/2,"
                                              "read-only=on,force-share=on,locking=off"));
        assert_true(has_pair(&a, "-blockdev", "driver=file,node-name=disk2,filename=/dev/fdset/3,"
                                              "read-only=on,force-share=on,locking=off"));
        assert_true(has_pair(&a, "-device", "virtio-blk-device,drive=disk0,serial=runvm-d0"));
        assert_true(has_pair(&a, "-device", "virtio-blk-device,drive=disk1,serial=runvm-d1"));
        assert_true(has_pair(&a, "-device", "virtio-blk-device,drive=disk2,serial=img"));
        /* A read-only disk is never shared for writing, and a writable
         * one is not forced either. */
        assert_false(any_arg_contains(&a, "share-rw"));
        assert_false(has_pair(&a, "-blockdev", "driver=host_device,node-name=disk0,filename=/dev/fdset/1,"
                                               "read-only=off,force-share=on,locking=off"));
        qemu_argv_clear(&a);
}

static void test_bad_devices_refused(void **unused)
{
        struct vm_config c = config(false);
        struct vm_disk disk = { .id = "has space", .source = "/dev/loop9", .fd = 30, .is_block = true };
        struct vm_disk longid = { .id = "abcdefghijklmnopqrstu", .source = "/dev/loop9", .fd = 30 };
        struct vm_nic nics[VM_MAX_NICS + 1] = { { 0 } };
        struct qemu_devices d = { .disks = &disk, .n_disks = 1 };
        struct qemu_argv a = { 0 };
        struct rv_error *err = NULL;

        assert_int_equal(qemu_argv_build(&c, &d, &fds, &a, &err), -1);
        assert_string_equal(err->msg, "disk `/dev/loop9`: its id `has space` is not 1 to 20 letters, digits or -");
        assert_null(a.argv);
        rv_error_release(&err);
        d.disks = &longid;
        assert_int_equal(qemu_argv_build(&c, &d, &fds, &a, &err), -1);
        assert_int_equal(err->status, EINVAL);
        rv_error_release(&err);
        d = (struct qemu_devices) { .nics = nics, .n_nics = VM_MAX_NICS + 1 };
        assert_int_equal(qemu_argv_build(&c, &d, &fds, &a, &err), -1);
        assert_int_equal(err->status, E2BIG);
        rv_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tcg_machine),
                cmocka_unit_test(test_kvm_machine_without_virtiofs),
                cmocka_unit_test(test_acpi_by_device_count),
                cmocka_unit_test(test_hotplug_slots),
                cmocka_unit_test(test_tcg_tb_size),
                cmocka_unit_test(test_boot_memory),
                cmocka_unit_test(test_nics),
                cmocka_unit_test(test_disks_readonly_and_writable),
                cmocka_unit_test(test_bad_devices_refused),
        };
        return cmocka_run_group_tests_name("qemu-argv", tests, NULL, NULL);
}
