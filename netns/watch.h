/* SPDX-License-Identifier: Apache-2.0 */
/* Reports changes to the container's network namespace after start
 * (see watch.c for why they are reported, not followed). */
#pragma once

#include <stddef.h>

struct rv_error;
struct netconf;
struct netns_watch;

/* interface: the interface's name; change: "added", "removed",
 * "address added", "address removed", "changes lost". */
typedef void (*netns_watch_report_fn)(void *data, const char *interface, const char *change);

/* Watches the current namespace; c is what the guest was given. */
int netns_watch_open(const struct netconf *c, struct netns_watch **ret, struct rv_error **err);
void netns_watch_free(struct netns_watch *w);
int netns_watch_fd(const struct netns_watch *w);
/* Reads what is pending (non-blocking) and reports each change. Returns
 * -errno when the socket failed. */
int netns_watch_read(struct netns_watch *w, netns_watch_report_fn report, void *data);
