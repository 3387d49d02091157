/* SPDX-License-Identifier: Apache-2.0 */
/* A pod member's side (docs/ARCHITECTURE.md, "Pods"): its guest spec
 * placed under its own part of the sandbox's export, and its own small
 * monitor: the pid callers see, a child of the caller, which hands the
 * member to the sandbox's monitor (CTL_MEMBER, monitor-pod.h), forwards
 * the signals sent to it, and exits with the member's status. */
#pragma once

struct monitor_options;
struct rv_error;
struct spec_config;
struct vm_plan;

/* Where a member's shares sit in the sandbox's export. */
#define POD_MEMBERS_DIR ".runvm-pods"

/* Before translate: the ipc and uts paths that are the sandbox's (bits
 * of joined: 1 << STATE_NS_*) are taken out, since in the guest they are
 * the sandbox container's namespaces, not these host paths. */
void pod_member_strip_paths(struct spec_config *spec, unsigned joined);
/* In *joined beside the 1 << STATE_NS_* bits: the spec joins the
 * sandbox's pid namespace. */
#define POD_JOINED_PID (1u << 16)

/* Before translate: a pid namespace path that is the sandbox's (its
 * monitor's pid, as engines name it) is taken out and POD_JOINED_PID set;
 * another pid path is refused in words. */
int pod_member_take_pid(const char *root, const char *sandbox, struct spec_config *spec, unsigned *joined,
                        struct rv_error **err);
/* After translate: shares and guest sources under POD_MEMBERS_DIR/<id>/;
 * the ipc, uts (and pid) joined name the sandbox's in the guest. Its
 * block devices are hot-plugged into the sandbox's VM (the sandbox's
 * monitor does it, monitor-pod.c). */
int pod_member_guest_spec(struct spec_config *guest, struct vm_plan *plan, const char *sandbox,
                          const char *id, unsigned joined, struct rv_error **err);
/* The member's limits fit in its sandbox's VM (pod-size.h). */
int pod_member_check(const char *root, const char *sandbox, const struct spec_config *spec,
                     struct rv_error **err);
/* In the forked child, as monitor_main: never returns. */
_Noreturn void pod_member_main(struct monitor_options *o, const char *sandbox);
