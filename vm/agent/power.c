/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/power.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/proc.h"

void agent_power_off(void)
{
        /* Every process but PID 1 goes; the reaping below is bounded by
         * the number of children, none of which can survive SIGKILL. */
        int64_t deadline = rv_now_ms() + 1000;

        kill(-1, SIGKILL);
        /* Reap what died; a process stuck in the kernel (a virtio-fs
         * request) must not hold the power-off for long. */
        while (rv_now_ms() < deadline) {
                pid_t pid = waitpid(-1, NULL, WNOHANG);
                if (pid < 0 && errno != EINTR)
                        break;          /* ECHILD: no children left */
                if (pid == 0)
                        usleep(1000);
        }
        sync();
        umount2("/run/runvm/shared", MNT_DETACH);
        /* On microvm the kernel's ACPI power-off (the GED sleep register)
         * makes QEMU exit at once. Without ACPI (acpi=off, vm/qemu/argv.c)
         * the kernel turns a power-off into a halt that never returns, so
         * a reset it is: QEMU exits on it (-no-reboot). */
        if (access("/sys/firmware/acpi", F_OK) == 0)
                reboot(RB_POWER_OFF);
        reboot(RB_AUTOBOOT);
        /* Unreachable unless both are refused: halting keeps PID 1 alive. */
        for (;;)
                pause();
}

void agent_power_fatal(int errnum, const char *msg)
{
        if (errnum != 0)
                rv_log(RV_LOG_ERROR, "runvm-agent: fatal: %s: %s", msg, strerror(errnum));
        else
                rv_log(RV_LOG_ERROR, "runvm-agent: fatal: %s", msg);
        agent_power_off();
}
