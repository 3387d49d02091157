/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/monitor-ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/translate.h"
#include "spec/config.h"
#include "vm/vm.h"

static void close_trees(int *trees, size_t n)
{
        for (size_t i = 0; trees && i < n; i++)
                if (trees[i] >= 0)
                        close(trees[i]);
        free(trees);
}

static int *clone_all(const struct vm_plan *plan, struct rv_error **err)
{
        int *trees = malloc((plan->n_shares ? plan->n_shares : 1) * sizeof(int));

        if (trees == NULL) {
                rv_error_set(err, ENOMEM, "clone shares");
                return NULL;
        }
        for (size_t i = 0; i < plan->n_shares; i++) {
                trees[i] = vm_share_clone(&plan->shares[i]);
                if (trees[i] < 0) {
                        rv_error_set(err, errno, "clone the mounts of `%s`", plan->shares[i].source);
                        close_trees(trees, i);
                        return NULL;
                }
        }
        return trees;
}

int monitor_ns_prepare(struct monitor_ns *ns, const struct vm_plan *plan, struct rv_error **err)
{
        pid_t pid = rv_proc_self_pid();

        if (pid <= 0)
                return rv_error_set(err, -pid, "the monitor's host pid");
        ns->host_pid = pid;
        if (rv_proc_start_time(pid, &ns->host_start_time) < 0)
                ns->host_start_time = 0;
        /* Two sets: a mount can be moved once, and detached trees cannot
         * be cloned again on older kernels. */
        if ((ns->vfs_trees = clone_all(plan, err)) == NULL)
                return rv_error_wrap(err, "prepare the monitor's namespaces");
        ns->n_trees = plan->n_shares;
        if ((ns->view_trees = clone_all(plan, err)) == NULL)
                return rv_error_wrap(err, "prepare the monitor's namespaces");
        if ((ns->spare_trees = clone_all(plan, err)) == NULL)
                return rv_error_wrap(err, "prepare the monitor's namespaces");
        return 0;
}

int monitor_ns_unshare(struct monitor_ns *ns, const struct spec_config *spec, struct rv_error **err)
{
        if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP) < 0)
                return rv_error_set(err, errno, "unshare the monitor's namespaces");
        /* Host mounts keep arriving (a hook's netns, a late volume);
         * nothing made here reaches the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return rv_error_set(err, errno, "make the monitor's mounts slaves of the host's");
        if (spec->hostname && *spec->hostname &&
            sethostname(spec->hostname, strlen(spec->hostname)) < 0)
                return rv_error_set(err, errno, "set the monitor's hostname");
        return 0;
}

static int open_in(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

static int attach(int tree, int target)
{
        return move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

int monitor_ns_enter_view(struct monitor_ns *ns, const struct vm_plan *plan,
                          const struct spec_config *guest_spec, const char *state_dir,
                          struct rv_error **err)
{
        _cleanup_free_ char *staging = NULL;
        _cleanup_close_ int host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int root = -EBADF;

        if (host < 0)
                return rv_error_set(err, errno, "open the monitor's mount namespace");
        if (ns->view_trees == NULL || ns->n_trees == 0 || vm_plan_rootfs_index(plan) >= ns->n_trees)
                return rv_error_setx(err, EINVAL, "the container's view: no rootfs");
        if (asprintf(&staging, "%s/shared", state_dir) < 0)
                return rv_error_set(err, ENOMEM, "the container's view");
        if (unshare(CLONE_NEWNS) < 0)
                return rv_error_set(err, errno, "unshare the container's view");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return rv_error_set(err, errno, "make the container's view private");
        /* state_dir/shared is an empty directory here (virtiofsd's tmpfs
         * lives in virtiofsd's namespace). */
        size_t rootfs = vm_plan_rootfs_index(plan);
        if (move_mount(ns->view_trees[rootfs], "", AT_FDCWD, staging, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return rv_error_set(err, errno, "mount the rootfs on `%s`", staging);
        close(ns->view_trees[rootfs]);
        ns->view_trees[rootfs] = -1;
        root = open(staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return rv_error_set(err, errno, "open `%s`", staging);
        /* The guest made its mount points already; every lookup stays in
         * the rootfs, whatever symlinks the guest planted. */
        for (size_t i = 0; i < guest_spec->n_mounts; i++) {
                const char *dest = guest_spec->mounts[i].destination;
                int k = vm_plan_share_of(plan, guest_spec->mounts[i].source);
                /* A share two mounts use can be attached once: the first. */
                if (k < 0 || (size_t) k >= ns->n_trees || ns->view_trees[k] < 0 || dest == NULL)
                        continue;
                _cleanup_close_ int target = open_in(root, dest, O_PATH);
                if (target < 0 || attach(ns->view_trees[k], target) < 0) {
                        rv_debug("container view: `%s` not mounted: %s", dest, strerror(errno));
                        continue;
                }
                close(ns->view_trees[k]);
                ns->view_trees[k] = -1;
        }
        /* /proc of the monitor's pid namespace: what tools list at this
         * pid, and what the monitor itself resolves /proc/self through. */
        _cleanup_close_ int proc = open_in(root, "/proc", O_PATH | O_DIRECTORY);
        char proc_path[64];
        snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", proc);
        if (proc < 0 || mount("proc", proc_path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return rv_error_set(err, errno, "mount proc in the container's view");
        if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
                return rv_error_set(err, errno, "pivot into the container's view");
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                return rv_error_set(err, errno, "leave the host's root");
        ns->view_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (ns->view_mnt < 0)
                return rv_error_set(err, errno, "open the container's view");
        ns->host_mnt = TAKE_FD(host);
        close_trees(ns->view_trees, ns->n_trees);
        ns->view_trees = NULL;
        return 0;
}

int monitor_ns_to_host(struct monitor_ns *ns, struct rv_error **err)
{
        if (ns->host_mnt >= 0 && setns(ns->host_mnt, CLONE_NEWNS) < 0)
                return rv_error_set(err, errno, "enter the host's mount namespace");
        return 0;
}

int monitor_ns_to_view(struct monitor_ns *ns, struct rv_error **err)
{
        if (ns->view_mnt >= 0 && setns(ns->view_mnt, CLONE_NEWNS) < 0)
                return rv_error_set(err, errno, "enter the container's view");
        return 0;
}

int monitor_ns_rearm(struct monitor_ns *ns, struct rv_error **err)
{
        if (ns->spare_trees == NULL)
                return rv_error_setx(err, ENOTSUP, "the container's network changed twice before start: "
                                     "its VM can be rebuilt only once");
        close_trees(ns->vfs_trees, ns->n_trees);
        ns->vfs_trees = TAKE_PTR(ns->spare_trees);
        return 0;
}

void monitor_ns_clear(struct monitor_ns *ns)
{
        close_trees(ns->spare_trees, ns->n_trees);
        ns->spare_trees = NULL;
        close_trees(ns->vfs_trees, ns->n_trees);
        close_trees(ns->view_trees, ns->n_trees);
        ns->vfs_trees = ns->view_trees = NULL;
        if (ns->host_mnt >= 0)
                close(ns->host_mnt);
        if (ns->view_mnt >= 0)
                close(ns->view_mnt);
        ns->host_mnt = ns->view_mnt = -1;
}
