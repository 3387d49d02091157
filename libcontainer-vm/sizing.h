/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's size from the container's resources (docs/RESOURCES.md):
 * memory = the memory limit + base_memory_mib (never under
 * VM_MIN_MEMORY_MIB; rounded up to a whole RAM block where that lets the
 * guest boot with boot_memory_mib), or default_memory_mib without a
 * limit; vCPUs =
 * ceil(quota / period), else enough for cpu.cpus, else default_vcpus; at
 * least one vCPU for the highest CPU cpu.cpus names, at most max_vcpus.
 * The annotations org.runvm.vm.memory_mib and org.runvm.vm.vcpus replace
 * the computed values, within the same bounds. Pure: unit-tested. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct rv_error;
struct spec_config;
struct runvm_config;

#define VM_ANNOTATION_MEMORY_MIB "org.runvm.vm.memory_mib"
#define VM_ANNOTATION_VCPUS "org.runvm.vm.vcpus"

/* host_memory_mib: the host's RAM (a VM bigger cannot boot). Fills
 * *ret_memory_mib and *ret_vcpus. */
int vm_size_plan(const struct spec_config *c, const struct runvm_config *cfg, uint64_t host_memory_mib,
                 unsigned *ret_memory_mib, unsigned *ret_vcpus, struct rv_error **err);
/* Nothing asked for a vCPU count (no quota, no cpu.cpus, no annotation)
 * and default_vcpus is 0: the host's CPUs under KVM, but one under TCG,
 * where each vCPU is a host thread emulating a CPU and bringing up the
 * second costs more of the boot than it gives an ordinary container
 * (docs/RESOURCES.md). */
bool vm_size_vcpus_follow_accel(const struct spec_config *c, const struct runvm_config *cfg);
