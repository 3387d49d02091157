/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/proc.h"
#include "spec/json.h"

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

/* With arguments (a JSON object the caller wrote) and an fd for QEMU to
 * take (SCM_RIGHTS with the command's first byte; -1: none). */
static int send_command_args(struct qmp *q, const char *command, const char *args, int fd, uint32_t id,
                             struct rv_error **err)
{
        _cleanup_free_ char *buf = NULL;
        int n;

        if (strpbrk(command, "\"\\") != NULL)
                return rv_error_setx(err, EINVAL, "qmp: bad command `%s`", command);
        n = asprintf(&buf, "{\"execute\":\"%s\",\"id\":%u,\"arguments\":%s}\r\n", command, id, args);
        if (n < 0)
                return rv_error_set(err, ENOMEM, "qmp");
        size_t off = 0;
        if (fd >= 0) {
                /* The whole command in the message that carries the fd, as
                 * QEMU takes a command's fds from the read that had them. */
                union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u = { 0 };
                struct iovec iov = { buf, (size_t) n };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                                      .msg_controllen = sizeof(u.b) };
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
                ssize_t w;
                do
                        w = sendmsg(q->fd, &msg, MSG_NOSIGNAL);
                while (w < 0 && errno == EINTR);
                if (w <= 0)
                        return rv_error_set(err, w < 0 ? errno : EIO, "qmp: send `%s`", command);
                off = (size_t) w;
        }
        int r = rv_write_all(q->fd, buf + off, (size_t) n - off);
        return r < 0 ? rv_error_set(err, -r, "qmp: send `%s`", command) : 0;
}

/* An {"error": {"desc": ...}} answer as *err; 0 when v is no error. */
static int reply_error(const struct json_value *v, struct rv_error **err)
{
        const struct json_value *e = json_get(v, "error");
        const char *desc = "unknown error";

        if (e == NULL)
                return 0;
        const struct json_value *d = json_get(e, "desc"), *c = json_get(e, "class");
        const char *class = NULL;
        if (d && json_is_string(d))
                json_read_string(d, "desc", &desc, NULL);
        if (c && json_is_string(c))
                json_read_string(c, "class", &class, NULL);
        /* DeviceNotFound is the one class a caller acts on: a device the
         * guest unplugged is gone from QEMU's tree before it is freed. */
        int code = class && strcmp(class, "DeviceNotFound") == 0 ? ENODEV : EIO;
        return rv_error_setx(err, code, "qmp: %s", desc);
}

static void note_event(struct qmp *q, const struct json_value *v)
{
        static const struct { const char *name; unsigned bit; } known[] = {
                { "STOP", QMP_EVENT_STOP },
                { "GUEST_PANICKED", QMP_EVENT_GUEST_PANICKED },
                { "SHUTDOWN", QMP_EVENT_SHUTDOWN },
        };
        const struct json_value *e = json_get(v, "event");
        const char *name = NULL;

        if (e == NULL || !json_is_string(e) || json_read_string(e, "event", &name, NULL) < 0)
                return;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (strcmp(name, known[i].name) == 0)
                        q->events |= known[i].bit;
        /* The device ids of the last few, for qmp_wait_device_deleted. */
        const struct json_value *data = json_get(v, "data"), *dev = data ? json_get(data, "device") : NULL;
        const char *id = NULL;
        if (strcmp(name, "DEVICE_DELETED") == 0 && dev && json_is_string(dev) &&
            json_read_string(dev, "device", &id, NULL) == 0) {
                snprintf(q->deleted[q->n_deleted % QMP_DELETED_KEPT], sizeof(q->deleted[0]), "%s", id);
                q->n_deleted++;
        }
}

/* One line from QEMU. A reply to `want` (0: none) is handed out in *ret;
 * the greeting answers itself with qmp_capabilities. Returns 1 when *ret
 * was set. */
static int handle_line(struct qmp *q, const char *line, uint32_t want, struct json_value **ret,
                       struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        const struct json_value *e;
        int64_t got = -1;

        if (json_parse(line, strlen(line), &v, err) < 0)
                return rv_error_wrap(err, "qmp");
        if (q->phase == QMP_PHASE_GREETING) {
                if (json_get(v, "QMP") == NULL)
                        return rv_error_setx(err, EPROTO, "qmp: expected a greeting");
                q->caps_id = ++q->next_id;
                if (send_command(q, "qmp_capabilities", q->caps_id, err) < 0)
                        return -1;
                q->phase = QMP_PHASE_NEGOTIATING;
                return 0;
        }
        if (json_get(v, "event")) {
                note_event(q, v);
                return 0;
        }
        e = json_get(v, "id");
        if (e == NULL || !json_is_integer(e) || json_read_int64(e, "id", &got, NULL) < 0)
                return 0;
        if (q->phase == QMP_PHASE_NEGOTIATING && got == (int64_t) q->caps_id) {
                if (reply_error(v, err) < 0)
                        return rv_error_wrap(err, "`qmp_capabilities`");
                q->phase = QMP_PHASE_READY;
                return 0;
        }
        if (want == 0 || got != (int64_t) want)
                return 0;
        *ret = TAKE_PTR(v);
        return 1;
}

/* Reads what is there (wait_ms 0) or waits up to wait_ms for more; feeds
 * every complete line to handle_line. */
static int read_some(struct qmp *q, int wait_ms, uint32_t want, struct json_value **ret,
                     struct rv_error **err)
{
        char buf[4096];
        char *line = NULL;
        int r;

