/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcontainer-vm/base/cleanup.h"
#include "libcontainer-vm/base/error.h"
#include "libcontainer-vm/base/fs.h"
#include "libcontainer-vm/base/proc.h"
#include "spec/json.h"

DEFINE_CLEANUP_FUNC(struct json_value *, json_value_free)

int qmp_splitter_feed(struct qmp_splitter *s, const char *data, size_t len, struct rv_error **err)
{
        if (s->len + len > QMP_LINE_MAX * 2) {
                /* Only possible when no line ended within the limit. */
                return rv_error_setx(err, EMSGSIZE, "qmp: a message exceeds %u bytes", QMP_LINE_MAX);
        }
        if (s->len + len > s->cap) {
                size_t ncap = s->cap ? s->cap : 4096;
                while (ncap < s->len + len)
                        ncap *= 2;
                char *n = realloc(s->buf, ncap);
                if (n == NULL)
                        return rv_error_set(err, ENOMEM, "qmp");
                s->buf = n;
                s->cap = ncap;
        }
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        char *nl = memchr(s->buf, '\n', s->len);
        size_t first = nl ? (size_t) (nl - s->buf) : s->len;
        if (first > QMP_LINE_MAX)
                return rv_error_setx(err, EMSGSIZE, "qmp: a message exceeds %u bytes", QMP_LINE_MAX);
        return 0;
}

int qmp_splitter_next(struct qmp_splitter *s, char **ret)
{
        char *nl = s->buf ? memchr(s->buf, '\n', s->len) : NULL;
        if (nl == NULL)
                return 0;
        size_t n = (size_t) (nl - s->buf), keep = n;
        if (keep > 0 && s->buf[keep - 1] == '\r')
                keep--;
        char *line = strndup(s->buf, keep);
        if (line == NULL)
                return 0;
        memmove(s->buf, nl + 1, s->len - n - 1);
        s->len -= n + 1;
        *ret = line;
        return 1;
}

void qmp_splitter_clear(struct qmp_splitter *s)
{
        free(s->buf);
        memset(s, 0, sizeof(*s));
}

void qmp_init(struct qmp *q, int fd)
{
        memset(q, 0, sizeof(*q));
        q->fd = fd;
}

void qmp_clear(struct qmp *q)
{
        qmp_splitter_clear(&q->in);
}

/* Reads until a message for which accept() says yes; skips events. */
static int read_message(struct qmp *q, int64_t deadline, uint32_t id, bool greeting,
                        struct rv_error **err)
{
        for (;;) {
                _cleanup_free_ char *line = NULL;
                while (qmp_splitter_next(&q->in, &line) == 1) {
                        _cleanup_(json_value_freep) struct json_value *v = NULL;
                        const struct json_value *e;
                        int64_t got = -1;

                        if (json_parse(line, strlen(line), &v, err) < 0)
                                return rv_error_wrap(err, "qmp");
                        free(line);
                        line = NULL;
                        if (greeting) {
                                if (json_get(v, "QMP") == NULL)
                                        return rv_error_setx(err, EPROTO, "qmp: expected a greeting");
                                return 0;
                        }
                        if (json_get(v, "event"))
                                continue;
                        e = json_get(v, "id");
                        if (e == NULL || !json_is_integer(e) ||
                            json_read_int64(e, "id", &got, NULL) < 0 || got != (int64_t) id)
                                continue;
                        if ((e = json_get(v, "error"))) {
                                const char *desc = "unknown error";
                                const struct json_value *d = json_get(e, "desc");
                                if (d && json_is_string(d))
                                        json_read_string(d, "desc", &desc, NULL);
                                return rv_error_setx(err, EIO, "qmp: %s", desc);
                        }
                        return 0;
                }
                int64_t left = deadline - rv_now_ms();
                if (left <= 0)
                        return rv_error_setx(err, ETIMEDOUT, "qmp: no answer from qemu");
                struct pollfd pfd = { q->fd, POLLIN, 0 };
                int r = poll(&pfd, 1, (int) left);
                if (r < 0 && errno != EINTR)
                        return rv_error_set(err, errno, "qmp: poll");
                if (r <= 0)
                        continue;
                char buf[4096];
                ssize_t n = read(q->fd, buf, sizeof(buf));
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0)
                        return rv_error_set(err, n < 0 ? errno : ECONNRESET, "qmp: read");
                if (qmp_splitter_feed(&q->in, buf, (size_t) n, err) < 0)
                        return -1;
        }
}

static int send_command(struct qmp *q, const char *command, uint32_t id, struct rv_error **err)
{
        char buf[256];
        int n = snprintf(buf, sizeof(buf), "{\"execute\":\"%s\",\"id\":%u}\r\n", command, id);
        /* Commands are fixed identifiers from this file: no escaping needed. */
        if (n < 0 || (size_t) n >= sizeof(buf) || strpbrk(command, "\"\\") != NULL)
                return rv_error_setx(err, EINVAL, "qmp: bad command `%s`", command);
        int r = rv_write_all(q->fd, buf, (size_t) n);
        return r < 0 ? rv_error_set(err, -r, "qmp: send `%s`", command) : 0;
}

int qmp_execute(struct qmp *q, const char *command, int timeout_ms, struct rv_error **err)
{
        int64_t deadline = rv_now_ms() + timeout_ms;

        if (!q->negotiated) {
                uint32_t id = ++q->next_id;
                if (read_message(q, deadline, 0, true, err) < 0 ||
                    send_command(q, "qmp_capabilities", id, err) < 0 ||
                    read_message(q, deadline, id, false, err) < 0)
                        return -1;
                q->negotiated = 1;
        }
        uint32_t id = ++q->next_id;
        if (send_command(q, command, id, err) < 0 || read_message(q, deadline, id, false, err) < 0)
                return rv_error_wrap(err, "`%s`", command);
        return 0;
}
