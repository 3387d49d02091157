/* SPDX-License-Identifier: Apache-2.0 */
/* One container's virtual machine: QEMU (microvm) plus virtiofsd serving
 * the container's files. Both are children of the caller (the monitor),
 * die with it (PR_SET_PDEATHSIG), and share nothing with the host but
 * what is listed in vm_params. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/qemu/qmp.h"
#include "vm/qemu/vmlog.h"

struct rv_error;

enum { VM_LOG_CONSOLE, VM_LOG_QEMU, VM_LOG_VIRTIOFSD, VM_N_LOGS };

/* A host file or directory exposed to the guest as shared/<name>. */
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

/* A virtio-net NIC backed by a TAP the caller opened (IFF_VNET_HDR, so
 * checksum and segmentation offloads cross). */
struct vm_nic {
        int tap_fd;
        int vhost_fd;                   /* /dev/vhost-net, or -1: QEMU moves the packets */
        uint8_t mac[6];                 /* the guest NIC's, the mirrored interface's */
        uint32_t mtu;                   /* told to the guest (VIRTIO_NET_F_MTU) */
};

#define VM_MAX_NICS 16

struct vm_params {
        const char *qemu_path;
        const char *virtiofsd_path;     /* NULL: no virtio-fs at all (the KVM probe) */
        const char *kernel;
        const char *initrd;
        unsigned memory_mib;
        unsigned vcpus;
        bool kvm;                       /* else TCG */
        uint32_t tsc_khz;               /* TCG only; 0 to omit */
        const char *state_dir;          /* console.log and the shared dir live here */
        const struct vm_share *shares;
        size_t n_shares;
        const struct vm_nic *nics;
        size_t n_nics;                  /* at most VM_MAX_NICS */
        /* vm_share_clone() of each share, made while the caller was still
         * in the mount namespace its fds come from; virtiofsd mounts these
         * (and they are closed by vm_start, whatever happens). */
        int *share_trees;
        const char *extra_cmdline;      /* appended to the kernel command line */
        bool debug;
        /* QEMU runs as this uid/gid, without capabilities, with
         * no_new_privs and its seccomp sandbox (docs/SECURITY.md); 0:
         * VM_QEMU_ID_BASE + the caller's pid on the host. */
        uid_t qemu_uid;
        gid_t qemu_gid;
};

/* QEMU's uid and gid are VM_QEMU_ID_BASE + the monitor's (host) pid: one
 * per running VM, never shared by two, no account to create. The range
 * [VM_QEMU_ID_BASE, VM_QEMU_ID_BASE + 2^22) lies above the ranges Debian,
 * systemd and subuid allocators hand out. */
#define VM_QEMU_ID_BASE 0x7F000000u

struct vm {
        pid_t qemu_pid;
        int qemu_pidfd;
        pid_t virtiofsd_pid;
        int virtiofsd_pidfd;
        int agent_fd;                   /* host end of the agent channel */
        int qmp_fd;                     /* host end of the QMP monitor */
        struct qmp qmp;                 /* on qmp_fd; negotiated while the guest boots */
        char *log_dir;                  /* holds qemu.log and console.log */
        int qemu_status;                /* wait status, once QEMU was reaped */
        /* The guest's serial console, QEMU's and virtiofsd's stderr arrive
         * on fds and are kept in log_dir bounded (vmlog.h): whoever waits
         * on the VM polls them (vm_watch_fds) and pumps them (vm_check). */
        int log_dirfd;
        struct vmlog logs[VM_N_LOGS];
};

#define VM_INIT { .qemu_pid = 0, .qemu_pidfd = -1, .virtiofsd_pid = 0, \
                  .virtiofsd_pidfd = -1, .agent_fd = -1, \
                  .qmp_fd = -1, .qmp = { .fd = -1 }, .log_dirfd = -1, \
                  .logs = { VMLOG_INIT, VMLOG_INIT, VMLOG_INIT } }

/* A detached copy of the share's tree (open_tree from its fd, never its
 * path): recursive for an rbind, read-only throughout when asked, nodev
 * and nosuid. Returns the tree's fd, or -1 with errno set. */
int vm_share_clone(const struct vm_share *sh);

/* Starts virtiofsd, then QEMU. On failure nothing is left running. */
int vm_start(const struct vm_params *p, struct vm *ret, struct rv_error **err);
/* SIGKILLs and reaps whatever still runs; closes fds. Idempotent. */
void vm_destroy(struct vm *vm);
/* Waits for QEMU to exit on its own (guest power-off) for up to
 * timeout_ms, then asks QEMU to quit over QMP, then destroys everything. */
void vm_stop(struct vm *vm, int timeout_ms);

/* While the guest boots, besides the agent channel, these fds tell that
 * something happened to the VM (QEMU exited, QMP has events, output to
 * keep): poll them and call vm_check when one is readable. Returns how
 * many (at most VM_WATCH_MAX). */
#define VM_WATCH_MAX (2 + VM_N_LOGS)
size_t vm_watch_fds(const struct vm *vm, int fds[VM_WATCH_MAX]);
/* Copies what the console, QEMU and virtiofsd wrote into their bounded
 * logs; never blocks. vm_check does it first. */
void vm_pump_logs(struct vm *vm);
/* 0 while the VM runs; -1 with a one-line reason in *err once QEMU exited
 * (it is reaped), paused itself on an internal error, or the guest
 * panicked. Never waits more than a second. */
int vm_check(struct vm *vm, struct rv_error **err);
/* What the logs say about a guest that gave no answer in time (a panic,
 * a fatal agent error, a paused VM): malloc'ed, or NULL. */
char *vm_stuck_reason(struct vm *vm);
/* Copies qemu.log and the console's tail into dirfd/name (bounded), for a
 * failed boot whose state dir is about to go. */
void vm_save_failure_logs(const struct vm *vm, int dirfd, const char *name, const char *title);

/* Host facts, measured once. */
/* The host TSC frequency, cached in cache_dir/tsc_khz (cache_dir may be
 * NULL). */
int vm_host_tsc_khz(const char *cache_dir, uint32_t *ret_khz, struct rv_error **err);
/* The kernel command line for these params (for the benchmark and logs). */
int vm_kernel_cmdline(const struct vm_params *p, char **ret, struct rv_error **err);
