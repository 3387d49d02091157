/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/guest-ram.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "vm/qemu/qemu-vm.h"

/* qemu_memfd_create(TYPE_MEMORY_BACKEND_MEMFD): the link reads
 * "/memfd:memory-backend-memfd (deleted)". */
#define GUEST_RAM_LINK "/memfd:memory-backend-memfd "
/* microvm maps the memfd from guest physical 0 to the 32-bit hole (3 GiB
 * at most below 4 GiB), so there a guest address is the memfd's offset;
 * QEMU puts the initramfs below the hole. */
#define LOW_RAM_MAX ((uint64_t) 3 << 30)
#define COMPARE_CHUNK (64 * 1024)

static int open_guest_ram(int procfd, struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        char link[128];
        struct dirent *e;
        int fd = procfd >= 0 ? openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

        if (fd < 0 || (d = fdopendir(fd)) == NULL) {
                int saved = procfd >= 0 ? errno : EBADF;
                if (fd >= 0)
                        close(fd);
                return rv_error_set(err, saved, "open QEMU's fds in /proc");
        }
        while ((e = readdir(d)) != NULL) {
                ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);

                if (n <= 0)
                        continue;
                link[n] = '\0';
                if (strncmp(link, GUEST_RAM_LINK, strlen(GUEST_RAM_LINK)) != 0)
                        continue;
                fd = openat(dirfd(d), e->d_name, O_RDWR | O_CLOEXEC);
                if (fd < 0)
                        return rv_error_set(err, errno, "open QEMU's guest RAM (its fd %s)", e->d_name);
                return fd;
        }
        return rv_error_setx(err, ENOENT, "QEMU's guest RAM is not among its fds");
}

/* Whether the memfd holds the file's bytes at offset, all of them. */
static int same_bytes(int ram, int file, uint64_t offset, uint64_t size, struct rv_error **err)
{
        _cleanup_free_ char *a = malloc(COMPARE_CHUNK), *b = malloc(COMPARE_CHUNK);

        if (a == NULL || b == NULL)
                return rv_error_set(err, ENOMEM, "compare the initramfs");
        for (uint64_t done = 0; done < size;) {
                size_t want = size - done < COMPARE_CHUNK ? (size_t) (size - done) : COMPARE_CHUNK;
                ssize_t n = pread(file, a, want, (off_t) done), m = pread(ram, b, want, (off_t) (offset + done));

                if (n < 0 || m < 0)
                        return rv_error_set(err, errno, "compare the initramfs");
                if ((size_t) n != want || (size_t) m != want)
                        return 0;
                if (memcmp(a, b, want) != 0)
                        return 0;
                done += want;
        }
        return 1;
}

int qemu_guest_ram_free_initrd(struct qemu_vm *q, uint64_t addr, struct rv_error **err)
{
        uint64_t ram_size = (uint64_t) q->cfg.memory_mib << 20, low = ram_size < LOW_RAM_MAX ? ram_size : LOW_RAM_MAX;
        long page = sysconf(_SC_PAGESIZE);
        _cleanup_close_ int ram = -EBADF;
        struct stat st;
        uint64_t bytes;
        int r;

        if (q->initrd_fd < 0 || fstat(q->initrd_fd, &st) < 0)
                return rv_error_setx(err, EBADF, "free the boot's initramfs: the VM kept no initramfs file");
        if (page <= 0 || addr % (uint64_t) page != 0 || st.st_size <= 0 || addr >= low ||
            (uint64_t) st.st_size > low - addr)
                return rv_error_setx(err, EINVAL, "free the boot's initramfs: 0x%" PRIx64 " (+%lld bytes) "
                                     "is not a page of the low RAM", addr, (long long) st.st_size);
        ram = open_guest_ram(q->qemu_procfd, err);
        if (ram < 0)
                return -1;
        r = same_bytes(ram, q->initrd_fd, addr, (uint64_t) st.st_size, err);
        if (r <= 0)
                return r < 0 ? -1 : rv_error_setx(err, ENOENT, "free the boot's initramfs: guest RAM at 0x%"
                                                   PRIx64 " does not hold `%s`", addr, q->cfg.initrd);
        /* The file's last page: the rest of it is the same unused RAM. */
        bytes = ((uint64_t) st.st_size + (uint64_t) page - 1) / (uint64_t) page * (uint64_t) page;
        if (bytes > low - addr)
                bytes = low - addr;
        if (fallocate(ram, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) addr, (off_t) bytes) < 0)
                return rv_error_set(err, errno, "free the boot's initramfs in guest RAM");
        return 0;
}
