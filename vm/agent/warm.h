/* SPDX-License-Identifier: Apache-2.0 */
/* What the first container of a boot pays the kernel for and the next
 * ones would not (measured under TCG: the first cgroup made with every
 * controller ~25 ms, the first BPF program load ~20-50 ms, the first pid
 * namespace and proc/devpts/mqueue instances ~10 ms). A warm pool VM
 * (runvm.prewarm=1, docs/ARCHITECTURE.md "Warm pool") pays them before it
 * says hello, while nobody waits for it; a cold boot does not (on the
 * guest's one vCPU a helper only moved the cost: docs/PERFORMANCE.md,
 * "Guest set-up"). */
#pragma once

struct agent_bpf_cache;

/* The program of the rehearsal container (below) is the agent itself,
 * which exits 0 at once when given this as its only argument. */
#define AGENT_REHEARSAL_ARG "--rehearsal-noop"

/* Loads the default spec's device program into progs (kept for the
 * containers), then pays the rest in a child (its namespaces go with it)
 * and waits for it: the first-time costs above, and one throw-away
 * container of the default spec made, started and ended (its code paths
 * translated once: docs/PERFORMANCE.md, "A rehearsal container"). Failures
 * only cost the time they would have saved. */
void agent_warm_run(struct agent_bpf_cache *progs);
