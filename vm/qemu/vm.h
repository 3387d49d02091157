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

struct rv_error;

/* A host file or directory exposed to the guest as shared/<name>. */
struct vm_share {
        const char *source;             /* host path (for messages) */
        const char *name;               /* e.g. "rootfs", "mounts/3" */
        bool is_dir;
        bool readonly;                  /* recursively, on the host */
        bool recursive;                 /* rbind: the source's submounts too */
        /* O_PATH fd opened when the spec was checked: what is exported,
         * whatever happens to the path afterwards (hooks run between). */
        int fd;
};

struct vm_params {
        const char *qemu_path;
        const char *virtiofsd_path;
        const char *kernel;
        const char *initrd;
        unsigned memory_mib;
        unsigned vcpus;
        bool kvm;                       /* else TCG */
        uint32_t tsc_khz;               /* TCG only; 0 to omit */
        const char *state_dir;          /* console.log and the shared dir live here */
        const struct vm_share *shares;
        size_t n_shares;
        /* vm_share_clone() of each share, made while the caller was still
         * in the mount namespace its fds come from; virtiofsd mounts these
         * (and they are closed by vm_start, whatever happens). */
        int *share_trees;
        const char *extra_cmdline;      /* appended to the kernel command line */
        bool debug;
        /* QEMU runs as this uid/gid (> 0), without capabilities, with
         * no_new_privs and its seccomp sandbox (docs/SECURITY.md). */
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
        /* Read ends the caller drains into bounded files (vmlog.h): the
         * guest's serial console, QEMU's and virtiofsd's stderr. */
        int console_fd;
        int qemu_log_fd;
        int virtiofsd_log_fd;
};

#define VM_INIT { .qemu_pid = 0, .qemu_pidfd = -1, .virtiofsd_pid = 0, \
                  .virtiofsd_pidfd = -1, .agent_fd = -1, \
                  .qmp_fd = -1, .console_fd = -1, .qemu_log_fd = -1, \
                  .virtiofsd_log_fd = -1 }

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

/* Host facts, measured once. */
bool vm_kvm_usable(void);
/* The host TSC frequency, cached in cache_dir/tsc_khz (cache_dir may be
 * NULL). */
int vm_host_tsc_khz(const char *cache_dir, uint32_t *ret_khz, struct rv_error **err);
/* The kernel command line for these params (for the benchmark and logs). */
int vm_kernel_cmdline(const struct vm_params *p, char **ret, struct rv_error **err);
