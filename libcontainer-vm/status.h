/* SPDX-License-Identifier: Apache-2.0 */
/* A container's status and the one table of what each status allows:
 * which status may follow it (the monitor records nothing else) and
 * which requests it takes (the CLI checks before it asks the monitor,
 * the monitor again when the request arrives). Names are for the edges
 * only: state.json, `runvm state`, the state hooks read. */
#pragma once

#include <stdbool.h>

struct rv_error;

enum container_status {
        CONTAINER_CREATING,
        CONTAINER_CREATED,
        CONTAINER_RUNNING,
        CONTAINER_PAUSED,
        CONTAINER_STOPPED,
        _CONTAINER_STATUS_MAX,
};

enum container_op {
        CONTAINER_OP_START,
        CONTAINER_OP_PAUSE,
        CONTAINER_OP_RESUME,
        CONTAINER_OP_EXEC,              /* a paused container takes it only with --ignore-paused */
        CONTAINER_OP_SIGNAL,            /* kill, ps, events, update: a monitor is there to ask */
        CONTAINER_OP_DELETE,            /* without --force */
        _CONTAINER_OP_MAX,
};

const char *container_status_name(enum container_status s);
/* -1 when name is not a status. */
int container_status_from_name(const char *name, enum container_status *ret);

/* Whether the monitor may record `to` after `from` (a status may be
 * recorded again: other fields changed). */
bool container_status_can_become(enum container_status from, enum container_status to);

bool container_status_allows(enum container_status s, enum container_op op);
/* 0 when s allows op; else -1 with runc's words for the refusal. */
int container_status_check(enum container_status s, enum container_op op, struct rv_error **err);
