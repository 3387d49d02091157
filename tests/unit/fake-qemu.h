/* SPDX-License-Identifier: Apache-2.0 */
/* A fake QEMU monitor for unit tests: a forked child on one end of a
 * socketpair that greets, then answers the n-th command it reads with
 * replies[n] (printf templates given the command's id as one %d), then
 * exits, or waits to be killed when linger is set. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline pid_t fake_qemu_start(int fd, const char *const *replies, size_t n, bool linger)
{
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        char buf[4096], out[1024];
        const char *greet = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n";
        if (write(fd, greet, strlen(greet)) < 0)
                _exit(1);
        for (size_t i = 0; i < n; i++) {
                ssize_t got = read(fd, buf, sizeof(buf) - 1);
                if (got <= 0)
                        _exit(1);
                buf[got] = '\0';
                const char *id = strstr(buf, "\"id\":");
                snprintf(out, sizeof(out), replies[i], id ? atoi(id + 5) : 0);
                if (write(fd, out, strlen(out)) < 0)
                        _exit(1);
        }
        while (linger)
                pause();
        _exit(0);
}
