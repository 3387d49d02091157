/* SPDX-License-Identifier: Apache-2.0 */
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "fs.h"
#include "proc.h"

/* In the child: report "msg: strerror" through the pipe and _exit. */
_Noreturn static void child_fail(int fd, const char *msg, int errnum)
{
        char buf[1024];
        int n = snprintf(buf, sizeof(buf), "%s%s%s", msg, errnum ? ": " : "",
                         errnum ? strerror(errnum) : "");
        if (n > 0)
                rv_write_all(fd, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1);
        _exit(127);
}

static int child_dup_stdio(int from, int to)
{
        if (from < 0) {
                int fd = open("/dev/null", O_RDWR);
                if (fd < 0)
                        return -1;
                from = fd;
        }
        if (from == to)
                return fcntl(to, F_SETFD, 0);
        return dup2(from, to) < 0 ? -1 : 0;
}

/* close_range(2) may be missing or denied (a container's seccomp filter
 * runs startContainer hooks): then each fd listed in /proc/self/fd, and
 * without /proc every number below the fd limit, is marked instead. No
 * allocation: this runs between fork and exec. */
static int cloexec_from(int first)
{
        char buf[4096] __attribute__((aligned(8)));
        struct rlimit rl;
        long n, max = 65536;

        if (close_range((unsigned) first, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
                return 0;
        if (errno != ENOSYS && errno != EPERM && errno != EACCES)
                return -1;
        int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
                        for (long off = 0; off < n;) {
                                struct dirent64 *d = (struct dirent64 *) (buf + off);
                                char *end;
                                long fd = strtol(d->d_name, &end, 10);

                                off += d->d_reclen;
                                if (*end == '\0' && end != d->d_name && fd >= first && fd != dfd)
                                        fcntl((int) fd, F_SETFD, FD_CLOEXEC);
                        }
                }
                close(dfd);
                return n < 0 ? -1 : 0;
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20))
                max = (long) rl.rlim_cur;
        for (long fd = first; fd < max; fd++)
                fcntl((int) fd, F_SETFD, FD_CLOEXEC);      /* EBADF: not open */
        return 0;
}

/* The bounding set first (that needs CAP_SETPCAP), then groups, gid and
 * uid: leaving uid 0 with all ids clears the permitted, effective and
 * ambient sets. */
static int drop_privileges(const struct rv_spawn *s, int errfd)
{
        for (int cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
                ;
        if (errno != EINVAL)
                child_fail(errfd, "drop the capability bounding set", errno);
        if (setgroups(s->n_groups, s->groups) < 0)
                child_fail(errfd, "set supplementary groups", errno);
        if (setresgid(s->gid, s->gid, s->gid) < 0)
                child_fail(errfd, "set gid", errno);
        if (setresuid(s->uid, s->uid, s->uid) < 0)
                child_fail(errfd, "set uid", errno);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(errfd, "set no_new_privs", errno);
        return 0;
}

_Noreturn static void child_run(const struct rv_spawn *s, int errfd, pid_t parent)
{
        sigset_t all;
        char msg[512] = "";

        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (s->pdeathsig) {
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                        child_fail(errfd, "set parent death signal", errno);
                /* The parent may have died before prctl took effect. */
                if (getppid() != parent)
                        _exit(127);
        }
        /* Move the error pipe out of the way of the fds we place. */
        int nfd = fcntl(errfd, F_DUPFD_CLOEXEC, 64);
        if (nfd < 0)
                child_fail(errfd, "dup", errno);
        errfd = nfd;
        if (child_dup_stdio(s->stdin_fd, 0) < 0 || child_dup_stdio(s->stdout_fd, 1) < 0 ||
            child_dup_stdio(s->stderr_fd, 2) < 0)
                child_fail(errfd, "set up stdio", errno);
        /* Whatever the caller left open without CLOEXEC (conmon's or a
         * shim's pipes, a stray fd of a hook's parent) must not outlive
         * the container in a helper: only stdio and pass_fds cross exec. */
        if (cloexec_from(3) < 0)
                child_fail(errfd, "mark fds close-on-exec", errno);
        for (size_t i = 0; i < s->n_pass_fds; i++)
                if (fcntl(s->pass_fds[i], F_SETFD, 0) < 0)
                        child_fail(errfd, "pass fd", errno);
        if (s->cwd && chdir(s->cwd) < 0)
                child_fail(errfd, "chdir", errno);
        if (s->setup && s->setup(s->setup_data, msg, sizeof(msg)) < 0)
                child_fail(errfd, msg, errno);
        if (s->uid > 0 && drop_privileges(s, errfd) < 0)
                _exit(127);
        /* A change of credentials clears the parent death signal. */
        if (s->pdeathsig && s->uid > 0) {
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                        child_fail(errfd, "set parent death signal", errno);
                if (getppid() != parent)
                        _exit(127);
        }
        const char *path = s->path ? s->path : s->argv[0];
        if (s->envp)
                execve(path, s->argv, s->envp);
        else
                execv(path, s->argv);
        snprintf(msg, sizeof(msg), "exec `%s`", path);
        child_fail(errfd, msg, errno);
}

int rv_spawn_start(const struct rv_spawn *s, pid_t *ret_pid, int *ret_pidfd,
                   struct rv_error **err)
{
        int pipefd[2];
        pid_t parent = getpid(), pid;
        char buf[1024];
        ssize_t n;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return rv_error_set(err, errno, "pipe");
        pid = fork();
        if (pid < 0) {
                int saved = errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return rv_error_set(err, saved, "fork");
        }
        if (pid == 0) {
                close(pipefd[0]);
                child_run(s, pipefd[1], parent);
        }
        close(pipefd[1]);
        n = rv_read_all(pipefd[0], buf, sizeof(buf) - 1);
        close(pipefd[0]);
        if (n > 0) {
                buf[n] = '\0';
                waitpid(pid, NULL, 0);
                return rv_error_set(err, 0, "%s", buf);
        }
        if (ret_pidfd == NULL) {
                *ret_pid = pid;
                return 0;
        }
        int pidfd = rv_pidfd_open(pid);
        if (pidfd < 0) {
                int saved = -pidfd;
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return rv_error_set(err, saved, "pidfd_open");
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        return 0;
}

void rv_spawn_kill(pid_t pid, int *pidfd)
{
        if (pid > 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        if (pidfd && *pidfd >= 0) {
                close(*pidfd);
                *pidfd = -EBADF;
        }
}

int rv_spawn_wait(pid_t pid, int pidfd, int timeout_ms)
{
        int status;

        if (pidfd >= 0 && rv_pidfd_wait(pidfd, timeout_ms) < 0)
                return -ETIMEDOUT;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        return status;
}
