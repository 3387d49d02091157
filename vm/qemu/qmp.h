/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal QMP client: greeting, qmp_capabilities, commands with an
 * increasing id, events skipped, every wait bounded. QEMU's answers are
 * CRLF-terminated JSON objects; a line over QMP_LINE_MAX is an error. */
#pragma once

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

struct qmp {
        int fd;
        uint32_t next_id;
        struct qmp_splitter in;
        int negotiated;
};

/* Takes no ownership of fd (the vm owns it). */
void qmp_init(struct qmp *q, int fd);
void qmp_clear(struct qmp *q);
/* Runs `command` (negotiating capabilities first if not yet done) and
 * waits for its answer; a QMP error becomes *err with QEMU's desc. */
int qmp_execute(struct qmp *q, const char *command, int timeout_ms, struct rv_error **err);
