/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/proc.h"

int64_t agent_uptime_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mount_fs(const char *source, const char *target, const char *type,
                    unsigned long flags, const char *data, struct rv_error **err)
{
        if (mkdir(target, 0755) < 0 && errno != EEXIST)
                return rv_error_set(err, errno, "mkdir `%s`", target);
        if (mount(source, target, type, flags, data) < 0)
                return rv_error_set(err, errno, "mount %s on `%s`", type, target);
        return 0;
}

#define REPORTING_ORDER "page_reporting.page_reporting_order="

/* The kernel takes 0 to MAX_ORDER - 1 and refuses the rest; so does this
 * (-1: keep the agent's default). */
static int parse_order(const char *text, size_t len)
{
        int order = 0;

        if (len == 0 || len > 2)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return -1;
                order = order * 10 + (text[i] - '0');
        }
        return order < 11 ? order : -1;
}

static void parse_cmdline(const char *cmdline, struct agent_boot_options *opts)
{
        const char *p = cmdline;

        while (*p != '\0') {
                size_t len;

                while (*p == ' ' || *p == '\n')
                        p++;
                len = strcspn(p, " \n");
                if (len == strlen("runvm.halt=1") && strncmp(p, "runvm.halt=1", len) == 0)
                        opts->halt = true;
                else if (len == strlen("runvm.debug=1") && strncmp(p, "runvm.debug=1", len) == 0)
                        opts->debug = true;
                else if (len == strlen("runvm.probe=1") && strncmp(p, "runvm.probe=1", len) == 0)
                        opts->probe = true;
                else if (len == strlen("runvm.timing=1") && strncmp(p, "runvm.timing=1", len) == 0)
                        opts->timing = true;
                else if (len == strlen("runvm.prewarm=1") && strncmp(p, "runvm.prewarm=1", len) == 0)
                        opts->prewarm = true;
                else if (len > strlen(REPORTING_ORDER) && strncmp(p, REPORTING_ORDER, strlen(REPORTING_ORDER)) == 0)
                        opts->reporting_order = parse_order(p + strlen(REPORTING_ORDER), len - strlen(REPORTING_ORDER));
                p += len;
        }
}

int agent_init_early(struct agent_boot_options *ret_opts, struct rv_error **err)
{
        struct agent_boot_options opts = { .reporting_order = -1 };
        _cleanup_free_ char *cmdline = NULL;
        int fd;

        /* The kernel gives an initramfs init no console unless the archive
         * has /dev/console: open it from devtmpfs. */
        if (mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", err) < 0)
                return -1;
        fd = open("/dev/console", O_RDWR | O_NOCTTY);
        if (fd < 0)
                fd = open("/dev/null", O_RDWR);        /* keep 0-2 taken */
        if (fd >= 0) {
                for (int i = 0; i < 3; i++)
                        if (fd != i)
                                dup2(fd, i);
                if (fd > 2)
                        close(fd);
        }
        if (mount_fs("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
                return -1;
        if (rv_read_file_at(AT_FDCWD, "/proc/cmdline", 4096, &cmdline, NULL, err) < 0)
                return -1;
        parse_cmdline(cmdline, &opts);
        *ret_opts = opts;
        return 0;
}

/* Unlinks the initramfs files, never crossing into another mount (the
 * new root is one). Failures only cost memory. */
static void remove_tree_at(int dirfd, dev_t dev)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (d == NULL) {
                close(fd);
                return;
        }
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type == DT_DIR) {
                        _cleanup_close_ int sub = openat(dirfd, de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        struct stat st;

                        if (sub < 0 || fstat(sub, &st) < 0 || st.st_dev != dev)
                                continue;
                        remove_tree_at(sub, dev);
                        unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
                } else {
                        unlinkat(dirfd, de->d_name, 0);
                }
        }
}

int agent_init_reroot(struct rv_error **err)
{
        static const char *const dirs[] = { "dev", "proc", "sys", "run", "tmp" };
        _cleanup_close_ int oldroot = -EBADF;
        struct stat st;

        if (mount_fs("tmpfs", "/newroot", "tmpfs", 0, "mode=0755", err) < 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                char path[64];

                snprintf(path, sizeof(path), "/newroot/%s", dirs[i]);
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return rv_error_set(err, errno, "mkdir `%s`", path);
        }
        if (chmod("/newroot/tmp", 01777) < 0)
                return rv_error_set(err, errno, "chmod `/newroot/tmp`");
        if (mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL) < 0)
                return rv_error_set(err, errno, "move `/dev`");
        if (mount("/proc", "/newroot/proc", NULL, MS_MOVE, NULL) < 0)
                return rv_error_set(err, errno, "move `/proc`");

        oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return rv_error_set(err, errno, "open `/`");
        if (chdir("/newroot") < 0)
                return rv_error_set(err, errno, "chdir `/newroot`");
        /* Everything but the new root goes: this frees the agent and
         * module copies held by the initramfs. */
        if (fstat(oldroot, &st) < 0)
                return rv_error_set(err, errno, "stat `/`");
        remove_tree_at(oldroot, st.st_dev);
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                return rv_error_set(err, errno, "move the new root onto `/`");
        if (chroot(".") < 0)
                return rv_error_set(err, errno, "chroot into the new root");
        if (chdir("/") < 0)
                return rv_error_set(err, errno, "chdir `/`");
        return 0;
}

