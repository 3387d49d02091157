/* SPDX-License-Identifier: Apache-2.0 */
/* virtiofsd, the QEMU driver's virtio-fs server: one process per VM, in a
 * private mount namespace whose shared dir holds exactly the VM's shares
 * (moved there from detached trees), sandboxed, never making a setuid
 * file or a device node the host would honour. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vm/vm.h"

struct rv_error;

struct virtiofsd {
        struct vm_share *shares;        /* strings are the caller's */
        int *trees;                     /* vm_share_clone() of each, until virtiofsd has them */
        size_t n_shares;
        pid_t pid;
        int pidfd;
};

#define VIRTIOFSD_INIT { .pid = 0, .pidfd = -1 }

/* Takes tree (also on failure). */
int virtiofsd_add(struct virtiofsd *v, const struct vm_share *sh, int tree, struct rv_error **err);
/* While virtiofsd runs: the tree attached at the share's name inside its
 * view (a directory it never showed before, so the guest has nothing
 * cached there). Takes tree. */
int virtiofsd_add_running(struct virtiofsd *v, const struct vm_share *sh, int tree, struct rv_error **err);
/* While virtiofsd runs (virtiofsd-remove.c): everything mounted at or
 * below prefix (a relative name in the export, such as a pod member's
 * ".runvm-pods/<id>") unmounted in its view, and the mount points
 * removed. Nothing to do once it is gone. */
int virtiofsd_remove_running(struct virtiofsd *v, const char *prefix, struct rv_error **err);
/* A helper forked to act in virtiofsd's mount namespace reports failure
 * as text on a pipe: waits for it, reads that (fd is closed here) into
 * msg; 0 when it succeeded. */
int virtiofsd_helper_wait(pid_t pid, int fd, char *msg, size_t size);
/* A listening socket with a kernel-chosen abstract name and a client
 * already connected to it: virtiofsd accepts on the one, the VMM gets the
 * other, and no socket path exists anywhere. */
int virtiofsd_socket_pair(int *ret_listen, int *ret_client, struct rv_error **err);
/* Starts virtiofsd serving shared_dir (made if missing) on listen_fd,
 * writing to log_fd. The trees are closed here, whatever happens. */
int virtiofsd_start(struct virtiofsd *v, const char *path, const char *shared_dir, int listen_fd,
                    int log_fd, bool debug, struct rv_error **err);
/* Its pidfd is readable. */
bool virtiofsd_exited(const struct virtiofsd *v);
/* SIGKILLs and reaps it, closes what is left, frees. Idempotent. */
void virtiofsd_clear(struct virtiofsd *v);
