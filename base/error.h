/* SPDX-License-Identifier: Apache-2.0 */
/* Errors carried up the stack with context, printed in one place (main/). */
#pragma once

#include <stdarg.h>

struct rv_error {
        int status;     /* errno of the root cause, 0 when there is none */
        char *msg;      /* "outer context: inner context: cause" */
};

/* Sets *err (first error wins: an existing error is kept) and returns -1.
 * When errnum != 0, ": strerror(errnum)" is appended. */
int rv_error_set(struct rv_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Like rv_error_set, with errnum kept as the status but not appended to
 * the message: for errors whose text is the contract ("container does not
 * exist") and whose status only classifies them. */
int rv_error_setx(struct rv_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int rv_error_setv(struct rv_error **err, int errnum, const char *fmt, va_list ap);

/* Prepends "context: " to the message of *err (if any). Returns -1. */
int rv_error_wrap(struct rv_error **err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

void rv_error_free(struct rv_error *e);
/* Frees *err and sets it to NULL: for dropping a cleanup-time tmp_err. */
void rv_error_release(struct rv_error **err);

static inline void rv_error_freep(struct rv_error **e) { rv_error_release(e); }
#define _cleanup_error_ __attribute__((cleanup(rv_error_freep)))
