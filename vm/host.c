/* SPDX-License-Identifier: Apache-2.0 */
/* What the host offers a VM: the TSC frequency (KVM: vm/qemu/accel.c). */
#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"

static uint64_t monotonic_raw_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* TSC ticks against CLOCK_MONOTONIC_RAW over ~50 ms, best of three (a
 * preemption only ever makes one sample longer, never shorter). */
static uint32_t measure_tsc_khz(void)
{
        uint64_t best = 0;

        for (int i = 0; i < 3; i++) {
                uint64_t t0 = monotonic_raw_ns(), c0 = __rdtsc();
                struct timespec d = { 0, 50 * 1000 * 1000 };
                nanosleep(&d, NULL);
                uint64_t c1 = __rdtsc(), t1 = monotonic_raw_ns();
                uint64_t khz = (c1 - c0) * 1000000ull / (t1 - t0);
                if (best == 0 || khz < best)
                        best = khz;
        }
        return (uint32_t) best;
}

int vm_host_tsc_khz(const char *cache_dir, uint32_t *ret_khz, struct rv_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = -EBADF;
        uint32_t khz;
        char buf[32];

        if (cache_dir) {
                dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0 && rv_read_file_at(dfd, "tsc_khz", 64, &text, NULL, NULL) == 0) {
                        char *end;
                        unsigned long v = strtoul(text, &end, 10);
                        if (end != text && (*end == '\n' || *end == '\0') && v > 100000 && v < 100000000) {
                                *ret_khz = (uint32_t) v;
                                return 0;
                        }
                }
        }
        khz = measure_tsc_khz();
        if (khz < 100000)
                return rv_error_setx(err, EIO, "measure the host TSC frequency: got %u kHz", khz);
        if (dfd >= 0) {
                int n = snprintf(buf, sizeof(buf), "%u\n", khz);
                /* A cache that cannot be written costs 150 ms next time, nothing else. */
                struct rv_error *tmp_err = NULL;
                rv_write_file_atomic(dfd, "tsc_khz", buf, (size_t) n, 0644, &tmp_err);
                rv_error_release(&tmp_err);
        }
        *ret_khz = khz;
        return 0;
}
