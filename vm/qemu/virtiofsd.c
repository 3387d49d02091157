/* SPDX-License-Identifier: Apache-2.0 */
/* virtiofsd: its private shared dir, its sandbox, its life. */
#include "vm/qemu/virtiofsd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/spawn.h"
#include "vm/qemu/qemu-vm.h"
#include "vm/qemu/virtiofsd-filter.h"

int virtiofsd_add(struct virtiofsd *v, const struct vm_share *sh, int tree, struct rv_error **err)
{
        struct vm_share *s = realloc(v->shares, (v->n_shares + 1) * sizeof(*s));
        if (s)
                v->shares = s;
        int *t = s ? realloc(v->trees, (v->n_shares + 1) * sizeof(*t)) : NULL;
        if (t)
                v->trees = t;
        if (s == NULL || t == NULL) {
                if (tree >= 0)
                        close(tree);
                return rv_error_set(err, ENOMEM, "add share `%s`", sh->source);
        }
        v->shares[v->n_shares] = *sh;
        v->trees[v->n_shares++] = tree;
        return 0;
}

static void close_trees(struct virtiofsd *v)
{
        for (size_t i = 0; v->trees && i < v->n_shares; i++) {
                if (v->trees[i] >= 0)
                        close(v->trees[i]);
                v->trees[i] = -1;
        }
}

void virtiofsd_clear(struct virtiofsd *v)
{
        rv_spawn_kill(v->pid, &v->pidfd);
        v->pid = 0;
        close_trees(v);
        free(v->trees);
        free(v->shares);
        *v = (struct virtiofsd) VIRTIOFSD_INIT;
}

bool virtiofsd_exited(const struct virtiofsd *v)
{
        struct pollfd pfd = { v->pidfd, POLLIN, 0 };
        return v->pidfd >= 0 && poll(&pfd, 1, 0) > 0;
}

static int make_target(const char *path, bool is_dir)
{
        if (is_dir)
                return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
        /* Read-only: the file may be in a parent share already read-only. */
        int fd = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        close(fd);
        return 0;
}

/* A detached copy of the share's tree, taken from its fd (never its
 * path) while still in the monitor's mount namespace, with the
 * share's attributes: read-only recursively (submounts included) when
 * asked, never a device node the host would honour. */
int vm_share_clone(const struct vm_share *sh)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID };

        if (sh->fd < 0) {
                errno = EBADF;
                return -1;
        }
        if (sh->recursive)
                flags |= AT_RECURSIVE;
        int tree = open_tree(sh->fd, "", flags);
        if (tree < 0)
                return -1;
        if (sh->readonly)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
                int saved = errno;
                close(tree);
                errno = saved;
                return -1;
        }
        return tree;
}

/* A name is the source's path in its filesystem ("tmp/data", see
 * translate.c): its parents are made, then the tree is moved there.
 * Shares come parents first; a parent share holds the path. */
static int place_share(const char *dir, const struct vm_share *sh, int tree, char *msg, size_t size)
{
        char path[4096];

        for (const char *slash = strchr(sh->name, '/'); slash; slash = strchr(slash + 1, '/')) {
                snprintf(path, sizeof(path), "%s/%.*s", dir, (int) (slash - sh->name), sh->name);
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        snprintf(msg, size, "mkdir `%s`", path);
                        return -1;
                }
        }
        snprintf(path, sizeof(path), "%s/%s", dir, sh->name);
        if (make_target(path, sh->is_dir) < 0) {
                snprintf(msg, size, "create `%s`", path);
                return -1;
        }
        if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                snprintf(msg, size, "mount `%s`", sh->source);
                return -1;
        }
        return 0;
}

int virtiofsd_helper_wait(pid_t pid, int fd, char *msg, size_t size)
{
        int status = 0;
        ssize_t n = read(fd, msg, size - 1);

        close(fd);
        msg[n > 0 ? n : 0] = '\0';
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int virtiofsd_add_running(struct virtiofsd *v, const struct vm_share *sh, int tree, struct rv_error **err)
{
        _cleanup_close_ int owned = tree;
        char msg[512] = "";
        int pipefd[2];
        pid_t pid;

        if (v->pidfd < 0)
                return rv_error_setx(err, ESRCH, "share `%s`: virtiofsd is not running", sh->source);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return rv_error_set(err, errno, "share `%s`", sh->source);
        /* virtiofsd pivoted into the shared dir in a mount namespace of
         * its own (-o sandbox=namespace): a mount made outside it never
         * arrives. A child enters that namespace, where / is the shared
         * dir, and attaches the detached tree there; the caller's own
         * namespaces stay as they are. */
        pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return rv_error_set(err, e, "share `%s`: fork", sh->source);
        }
        if (pid == 0) {
                close(pipefd[0]);
                if (setns(v->pidfd, CLONE_NEWNS) < 0)
                        snprintf(msg, sizeof(msg), "enter virtiofsd's mount namespace: %s", strerror(errno));
                else if (place_share("", sh, tree, msg, sizeof(msg)) == 0)
                        _exit(0);
                else
                        snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), ": %s", strerror(errno));
                if (write(pipefd[1], msg, strlen(msg)) < 0)
                        _exit(2);
                _exit(1);
        }
        close(pipefd[1]);
        if (virtiofsd_helper_wait(pid, pipefd[0], msg, sizeof(msg)) == 0)
                return 0;
        return rv_error_setx(err, EIO, "share `%s` into the running VM: %s", sh->source,
                             msg[0] ? msg : "the helper failed");
}

