/* SPDX-License-Identifier: Apache-2.0 */
/* The container's network as the guest must reproduce it: interfaces
 * (found by MAC, named as on the host), their addresses, routes per table,
 * policy rules and the gateways' neighbour entries. The host fills it from
 * the container's network namespace (netns/), sends it in the
 * `configure_network` request, and the agent applies it (vm/agent/network.c).
 * Shared by both sides so that what one writes the other parses; the
 * guest's copy is untrusted on the host and the host's is checked in the
 * guest, with the same limits. */
#pragma once

#include "base/cleanup.h"
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;
struct json_value;
struct json_writer;

#define NETCONF_MAX_IFACES 16
#define NETCONF_MAX_ADDRS 64            /* per interface */
#define NETCONF_MAX_ROUTES 512
#define NETCONF_MAX_NEIGHS 64
#define NETCONF_MAX_RULES 64

struct netconf_ip {
        int family;                     /* AF_INET, AF_INET6; 0: none */
        uint8_t addr[16];
};

struct netconf_addr {
        struct netconf_ip ip;
        uint8_t prefixlen;
};

struct netconf_iface {
        char name[IFNAMSIZ];
        uint8_t mac[6];
        uint32_t mtu;
        bool up;
        struct netconf_addr addrs[NETCONF_MAX_ADDRS];
        size_t n_addrs;
};

struct netconf_route {
        int family;
        uint32_t table;
        uint8_t type;                   /* RTN_UNICAST, RTN_BLACKHOLE, ... */
        uint8_t scope;                  /* RT_SCOPE_* */
        uint8_t protocol;               /* RTPROT_* */
        uint32_t metric;
        struct netconf_ip dst;          /* family 0: the default route */
        uint8_t dst_len;
        struct netconf_ip gateway;      /* family 0: none */
        struct netconf_ip src;          /* preferred source; family 0: none */
        char dev[IFNAMSIZ];             /* "": none (blackhole, ...) */
        bool onlink;
        uint32_t mtu;                   /* the route's MTU metric; 0: none */
};

struct netconf_neigh {
        char dev[IFNAMSIZ];
        struct netconf_ip ip;
        uint8_t mac[6];
        bool permanent;                 /* else reachable: it ages and is re-checked */
};

struct netconf_rule {
        int family;
        uint32_t priority;
        uint32_t table;
        struct netconf_ip src;          /* family 0: any */
        uint8_t src_len;
        struct netconf_ip dst;
        uint8_t dst_len;
        char iif[IFNAMSIZ], oif[IFNAMSIZ];
        uint32_t fwmark, fwmask;
        bool invert;
};

struct netconf {
        struct netconf_iface ifaces[NETCONF_MAX_IFACES];
        size_t n_ifaces;
        struct netconf_route *routes;
        size_t n_routes;
        struct netconf_neigh neighs[NETCONF_MAX_NEIGHS];
        size_t n_neighs;
        struct netconf_rule rules[NETCONF_MAX_RULES];
        size_t n_rules;
};

struct netconf *netconf_new(void);
void netconf_free(struct netconf *c);
DEFINE_CLEANUP_FUNC(struct netconf *, netconf_free)

/* Appends a route (routes are the one list with no small bound). */
int netconf_add_route(struct netconf *c, const struct netconf_route *r, struct rv_error **err);
const struct netconf_iface *netconf_find_iface(const struct netconf *c, const char *name);

/* The `configure_network` params: {"interfaces":[...],"routes":[...],...}. */
void netconf_write(struct json_writer *w, const struct netconf *c);
/* Parses and checks what netconf_write wrote: every name, address, prefix
 * and reference (a route's dev must be one of the interfaces). */
int netconf_parse(const struct json_value *v, struct netconf **ret, struct rv_error **err);

/* "10.0.0.1", "fd00::1"; buf of at least INET6_ADDRSTRLEN. */
const char *netconf_ip_str(const struct netconf_ip *ip, char *buf, size_t size);
int netconf_ip_parse(const char *s, struct netconf_ip *ret);
/* "02:42:ac:11:00:02"; buf of at least 18. */
const char *netconf_mac_str(const uint8_t mac[6], char *buf, size_t size);
int netconf_mac_parse(const char *s, uint8_t ret[6]);
bool netconf_ifname_valid(const char *s);
