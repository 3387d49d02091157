/* SPDX-License-Identifier: Apache-2.0 */
/* Host networking (DESIGN.md §5): the container's network namespace, as
 * the engine (podman, containerd, CNI, a hook) made it, mirrored into the
 * VM. The monitor lives in that namespace; there it
 *
 *   1. scans it (netns_scan): every interface but lo with its MAC, MTU and
 *      addresses, the routes of every table, the policy rules, and the
 *      neighbour entry of each gateway (resolved now if the table has
 *      none yet), as a netconf for the guest;
 *   2. wires each interface to the VM (netns_wire): a TAP next to it and
 *      tc ingress qdiscs with mirred redirects both ways, so every frame
 *      the interface receives leaves through the TAP to the guest and
 *      every frame the guest sends leaves through the interface. The
 *      interface keeps its addresses: the engine's view is unchanged;
 *   3. undoes exactly that (netns_unwire), from the monitor, or from
 *      `delete` after the monitor died (netns_record_cleanup).
 *
 * The TAPs are not persistent: they vanish with the last fd (QEMU's and
 * the monitor's), so a SIGKILLed monitor leaves only the ingress qdisc or
 * filter on the engine's interfaces, which the record lets delete remove. */
#pragma once

#include "base/cleanup.h"
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;
struct netconf;
struct json_value;
struct json_writer;

/* The tc filter priority runvm's redirects use (tc's `prio`). */
#define NETNS_FILTER_PRIO 0xc0de

/* One interface of the netns mirrored into the VM. */
struct netns_nic {
        char name[IFNAMSIZ];            /* the engine's interface (eth0) */
        char tap[IFNAMSIZ];             /* runvm's TAP next to it */
        uint8_t mac[6];
        uint32_t mtu;
        bool ingress_created;           /* the ingress qdisc on name is runvm's */
        int tap_fd;                     /* -1 when not open here */
};

/* What state.json keeps so a later `delete` can clean up. */
struct netns_record {
        char *netns_path;               /* NULL: a namespace nobody else holds */
        struct netns_nic *nics;
        size_t n_nics;
};

/* Scans the current network namespace. Interfaces that cannot be mirrored
 * (not Ethernet and up: a WireGuard or IP tunnel in use) fail with a
 * specific error; ones that are down and not Ethernet (the sit0/tunl0
 * every namespace gets) are skipped. */
int netns_scan(struct netconf **ret, struct rv_error **err);

/* How many interfaces netns_scan would mirror (or its error for one that
 * cannot be), from the interfaces alone: no gateway is resolved. */
int netns_count(size_t *ret, struct rv_error **err);

/* tapN_runvm: a TAP runvm made (never mirrored, never reported). */
bool netns_is_runvm_tap(const char *name);

/* Plans one nic per interface of c: TAP names, whether the interface
 * already has an ingress qdisc. Changes nothing. */
int netns_plan(const struct netconf *c, struct netns_nic **ret, size_t *ret_n, struct rv_error **err);
/* Creates the TAPs and redirects planned; on failure everything made is
 * removed again. Each nic's tap_fd is then open (for QEMU). */
int netns_wire(struct netns_nic *nics, size_t n, struct rv_error **err);
/* Removes runvm's TAPs, qdiscs and filters in the current namespace.
 * Idempotent: what is gone counts as removed. Closes open tap fds. */
void netns_unwire(struct netns_nic *nics, size_t n);
/* As netns_wire, for TAPs that exist here already (moved in from a warm
 * pool VM's namespace with netns_link_move): their MTU, up, the redirects. */
int netns_wire_moved(struct netns_nic *nics, size_t n, struct rv_error **err);
/* A non-persistent TAP `name` in the current namespace, up, with that
 * MTU: the fd QEMU gets (the TAP goes with its last fd). */
int netns_tap_open(const char *name, uint32_t mtu, struct rv_error **err);
/* Whether the TAP of fd outlives its last fd (TUNSETPERSIST). A persistent
 * TAP's last close does not unregister it, which waits for an RCU barrier
 * (tens of ms): one in a namespace about to die goes with the namespace,
 * in the kernel's own time. */
int netns_tap_set_persist(int fd, bool persist, struct rv_error **err);
/* Moves interface `name` of the current namespace into the namespace
 * netns_fd names, renamed new_name there (one netlink request: there is
 * no moment it could clash with a name there). */
int netns_link_move(const char *name, int netns_fd, const char *new_name, struct rv_error **err);
void netns_nics_free(struct netns_nic *nics, size_t n);

/* Enters rec->netns_path (when set) and unwires there. A namespace that
 * no longer exists is success: nothing of runvm's can be left in it. */
/* What is to be recorded of nics (not their fds) in the namespace at
 * netns_path (NULL: one nobody else holds); NULL when out of memory. */
struct netns_record *netns_record_new(const char *netns_path, const struct netns_nic *nics, size_t n);
int netns_record_cleanup(const struct netns_record *rec, struct rv_error **err);
void netns_record_free(struct netns_record *rec);
DEFINE_CLEANUP_FUNC(struct netns_record *, netns_record_free)
/* {"netns": PATH, "nics": [{"name","tap","mac","mtu","ingress_created"}]} */
void netns_record_write(struct json_writer *w, const struct netns_record *rec);
/* What a NIC shows (state, check): name, tap, mac, mtu, into an open object. */
void netns_nic_write_fields(struct json_writer *w, const struct netns_nic *n);
int netns_record_parse(const struct json_value *v, struct netns_record **ret, struct rv_error **err);

/* For `runvm check`: whether this host can make TAPs and redirect with tc,
 * tried in a throw-away namespace. False with the reason in msg. */
bool netns_host_probe(char *msg, size_t size);
