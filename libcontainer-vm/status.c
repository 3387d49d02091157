/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/status.h"

#include <errno.h>
#include <string.h>

#include "base/error.h"

#define BIT(x) (1u << (x))

/* A refusal: errno and runc's words. */
struct refusal {
        int errnum;
        const char *msg;
};

static const struct status_row {
        const char *name;
        unsigned next;                  /* statuses that may follow */
        unsigned ops;                   /* requests taken */
        struct refusal refuse[_CONTAINER_OP_MAX];
} table[_CONTAINER_STATUS_MAX] = {
        [CONTAINER_CREATING] = {
                "creating", BIT(CONTAINER_CREATED) | BIT(CONTAINER_STOPPED), 0,
                {
                        [CONTAINER_OP_START] = { EINVAL, "cannot start a container in the creating state" },
                        [CONTAINER_OP_PAUSE] = { EINVAL, "container not running" },
                        [CONTAINER_OP_RESUME] = { EINVAL, "container not paused" },
                        [CONTAINER_OP_EXEC] = { ESRCH, "cannot exec in a stopped container" },
                        [CONTAINER_OP_SIGNAL] = { ESRCH, "container not running" },
                        [CONTAINER_OP_DELETE] = { EBUSY, "container is not stopped" },
                },
        },
        [CONTAINER_CREATED] = {
                "created", BIT(CONTAINER_RUNNING) | BIT(CONTAINER_PAUSED) | BIT(CONTAINER_STOPPED),
                BIT(CONTAINER_OP_START) | BIT(CONTAINER_OP_PAUSE) | BIT(CONTAINER_OP_EXEC) |
                        BIT(CONTAINER_OP_SIGNAL) | BIT(CONTAINER_OP_DELETE),
                {
                        [CONTAINER_OP_RESUME] = { EINVAL, "container not paused" },
                },
        },
        [CONTAINER_RUNNING] = {
                "running", BIT(CONTAINER_PAUSED) | BIT(CONTAINER_STOPPED),
                BIT(CONTAINER_OP_PAUSE) | BIT(CONTAINER_OP_EXEC) | BIT(CONTAINER_OP_SIGNAL),
                {
                        [CONTAINER_OP_START] = { EINVAL, "cannot start an already running container" },
                        [CONTAINER_OP_RESUME] = { EINVAL, "container not paused" },
                        [CONTAINER_OP_DELETE] = { EBUSY, "container is not stopped" },
                },
        },
        [CONTAINER_PAUSED] = {
                /* Resumed, it is again what it was when paused. */
                "paused", BIT(CONTAINER_RUNNING) | BIT(CONTAINER_CREATED) | BIT(CONTAINER_STOPPED),
                BIT(CONTAINER_OP_RESUME) | BIT(CONTAINER_OP_SIGNAL),
                {
                        [CONTAINER_OP_START] = { EINVAL, "cannot start a container in the paused state" },
                        [CONTAINER_OP_PAUSE] = { EINVAL, "container not running" },
                        [CONTAINER_OP_EXEC] = { EBUSY, "cannot exec in a paused container (use --ignore-paused "
                                                "to override)" },
                        [CONTAINER_OP_DELETE] = { EBUSY, "container is not stopped" },
                },
        },
        [CONTAINER_STOPPED] = {
                "stopped", 0, BIT(CONTAINER_OP_DELETE),
                {
                        [CONTAINER_OP_START] = { EINVAL, "cannot start a container that has stopped" },
                        [CONTAINER_OP_PAUSE] = { EINVAL, "container not running" },
                        [CONTAINER_OP_RESUME] = { EINVAL, "container not paused" },
                        [CONTAINER_OP_EXEC] = { ESRCH, "cannot exec in a stopped container" },
                        [CONTAINER_OP_SIGNAL] = { ESRCH, "container not running" },
                },
        },
};

const char *container_status_name(enum container_status s)
{
        return (unsigned) s < _CONTAINER_STATUS_MAX ? table[s].name : "unknown";
}

int container_status_from_name(const char *name, enum container_status *ret)
{
        for (int i = 0; name && i < _CONTAINER_STATUS_MAX; i++) {
                if (strcmp(table[i].name, name) == 0) {
                        *ret = (enum container_status) i;
                        return 0;
                }
        }
        return -1;
}

bool container_status_can_become(enum container_status from, enum container_status to)
{
        if ((unsigned) from >= _CONTAINER_STATUS_MAX || (unsigned) to >= _CONTAINER_STATUS_MAX)
                return false;
        return from == to || (table[from].next & BIT(to)) != 0;
}

bool container_status_allows(enum container_status s, enum container_op op)
{
        return (unsigned) s < _CONTAINER_STATUS_MAX && (unsigned) op < _CONTAINER_OP_MAX &&
               (table[s].ops & BIT(op)) != 0;
}

int container_status_check(enum container_status s, enum container_op op, struct rv_error **err)
{
        if (container_status_allows(s, op))
                return 0;
        if ((unsigned) s >= _CONTAINER_STATUS_MAX || (unsigned) op >= _CONTAINER_OP_MAX)
                return rv_error_setx(err, EINVAL, "container status %d: unknown", (int) s);
        const struct refusal *r = &table[s].refuse[op];
        return rv_error_setx(err, r->errnum, "%s", r->msg);
}
