/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/ps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "spec/json.h"

struct ps_row {
        long pid, ppid;                 /* in the container's PID namespace */
        long uid;
        char stime[16], tty[16], time[32];
        char *cmd;
};

static char *read_proc(pid_t pid, const char *name, size_t *ret_len)
{
        char path[64], *buf = NULL;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, name);
        if (rv_read_file_at(AT_FDCWD, path, 1 << 20, &buf, ret_len, NULL) < 0)
                return NULL;
        return buf;
}

/* "Key:\tv1\tv2..." in /proc/PID/status: the first or the last value. */
static bool status_field(const char *status, const char *key, bool last, long *ret)
{
        size_t klen = strlen(key);

        for (const char *l = status; l != NULL; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (strncmp(l, key, klen) != 0 || l[klen] != ':')
                        continue;
                const char *p = l + klen + 1, *end = strchr(p, '\n');
                bool found = false;
                if (end == NULL)
                        end = p + strlen(p);
                while (p < end) {
                        char *e;
                        long v = strtol(p, &e, 10);
                        if (e == p)
                                break;
                        *ret = v;
                        found = true;
                        if (!last)
                                break;
                        p = e;
                }
                return found;
        }
        return false;
}

static bool ns_pid(pid_t pid, ino_t *ret_ns, long *ret_nspid)
{
        _cleanup_free_ char *status = read_proc(pid, "status", NULL);
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        if (status == NULL || stat(path, &st) < 0 || !status_field(status, "NSpid", true, ret_nspid))
                return false;
        *ret_ns = st.st_ino;
        return true;
}

static void tty_name(unsigned long nr, char buf[16])
{
        unsigned int major = (unsigned int) ((nr >> 8) & 0xfff);
        unsigned int minor = (unsigned int) ((nr & 0xff) | ((nr >> 12) & 0xfff00));

        if (nr == 0)
                snprintf(buf, 16, "?");
        else if (major >= 136 && major <= 143)
                snprintf(buf, 16, "pts/%u", minor + (major - 136) * 256);
        else if (major == 4 && minor < 64)
                snprintf(buf, 16, "tty%u", minor);
        else if (major == 4)
                snprintf(buf, 16, "ttyS%u", minor - 64);
        else if (major == 5 && minor == 1)
                snprintf(buf, 16, "console");
        else
                snprintf(buf, 16, "%u,%u", major, minor);
}

static long boot_time(void)
{
        _cleanup_free_ char *stat = NULL;
        const char *p;

        if (rv_read_file_at(AT_FDCWD, "/proc/stat", 1 << 20, &stat, NULL, NULL) < 0)
                return 0;
        p = strstr(stat, "\nbtime ");
        return p != NULL ? strtol(p + 7, NULL, 10) : 0;
}

static bool read_row(pid_t pid, long btime, long ticks, struct ps_row *r)
{
        _cleanup_free_ char *stat = read_proc(pid, "stat", NULL), *status = read_proc(pid, "status", NULL);
        _cleanup_free_ char *cmdline = NULL;
        unsigned long long utime, stime, start;
        unsigned long tty;
        long ppid, guest_ppid, nspid, pnspid;
        ino_t ns, pns;
        size_t len = 0;
        char *p;

        if (stat == NULL || status == NULL || !ns_pid(pid, &ns, &nspid))
                return false;
        p = strrchr(stat, ')');
        if (p == NULL || sscanf(p + 2, "%*c %ld %*d %*d %lu %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
                                &guest_ppid, &tty, &utime, &stime, &start) != 5)
                return false;
        r->pid = nspid;
        /* The parent as the container sees it: 0 when outside its
         * namespace (the agent, for the init and exec'ed processes). */
        ppid = 0;
        if (guest_ppid > 0 && ns_pid((pid_t) guest_ppid, &pns, &pnspid) && pns == ns)
                ppid = pnspid;
        r->ppid = ppid;
        if (!status_field(status, "Uid", false, &r->uid))
                r->uid = 0;
        tty_name(tty, r->tty);

        time_t started = (time_t) (btime + (long) (start / (unsigned long long) ticks)), now = time(NULL);
        struct tm tm_start, tm_now;
        gmtime_r(&started, &tm_start);
        gmtime_r(&now, &tm_now);
        if (now - started < 24 * 3600)
                strftime(r->stime, sizeof(r->stime), "%H:%M", &tm_start);
        else if (tm_start.tm_year == tm_now.tm_year)
                strftime(r->stime, sizeof(r->stime), "%b%d", &tm_start);
        else
                strftime(r->stime, sizeof(r->stime), "%Y", &tm_start);

        unsigned long long secs = (utime + stime) / (unsigned long long) ticks;
        if (secs >= 86400)
                snprintf(r->time, sizeof(r->time), "%llu-%02llu:%02llu:%02llu", secs / 86400, secs / 3600 % 24,
                         secs / 60 % 60, secs % 60);
        else
                snprintf(r->time, sizeof(r->time), "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);

        cmdline = read_proc(pid, "cmdline", &len);
        if (cmdline != NULL && len > 0) {
                while (len > 0 && cmdline[len - 1] == '\0')
                        len--;
                for (size_t i = 0; i < len; i++)
                        if (cmdline[i] == '\0')
                                cmdline[i] = ' ';
                cmdline[len] = '\0';
                r->cmd = TAKE_PTR(cmdline);
        } else {
                /* A kernel thread or a zombie: [comm], as ps shows it. */
                char *open = strchr(stat, '('), *close = strrchr(stat, ')');
                if (open != NULL && close != NULL && asprintf(&r->cmd, "[%.*s]", (int) (close - open - 1), open + 1) < 0)
                        r->cmd = NULL;
        }
        return r->cmd != NULL;
}

static int cmp_row(const void *x, const void *y)
{
        const struct ps_row *a = x, *b = y;
        return (a->pid > b->pid) - (a->pid < b->pid);
}

void agent_ps_write(const pid_t *pids, size_t n, struct json_writer *w)
{
        struct ps_row *rows = calloc(n ? n : 1, sizeof(*rows));
        long ticks = sysconf(_SC_CLK_TCK), btime = boot_time();
        size_t m = 0;

        if (ticks <= 0)
                ticks = 100;
        json_write_array_begin(w);
        if (rows == NULL) {
                json_write_array_end(w);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (read_row(pids[i], btime, ticks, &rows[m]))
                        m++;
        qsort(rows, m, sizeof(*rows), cmp_row);
        for (size_t i = 0; i < m; i++) {
                json_write_object_begin(w);
                json_write_key(w, "pid");
                json_write_int64(w, rows[i].pid);
                json_write_key(w, "ppid");
                json_write_int64(w, rows[i].ppid);
                json_write_key(w, "uid");
                json_write_int64(w, rows[i].uid);
                json_write_key(w, "stime");
                json_write_string(w, rows[i].stime);
                json_write_key(w, "tty");
                json_write_string(w, rows[i].tty);
                json_write_key(w, "time");
                json_write_string(w, rows[i].time);
                json_write_key(w, "cmd");
                json_write_string(w, rows[i].cmd);
                json_write_object_end(w);
                free(rows[i].cmd);
        }
        json_write_array_end(w);
        free(rows);
}