        while (qmp_splitter_next(&q->in, &line) == 1) {
                r = handle_line(q, line, want, ret, err);
                free(line);
                if (r != 0)
                        return r;
        }
        struct pollfd pfd = { q->fd, POLLIN, 0 };
        r = poll(&pfd, 1, wait_ms);
        if (r < 0)
                return errno == EINTR ? 0 : rv_error_set(err, errno, "qmp: poll");
        if (r == 0)
                return 0;
        ssize_t n = read(q->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0)
                return rv_error_set(err, n < 0 ? errno : ECONNRESET, "qmp: read");
        if (qmp_splitter_feed(&q->in, buf, (size_t) n, err) < 0)
                return -1;
        while (qmp_splitter_next(&q->in, &line) == 1) {
                r = handle_line(q, line, want, ret, err);
                free(line);
                if (r != 0)
                        return r;
        }
        return 0;
}

int qmp_pump(struct qmp *q, struct rv_error **err)
{
        struct json_value *none = NULL;
        int r;

        /* Everything already readable, without waiting for more. */
        do {
                r = read_some(q, 0, 0, &none, err);
                if (r < 0)
                        return -1;
        } while (poll(&(struct pollfd) { q->fd, POLLIN, 0 }, 1, 0) == 1);
        return 0;
}

static int await_reply(struct qmp *q, uint32_t id, int64_t deadline, struct json_value **ret,
                       struct rv_error **err)
{
        for (;;) {
                int64_t left = deadline - rv_now_ms();
                if (left <= 0)
                        return rv_error_setx(err, ETIMEDOUT, "qmp: no answer from qemu");
                int r = read_some(q, (int) left, id, ret, err);
                if (r != 0)
                        return r < 0 ? -1 : 0;
        }
}

static int negotiate(struct qmp *q, int64_t deadline, struct rv_error **err)
{
        struct json_value *none = NULL;

        while (q->phase != QMP_PHASE_READY) {
                int64_t left = deadline - rv_now_ms();
                if (left <= 0)
                        return rv_error_setx(err, ETIMEDOUT, "qmp: no greeting from qemu");
                if (read_some(q, (int) left, 0, &none, err) < 0)
                        return -1;
        }
        return 0;
}

int qmp_execute_return(struct qmp *q, const char *command, int timeout_ms, struct json_value **ret,
                       struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        int64_t deadline = rv_now_ms() + timeout_ms;

        if (negotiate(q, deadline, err) < 0)
                return -1;
        uint32_t id = ++q->next_id;
        if (send_command(q, command, id, err) < 0 || await_reply(q, id, deadline, &v, err) < 0)
                return rv_error_wrap(err, "`%s`", command);
        if (reply_error(v, err) < 0)
                return rv_error_wrap(err, "`%s`", command);
        if (ret)
                *ret = TAKE_PTR(v);
        return 0;
}

int qmp_execute_args(struct qmp *q, const char *command, const char *args, int fd, int timeout_ms,
                     struct json_value **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        int64_t deadline = rv_now_ms() + timeout_ms;

        if (negotiate(q, deadline, err) < 0)
                return -1;
        uint32_t id = ++q->next_id;
        if (send_command_args(q, command, args, fd, id, err) < 0 || await_reply(q, id, deadline, &v, err) < 0 ||
            reply_error(v, err) < 0)
                return rv_error_wrap(err, "`%s`", command);
        if (ret)
                *ret = TAKE_PTR(v);
        return 0;
}

bool qmp_device_deleted(const struct qmp *q, const char *device, size_t since)
{
        if (q->n_deleted - since > QMP_DELETED_KEPT)
                since = q->n_deleted - QMP_DELETED_KEPT;
        for (size_t i = since; i < q->n_deleted; i++)
                if (strcmp(q->deleted[i % QMP_DELETED_KEPT], device) == 0)
                        return true;
        return false;
}

int qmp_wait_device_deleted(struct qmp *q, const char *device, size_t since, int timeout_ms,
                            struct rv_error **err)
{
        struct json_value *none = NULL;
        int64_t deadline = rv_now_ms() + timeout_ms;

        while (!qmp_device_deleted(q, device, since)) {
                int64_t left = deadline - rv_now_ms();
                if (left <= 0)
                        return rv_error_setx(err, ETIMEDOUT, "qmp: device `%s` was not released by the guest "
                                             "within %d ms", device, timeout_ms);
                if (read_some(q, (int) left, 0, &none, err) < 0)
                        return -1;
        }
        return 0;
}

int qmp_execute(struct qmp *q, const char *command, int timeout_ms, struct rv_error **err)
{
        return qmp_execute_return(q, command, timeout_ms, NULL, err);
}

int qmp_query_status(struct qmp *q, int timeout_ms, char **ret, struct rv_error **err)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        const struct json_value *r, *s;
        const char *status = NULL;

        if (qmp_execute_return(q, "query-status", timeout_ms, &v, err) < 0)
                return -1;
        r = json_get(v, "return");
        s = r ? json_get(r, "status") : NULL;
        if (s == NULL || !json_is_string(s) || json_read_string(s, "status", &status, NULL) < 0)
                return rv_error_setx(err, EPROTO, "qmp: query-status: no status");
        *ret = strdup(status);
        return *ret ? 0 : rv_error_set(err, ENOMEM, "qmp");
}
