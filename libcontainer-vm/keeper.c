/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"

/* Every operation is short (a signal, a getsockopt, a few netlink
 * messages); a keeper that does not answer in this long is broken. */
#define KEEPER_CALL_TIMEOUT_MS 10000
#define KEEPER_EXIT_WAIT_MS 2000

struct keeper_request {
        uint32_t op;
        int32_t arg;
};

struct keeper_reply {
        int32_t status;                 /* 0, or the errno of the failure */
        int32_t value;
        char msg[240];
};

struct keeper {
        pid_t pid;
        int pidfd;
        int sock;
};

static ssize_t send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
        char control[CMSG_SPACE(sizeof(int) * KEEPER_MAX_FDS)];
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        memset(control, 0, sizeof(control));
        if (n_fds > 0) {
                msg.msg_control = control;
                msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n;
}

/* One request; its fds into fds (closed by the caller). 0 at EOF. */
static ssize_t recv_request(int sock, struct keeper_request *req, int *fds, size_t *n_fds)
{
        char control[CMSG_SPACE(sizeof(int) * KEEPER_MAX_FDS)];
        struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = sizeof(control) };
        ssize_t n;

        *n_fds = 0;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                const int *in = (const int *) CMSG_DATA(cm);
                for (size_t i = 0; i < count; i++) {
                        if (*n_fds < KEEPER_MAX_FDS)
                                fds[(*n_fds)++] = in[i];
                        else
                                close(in[i]);
                }
        }
        return n;
}

/* Only the socket and the log stay open, stdio too is closed: a keeper
 * must not hold the container's pipes or ctl.sock's listener. (The view
 * the keeper lives in is the container's rootfs: no /dev/null to put
 * there; nothing the keeper does writes to stdio.) */
static int keep_only(int sock)
{
        int keep[2] = { sock, rv_log_fd() };

        if (keep[1] < 0 || keep[1] == sock)
                keep[1] = sock;
        if (keep[1] < keep[0]) {
                int t = keep[0];
                keep[0] = keep[1];
                keep[1] = t;
        }
        unsigned lo = 0;
        for (size_t i = 0; i < 2; i++) {
                if ((unsigned) keep[i] > lo && syscall(SYS_close_range, lo, (unsigned) keep[i] - 1, 0) < 0)
                        return -1;
                lo = (unsigned) keep[i] + 1;
        }
        return syscall(SYS_close_range, lo, ~0U, 0) < 0 ? -1 : 0;
}

static _Noreturn void serve(int sock, const struct keeper_ops *ops, void *data)
{
        for (;;) {
                struct keeper_request req;
                struct keeper_reply rep = { 0 };
                int fds[KEEPER_MAX_FDS];
                size_t n_fds = 0;
                struct rv_error *err = NULL;
                ssize_t n = recv_request(sock, &req, fds, &n_fds);

                if (n == 0 || (n < 0 && errno != EAGAIN))
                        _exit(0);
                if (n != (ssize_t) sizeof(req) || req.op >= ops->n_ops || ops->ops[req.op] == NULL)
                        rv_error_setx(&err, EPROTO, "keeper: bad request");
                else
                        ops->ops[req.op](data, req.arg, fds, n_fds, &rep.value, &err);
                for (size_t i = 0; i < n_fds; i++)
                        close(fds[i]);
                if (err != NULL) {
                        rep.status = err->status > 0 ? err->status : EIO;
                        snprintf(rep.msg, sizeof(rep.msg), "%s", err->msg);
                        rv_error_release(&err);
                }
                if (send_with_fds(sock, &rep, sizeof(rep), NULL, 0) < 0)
                        _exit(0);
        }
}

int keeper_start(const struct keeper_ops *ops, void *data, struct keeper **ret, struct rv_error **err)
{
        int sv[2];
        pid_t parent = getpid();

        struct keeper *k = calloc(1, sizeof(*k));
        if (k == NULL)
                return rv_error_set(err, ENOMEM, "start the keeper");
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                free(k);
                return rv_error_set(err, errno, "start the keeper: socketpair");
        }
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                free(k);
                return rv_error_set(err, e, "start the keeper: fork");
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                prctl(PR_SET_NAME, "runvm-keeper");
                if (keep_only(sv[1]) < 0)
                        _exit(1);
                if (ops->child_init)
                        ops->child_init(data);
                serve(sv[1], ops, data);
        }
        close(sv[1]);
        k->pid = pid;
        k->sock = sv[0];
        k->pidfd = syscall(SYS_pidfd_open, pid, 0);
        *ret = k;
        return 0;
}

int keeper_call(struct keeper *k, uint32_t op, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                struct rv_error **err)
{
        struct keeper_request req = { .op = op, .arg = arg };
        struct keeper_reply rep;
        struct pollfd p = { .fd = k->sock, .events = POLLIN };
        ssize_t n;

        if (n_fds > KEEPER_MAX_FDS)
                return rv_error_setx(err, E2BIG, "keeper: too many fds");
        if (send_with_fds(k->sock, &req, sizeof(req), fds, n_fds) < 0)
                return rv_error_set(err, errno, "keeper: send request");
        int r;
        do
                r = poll(&p, 1, KEEPER_CALL_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        if (r == 0)
                return rv_error_setx(err, ETIMEDOUT, "keeper: no answer in %d ms", KEEPER_CALL_TIMEOUT_MS);
        do
                n = recv(k->sock, &rep, sizeof(rep), 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof(rep))
                return rv_error_setx(err, n < 0 ? errno : ESRCH, "keeper: gone");
        rep.msg[sizeof(rep.msg) - 1] = '\0';
        if (rep.status != 0)
                return rv_error_setx(err, rep.status, "%s", rep.msg);
        if (ret_value)
                *ret_value = rep.value;
        return 0;
}

void keeper_free(struct keeper *k)
{
        if (k == NULL)
                return;
        close(k->sock);
        /* It exits at EOF. */
        if (k->pidfd >= 0 && rv_pidfd_wait(k->pidfd, KEEPER_EXIT_WAIT_MS) < 0)
                rv_pidfd_send_signal(k->pidfd, SIGKILL);
        while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (k->pidfd >= 0)
                close(k->pidfd);
        free(k);
}
