/* SPDX-License-Identifier: Apache-2.0 */
/* What the first container of a boot pays the kernel for and the next
 * ones would not (measured under TCG: the first cgroup made with every
 * controller ~25 ms, the first BPF program load ~20 ms, the first pid
 * namespace and proc/devpts/mqueue instances ~10 ms), paid instead by a
 * helper process forked as soon as cgroup2 is mounted. It runs while the
 * agent waits: for virtio-fs's handshake, for the host to connect and
 * send hello, and between configure_network and create_container while
 * the host runs its hooks. At normal priority: at SCHED_IDLE it was still
 * running when create_container came, which then waited on it.
 * docs/PERFORMANCE.md ("guest set-up") has the figures. */
#pragma once

/* Forks the helper. Its exit is reaped by the agent's SIGCHLD loop like
 * any orphan's. Failures only cost the time they would have saved. */
void agent_warm_start(void);