int agent_init_mounts(struct rv_error **err)
{
        if (mount_fs("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0 ||
            mount_fs("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "nsdelegate", err) < 0 ||
            mount_fs("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                     "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0 ||
            mount_fs("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", err) < 0 ||
            mount_fs("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", err) < 0)
                return -1;
        if (rv_mkdir_p(AGENT_SHARED_DIR, 0755, err) < 0)
                return -1;
        /* The VM is sized to the container's limit, where the kernel's
         * overcommit heuristic refuses allocations that a host with spare
         * memory grants. The container's cgroup must be what says no, as
         * under runc: an OOM kill (137, an oom event), not a failed malloc. */
        _cleanup_close_ int fd = open("/proc/sys/vm/overcommit_memory", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "1", 1) != 1)
                return rv_error_set(err, errno, "set vm.overcommit_memory");
        return 0;
}

int agent_init_entropy(struct rv_error **err)
{
        struct {
                struct rand_pool_info info;
                uint8_t buf[64];
        } seed;
        _cleanup_close_ int hw = -EBADF, rnd = -EBADF;
        uint8_t probe;
        ssize_t n;

        if (getrandom(&probe, 1, GRND_NONBLOCK) == 1)
                return 0;       /* already initialised (RDRAND, jitter) */
        rv_debug("entropy: crng not ready, seeding from /dev/hwrng");
        hw = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
        if (hw < 0)
                return rv_error_set(err, errno, "open `/dev/hwrng`");
        n = rv_read_all(hw, seed.buf, sizeof(seed.buf));
        if (n <= 0)
                return rv_error_set(err, n < 0 ? (int) -n : EIO, "read `/dev/hwrng`");
        rnd = open("/dev/random", O_WRONLY | O_CLOEXEC);
        if (rnd < 0)
                return rv_error_set(err, errno, "open `/dev/random`");
        seed.info.entropy_count = (int) n * 8;
        seed.info.buf_size = (int) n;
        if (ioctl(rnd, RNDADDENTROPY, &seed) < 0)
                return rv_error_set(err, errno, "RNDADDENTROPY");
        return 0;
}

/* FUSE reads ahead 128 KiB, a round trip to virtiofsd each, which under
 * TCG costs about what copying the data does; 1 MiB is virtiofsd's
 * largest request (256 pages): 4 KiB reads of a cold file went from
 * 53-70 to 82-90 MiB/s, 79-86% of a tmpfs in the guest (docs/PERFORMANCE.md).
 * Only speed depends on it: a failure is logged, not fatal. */
#define SHARED_READ_AHEAD_KB "1024"

static void shared_read_ahead(void)
{
        char path[64];
        struct stat st;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (stat(AGENT_SHARED_DIR, &st) < 0)
                return;
        snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev), minor(st.st_dev));
        fd = open(path, O_WRONLY | O_CLOEXEC);
        r = fd < 0 ? -errno : rv_write_all(fd, SHARED_READ_AHEAD_KB, strlen(SHARED_READ_AHEAD_KB));
        if (r < 0)
                rv_warn("set `%s` to " SHARED_READ_AHEAD_KB ": %s", path, strerror(-r));
}

int agent_init_shared(struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + 5000;

        /* The virtio-fs tag is registered when the driver probes, which
         * the module load already did; retry briefly in case it lags. */
        for (;;) {
                if (mount(AGENT_SHARED_TAG, AGENT_SHARED_DIR, "virtiofs", MS_NODEV, NULL) == 0) {
                        shared_read_ahead();
                        return 0;
                }
                if (errno != ENOENT && errno != ENODEV && errno != EINTR)
                        break;
                if (rv_now_ms() >= deadline)
                        break;
                usleep(2000);
        }
        return rv_error_set(err, errno, "mount virtio-fs `%s` on `%s`", AGENT_SHARED_TAG,
                            AGENT_SHARED_DIR);
}

/* Returns the fd of the port, -ENOENT while it has not appeared. */
static int port_try_open(struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;

        if (d == NULL)
                return -ENOENT;
        while ((de = readdir(d)) != NULL) {
                char path[300], name[64];
                _cleanup_close_ int fd = -EBADF;
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                n = read(fd, name, sizeof(name) - 1);
                if (n <= 0)
                        continue;
                name[n] = '\0';
                name[strcspn(name, "\n")] = '\0';
                if (strcmp(name, AGENT_PORT_NAME) != 0)
                        continue;
                snprintf(path, sizeof(path), "/dev/%s", de->d_name);
                int port = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (port < 0) {
                        if (errno == ENOENT)
                                return -ENOENT;  /* devtmpfs node not there yet */
                        return rv_error_set(err, errno, "open `%s`", path);
                }
                return port;
        }
        return -ENOENT;
}

int agent_init_channel_open(int timeout_ms, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + timeout_ms;

        /* Ports are announced by the device after the driver is up, so the
         * node appears asynchronously: poll for it, with a deadline. */
        for (;;) {
                int fd = port_try_open(err);
                if (fd >= 0)
                        return fd;
                if (fd != -ENOENT)
                        return -1;
                if (rv_now_ms() >= deadline)
                        return rv_error_setx(err, ENOENT, "no virtio-serial port named `%s`",
                                            AGENT_PORT_NAME);
                usleep(1000);
        }
}