struct setup {
        const char *shared_dir;
        struct virtiofsd *v;
};

/* Runs in virtiofsd's child before exec: the shared dir is a tmpfs in a
 * private mount namespace holding one mount per share, so exactly the
 * shares are visible to the guest and every mount vanishes with the
 * process: nothing can leak on the host. */
static int virtiofsd_setup(void *data, char *msg, size_t size)
{
        const struct setup *s = data;
        int *trees = s->v->trees;

        if (unshare(CLONE_NEWNS) < 0) {
                snprintf(msg, size, "unshare mount namespace");
                return -1;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                snprintf(msg, size, "make mounts private");
                return -1;
        }
        if (mount("runvm-shared", s->shared_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                snprintf(msg, size, "mount tmpfs on `%s`", s->shared_dir);
                return -1;
        }
        for (size_t i = 0; i < s->v->n_shares; i++) {
                if (place_share(s->shared_dir, &s->v->shares[i], trees[i], msg, size) < 0)
                        return -1;
                close(trees[i]);
                trees[i] = -1;
        }
        /* Last: from here to virtiofsd's end, no file it makes is setuid. */
        if (virtiofsd_filter_install() < 0) {
                snprintf(msg, size, "install the virtiofsd filter");
                return -1;
        }
        return 0;
}

int virtiofsd_socket_pair(int *ret_listen, int *ret_client, struct rv_error **err)
{
        _cleanup_close_ int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_close_ int cfd = -EBADF;
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        socklen_t len = sizeof(addr);

        if (lfd < 0)
                return rv_error_set(err, errno, "socket");
        if (bind(lfd, (struct sockaddr *) &addr, sizeof(sa_family_t)) < 0 || listen(lfd, 1) < 0 ||
            getsockname(lfd, (struct sockaddr *) &addr, &len) < 0)
                return rv_error_set(err, errno, "listen for virtiofsd");
        cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cfd < 0 || connect(cfd, (struct sockaddr *) &addr, len) < 0)
                return rv_error_set(err, errno, "connect to virtiofsd socket");
        *ret_listen = qemu_fd_above_stdio(TAKE_FD(lfd));
        *ret_client = qemu_fd_above_stdio(TAKE_FD(cfd));
        return 0;
}

static int spawn(struct virtiofsd *v, const char *path, const char *shared_dir, int listen_fd,
                 int log_fd, bool debug, struct rv_error **err)
{
        _cleanup_free_ char *fdopt = NULL, *src = NULL;
        struct setup setup = { shared_dir, v };

        for (size_t i = 0; i < v->n_shares; i++)
                if (v->trees[i] < 0)
                        return rv_error_setx(err, EINVAL, "start vm: share `%s` has no mount to export",
                                             v->shares[i].source);
        if (mkdir(shared_dir, 0700) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "mkdir `%s`", shared_dir);
        if (asprintf(&fdopt, "--fd=%d", listen_fd) < 0 ||
            asprintf(&src, "source=%s", shared_dir) < 0)
                return rv_error_set(err, ENOMEM, "virtiofsd arguments");
        /* Its namespace sandbox (pivot_root into the shared dir, its own
         * seccomp filter); no CAP_MKNOD (a guest cannot make host device
         * nodes) nor CAP_SETFCAP; every guest xattr lives under
         * user.virtiofs. on the host, so the guest can neither set nor see
         * the host's security.*, trusted.* or system.* attributes.
         * No announce_submounts: the guest would then show a share as a
         * mount of its own with root "/" (and only once it happened to be
         * looked up twice), where runc's mountinfo shows the source's path
         * in its filesystem, which the share layout gives (translate.c).
         * cache=always with cache=auto's 1 s attribute and entry timeout
         * (docs/PERFORMANCE.md, "Page cache across opens"): the same
         * coherence with the host as auto (a changed mtime or size, seen
         * within the timeout, drops the file's pages: FUSE's
         * auto_inval_data), but a file's pages survive its next open,
         * where auto drops them at every open: every exec of a binary and
         * every read of a file read before went to the host again. No
         * thread pool: a pool thread adds a hand-off to every request. */
        char *argv[] = {
                (char *) path, fdopt, "-o", src, "-o", "cache=always", "-o", "timeout=1",
                "-o", "sandbox=namespace", "-o", "modcaps=-mknod:-setfcap",
                "-o", "xattrmap=:prefix:all::user.virtiofs.::bad:all:::", "-o",
                debug ? "log_level=debug" : "log_level=warn", NULL,
        };
        struct rv_spawn s = {
                .argv = argv, .stdin_fd = -1, .stdout_fd = log_fd, .stderr_fd = log_fd,
                .pass_fds = &listen_fd, .n_pass_fds = 1, .pdeathsig = true,
                .setup = virtiofsd_setup, .setup_data = &setup,
        };
        if (rv_spawn_start(&s, &v->pid, &v->pidfd, err) < 0)
                return rv_error_wrap(err, "start virtiofsd");
        return 0;
}

int virtiofsd_start(struct virtiofsd *v, const char *path, const char *shared_dir, int listen_fd,
                    int log_fd, bool debug, struct rv_error **err)
{
        int r = spawn(v, path, shared_dir, listen_fd, log_fd, debug, err);
        /* virtiofsd has them (or failed): the caller's copies go. */
        close_trees(v);
        return r;
}
