/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal QMP client: greeting, qmp_capabilities, commands with an
 * increasing id, events skipped, every wait bounded. QEMU's answers are
 * CRLF-terminated JSON objects; a line over QMP_LINE_MAX is an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;

#define QMP_LINE_MAX (64u << 10)

/* The line splitter, on its own so it can be fuzzed. */
struct qmp_splitter {
        char *buf;
        size_t len, cap;
};
/* Appends bytes; fails (EMSGSIZE) when a line grows past QMP_LINE_MAX. */
int qmp_splitter_feed(struct qmp_splitter *s, const char *data, size_t len, struct rv_error **err);
/* Takes the next complete line (without CRLF) into *ret (malloc'ed):
 * 1 taken, 0 none yet. */
int qmp_splitter_next(struct qmp_splitter *s, char **ret);
void qmp_splitter_clear(struct qmp_splitter *s);

struct json_value;

enum qmp_phase { QMP_PHASE_GREETING, QMP_PHASE_NEGOTIATING, QMP_PHASE_READY };

/* Events that matter to runvm, remembered as they pass by. */
enum {
        QMP_EVENT_STOP = 1u << 0,               /* the VM paused itself: an internal error */
        QMP_EVENT_GUEST_PANICKED = 1u << 1,
        QMP_EVENT_SHUTDOWN = 1u << 2,
};

#define QMP_DELETED_KEPT 8
struct qmp {
        int fd;
        uint32_t next_id;
        struct qmp_splitter in;
        enum qmp_phase phase;
        uint32_t caps_id;
        unsigned events;                /* QMP_EVENT_* seen so far */
        char deleted[QMP_DELETED_KEPT][32];     /* DEVICE_DELETED's last device ids */
        size_t n_deleted;
};

/* Takes no ownership of fd (the vm owns it). */
void qmp_init(struct qmp *q, int fd);
void qmp_clear(struct qmp *q);
/* Handles what QEMU has sent so far without waiting: the greeting (answered
 * with qmp_capabilities), events (into q->events). Fails when QEMU closed
 * the socket. Call it when q->fd is readable. */
int qmp_pump(struct qmp *q, struct rv_error **err);
/* Runs `command` (negotiating capabilities first if not yet done) and
 * waits for its answer; a QMP error becomes *err with QEMU's desc. */
int qmp_execute(struct qmp *q, const char *command, int timeout_ms, struct rv_error **err);
/* The same, handing out the whole answer ({"return": ...}). */
int qmp_execute_return(struct qmp *q, const char *command, int timeout_ms, struct json_value **ret,
                       struct rv_error **err);
/* With arguments: args is a JSON object (the caller escapes), fd (or -1)
 * goes along for QEMU to take (`add-fd`, `getfd`). */
int qmp_execute_args(struct qmp *q, const char *command, const char *args, int fd, int timeout_ms,
                     struct json_value **ret, struct rv_error **err);
/* QEMU reported DEVICE_DELETED for device among the events after the
 * first `since` (as far as read: qmp_pump). */
bool qmp_device_deleted(const struct qmp *q, const char *device, size_t since);
/* Waits (bounded) until QEMU reported DEVICE_DELETED for device, among
 * the events after the first `since` (n_deleted before device_del): the
 * guest let go of what device_del asked it to. */
int qmp_wait_device_deleted(struct qmp *q, const char *device, size_t since, int timeout_ms,
                            struct rv_error **err);
/* `query-status`: "running", "internal-error", "guest-panicked", ... */
int qmp_query_status(struct qmp *q, int timeout_ms, char **ret, struct rv_error **err);
