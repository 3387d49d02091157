/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/qemu/diagnose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/text.h"

#define REASON_MAX 300

/* The rest of the line that starts at p, printable, at most REASON_MAX. */
static char *line_from(const char *p)
{
        size_t n = strcspn(p, "\r\n");
        if (n > REASON_MAX)
                n = REASON_MAX;
        char *s = strndup(p, n);
        if (s == NULL)
                return NULL;
        /* The console is the guest's: no control character (C1 included)
         * reaches the caller's terminal. */
        rv_text_sanitize(s);
        /* Trailing blanks say nothing. */
        for (size_t len = strlen(s); len > 0 && s[len - 1] == ' '; len--)
                s[len - 1] = '\0';
        return s;
}

/* The first occurrence of needle at the start of a line (after any
 * "[    0.123456] " timestamp), or NULL. */
static const char *find_line(const char *text, const char *needle)
{
        for (const char *p = text; p && *p;) {
                const char *q = p;
                if (*q == '[') {
                        const char *close = strchr(q, ']');
                        const char *eol = strchr(q, '\n');
                        if (close && (eol == NULL || close < eol))
                                q = close + 1 + (close[1] == ' ');
                }
                if (strncmp(q, needle, strlen(needle)) == 0)
                        return q;
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return NULL;
}

char *vm_console_explanation(const char *console)
{
        const char *hit;

        if (console == NULL)
                return NULL;
        if ((hit = find_line(console, "Kernel panic - not syncing: ")))
                return line_from(hit);
        /* The agent logs as runc does: time="..." level=error msg="runvm-agent: fatal: ..." */
        if ((hit = strstr(console, "runvm-agent: fatal: "))) {
                char *s = line_from(hit);
                size_t len = s ? strlen(s) : 0;
                if (len > 0 && s[len - 1] == '"')
                        s[len - 1] = '\0';
                return s;
        }
        return NULL;
}

/* QEMU's first own message: "qemu-system-x86_64: error: X" -> "X". */
static char *qemu_message(const char *log)
{
        for (const char *p = log; p && *p;) {
                if (strncmp(p, "qemu-system-", strlen("qemu-system-")) == 0) {
                        const char *colon = strstr(p, ": ");
                        const char *eol = strchr(p, '\n');
                        if (colon && (eol == NULL || colon < eol)) {
                                const char *msg = colon + 2;
                                if (strncmp(msg, "error: ", 7) == 0)
                                        msg += 7;
                                /* -chardev/-device prefixes name the option at fault. */
                                return line_from(msg);
                        }
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return NULL;
}

static char *prefixed(const char *prefix, char *s)
{
        char *out = NULL;
        if (s == NULL)
                return NULL;
        if (asprintf(&out, "%s%s", prefix, s) < 0)
                out = NULL;
        free(s);
        return out;
}

char *vm_failure_reason(const struct vm_failure *f)
{
        const char *qlog = f->qemu_log ? f->qemu_log : "";
        const char *state = f->run_state ? f->run_state : "";
        char *s;

        if (strcmp(state, "internal-error") == 0 || strstr(qlog, "KVM internal error")) {
                bool emulation = strstr(qlog, "emulation failure") != NULL;
                return strdup(emulation ? "the guest stopped with a KVM internal error (emulation failure)"
                                        : "the guest stopped with a KVM internal error");
        }
        if ((s = vm_console_explanation(f->console_log))) {
                /* "Kernel panic - not syncing: X" reads better as what it is. */
                const char *panic = "Kernel panic - not syncing: ";
                if (strncmp(s, panic, strlen(panic)) == 0) {
                        char *rest = strdup(s + strlen(panic));
                        free(s);
                        return prefixed("the guest kernel panicked: ", rest);
                }
                return s;
        }
        if (strcmp(state, "guest-panicked") == 0)
                return strdup("the guest kernel panicked");
        if ((s = qemu_message(qlog)))
                return prefixed("qemu: ", s);
        if (strcmp(state, "shutdown") == 0 || (f->exited && WIFEXITED(f->wait_status) &&
                                                WEXITSTATUS(f->wait_status) == 0))
                return strdup("the guest powered off");
        if (f->exited && WIFSIGNALED(f->wait_status)) {
                char *out = NULL;
                if (asprintf(&out, "qemu was killed by signal %d", WTERMSIG(f->wait_status)) < 0)
                        return NULL;
                return out;
        }
        if (f->exited && WIFEXITED(f->wait_status)) {
                char *out = NULL;
                if (asprintf(&out, "qemu exited with status %d", WEXITSTATUS(f->wait_status)) < 0)
                        return NULL;
                return out;
        }
        if (*state && strcmp(state, "running") != 0) {
                char *out = NULL;
                if (asprintf(&out, "the VM is in state `%s`", state) < 0)
                        return NULL;
                return out;
        }
        return NULL;
}
