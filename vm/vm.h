/* SPDX-License-Identifier: Apache-2.0 */
/* One container's virtual machine, whatever runs it. A driver (QEMU's in
 * vm/qemu/; docs/ARCHITECTURE.md "The VM driver" says how Cloud
 * Hypervisor or Firecracker would plug in) is chosen once from runvm.conf
 * (`hypervisor`), and everything else goes through these calls: a VM is
 * made from a vm_config, given its devices (shares, disks, NICs), started,
 * watched, stopped. Its processes are the caller's children, die with it
 * (PR_SET_PDEATHSIG), and share nothing with the host but the devices
 * given. struct vm is opaque: callers never see a pid or a socket of it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/cleanup.h"

struct rv_error;
struct vm;
struct vm_driver;

/* A host file or directory exposed to the guest as shared/<name>
 * (virtio-fs). */
struct vm_share {
        const char *source;             /* host path (for messages) */
        const char *name;               /* e.g. "rootfs", "tmp/data" (translate.c) */
        bool is_dir;
        bool readonly;                  /* recursively, on the host */
        bool recursive;                 /* rbind: the source's submounts too */
        /* O_PATH fd opened when the spec was checked: what is exported,
         * whatever happens to the path afterwards (hooks run between). */
        int fd;
};

/* A block device (or image file) the host opened once: the guest sees a
 * virtio-blk disk whose serial is id, and nothing re-resolves the path. */
#define VM_DISK_ID_MAX 20               /* virtio-blk's serial field */
struct vm_disk {
        const char *id;                 /* stable, [A-Za-z0-9-], at most VM_DISK_ID_MAX */
        const char *source;             /* host path (for messages) */
        int fd;                         /* O_RDONLY when readonly, else O_RDWR; the driver dups it */
        bool is_block;                  /* a block device (else a regular file) */
        /* The guest cannot write (VIRTIO_BLK_F_RO); the host's image is
         * opened without write access and without locks, so other
         * readers may share it; never share-rw. */
        bool readonly;
};

/* A virtio-net NIC backed by a TAP the caller opened (IFF_VNET_HDR, so
 * checksum and segmentation offloads cross). */
struct vm_nic {
        int tap_fd;
        int vhost_fd;                   /* /dev/vhost-net, or -1: the VMM moves the packets */
        uint8_t mac[6];                 /* the guest NIC's, the mirrored interface's */
        uint32_t mtu;                   /* told to the guest (VIRTIO_NET_F_MTU); 0: not told */
};

/* (A vm_vsock, the agent channel of a driver whose VMM has no
 * virtio-serial, joins these with its own add op: docs/ARCHITECTURE.md.) */

#define VM_MAX_NICS 16
#define VM_MAX_DISKS 32

/* The memory block the guest kernel adds RAM in (x86-64 below 64 GiB). */
#define VM_RAM_BLOCK_MIB 128u

/* mem= for a VM of memory_mib whose kernel boots with boot_memory_mib
 * and adds the rest as used: boot_memory_mib rounded up to a block. 0
 * (boot with all of it) when the VM is not a block larger, or its RAM
 * does not end on a block: the kernel adds whole blocks at block-aligned
 * addresses, so a last part block could never be added. */
static inline unsigned vm_boot_ram_mib(unsigned memory_mib, unsigned boot_memory_mib)
{
        unsigned boot = (boot_memory_mib + VM_RAM_BLOCK_MIB - 1) / VM_RAM_BLOCK_MIB * VM_RAM_BLOCK_MIB;

        if (boot_memory_mib == 0 || memory_mib % VM_RAM_BLOCK_MIB != 0 || memory_mib < boot + VM_RAM_BLOCK_MIB)
                return 0;
        return boot;
}

