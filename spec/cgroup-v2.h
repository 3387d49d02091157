/* SPDX-License-Identifier: Apache-2.0 */
/* The spec's cgroup v1 numbers in v2's ranges, as runc converts them:
 * the guest's cgroup (vm/agent/cgroup.c) and the host's
 * (libcontainer-vm/cgroup-limits.c) write the same values. */
#pragma once

#include <stdint.h>

/* runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000];
 * 0 (unset) stays 0. */
uint64_t spec_cpu_shares_to_weight(uint64_t shares);
/* runc's ConvertBlkIOToIOWeightValue: [10, 1000] onto [1, 10000]; 0
 * (unset) stays 0. */
uint64_t spec_blkio_to_io_weight(uint64_t weight);
