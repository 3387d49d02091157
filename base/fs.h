/* SPDX-License-Identifier: Apache-2.0 */
/* Files and directories: atomic writes, bounded reads, recursive removal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct rv_error;

/* Writes name.tmp in dirfd, fsyncs nothing (state is runtime data), renames. */
int rv_write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
                         mode_t mode, struct rv_error **err);
/* Reads a whole file (at most max bytes, else EFBIG) NUL-terminated. */
int rv_read_file_at(int dirfd, const char *path, size_t max, char **ret_buf,
                    size_t *ret_len, struct rv_error **err);
int rv_mkdir_p(const char *path, mode_t mode, struct rv_error **err);
/* Removes dirfd/name recursively, never crossing into another mount.
 * A missing entry is success. */
int rv_rm_rf_at(int dirfd, const char *name, struct rv_error **err);

/* The pid file callers read after we exit: decimal digits only, no
 * newline, written atomically (temp + rename) next to its final name. */
int rv_write_pid_file(const char *path, pid_t pid, struct rv_error **err);

/* Full writes and reads, retrying on EINTR; return -errno on failure. */
int rv_write_all(int fd, const void *buf, size_t len);
/* Returns bytes read (short only at EOF) or -errno. */
ssize_t rv_read_all(int fd, void *buf, size_t len);
/* The first line of a small file (sysfs attributes): at most size - 1
 * bytes, without its newline, NUL-terminated. -1 with errno on failure. */
int rv_read_line(const char *path, char *buf, size_t size);
