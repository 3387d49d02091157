/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_setv(struct rv_error **err, int errnum, bool append, const char *fmt, va_list ap)
{
        char *msg = NULL, *full = NULL;
        struct rv_error *e;

        if (err == NULL || *err != NULL)
                return -1;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (msg != NULL && errnum != 0 && append) {
                /* Go's errno texts, which runc's callers match on, are
                 * lowercase: "no such file or directory". */
                char cause[128];
                snprintf(cause, sizeof(cause), "%s", strerror(errnum));
                cause[0] = (char) tolower((unsigned char) cause[0]);
                if (asprintf(&full, "%s: %s", msg, cause) < 0)
                        full = NULL;
                free(msg);
                msg = full;
        }
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
                free(msg);
                return -1;
        }
        e->status = errnum;
        e->msg = msg != NULL ? msg : strdup("out of memory");
        *err = e;
        return -1;
}

int rv_error_setv(struct rv_error **err, int errnum, const char *fmt, va_list ap)
{
        return error_setv(err, errnum, true, fmt, ap);
}

int rv_error_setx(struct rv_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        error_setv(err, errnum, false, fmt, ap);
        va_end(ap);
        return -1;
}

int rv_error_set(struct rv_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        rv_error_setv(err, errnum, fmt, ap);
        va_end(ap);
        return -1;
}

int rv_error_wrap(struct rv_error **err, const char *fmt, ...)
{
        char *ctx = NULL, *full = NULL;
        va_list ap;

        if (err == NULL || *err == NULL)
                return -1;
        va_start(ap, fmt);
        if (vasprintf(&ctx, fmt, ap) < 0)
                ctx = NULL;
        va_end(ap);
        if (ctx == NULL)
                return -1;
        if (asprintf(&full, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "") >= 0) {
                free((*err)->msg);
                (*err)->msg = full;
        }
        free(ctx);
        return -1;
}

void rv_error_free(struct rv_error *e)
{
        if (e == NULL)
                return;
        free(e->msg);
        free(e);
}

void rv_error_release(struct rv_error **err)
{
        if (err == NULL)
                return;
        rv_error_free(*err);
        *err = NULL;
}
