/* SPDX-License-Identifier: Apache-2.0 */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"

int rv_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t rv_read_all(int fd, void *buf, size_t len)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = read(fd, (char *) buf + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int rv_read_line(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = rv_read_all(fd, buf, size - 1);
        if (n < 0) {
                errno = (int) -n;
                return -1;
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

int rv_write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
                         mode_t mode, struct rv_error **err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s.tmp", name) < 0)
                return rv_error_set(err, ENOMEM, "write `%s`", name);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return rv_error_set(err, errno, "open `%s`", tmp);
        r = rv_write_all(fd, data, len);
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return rv_error_set(err, -r, "write `%s`", tmp);
        }
        if (fchmod(fd, mode) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
                int saved = errno;
                unlinkat(dirfd, tmp, 0);
                return rv_error_set(err, saved, "rename `%s`", tmp);
        }
        return 0;
}

int rv_read_file_at(int dirfd, const char *path, size_t max, char **ret_buf,
                    size_t *ret_len, struct rv_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        if (fd < 0)
                return rv_error_set(err, errno, "open `%s`", path);
        for (;;) {
                if (len == cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        char *n;
                        if (cap > max)
                                return rv_error_set(err, EFBIG, "read `%s`", path);
                        n = realloc(buf, ncap + 1);
                        if (n == NULL)
                                return rv_error_set(err, ENOMEM, "read `%s`", path);
                        buf = n;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return rv_error_set(err, errno, "read `%s`", path);
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return rv_error_set(err, EFBIG, "read `%s`", path);
        }
        if (buf == NULL && (buf = malloc(1)) == NULL)
                return rv_error_set(err, ENOMEM, "read `%s`", path);
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int rv_mkdir_p(const char *path, mode_t mode, struct rv_error **err)
{
        _cleanup_free_ char *copy = strdup(path);

        if (copy == NULL)
                return rv_error_set(err, ENOMEM, "mkdir `%s`", path);
        for (char *p = copy + 1; ; p++) {
                if (*p == '/' || *p == '\0') {
                        char saved = *p;
                        *p = '\0';
                        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                                return rv_error_set(err, errno, "mkdir `%s`", copy);
                        *p = saved;
                        if (saved == '\0')
                                break;
                }
        }
        return 0;
}

static int rm_rf_children(int fd, dev_t dev, struct rv_error **err)
{
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        struct dirent *de;

        if (d == NULL) {
                close(fd);
                return rv_error_set(err, errno, "opendir");
        }
        while ((de = readdir(d)) != NULL) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return rv_error_set(err, errno, "stat `%s`", de->d_name);
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev)
                                return rv_error_set(err, EBUSY, "remove `%s`", de->d_name);
                        int cfd = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0)
                                return rv_error_set(err, errno, "open `%s`", de->d_name);
                        if (rm_rf_children(cfd, dev, err) < 0)
                                return rv_error_wrap(err, "`%s`", de->d_name);
                }
                if (unlinkat(dirfd(d), de->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
                    errno != ENOENT)
                        return rv_error_set(err, errno, "remove `%s`", de->d_name);
        }
        return 0;
}

int rv_rm_rf_at(int dirfd, const char *name, struct rv_error **err)
{
        struct stat st;
        int fd;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : rv_error_set(err, errno, "stat `%s`", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return rv_error_set(err, errno, "remove `%s`", name);
                return 0;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rv_error_set(err, errno, "open `%s`", name);
        if (rm_rf_children(fd, st.st_dev, err) < 0)
                return rv_error_wrap(err, "remove `%s`", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return rv_error_set(err, errno, "remove `%s`", name);
        return 0;
}

int rv_write_pid_file(const char *path, pid_t pid, struct rv_error **err)
{
        _cleanup_free_ char *dir_copy = strdup(path), *base_copy = strdup(path);
        _cleanup_close_ int dfd = -EBADF;
        char buf[32];
        int n;

        if (dir_copy == NULL || base_copy == NULL)
                return rv_error_set(err, ENOMEM, "pid file");
        dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rv_error_set(err, errno, "pid file `%s`", path);
        n = snprintf(buf, sizeof(buf), "%d", (int) pid);
        if (rv_write_file_atomic(dfd, basename(base_copy), buf, (size_t) n, 0644, err) < 0)
                return rv_error_wrap(err, "pid file");
        return 0;
}