/* The machine. Devices are added with vm_add_*. */
struct vm_config {
        const char *vmm_path;           /* the hypervisor's binary (runvm.conf `qemu`) */
        const char *virtiofsd_path;     /* NULL: no virtio-fs at all (the KVM probe) */
        const char *kernel;
        const char *initrd;
        unsigned memory_mib;
        /* RAM the guest kernel is given at boot (mem=), the rest added by
         * the agent as it is used (vm/agent/ram.h); 0: all of it. */
        unsigned boot_memory_mib;
        /* The kernel takes virtio-mmio devices from its command line
         * (VIRTIO_MMIO_CMDLINE_DEVICES): the VM may boot without ACPI. */
        bool mmio_cmdline;
        unsigned vcpus;
        bool kvm;                       /* else TCG */
        uint32_t tsc_khz;               /* TCG only; 0 to omit */
        unsigned tcg_tb_size_mib;       /* TCG only: its translation cache; 0: QEMU's default */
        const char *state_dir;          /* the logs and the shared dir live here */
        const char *extra_cmdline;      /* appended to the kernel command line */
        bool debug;
        /* Host CPUs (cpuset list) the vCPU threads are pinned to, or
         * NULL; vm_start waits up to pin_timeout_ms for the threads. */
        const char *cpus;
        int pin_timeout_ms;
        /* The VMM runs as this uid/gid, without capabilities, with
         * no_new_privs and its seccomp sandbox (docs/SECURITY.md); 0:
         * VM_ID_BASE + the caller's pid on the host. */
        uid_t uid;
        gid_t gid;
        /* PCIe root ports a running VM can take disks in (vm_add_disk
         * after start); 0: none, and no PCI at all (docs/PERFORMANCE.md). */
        unsigned hotplug_slots;
};
#define VM_MAX_HOTPLUG_SLOTS 8

/* The VMM's uid and gid are VM_ID_BASE + the monitor's (host) pid: one
 * per running VM, never shared by two, no account to create. The range
 * [VM_ID_BASE, VM_ID_BASE + 2^22) lies above the ranges Debian, systemd
 * and subuid allocators hand out. */
#define VM_ID_BASE 0x7F000000u

/* A process of the VM on the host (the VMM, its helpers), as the host's
 * /proc numbers it: what state.json records and delete stops. */
#define VM_MAX_PROCS 4
struct vm_proc {
        char name[16];
        pid_t pid;
        uint64_t start_time;            /* /proc/PID/stat's field 22 */
        int pidfd;                      /* the VM's own, valid while it lives */
};

/* Can this host run the guest with hardware acceleration? A real boot of
 * the guest that must say hello before a deadline (vm/qemu/accel.h). */
struct vm_probe {
        const char *vmm_path;
        const char *kernel;
        const char *initrd;
        const char *cache_dir;          /* <root>/@host; NULL: neither read nor write a cache */
        int timeout_ms;                 /* the probe boot's deadline */
        bool reprobe;                   /* ignore a cached verdict */
        /* vm_config's: the probe boots the firmware path (ACPI or not) a
         * container's VM of this kernel boots. */
        bool mmio_cmdline;
};

struct vm_probe_verdict {
        bool usable;
        bool cached;                    /* read from the cache, not probed now */
        bool booted;                    /* the device was fine: a probe boot decided */
        char reason[512];               /* why not, or how the probe went */
};

/* The drivers there are, by runvm.conf's name; NULL when none is called
 * so. vm_driver_names: their names, ", " between (for messages). */
const struct vm_driver *vm_driver_find(const char *name);
const char *vm_driver_name(const struct vm_driver *d);
void vm_driver_names(char *buf, size_t size);

/* *ret says whether acceleration can run the guest, and why. Returns -1
 * only when the question cannot be asked (out of memory); the
 * accelerator's failures are verdicts. Leaves no process or file but the
 * cache. */
int vm_probe(const struct vm_driver *d, const struct vm_probe *p, struct vm_probe_verdict *ret,
             struct rv_error **err);

/* A VM not yet started: nothing runs. The strings of c and of the
 * devices added must outlive it. */
