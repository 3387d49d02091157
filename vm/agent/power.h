/* SPDX-License-Identifier: Apache-2.0 */
/* Ending the VM: PID 1 never exits, it powers the machine off. */
#pragma once

#include <stdbool.h>

/* Kills every process, syncs, unmounts what can be unmounted and powers
 * off so that QEMU exits. Never returns. */
__attribute__((noreturn)) void agent_power_off(void);

/* Logs msg (with an error status when errnum != 0) to the console, then
 * agent_power_off(). For fatal boot errors. */
__attribute__((noreturn)) void agent_power_fatal(int errnum, const char *msg);
