/* SPDX-License-Identifier: Apache-2.0 */
/* The workloads of tests/bench/io-bench.sh, timed from inside the
 * container (so a VM's boot is not in the figure) by one static binary
 * that runs the same under runvm and runc: a shell loop would measure the
 * emulated CPU running the shell, not the file system or the relay.
 *
 *   fsops read FILE BS          read FILE in BS-byte reads
 *   fsops create DIR N          create N empty files in DIR (made)
 *   fsops remove DIR            remove DIR and the files in it
 *   fsops write BYTES BS [OUT]  write BYTES zeros in BS-byte writes to
 *                               stdout (or OUT, e.g. /dev/null)
 *   fsops drain BS              read stdin to its end
 *   fsops spawn N               fork and exec this program N times, one
 *                               after the other (each child: `fsops noop`)
 *
 * Prints one line to stderr: "<op> <count> <unit> <seconds>". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
        fprintf(stderr, "fsops: %s: %s\n", what, strerror(errno));
        return 1;
}

static unsigned long long number(const char *s)
{
        char *end;
        unsigned long long n = strtoull(s, &end, 10);
        if (end == s || *end || n == 0) {
                fprintf(stderr, "fsops: %s: not a positive number\n", s);
                exit(2);
        }
        return n;
}

static int op_read(const char *path, size_t bs)
{
        char *buf = malloc(bs);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (!buf || fd < 0)
                return fail(path);
        unsigned long long total = 0;
        double t0 = now();
        for (;;) {
                ssize_t r = read(fd, buf, bs);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return fail("read");
                if (r == 0)
                        break;
                total += (unsigned long long) r;
        }
        fprintf(stderr, "read %llu bytes %.6f\n", total, now() - t0);
        return 0;
}

static int op_create(const char *dir, unsigned long long n)
{
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return fail(dir);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return fail(dir);
        double t0 = now();
        for (unsigned long long i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "f%llu", i);
                int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        return fail(name);
                close(fd);
        }
        fprintf(stderr, "create %llu files %.6f\n", n, now() - t0);
        return 0;
}

static int op_remove(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return fail(dir);
        unsigned long long n = 0;
        double t0 = now();
        struct dirent *e;
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(dirfd(d), e->d_name, 0) < 0)
                        return fail(e->d_name);
                n++;
        }
        closedir(d);
        if (rmdir(dir) < 0)
                return fail(dir);
        fprintf(stderr, "remove %llu files %.6f\n", n, now() - t0);
        return 0;
}

static int op_write(unsigned long long bytes, size_t bs, const char *out)
{
        char *buf = calloc(1, bs);
        int fd = out ? open(out, O_WRONLY | O_CLOEXEC) : STDOUT_FILENO;
        if (!buf || fd < 0)
                return fail(out ? out : "stdout");
        unsigned long long left = bytes;
        double t0 = now();
        while (left > 0) {
                size_t want = left < bs ? (size_t) left : bs;
                ssize_t w = write(fd, buf, want);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return fail("write");
                left -= (unsigned long long) w;
        }
        fprintf(stderr, "write %llu bytes %.6f\n", bytes, now() - t0);
        return 0;
}

static int op_drain(size_t bs)
{
        char *buf = malloc(bs);
        if (!buf)
                return fail("malloc");
        unsigned long long total = 0;
        double t0 = 0;
        for (;;) {
                ssize_t r = read(STDIN_FILENO, buf, bs);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return fail("read stdin");
                if (r == 0)
                        break;
                /* From the first byte: the writer starts when the container
                 * does, not when this process does. */
                if (total == 0)
                        t0 = now();
                total += (unsigned long long) r;
        }
        fprintf(stderr, "drain %llu bytes %.6f\n", total, total ? now() - t0 : 0.0);
        return 0;
}

/* What starting a process costs once its program is in the page cache
 * (the parent is that program): fork, exec, exit, wait. */
static int op_spawn(unsigned long long n)
{
        double t0 = now();

        for (unsigned long long i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        return fail("fork");
                if (pid == 0) {
                        execl("/proc/self/exe", "fsops", "noop", (char *) NULL);
                        _exit(127);
                }
                int status;
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR)
                                return fail("waitpid");
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "fsops: the child failed (status %d)\n", status);
                        return 1;
                }
        }
        fprintf(stderr, "spawn %llu processes %.6f\n", n, now() - t0);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 2 && strcmp(argv[1], "noop") == 0)
                return 0;
        if (argc == 3 && strcmp(argv[1], "spawn") == 0)
                return op_spawn(number(argv[2]));
        if (argc >= 4 && strcmp(argv[1], "read") == 0)
                return op_read(argv[2], number(argv[3]));
        if (argc == 4 && strcmp(argv[1], "create") == 0)
                return op_create(argv[2], number(argv[3]));
        if (argc == 3 && strcmp(argv[1], "remove") == 0)
                return op_remove(argv[2]);
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "write") == 0)
                return op_write(number(argv[2]), number(argv[3]), argc == 5 ? argv[4] : NULL);
        if (argc == 3 && strcmp(argv[1], "drain") == 0)
                return op_drain(number(argv[2]));
        fprintf(stderr, "usage: fsops read FILE BS | create DIR N | remove DIR | "
                        "write BYTES BS [OUT] | drain BS | spawn N\n");
        return 2;
}
