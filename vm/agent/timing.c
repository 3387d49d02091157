/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/timing.h"

#include <stdio.h>
#include <time.h>


static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parsed configuration (the kernel command line), set once at boot. */
static bool timing_enabled;

void agent_timing_enable(void)
{
        timing_enabled = true;
}

void agent_timer_start(struct agent_timer *t)
{
        *t = (struct agent_timer) { .on = timing_enabled };
        if (t->on)
                t->start_ns = t->last_ns = now_ns();
}

void agent_timer_step(struct agent_timer *t, const char *name)
{
        int64_t now;

        if (t == NULL || !t->on || t->n == AGENT_TIMER_STEPS)
                return;
        now = now_ns();
        t->steps[t->n].name = name;
        t->steps[t->n].ns = now - t->last_ns;
        t->n++;
        t->last_ns = now;
}

void agent_timer_format(const struct agent_timer *t, char *buf, size_t size)
{
        size_t off = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        for (size_t i = 0; t->on && i < t->n && off < size; i++) {
                int n = snprintf(buf + off, size - off, "%s%s %.1f", i ? ", " : "", t->steps[i].name,
                                 (double) t->steps[i].ns / 1e6);
                if (n < 0)
                        break;
                off += (size_t) n;
        }
}

double agent_timer_total_ms(const struct agent_timer *t)
{
        return t->on ? (double) (now_ns() - t->start_ns) / 1e6 : 0;
}