int vm_new(const struct vm_driver *d, const struct vm_config *c, struct vm **ret, struct rv_error **err);
/* Devices. Before vm_start they are part of the machine (cold-plug);
 * after it a driver that cannot hot-plug says so (EOPNOTSUPP). The
 * device's fds are the caller's (the driver dups what it keeps); a share
 * comes with tree, a detached copy of its tree (vm_share_clone) made in
 * the mount namespace its fd comes from, which the VM owns from here on,
 * also on failure. */
int vm_add_share(struct vm *vm, const struct vm_share *sh, int tree, struct rv_error **err);
/* A running VM's shares at or below the name prefix are taken out of its
 * export (a pod member's, when its container ended). */
int vm_remove_shares(struct vm *vm, const char *prefix, struct rv_error **err);
int vm_add_disk(struct vm *vm, const struct vm_disk *d, struct rv_error **err);
/* A disk vm_add_disk hot-plugged into the running VM goes (the guest lets
 * go first, bounded): the VMM then holds nothing of it. */
int vm_remove_disk(struct vm *vm, const char *id, struct rv_error **err);
int vm_add_nic(struct vm *vm, const struct vm_nic *n, struct rv_error **err);
/* Starts the VM's processes (helpers first); on failure nothing is left
 * running. */
int vm_start(struct vm *vm, struct rv_error **err);
/* The guest's kernel moved the initramfs away from addr (guest physical),
 * RAM it was not given at boot: the host frees the VMM's copy there, if
 * that is what it finds (vm/agent/ram.h). The guest reads zeros there if
 * it adds that RAM later. EOPNOTSUPP where the driver cannot. */
int vm_free_moved_initrd(struct vm *vm, uint64_t addr, struct rv_error **err);
/* The host end of the agent channel (a stream), once: the caller owns it. */
int vm_take_agent_fd(struct vm *vm);
/* The VM's processes, at most max, into ret; returns how many. */
size_t vm_procs(const struct vm *vm, struct vm_proc *ret, size_t max);
/* Readable once the VMM process exited (a pidfd), or -1. */
int vm_exit_fd(const struct vm *vm);
/* These fds tell that something happened to the VM (its VMM or a helper
 * exited, the VMM reports events, output to keep): poll them for
 * reading and call vm_check when one is. vm_exit_fd is among them.
 * Returns how many (at most VM_WATCH_MAX). */
#define VM_WATCH_MAX 8
size_t vm_watch_fds(const struct vm *vm, int fds[VM_WATCH_MAX]);
/* 0 while the VM runs; -1 with a one-line reason in *err once the VMM
 * exited (it is reaped), a helper it needs exited, the VMM paused itself
 * on an internal error, or the guest panicked. Never waits more than a
 * second. */
int vm_check(struct vm *vm, struct rv_error **err);
/* The VMM and every helper it needs still run: a clean guest shutdown is
 * worth asking for. */
bool vm_alive(const struct vm *vm);
/* Copies what the console and the helpers wrote into their bounded logs;
 * never blocks. vm_check does it first. */
void vm_pump_logs(struct vm *vm);
/* What the logs say about a guest that gave no answer in time (a panic,
 * a fatal agent error, a paused VM): malloc'ed, or NULL. */
char *vm_stuck_reason(struct vm *vm);
/* Copies the VMM's log and the console's tail into dirfd/name (bounded),
 * for a failed boot whose state dir is about to go. */
void vm_save_failure_logs(const struct vm *vm, int dirfd, const char *name, const char *title);
/* SIGKILLs and reaps whatever still runs, closes every fd, frees; *vmp
 * becomes NULL; NULL is fine. Usable as a cleanup: _cleanup_(vm_destroy). */
void vm_destroy(struct vm **vmp);

/* A detached copy of the share's tree (open_tree from its fd, never its
 * path): recursive for an rbind, read-only throughout when asked, nodev
 * and nosuid. Returns the tree's fd, or -1 with errno set. */
int vm_share_clone(const struct vm_share *sh);

/* Host facts, measured once. */
/* The host TSC frequency, cached in cache_dir/tsc_khz (cache_dir may be
 * NULL). */
int vm_host_tsc_khz(const char *cache_dir, uint32_t *ret_khz, struct rv_error **err);
