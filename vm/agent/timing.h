/* SPDX-License-Identifier: Apache-2.0 */
/* The steps of a container's set-up, timed with CLOCK_MONOTONIC when
 * runvm --debug put runvm.debug=1 on the guest's command line, or
 * runvm.timing=1 did (`kernel_params` in runvm.conf: timing without the
 * debug log, whose console lines cost milliseconds each under TCG). Steps
 * are only recorded while they run and logged as one line at the end:
 * "timing: create `c1`: 41.2 ms: spec 1.1, cgroup 3.0, ...". The
 * container's init records its own steps in its forked copy and hands
 * them over as text in its READY report. docs/PERFORMANCE.md has the
 * figures. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_TIMER_STEPS 24

struct agent_timer {
        bool on;                        /* timing was enabled at the start */
        int64_t start_ns, last_ns;
        size_t n;
        struct { const char *name; int64_t ns; } steps[AGENT_TIMER_STEPS];
};

/* Once at boot, from the command line: timers record from now on. */
void agent_timing_enable(void);

void agent_timer_start(struct agent_timer *t);
/* Records the time since the previous step under name (a string literal).
 * t may be NULL (nothing timed). */
void agent_timer_step(struct agent_timer *t, const char *name);
/* "name ms, name ms, ..." of the steps so far (empty when off). */
void agent_timer_format(const struct agent_timer *t, char *buf, size_t size);
/* Milliseconds since the start. */
double agent_timer_total_ms(const struct agent_timer *t);
