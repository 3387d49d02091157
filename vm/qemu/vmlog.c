/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/vmlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/text.h"

#define PUMP_CHUNK (64u << 10)
#define PUMP_MAX_PER_CALL (256u << 10)

static int open_out(int dirfd, const char *name, int flags)
{
        return openat(dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | flags, 0600);
}

int vmlog_open(struct vmlog *l, int dirfd, const char *name, size_t max, int fd,
               struct rv_error **err)
{
        struct stat st;

        *l = (struct vmlog) VMLOG_INIT;
        l->out = open_out(dirfd, name, 0);
        if (l->out < 0 || fstat(l->out, &st) < 0) {
                int saved = errno;
                if (fd >= 0)
                        close(fd);
                vmlog_close(l);
                return rv_error_set(err, saved, "open `%s`", name);
        }
        l->fd = fd;
        l->dirfd = dirfd;
        l->name = name;
        l->max = max;
        l->size = (size_t) st.st_size;
        return 0;
}

/* NAME becomes NAME.1 and NAME starts empty. */
static void rotate(struct vmlog *l)
{
        char old[256];

        snprintf(old, sizeof(old), "%s.1", l->name);
        if (renameat(l->dirfd, l->name, l->dirfd, old) < 0 && errno != ENOENT) {
                /* Cannot keep the previous part: start this one again. */
                if (ftruncate(l->out, 0) == 0)
                        l->size = 0;
                return;
        }
        close(l->out);
        l->out = open_out(l->dirfd, l->name, O_TRUNC);
        l->size = 0;
}

static void write_bounded(struct vmlog *l, const char *buf, size_t n)
{
        while (n > 0 && l->out >= 0) {
                if (l->size >= l->max)
                        rotate(l);
                if (l->out < 0)
                        return;
                size_t room = l->max - l->size, len = n < room ? n : room;
                if (rv_write_all(l->out, buf, len) < 0)
                        return;         /* a full /run: drop, never block the monitor */
                l->size += len;
                buf += len;
                n -= len;
        }
}

void vmlog_pump(struct vmlog *l)
{
        char buf[PUMP_CHUNK];

        for (size_t total = 0; l->fd >= 0 && total < PUMP_MAX_PER_CALL;) {
                ssize_t n = read(l->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        close(l->fd);
                        l->fd = -1;
                        return;
                }
                write_bounded(l, buf, (size_t) n);
                total += (size_t) n;
        }
}

void vmlog_close(struct vmlog *l)
{
        if (l->fd >= 0)
                close(l->fd);
        if (l->out >= 0)
                close(l->out);
        l->fd = l->out = -1;
}

static char *read_part(int dirfd, const char *name, size_t *ret_len)
{
        char *text = NULL;
        struct rv_error *tmp_err = NULL;

        /* Bounded by the cap; the margin covers a file from an older runvm. */
        if (rv_read_file_at(dirfd, name, 8u << 20, &text, ret_len, &tmp_err) < 0) {
                rv_error_release(&tmp_err);
                *ret_len = 0;
                return NULL;
        }
        return text;
}

char *vmlog_tail(int dirfd, const char *name, size_t max_len)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char old[256];

        text = read_part(dirfd, name, &len);
        snprintf(old, sizeof(old), "%s.1", name);
        if (len < max_len) {
                size_t old_len = 0;
                _cleanup_free_ char *prev = read_part(dirfd, old, &old_len);
                if (prev && old_len > 0) {
                        char *both = malloc(old_len + len + 1);
                        if (both == NULL)
                                return NULL;
                        memcpy(both, prev, old_len);
                        if (len)
                                memcpy(both + old_len, text, len);
                        both[old_len + len] = '\0';
                        free(text);
                        text = both;
                        len += old_len;
                }
        }
        if (text == NULL)
                return NULL;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == '\0'))
                text[--len] = '\0';
        size_t start = len > max_len ? len - max_len : 0;
        /* Do not start in the middle of a UTF-8 sequence. */
        while (start < len && ((unsigned char) text[start] & 0xc0) == 0x80)
                start++;
        if (start >= len)
                return NULL;
        rv_text_sanitize_n(text + start, len - start);
        return strndup(text + start, len - start);
}
