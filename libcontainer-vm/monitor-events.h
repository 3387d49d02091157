/* SPDX-License-Identifier: Apache-2.0 */
/* `runvm events` subscribers (monitor-events.c owns them). */
#pragma once

struct monitor;
struct monitor_events;
struct rv_error;

struct monitor_events *monitor_events_new(void);
/* fd (an answered CTL_EVENTS connection) gets every later event; -1 when
 * out of memory. */
int monitor_events_subscribe(struct monitor *m, int fd);
/* One JSON line to every subscriber. */
void monitor_events_publish(struct monitor *m, const char *event_json);
/* For the loop: watches (a subscriber that hangs up leaves); frees those
 * that left during a turn. */
int monitor_events_watch(struct monitor *m, struct rv_error **err);
void monitor_events_after_turn(struct monitor *m);
/* The end, last of all: a caller whose `events` ended finds the
 * container stopped. */
void monitor_events_close(struct monitor *m);

/* The same for another list of subscribers (a pod member's, whose
 * requests this monitor serves: monitor-pod.c). A list's owner frees
 * it with free() after monitor_events_close_list. */
int monitor_events_add(struct monitor_events *ev, int fd);
void monitor_events_send(struct monitor *m, struct monitor_events *ev, const char *event_json);
int monitor_events_watch_list(struct monitor *m, struct monitor_events *ev, struct rv_error **err);
/* Frees those that left; only between turns. */
void monitor_events_reap(struct monitor_events *ev);
void monitor_events_close_list(struct monitor *m, struct monitor_events *ev);
