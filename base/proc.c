/* SPDX-License-Identifier: Apache-2.0 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

int rv_proc_start_time(pid_t pid, uint64_t *ret_start_time)
{
        char path[64], buf[1024];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        char *p;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EIO;
        buf[n] = '\0';
        /* comm may hold spaces and parentheses: fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (p == NULL)
                return -EIO;
        p++;
        /* p is at the space before field 3; stop at the one before field 22. */
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (p == NULL)
                        return -EIO;
        }
        errno = 0;
        uint64_t v = strtoull(p + 1, NULL, 10);
        if (errno != 0)
                return -EIO;
        *ret_start_time = v;
        return 0;
}

bool rv_proc_alive(pid_t pid, uint64_t start_time)
{
        uint64_t st;
        char path[64];
        char state = 0;
        FILE *f;

        if (pid <= 0 || rv_proc_start_time(pid, &st) < 0)
                return false;
        if (start_time != 0 && st != start_time)
                return false;
        /* A zombie has exited: it is no longer the container's stand-in. */
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (f != NULL) {
                char buf[1024];
                if (fgets(buf, sizeof(buf), f) != NULL) {
                        char *p = strrchr(buf, ')');
                        if (p != NULL && p[1] == ' ')
                                state = p[2];
                }
                fclose(f);
        }
        return state != 'Z' && state != 'X';
}

int rv_pidfd_open(pid_t pid)
{
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int rv_pidfd_send_signal(int pidfd, int sig)
{
        return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int64_t rv_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rv_pidfd_wait(int pidfd, int timeout_ms)
{
        int64_t deadline = rv_now_ms() + timeout_ms;

        for (;;) {
                struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
                int64_t left = deadline - rv_now_ms();
                if (left < 0)
                        left = 0;
                int r = poll(&pfd, 1, (int) left);
                if (r > 0)
                        return 0;
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0 || left == 0)
                        return -ETIMEDOUT;
        }
}

_Noreturn void rv_exit_like(int code, int sig)
{
        if (sig > 0) {
                struct rlimit no_core = { 0, 0 };
                sigset_t set;

                setrlimit(RLIMIT_CORE, &no_core);
                prctl(PR_SET_DUMPABLE, 0);
                signal(sig, SIG_DFL);
                sigemptyset(&set);
                sigaddset(&set, sig);
                sigprocmask(SIG_UNBLOCK, &set, NULL);
                raise(sig);
                _exit(128 + sig);
        }
        _exit(code);
}

pid_t rv_pidfd_proc_pid(int pidfd)
{
        char path[64], line[256];
        pid_t pid = -ENOENT;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        FILE *f = fopen(path, "re");
        if (f == NULL)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Pid: %d", &pid) == 1)
                        break;
        fclose(f);
        return pid > 0 ? pid : -ESRCH;
}

pid_t rv_proc_self_pid(void)
{
        char buf[32];
        ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

        if (n <= 0)
                return n < 0 ? -errno : -ENOENT;
        buf[n] = '\0';
        return (pid_t) strtol(buf, NULL, 10);
}
