/* SPDX-License-Identifier: Apache-2.0 */
#include "main/signals.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <strings.h>

#include "base/error.h"

/* The names Go's unix.SignalNum knows on Linux, plus glibc's aliases. */
static const struct { const char *name; int num; } signal_names[] = {
        { "HUP", SIGHUP },      { "INT", SIGINT },       { "QUIT", SIGQUIT },
        { "ILL", SIGILL },      { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },
        { "IOT", SIGIOT },      { "BUS", SIGBUS },       { "FPE", SIGFPE },
        { "KILL", SIGKILL },    { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },    { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },
        { "TERM", SIGTERM },    { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
        { "CLD", SIGCHLD },     { "CONT", SIGCONT },     { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP },    { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },
        { "URG", SIGURG },      { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },
        { "VTALRM", SIGVTALRM },{ "PROF", SIGPROF },      { "WINCH", SIGWINCH },
        { "IO", SIGIO },        { "POLL", SIGPOLL },     { "PWR", SIGPWR },
        { "SYS", SIGSYS },
};

static bool parse_number(const char *s, long *ret)
{
        char *end = NULL;
        long v;

        if (s[0] == '\0' || isspace((unsigned char) s[0]))
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0')
                return false;
        *ret = v;
        return true;
}

int cli_signal_parse(const char *s, int *ret, struct rv_error **err)
{
        const char *name = s;
        long num;

        if (parse_number(s, &num)) {
                if (num < 0 || num > SIGRTMAX)
                        return rv_error_set(err, 0, "unknown signal \"%s\"", s);
                *ret = (int) num;
                return 0;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
                if (strcasecmp(name, signal_names[i].name) == 0) {
                        *ret = signal_names[i].num;
                        return 0;
                }
        }
        return rv_error_set(err, 0, "unknown signal \"%s\"", s);
}
