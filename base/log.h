/* SPDX-License-Identifier: Apache-2.0 */
/* The log sink: runc's text or JSON lines, to --log or stderr. */
#pragma once

#include <stdbool.h>

enum rv_log_level { RV_LOG_ERROR, RV_LOG_WARNING, RV_LOG_INFO, RV_LOG_DEBUG };
enum rv_log_format { RV_LOG_FORMAT_TEXT, RV_LOG_FORMAT_JSON };

/* path NULL: log to stderr. Returns -errno when the file cannot be opened. */
int rv_log_open(const char *path, enum rv_log_format format, bool debug);
/* Makes the sink write to fd (dup'ed) instead: the monitor uses this. */
void rv_log_set_fd(int fd);
void rv_log_close(void);
bool rv_log_debug_enabled(void);
/* True when the sink is not stderr (errors must then also go to stderr). */
bool rv_log_is_file(void);
int rv_log_fd(void);

void rv_log(enum rv_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
#define rv_debug(...) rv_log(RV_LOG_DEBUG, __VA_ARGS__)
#define rv_warn(...) rv_log(RV_LOG_WARNING, __VA_ARGS__)
/* As rv_log, and on stderr too when the log is a file: for what the
 * caller must see (runc's warnings reach both). */
void rv_log_tee(enum rv_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* RFC 3339, UTC; with nanos "2026-11-23T16:18:34.123456789Z". */
void rv_time_rfc3339(char *buf, unsigned long size, bool nanos);
/* Appends s as a JSON string body (no quotes) to the open FILE. */
struct _IO_FILE;
void rv_json_escape(struct _IO_FILE *out, const char *s);
