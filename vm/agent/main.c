/* SPDX-License-Identifier: Apache-2.0 */
/* runvm-agent: PID 1 of a runvm guest. Boots the guest far enough to run
 * containers, then serves the host over the virtio-serial channel. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "vm/agent/devices-bpf.h"
#include "vm/agent/init.h"
#include "vm/agent/modules.h"
#include "vm/agent/network-pool.h"
#include "vm/agent/power.h"
#include "vm/agent/ram.h"
#include "vm/agent/serve.h"
#include "vm/agent/timing.h"
#include "vm/agent/warm.h"

#define PORT_TIMEOUT_MS 10000

static void fatal(struct rv_error **err)
{
        agent_power_fatal(0, *err != NULL ? (*err)->msg : "unknown error");
}

int main(int argc, char **argv)
{
        /* The rehearsal container's program (vm/agent/warm.h). */
        if (argc == 2 && strcmp(argv[1], AGENT_REHEARSAL_ARG) == 0)
                return 0;
        _cleanup_error_ struct rv_error *err = NULL;
        struct agent_boot_options opts;
        struct agent_bpf_cache progs = { .n = 0 };
        struct agent_pool_netns pool_netns = AGENT_POOL_NETNS_INIT;
        struct agent_ram ram = AGENT_RAM_INIT;
        int port;

        if (getpid() != 1) {
                fprintf(stderr, "runvm-agent: must run as PID 1 of a runvm guest\n");
                return 1;
        }
        rv_log_open(NULL, RV_LOG_FORMAT_TEXT, false);
        if (agent_init_early(&opts, &err) < 0)
                fatal(&err);
        rv_log_open(NULL, RV_LOG_FORMAT_TEXT, opts.debug);
        if (opts.timing || opts.debug)
                agent_timing_enable();
        rv_debug("boot: agent started at %lld ms", (long long) agent_uptime_ms());
        if (agent_modules_load(AGENT_MODULES_ORDER, &err) < 0)
                fatal(&err);
        rv_debug("boot: modules loaded at %lld ms", (long long) agent_uptime_ms());
        if (agent_init_reroot(&err) < 0 || agent_init_mounts(&err) < 0)
                fatal(&err);
        rv_debug("boot: mounts done at %lld ms", (long long) agent_uptime_ms());
        /* Before the pool's prewarm and the first container: what they
         * free, and what the boot freed, goes back to the host. */
        agent_ram_report_order(opts.reporting_order);
        if (opts.halt) {
                rv_log(RV_LOG_INFO, "runvm-agent: up at %lld ms, halting (runvm.halt=1)",
                       (long long) agent_uptime_ms());
                agent_power_off();
        }
        /* A pool VM has the time: nobody waits for its hello. A spare
         * network namespace waits for a container without an interface,
         * and both lo are brought up (this also pays the boot's first
         * network namespace, which the first container made after the
         * boot would: docs/PERFORMANCE.md, "The fixed cost"). */
        if (opts.prewarm && !opts.probe) {
                /* A VM that cannot keep its NICs from a container without
                 * an interface must not serve: the pool boots another. */
                if (agent_network_pool_prepare(&pool_netns, &err) < 0)
                        fatal(&err);
                agent_warm_run(&progs);
        }
        /* The KVM probe only needs to hear the agent answer: it has no
         * share to mount and no container to seed entropy for. */
        if (!opts.probe) {
                /* RAM left out at boot (mem=) is added as it is used. */
                if (agent_ram_init(&ram, &err) < 0) {
                        rv_warn("RAM: %s", err->msg);
                        rv_error_release(&err);
                }
                if (agent_init_entropy(&err) < 0) {
                        rv_warn("entropy: %s", err->msg);
                        rv_error_release(&err);
                }
                /* Without the share no container can be made, but the host
                 * still gets answers (and a clear error on create). */
                if (agent_init_shared(&err) < 0) {
                        rv_log(RV_LOG_ERROR, "runvm-agent: %s", err->msg);
                        rv_error_release(&err);
                }
        }
        port = agent_init_channel_open(PORT_TIMEOUT_MS, &err);
        if (port < 0)
                fatal(&err);
        int64_t ready = agent_uptime_ms();
        rv_debug("boot: ready at %lld ms", (long long) ready);
        if (opts.timing && !opts.debug)
                rv_log(RV_LOG_INFO, "timing: boot: ready at %lld ms", (long long) ready);
        agent_serve(port, opts.debug, ready, &progs, &pool_netns, &ram);
}
