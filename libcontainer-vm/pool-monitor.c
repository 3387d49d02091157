/* SPDX-License-Identifier: Apache-2.0 */
#include "libcontainer-vm/pool-monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/proc.h"
#include "libcontainer-vm/agent-client.h"
#include "libcontainer-vm/config.h"
#include "libcontainer-vm/container.h"
#include "libcontainer-vm/monitor-agent.h"
#include "libcontainer-vm/monitor-ctl.h"
#include "libcontainer-vm/monitor-events.h"
#include "libcontainer-vm/monitor-exec.h"
#include "libcontainer-vm/monitor-loop.h"
#include "libcontainer-vm/monitor-net.h"
#include "libcontainer-vm/monitor-pod.h"
#include "libcontainer-vm/monitor-shared.h"
#include "libcontainer-vm/monitor-state.h"
#include "libcontainer-vm/monitor-vm.h"
#include "libcontainer-vm/pool-nic.h"
#include "libcontainer-vm/state.h"
#include "libcontainer-vm/translate.h"
#include "spec/config.h"

/* A claim not followed by a member this long: its create died between. */
#define CLAIM_TIMEOUT_MS 30000
/* The loop wakes this often to look for a claim file. */
#define TICK_MS 500

/* Its VM is gone (or never came): nothing of the slot stays. The
 * processes go with the VM (vm_destroy waits for them). */
_Noreturn static void pool_end(struct monitor *m, const char *proot, const char *name, int status)
{
        struct rv_error *tmp_err = NULL;

        monitor_pod_close(m);
        monitor_ctl_close(m);
        pool_nic_end(m);
        monitor_vm_destroy(m);
        monitor_net_teardown(m);
        state_clear_procs(m->o->state);
        if (state_dir_remove(proot, name, &tmp_err) < 0) {
                rv_log(RV_LOG_WARNING, "remove the slot: %s", tmp_err->msg);
                rv_error_release(&tmp_err);
        }
        _exit(status);
}

_Noreturn void pool_monitor_main(const struct runvm_context *ctx, const struct runvm_config *cfg,
                                 unsigned memory_mib, unsigned vcpus, const char *proot, const char *name)
{
        struct state_dir dir = STATE_DIR_INIT;
        struct container_state *st = NULL;
        struct spec_config empty = { 0 };
        struct vm_plan plan = { .memory_mib = memory_mib, .vcpus = vcpus };
        struct rv_error *err = NULL;

        prctl(PR_SET_NAME, "runvm-pool");
        if (state_dir_open(proot, name, false, &dir, &err) < 0 || state_load(dir.dirfd, &st, &err) < 0)
                _exit(1);
        int logfd = openat(dir.dirfd, "monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd >= 0) {
                rv_log_set_fd(logfd);
                close(logfd);
        }
        /* The guest pays its first-time costs before it says hello
         * (vm/agent/warm.h): nobody waits for a pool VM's boot. */
        struct runvm_config warm_cfg = *cfg;
        _cleanup_free_ char *params = NULL;
        if (asprintf(&params, "%s%srunvm.prewarm=1", cfg->kernel_params ? cfg->kernel_params : "",
                     cfg->kernel_params ? " " : "") < 0)
                _exit(1);
        warm_cfg.kernel_params = params;
        struct monitor_options o = {
                .ctx = ctx, .cfg = &warm_cfg, .guest_spec = &empty, .plan = &plan, .dir = &dir, .state = st,
                .sync_fd = -1, .tty = MONITOR_TTY_NONE,
        };
        struct monitor m = {
                .o = &o, .sigfd = -1, .tty_fd = -1, .init = PROC_IO_INIT, .ns = MONITOR_NS_INIT,
                .status_before_pause = CONTAINER_RUNNING, .pool_tap_fd = -1,
        };
        m.ns.host_pid = getpid();
        m.agent = agent_client_new(name, MAX_PENDING, &monitor_agent_ops, &m);
        m.ctl = monitor_ctl_new();
        m.execs = monitor_execs_new();
        m.events = monitor_events_new();
        m.pod = monitor_pod_new();
        if (m.agent == NULL || m.ctl == NULL || m.execs == NULL || m.events == NULL || m.pod == NULL)
                rv_error_set(&err, ENOMEM, "pool monitor");
        /* Namespaces of its own, as a cold container's monitor has: the
         * member joins them (pod-member.c), so the host-side network
         * namespace of a container without one of its own is this new
         * one, with only lo (the NIC's TAP is runvm's: never mirrored). */
        if (err == NULL && unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
                rv_error_set(&err, errno, "unshare namespaces");
        int64_t t0 = rv_now_ms();
        if (err != NULL || loop_init(&m.loop, &err) < 0 || monitor_net_setup(&m, &err) < 0 ||
            pool_nic_open(&m, &err) < 0 || monitor_vm_boot(&m, &err) < 0 ||
            (pool_nic_vm_started(&m), monitor_net_configure(&m, &err)) < 0 ||
            monitor_ctl_listen(&m, &err) < 0 || monitor_record(&m, CONTAINER_CREATED, &err) < 0) {
                rv_log(RV_LOG_ERROR, "warm pool VM %s: %s", name, err ? err->msg : "failed");
                pool_end(&m, proot, name, 1);
        }
        rv_log(RV_LOG_INFO, "warm pool VM ready in %lld ms", (long long) (rv_now_ms() - t0));
        monitor_vm_free_leftovers(&m);

        bool served = false;
        int64_t claimed_at = -1;
        for (;;) {
                if (monitor_pod_any(&m))
                        served = true;
                else if (served)
                        break;                  /* its container is gone: so is the VM */
                if (claimed_at < 0 && faccessat(dir.dirfd, POOL_CLAIM_FILE, F_OK, 0) == 0)
                        claimed_at = rv_now_ms();
                if (!served && claimed_at >= 0 && rv_now_ms() - claimed_at > CLAIM_TIMEOUT_MS) {
                        rv_log(RV_LOG_WARNING, "claimed, but no container came in %d ms", CLAIM_TIMEOUT_MS);
                        break;
                }
                if (monitor_loop_once(&m, TICK_MS, &err) < 0) {
                        rv_log(RV_LOG_ERROR, "%s", err->msg);
                        rv_error_release(&err);
                        m.vm_gone = true;
                        break;
                }
                if (m.exited)
                        break;
        }
        pool_end(&m, proot, name, 0);
}
