/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources.cpu.cpus on the host: the VM gets enough vCPUs for the
 * guest cpuset to be written as given, and QEMU's vCPU threads run on the
 * host CPUs it names. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

struct rv_error;

/* Parses a cpuset list ("0-2,5"); *ret_highest is the highest CPU. An
 * empty list is an error. */
int vm_cpuset_parse(const char *list, cpu_set_t *ret, unsigned *ret_highest, struct rv_error **err);

/* qemu_pid: QEMU as /proc numbers it (rv_pidfd_proc_pid). Pins QEMU's vCPU threads (named "CPU N/..." with debug-threads=on):
 * vCPU N to host CPU N when the set has it, to the whole set otherwise.
 * Waits (bounded) for the n_vcpus threads to exist. */
int vm_pin_vcpus(pid_t qemu_pid, const char *cpus, unsigned n_vcpus, int timeout_ms, struct rv_error **err);
