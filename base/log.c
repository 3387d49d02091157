/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The log sink is one of the few globals STYLE.md allows. */
static int log_fd = STDERR_FILENO;
static bool log_to_file;
static bool log_debug;
static enum rv_log_format log_format = RV_LOG_FORMAT_TEXT;

int rv_log_open(const char *path, enum rv_log_format format, bool debug)
{
        log_format = format;
        log_debug = debug;
        if (path == NULL || path[0] == '\0')
                return 0;
        int fd = open(path, O_CREAT | O_WRONLY | O_APPEND | O_SYNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        log_fd = fd;
        log_to_file = true;
        return 0;
}

void rv_log_set_fd(int fd)
{
        int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);

        if (nfd < 0)
                return;
        if (log_to_file)
                close(log_fd);
        log_fd = nfd;
        log_to_file = true;
}

void rv_log_close(void)
{
        if (log_to_file)
                close(log_fd);
        log_fd = STDERR_FILENO;
        log_to_file = false;
}

bool rv_log_debug_enabled(void) { return log_debug; }
bool rv_log_is_file(void) { return log_to_file; }
int rv_log_fd(void) { return log_fd; }

void rv_time_rfc3339(char *buf, unsigned long size, bool nanos)
{
        struct timespec ts;
        struct tm tm;
        char base[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        if (nanos && ts.tv_nsec != 0) {
                /* Go's RFC3339Nano, which callers compare with: no trailing zeros. */
                char frac[16];
                snprintf(frac, sizeof(frac), "%09ld", ts.tv_nsec);
                for (size_t n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
                        frac[n - 1] = '\0';
                snprintf(buf, size, "%s.%sZ", base, frac);
        } else
                snprintf(buf, size, "%sZ", base);
}

void rv_json_escape(FILE *out, const char *s)
{
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"': fputs("\\\"", out); break;
                case '\\': fputs("\\\\", out); break;
                case '\n': fputs("\\n", out); break;
                case '\r': fputs("\\r", out); break;
                case '\t': fputs("\\t", out); break;
                default:
                        if (*p < 0x20)
                                fprintf(out, "\\u%04x", *p);
                        else
                                fputc(*p, out);
                }
        }
}

static const char *level_name(enum rv_log_level level)
{
        switch (level) {
        case RV_LOG_ERROR: return "error";
        case RV_LOG_WARNING: return "warning";
        case RV_LOG_INFO: return "info";
        default: return "debug";
        }
}

static void vlog(enum rv_log_level level, bool tee, const char *fmt, va_list ap)
{
        char *msg = NULL, *line = NULL, ts[40];
        size_t len = 0;
        FILE *out;

        if (level == RV_LOG_DEBUG && !log_debug)
                return;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (msg == NULL)
                return;
        rv_time_rfc3339(ts, sizeof(ts), false);
        out = open_memstream(&line, &len);
        if (out == NULL) {
                free(msg);
                return;
        }
        if (log_format == RV_LOG_FORMAT_JSON) {
                /* Key order and time format are what containerd decodes. */
                fprintf(out, "{\"level\":\"%s\",\"msg\":\"", level_name(level));
                rv_json_escape(out, msg);
                fprintf(out, "\",\"time\":\"%s\"}\n", ts);
        } else {
                fprintf(out, "time=\"%s\" level=%s msg=\"", ts, level_name(level));
                rv_json_escape(out, msg);
                fputs("\"\n", out);
        }
        fclose(out);
        /* One write: lines from concurrent processes never interleave. */
        if (line != NULL) {
                ssize_t r = write(log_fd, line, len);
                if (tee && log_fd != STDERR_FILENO)
                        r = write(STDERR_FILENO, line, len);
                (void) r;
        }
        free(line);
        free(msg);
}

void rv_log(enum rv_log_level level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(level, false, fmt, ap);
        va_end(ap);
}

void rv_log_tee(enum rv_log_level level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(level, true, fmt, ap);
        va_end(ap);
}
