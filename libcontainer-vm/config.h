/* SPDX-License-Identifier: Apache-2.0 */
/* runvm's own configuration: built-in defaults, then /etc/runvm/runvm.conf
 * (or $RUNVM_CONFIG), then safe per-container annotations (org.runvm.*). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rv_error;
struct vm_driver;

/* `tcg_tb_size_mib`'s default: a guest's boot and its container's set-up
 * translate ~37 MiB of code; a smaller cache is flushed and translated
 * again over and over (16 MiB: a warm run took 1.8x as long, a cold one
 * 1.2x the CPU), a larger one only bounds a busy container's growth
 * (QEMU's own cap is 1 GiB). docs/PERFORMANCE.md, "The translation cache
 * sized for a container guest". */
#define RUNVM_TCG_TB_SIZE_MIB 64

/* `boot_memory_mib`'s default with runvm's own kernel (others may lack
 * the probe interface: 0 unless set). A VM up to one 128 MiB block larger
 * boots with all its RAM. docs/RESOURCES.md, "RAM added as used". */
#define RUNVM_BOOT_MEMORY_MIB 256

/* No VM is smaller: the guest kernel and agent need about 60 MiB. */
#define VM_MIN_MEMORY_MIB 128u

enum runvm_accel { RUNVM_ACCEL_AUTO, RUNVM_ACCEL_KVM, RUNVM_ACCEL_TCG };

/* How many memory limits the warm pool keeps VMs of, besides the default. */
#define RUNVM_POOL_MAX_LIMITS 8

struct runvm_config {
        const struct vm_driver *driver; /* `hypervisor`: what runs the VM (vm/vm.h) */
        char *qemu_path;
        char *virtiofsd_path;
        char *kernel;
        char *initrd;
        /* `kernel` is runvm's own (vmlinux-runvm beside the binary): known
         * to add RAM through the probe interface and to take its
         * virtio-mmio devices from its command line. Not a key. */
        bool own_kernel;
        enum runvm_accel accel;
        unsigned default_memory_mib;    /* VM memory when the spec sets no limit */
        unsigned base_memory_mib;       /* added to a memory limit for the guest itself */
        /* `boot_memory_mib`: the RAM a VM's kernel boots with, the rest
         * added as the guest uses it (vm/agent/ram.h); 0: all at boot. */
        unsigned boot_memory_mib;
        unsigned overhead_memory_mib;   /* QEMU + virtiofsd + monitor, for the host cgroup */
        unsigned default_vcpus;         /* without a quota or cpuset; 0: max_vcpus */
        unsigned max_vcpus;
        int boot_timeout_ms;            /* until the agent says hello */
        int kvm_probe_timeout_ms;       /* the KVM probe boot's deadline */
        unsigned tcg_tb_size_mib;       /* TCG's translation cache, 1 to 1024 */
        char *kernel_params;            /* appended to the guest command line */
        /* A container whose device rules allow every device (podman
         * --privileged) gets the host block devices it lists. */
        bool privileged_host_devices;
        /* `warm_pool`: pre-booted idle VMs kept per shape (pool.h); 0: off. */
        unsigned warm_pool;
        /* `warm_pool_limits_mib`: container memory limits whose VMs are
         * kept warm too, besides the default size (pool.h). */
        unsigned warm_pool_limits_mib[RUNVM_POOL_MAX_LIMITS];
        size_t n_warm_pool_limits;
        /* `pod_disk_slots`: PCIe hot-plug slots a pod's sandbox VM boots
         * with, for its members' block devices (pod-slots.h); 0: none. */
        unsigned pod_disk_slots;
};

int runvm_config_load(struct runvm_config *ret, struct rv_error **err);
void runvm_config_clear(struct runvm_config *c);
