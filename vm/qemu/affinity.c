/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/affinity.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"

static int parse_cpu(const char **p, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (**p < '0' || **p > '9')
                return -1;
        errno = 0;
        v = strtoul(*p, &end, 10);
        if (errno != 0 || v >= CPU_SETSIZE)
                return -1;
        *p = end;
        *ret = (unsigned) v;
        return 0;
}

int vm_cpuset_parse(const char *list, cpu_set_t *ret, unsigned *ret_highest, struct rv_error **err)
{
        const char *p = list;
        unsigned highest = 0;
        bool any = false;

        CPU_ZERO(ret);
        while (p != NULL && *p != '\0') {
                unsigned a, b;

                if (parse_cpu(&p, &a) < 0)
                        goto bad;
                b = a;
                if (*p == '-') {
                        p++;
                        if (parse_cpu(&p, &b) < 0 || b < a)
                                goto bad;
                }
                for (unsigned c = a; c <= b; c++)
                        CPU_SET(c, ret);
                if (b > highest)
                        highest = b;
                any = true;
                if (*p == ',')
                        p++;
                else if (*p != '\0' && *p != '\n')
                        goto bad;
                else
                        break;
        }
        if (!any)
                goto bad;
        *ret_highest = highest;
        return 0;
bad:
        return rv_error_setx(err, EINVAL, "invalid cpuset `%s`: expected a list like 0-2,5", list ? list : "");
}

/* The thread's id in the caller's pid namespace (the last NSpid entry:
 * QEMU runs in the monitor's), which is what sched_setaffinity takes;
 * /proc may number it otherwise (the host's /proc). */
static pid_t caller_tid(pid_t pid, const char *tid)
{
        char path[320], line[256];
        pid_t id = (pid_t) atoi(tid);

        snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int) pid, tid);
        FILE *f = fopen(path, "re");
        if (f == NULL)
                return id;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "NSpid:", 6) != 0)
                        continue;
                char *last = strrchr(line, '\t');
                if (last == NULL)
                        last = strrchr(line, ' ');
                if (last)
                        id = (pid_t) atoi(last + 1);
                break;
        }
        fclose(f);
        return id;
}

/* The vCPU index of a QEMU thread named "CPU N/TCG" or "CPU N/KVM". */
static int vcpu_index(pid_t pid, const char *tid, unsigned *ret)
{
        char path[320], comm[32];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        const char *p = comm + 4;

        snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int) pid, tid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, comm, sizeof(comm) - 1);
        if (n <= 4)
                return -1;
        comm[n] = '\0';
        if (strncmp(comm, "CPU ", 4) != 0 || parse_cpu(&p, ret) < 0 || *p != '/')
                return -1;
        return 0;
}

/* Pins every vCPU thread found; returns how many there were. */
static int pin_found(pid_t pid, const cpu_set_t *set, struct rv_error **err)
{
        char dir[64];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int found = 0;

        snprintf(dir, sizeof(dir), "/proc/%d/task", (int) pid);
        d = opendir(dir);
        if (d == NULL)
                return rv_error_set(err, errno, "vCPU threads of qemu %d", (int) pid);
        while ((de = readdir(d)) != NULL) {
                cpu_set_t one;
                unsigned idx;

                if (de->d_name[0] == '.' || vcpu_index(pid, de->d_name, &idx) < 0)
                        continue;
                CPU_ZERO(&one);
                if (CPU_ISSET(idx, set))
                        CPU_SET(idx, &one);
                else
                        one = *set;
                if (sched_setaffinity(caller_tid(pid, de->d_name), sizeof(one), &one) < 0)
                        return rv_error_set(err, errno, "pin vCPU %u of qemu %d", idx, (int) pid);
                found++;
        }
        return found;
}

int vm_pin_vcpus(pid_t qemu_pid, const char *cpus, unsigned n_vcpus, int timeout_ms, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + timeout_ms;
        unsigned highest;
        cpu_set_t set;

        if (cpus == NULL || cpus[0] == '\0')
                return 0;
        if (vm_cpuset_parse(cpus, &set, &highest, err) < 0)
                return -1;
        for (;;) {
                int found = pin_found(qemu_pid, &set, err);
                if (found < 0)
                        return -1;
                if ((unsigned) found >= n_vcpus) {
                        rv_debug("vCPU threads of qemu %d pinned to host CPUs %s", (int) qemu_pid, cpus);
                        return 0;
                }
                if (rv_now_ms() >= deadline)
                        return rv_error_setx(err, ETIMEDOUT, "qemu %d: %d of %u vCPU threads found to pin",
                                             (int) qemu_pid, found, n_vcpus);
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}
