/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/monitor-userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "libcontainer-vm/keeper.h"
#include "libcontainer-vm/monitor-shared.h"
#include "netns/netns.h"
#include "spec/config.h"
#include "vm/vm.h"

enum {
        OP_KILL,                /* arg: the signal; fds: pidfds */
        OP_UNWIRE,              /* the interfaces as they were at the fork */
        OP_PEER_UID,            /* fds: a connected socket; value: its peer's host uid */
        _OP_MAX,
};

/* --- in the keeper ------------------------------------------------------------ */

static int op_kill(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                   struct rv_error **err)
{
        int r = 0;

        for (size_t i = 0; i < n_fds; i++)
                if (rv_pidfd_send_signal(fds[i], arg) < 0 && errno != ESRCH && r == 0)
                        r = rv_error_set(err, errno, "kill the VM's processes");
        return r;
}

static int op_unwire(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                     struct rv_error **err)
{
        struct monitor *m = data;

        netns_unwire(m->nics, m->n_nics);
        m->n_nics = 0;                  /* once: the keeper's copy of the record */
        return 0;
}

/* Read here, in the host's user namespace, the uid is the host's. */
static int op_peer_uid(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                       struct rv_error **err)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (n_fds != 1)
                return rv_error_setx(err, EINVAL, "ctl peer: no socket");
        if (getsockopt(fds[0], SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return rv_error_set(err, errno, "ctl peer credentials");
        if (cred.uid != 0 && cred.uid != geteuid())
                return rv_error_setx(err, EPERM, "ctl peer uid %u refused", (unsigned) cred.uid);
        *ret_value = (int32_t) cred.uid;
        return 0;
}

/* The monitor's copies of fd numbers mean nothing in the keeper. */
static void keeper_child_init(void *data)
{
        struct monitor *m = data;

        for (size_t i = 0; i < m->n_nics; i++)
                m->nics[i].tap_fd = -1;
}

static const keeper_op_fn ops[_OP_MAX] = {
        [OP_KILL] = op_kill,
        [OP_UNWIRE] = op_unwire,
        [OP_PEER_UID] = op_peer_uid,
};

static const struct keeper_ops keeper_ops = {
        .ops = ops, .n_ops = _OP_MAX, .child_init = keeper_child_init,
};

/* --- the namespace ----------------------------------------------------------- */

static int write_map(pid_t pid, const char *file, const struct spec_id_mapping *maps, size_t n,
                     struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        char path[64];

        if (f == NULL)
                return rv_error_set(err, ENOMEM, "%s", file);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%u %u %u\n", maps[i].container_id, maps[i].host_id, maps[i].size);
        if (fclose(f) != 0)
                return rv_error_set(err, ENOMEM, "%s", file);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        /* One write: the kernel takes a map once, whole. */
        if (fd < 0 || write(fd, text, len) != (ssize_t) len)
                return rv_error_set(err, errno, "write the user namespace's %s", file);
        return 0;
}

/* A short-lived child makes the namespace; the monitor, still with the
 * host's credentials, writes its maps (the spec's) and keeps it by fd:
 * entering it is then one setns, which changes nothing when it fails. */
static int make_userns(const struct spec_linux *l, int *ret_fd, struct rv_error **err)
{
        int sv[2];
        char c = 0;

        if (l->n_uid_mappings == 0 || l->n_gid_mappings == 0)
                return rv_error_setx(err, EINVAL, "a user namespace needs `linux.uidMappings` and `linux.gidMappings`");
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return rv_error_set(err, errno, "user namespace: socketpair");
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                return rv_error_set(err, e, "user namespace: fork");
        }
        if (pid == 0) {
                close(sv[0]);
                c = unshare(CLONE_NEWUSER) < 0 ? (char) errno : 0;
                if (write(sv[1], &c, 1) != 1)
                        _exit(1);
                /* Until the monitor holds the namespace: EOF. */
                if (read(sv[1], &c, 1) < 0)
                        _exit(1);
                _exit(0);
        }
        close(sv[1]);
        int r = 0;
        char path[64];
        ssize_t n = read(sv[0], &c, 1);
        if (n != 1 || c != 0)
                r = rv_error_set(err, n == 1 ? c : EIO, "create the container's user namespace");
        if (r == 0 && (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err) < 0 ||
                       write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err) < 0))
                r = -1;
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
        if (r == 0 && (*ret_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                r = rv_error_set(err, errno, "open the container's user namespace");
        close(sv[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return r;
}

bool monitor_userns_pending(const struct monitor *m)
{
        const struct spec_namespace *user = spec_config_namespace(m->o->guest_spec, "user");

        /* A namespace joined by path is a pod's, in the guest (the guest
         * spec names its guest path): the sandbox's monitor holds it. */
        return user != NULL && !(user->path && *user->path) && m->keeper == NULL;
}

int monitor_userns_enter(struct monitor *m, struct rv_error **err)
{
        const struct spec_config *spec = m->o->guest_spec;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(keeper_freep) struct keeper *k = NULL;

        if (!monitor_userns_pending(m))
                return 0;
        if (make_userns(&spec->linux_, &fd, err) < 0)
                return -1;
        if (keeper_start(&keeper_ops, m, &k, err) < 0)
                return -1;
        /* The monitor keeps kuid 0: it still owns the state dir (0700),
         * though the namespace shows it as 65534. */
        if (setns(fd, CLONE_NEWUSER) < 0)
                return rv_error_set(err, errno, "enter the container's user namespace");
        m->keeper = TAKE_PTR(k);
        rv_debug("in the container's user namespace; the keeper keeps the host's credentials");
        return 0;
}

bool monitor_userns_entered(const struct monitor *m)
{
        return m->keeper != NULL;
}

/* --- what needs the host, once entered --------------------------------------- */

void monitor_userns_kill_vm(struct monitor *m)
{
        struct vm_proc procs[VM_MAX_PROCS];
        int fds[VM_MAX_PROCS];
        size_t n = 0;
        struct rv_error *tmp_err = NULL;

        if (m->keeper == NULL || m->vm == NULL)
                return;
        size_t count = vm_procs(m->vm, procs, VM_MAX_PROCS);
        for (size_t i = 0; i < count; i++)
                if (procs[i].pidfd >= 0)
                        fds[n++] = procs[i].pidfd;
        if (n == 0 || keeper_call(m->keeper, OP_KILL, SIGKILL, fds, n, NULL, &tmp_err) == 0)
                return;
        /* vm_destroy would wait forever for a QEMU nobody killed. The
         * monitor's end ends its pid namespace, and the kernel kills what
         * is in it; the state says stopped already (finish), delete
         * removes the rest from the record. */
        rv_log(RV_LOG_ERROR, "stop the VM: %s: the monitor exits so that its pid namespace ends",
               tmp_err->msg);
        rv_error_release(&tmp_err);
        _exit(1);
}

void monitor_userns_unwire(struct monitor *m)
{
        struct rv_error *tmp_err = NULL;

        if (m->keeper == NULL) {
                netns_unwire(m->nics, m->n_nics);
                return;
        }
        if (keeper_call(m->keeper, OP_UNWIRE, 0, NULL, 0, NULL, &tmp_err) < 0)
                rv_warn("network teardown: %s", tmp_err->msg);
        rv_error_release(&tmp_err);
        /* The monitor's own copies of the TAPs' fds. */
        for (size_t i = 0; i < m->n_nics; i++) {
                if (m->nics[i].tap_fd >= 0)
                        close(m->nics[i].tap_fd);
                m->nics[i].tap_fd = -1;
        }
}

int monitor_userns_check_peer(struct monitor *m, int fd, struct rv_error **err)
{
        if (m->keeper == NULL)
                return 0;
        return keeper_call(m->keeper, OP_PEER_UID, 0, &fd, 1, NULL, err);
}

void monitor_userns_close(struct monitor *m)
{
        keeper_free(m->keeper);
        m->keeper = NULL;
}
