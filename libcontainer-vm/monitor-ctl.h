/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's ctl.sock server (monitor-ctl.c owns it): connections
 * read inside the loop, one handler per command, the answers from the
 * guest passed on, `events` subscribers. */
#pragma once

struct agent_request;
struct channel_message;
struct monitor;
struct monitor_ctl;
struct rv_error;

struct monitor_ctl *monitor_ctl_new(void);
/* Creates ctl.sock in the state dir. */
int monitor_ctl_listen(struct monitor *m, struct rv_error **err);
/* For the loop: the socket's and connections' watches; drops
 * connections past their deadline (returns ms until the next, or -1). */
int monitor_ctl_watch(struct monitor *m, struct rv_error **err);
int monitor_ctl_expire(struct monitor *m);
/* Answers a client whose request the guest answered. */
void monitor_reply_client(struct monitor *m, const struct agent_request *p, const struct channel_message *msg);
/* The end: connections and the socket go. */
void monitor_ctl_close(struct monitor *m);
/* A failed create: only the socket's name goes. */
void monitor_ctl_unlink(struct monitor *m);
