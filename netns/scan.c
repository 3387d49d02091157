/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the container's network namespace into a netconf. */
#include "netns/netns.h"
#include "netns/netns-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "vm/channel/netconf.h"

/* How long a gateway with no neighbour entry yet is given to answer. */
#define NEIGH_RESOLVE_MS 1500

int netns_nl_errno(int nlerr)
{
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case NLE_NOMEM: return ENOMEM;
        case NLE_EXIST: return EEXIST;
        case NLE_OBJ_NOTFOUND: return ENOENT;
        case NLE_NODEV: return ENODEV;
        case NLE_PERM: return EPERM;
        case NLE_NOACCESS: return EACCES;
        case NLE_INVAL: return EINVAL;
        case NLE_BUSY: return EBUSY;
        case NLE_OPNOTSUPP: return EOPNOTSUPP;
        case NLE_RANGE: return ERANGE;
        case NLE_AGAIN: return EAGAIN;
        case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
        case NLE_MSGSIZE: return EMSGSIZE;
        case NLE_NOADDR: return EADDRNOTAVAIL;
        default: return EIO;
        }
}

int netns_nl_error(struct rv_error **err, int nlerr, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return rv_error_setx(err, netns_nl_errno(nlerr), "%s: %s", what, nl_geterror(nlerr));
}

struct nl_sock *netns_nl_open(struct rv_error **err)
{
        struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (sk == NULL) {
                rv_error_set(err, ENOMEM, "netlink socket");
                return NULL;
        }
        if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0) {
                netns_nl_error(err, r, "connect to rtnetlink");
                nl_socket_free(sk);
                return NULL;
        }
        return sk;
}

/* nl_addr -> netconf_ip; false when it is not an IPv4/IPv6 address. */
static bool to_ip(struct nl_addr *a, struct netconf_ip *ret)
{
        int family = a ? nl_addr_get_family(a) : 0;
        unsigned len = a ? nl_addr_get_len(a) : 0;

        if (!((family == AF_INET && len == 4) || (family == AF_INET6 && len == 16)))
                return false;
        *ret = (struct netconf_ip) { .family = family };
        memcpy(ret->addr, nl_addr_get_binary_addr(a), len);
        return true;
}

/* The names of mirrored interfaces, by ifindex (0: not mirrored). */
struct mirror_map {
        int ifindex[NETCONF_MAX_IFACES];
};

static const char *mirrored_name(const struct netconf *c, const struct mirror_map *m, int ifindex)
{
        for (size_t i = 0; i < c->n_ifaces; i++)
                if (m->ifindex[i] == ifindex)
                        return c->ifaces[i].name;
        return NULL;
}

bool netns_is_runvm_tap(const char *name)
{
        size_t n = strlen(name);
        return strncmp(name, "tap", 3) == 0 && n > 9 && strcmp(name + n - 6, "_runvm") == 0;
}

static int scan_links(struct nl_cache *links, struct netconf *c, struct mirror_map *m, struct rv_error **err)
{
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *) o;
                const char *name = rtnl_link_get_name(l);
                unsigned flags = rtnl_link_get_flags(l);
                struct nl_addr *mac = rtnl_link_get_addr(l);

                if (name == NULL || (flags & IFF_LOOPBACK) || netns_is_runvm_tap(name))
                        continue;
                if (rtnl_link_get_arptype(l) != ARPHRD_ETHER || mac == NULL || nl_addr_get_len(mac) != 6) {
                        /* sit0, tunl0, ip6tnl0: made in every namespace, down, unused. */
                        if (!(flags & IFF_UP)) {
                                rv_debug("network: `%s` (not Ethernet, down) skipped", name);
                                continue;
                        }
                        return rv_error_setx(err, EOPNOTSUPP, "interface `%s` is not an Ethernet device (link type "
                                             "%u): only Ethernet interfaces can be mirrored into the VM",
                                             name, rtnl_link_get_arptype(l));
                }
                if (c->n_ifaces == NETCONF_MAX_IFACES)
                        return rv_error_setx(err, E2BIG, "more than %d interfaces", NETCONF_MAX_IFACES);
                /* The guest tells its NICs apart by MAC (ipvlan shares one). */
                for (size_t k = 0; k < c->n_ifaces; k++)
                        if (memcmp(c->ifaces[k].mac, nl_addr_get_binary_addr(mac), 6) == 0)
                                return rv_error_setx(err, EOPNOTSUPP, "interfaces `%s` and `%s` have the same MAC "
                                                     "address: the VM's NICs need one each", c->ifaces[k].name, name);
                struct netconf_iface *i = &c->ifaces[c->n_ifaces];
                snprintf(i->name, sizeof(i->name), "%s", name);
                memcpy(i->mac, nl_addr_get_binary_addr(mac), 6);
                i->mtu = rtnl_link_get_mtu(l);
                i->up = (flags & IFF_UP) != 0;
                m->ifindex[c->n_ifaces++] = rtnl_link_get_ifindex(l);
        }
        return 0;
}

static int scan_addrs(struct nl_cache *addrs, struct netconf *c, const struct mirror_map *m, struct rv_error **err)
{
        for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *) o;
                struct netconf_addr na;
                size_t k;

                for (k = 0; k < c->n_ifaces && m->ifindex[k] != rtnl_addr_get_ifindex(a); k++)
                        ;
                if (k == c->n_ifaces || !to_ip(rtnl_addr_get_local(a), &na.ip))
                        continue;
                na.prefixlen = (uint8_t) rtnl_addr_get_prefixlen(a);
                struct netconf_iface *i = &c->ifaces[k];
                if (i->n_addrs == NETCONF_MAX_ADDRS)
                        return rv_error_setx(err, E2BIG, "interface `%s` has more than %d addresses", i->name,
                                             NETCONF_MAX_ADDRS);
                i->addrs[i->n_addrs++] = na;
        }
        return 0;
}

/* Routes the guest kernel makes itself are left out: the local table,
 * routes the kernel derived from addresses, multicast and broadcast. */
static bool route_is_kernel_made(struct rtnl_route *r)
{
        uint8_t type = rtnl_route_get_type(r);

        return rtnl_route_get_table(r) == RT_TABLE_LOCAL || rtnl_route_get_protocol(r) == RTPROT_KERNEL ||
               type == RTN_LOCAL || type == RTN_BROADCAST || type == RTN_MULTICAST || type == RTN_ANYCAST ||
               (rtnl_route_get_flags(r) & RTM_F_CLONED);
}

static int scan_route(struct rtnl_route *r, struct netconf *c, const struct mirror_map *m, struct rv_error **err)
{
        struct netconf_route nr = {
                .family = rtnl_route_get_family(r), .table = rtnl_route_get_table(r),
                .type = rtnl_route_get_type(r), .scope = rtnl_route_get_scope(r),
                .protocol = rtnl_route_get_protocol(r), .metric = rtnl_route_get_priority(r),
        };
        struct nl_addr *dst = rtnl_route_get_dst(r);
        char buf[INET6_ADDRSTRLEN] = "default";
        int n = rtnl_route_get_nnexthops(r);

        if ((nr.family != AF_INET && nr.family != AF_INET6) || route_is_kernel_made(r))
                return 0;
        if (dst && nl_addr_get_prefixlen(dst) > 0 && to_ip(dst, &nr.dst)) {
                nr.dst_len = (uint8_t) nl_addr_get_prefixlen(dst);
                netconf_ip_str(&nr.dst, buf, sizeof(buf));
        }
        to_ip(rtnl_route_get_pref_src(r), &nr.src);
        rtnl_route_get_metric(r, RTAX_MTU, &nr.mtu);
        if (n > 1)
                return rv_error_setx(err, EOPNOTSUPP, "route to `%s/%u` (table %u) has %d next hops: multipath "
                                     "routes cannot be mirrored into the VM yet", buf, nr.dst_len, nr.table, n);
        if (n == 1) {
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
                const char *dev = mirrored_name(c, m, rtnl_route_nh_get_ifindex(nh));
                if (dev == NULL && nr.type == RTN_UNICAST) {
                        /* Through an interface the guest does not have. */
                        rv_debug("network: route to %s/%u via ifindex %d skipped", buf, nr.dst_len,
                                 rtnl_route_nh_get_ifindex(nh));
                        return 0;
                }
                if (dev)
                        snprintf(nr.dev, sizeof(nr.dev), "%s", dev);
                to_ip(rtnl_route_nh_get_gateway(nh), &nr.gateway);
                nr.onlink = (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK) != 0;
        }
        return netconf_add_route(c, &nr, err);
}

static int scan_routes(struct nl_cache *routes, struct netconf *c, const struct mirror_map *m, struct rv_error **err)
{
        for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o))
                if (scan_route((struct rtnl_route *) o, c, m, err) < 0)
                        return -1;
        return 0;
}

static bool rule_is_default(struct rtnl_rule *r)
{
        uint32_t prio = rtnl_rule_get_prio(r), table = rtnl_rule_get_table(r);

        if (rtnl_rule_get_src(r) || rtnl_rule_get_dst(r) || rtnl_rule_get_iif(r) || rtnl_rule_get_oif(r) ||
            rtnl_rule_get_mark(r))
                return false;
        return (prio == 0 && table == RT_TABLE_LOCAL) || (prio == 32766 && table == RT_TABLE_MAIN) ||
               (prio == 32767 && table == RT_TABLE_DEFAULT);
}

static int scan_rules(struct nl_cache *rules, struct netconf *c, struct rv_error **err)
{
        for (struct nl_object *o = nl_cache_get_first(rules); o; o = nl_cache_get_next(o)) {
                struct rtnl_rule *r = (struct rtnl_rule *) o;
                int family = rtnl_rule_get_family(r);
                struct nl_addr *a;

                if ((family != AF_INET && family != AF_INET6) || rule_is_default(r))
                        continue;
                if (rtnl_rule_get_action(r) != FR_ACT_TO_TBL)
                        return rv_error_setx(err, EOPNOTSUPP, "policy rule %u: only rules that look up a table "
                                             "can be mirrored into the VM", rtnl_rule_get_prio(r));
                if (c->n_rules == NETCONF_MAX_RULES)
                        return rv_error_setx(err, E2BIG, "more than %d policy rules", NETCONF_MAX_RULES);
                struct netconf_rule *nr = &c->rules[c->n_rules++];
                *nr = (struct netconf_rule) {
                        .family = family, .priority = rtnl_rule_get_prio(r), .table = rtnl_rule_get_table(r),
                        .fwmark = rtnl_rule_get_mark(r),
                };
                if (nr->fwmark)
                        nr->fwmask = rtnl_rule_get_mask(r);
                if ((a = rtnl_rule_get_src(r)) && to_ip(a, &nr->src))
                        nr->src_len = (uint8_t) nl_addr_get_prefixlen(a);
                if ((a = rtnl_rule_get_dst(r)) && to_ip(a, &nr->dst))
                        nr->dst_len = (uint8_t) nl_addr_get_prefixlen(a);
                if (rtnl_rule_get_iif(r))
                        snprintf(nr->iif, sizeof(nr->iif), "%s", rtnl_rule_get_iif(r));
                if (rtnl_rule_get_oif(r))
                        snprintf(nr->oif, sizeof(nr->oif), "%s", rtnl_rule_get_oif(r));
        }
        return 0;
}

/* --- neighbours ---------------------------------------------------------- */

struct gateway {
        int ifindex;
        const char *dev;
        struct netconf_ip ip;
        bool found;
};

static bool neigh_usable(struct rtnl_neigh *n, uint8_t ret_mac[6])
{
        struct nl_addr *ll = rtnl_neigh_get_lladdr(n);
        int state = rtnl_neigh_get_state(n);

        if (ll == NULL || nl_addr_get_len(ll) != 6 || state < 0 ||
            !(state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)))
                return false;
        memcpy(ret_mac, nl_addr_get_binary_addr(ll), 6);
        return true;
}

static int add_neigh(struct netconf *c, const char *dev, const struct netconf_ip *ip, const uint8_t mac[6],
                     bool permanent, struct rv_error **err)
{
        for (size_t i = 0; i < c->n_neighs; i++)
                if (strcmp(c->neighs[i].dev, dev) == 0 && memcmp(&c->neighs[i].ip, ip, sizeof(*ip)) == 0)
                        return 0;
        if (c->n_neighs == NETCONF_MAX_NEIGHS)
                return rv_error_setx(err, E2BIG, "more than %d neighbour entries", NETCONF_MAX_NEIGHS);
        struct netconf_neigh *n = &c->neighs[c->n_neighs++];
        snprintf(n->dev, sizeof(n->dev), "%s", dev);
        n->ip = *ip;
        memcpy(n->mac, mac, 6);
        n->permanent = permanent;
        return 0;
}

/* A datagram to the discard port makes the kernel resolve the gateway. */
static void poke(const struct gateway *g)
{
        _cleanup_close_ int fd = socket(g->ip.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_storage ss = { 0 };
        socklen_t len;

        if (fd < 0)
                return;
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, g->dev, (socklen_t) strlen(g->dev) + 1);
        if (g->ip.family == AF_INET) {
                struct sockaddr_in *s = (struct sockaddr_in *) &ss;
                s->sin_family = AF_INET;
                s->sin_port = htons(9);
                memcpy(&s->sin_addr, g->ip.addr, 4);
                len = sizeof(*s);
        } else {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *) &ss;
                s->sin6_family = AF_INET6;
                s->sin6_port = htons(9);
                s->sin6_scope_id = (uint32_t) g->ifindex;
                memcpy(&s->sin6_addr, g->ip.addr, 16);
                len = sizeof(*s);
        }
        if (sendto(fd, "", 1, 0, (struct sockaddr *) &ss, len) < 0)
                rv_debug("network: poke gateway on `%s`: %s", g->dev, strerror(errno));
}

/* Looks every gateway up; returns how many are still unresolved. */
static size_t find_gateways(struct nl_sock *sk, struct netconf *c, struct gateway *gw, size_t n,
                            const struct mirror_map *m, bool copy_permanent, struct rv_error **err)
{
        _cleanup_(nl_cache_freep) struct nl_cache *neighs = NULL;
        size_t missing = 0;
        int r;

        if ((r = rtnl_neigh_alloc_cache(sk, &neighs)) < 0) {
                rv_debug("network: neighbours: %s", nl_geterror(r));
                return n;
        }
        for (struct nl_object *o = nl_cache_get_first(neighs); o; o = nl_cache_get_next(o)) {
                struct rtnl_neigh *ne = (struct rtnl_neigh *) o;
                struct netconf_ip ip;
                uint8_t mac[6];

                if (!to_ip(rtnl_neigh_get_dst(ne), &ip) || !neigh_usable(ne, mac))
                        continue;
                bool permanent = (rtnl_neigh_get_state(ne) & NUD_PERMANENT) != 0;
                for (size_t i = 0; i < n; i++) {
                        if (!gw[i].found && gw[i].ifindex == rtnl_neigh_get_ifindex(ne) &&
                            memcmp(&gw[i].ip, &ip, sizeof(ip)) == 0) {
                                gw[i].found = true;
                                if (add_neigh(c, gw[i].dev, &ip, mac, permanent, err) < 0)
                                        return 0;
                        }
                }
                /* Entries the engine set on purpose come along too. */
                const char *dev = mirrored_name(c, m, rtnl_neigh_get_ifindex(ne));
                if (copy_permanent && dev && permanent && add_neigh(c, dev, &ip, mac, true, err) < 0)
                        return 0;
        }
        for (size_t i = 0; i < n; i++)
                missing += !gw[i].found;
        return missing;
}

static int scan_neighbours(struct nl_sock *sk, struct netconf *c, const struct mirror_map *m, struct rv_error **err)
{
        struct gateway gw[NETCONF_MAX_NEIGHS];
        size_t n = 0;

        for (size_t i = 0; i < c->n_routes && n < NETCONF_MAX_NEIGHS; i++) {
                const struct netconf_route *r = &c->routes[i];
                bool dup = false;
                if (r->gateway.family == 0 || r->dev[0] == '\0')
                        continue;
                for (size_t k = 0; k < n; k++)
                        dup |= strcmp(gw[k].dev, r->dev) == 0 && memcmp(&gw[k].ip, &r->gateway, sizeof(r->gateway)) == 0;
                if (dup)
                        continue;
                size_t idx = (size_t) (netconf_find_iface(c, r->dev) - c->ifaces);
                gw[n++] = (struct gateway) { .ifindex = m->ifindex[idx], .dev = c->ifaces[idx].name,
                                             .ip = r->gateway };
        }
        size_t missing = find_gateways(sk, c, gw, n, m, true, err);
        if (*err)
                return -1;
        if (missing == 0)
                return 0;
        /* No traffic yet: resolve them now, before the redirects take every
         * frame the interface receives (the replies included). */
        for (size_t i = 0; i < n; i++)
                if (!gw[i].found)
                        poke(&gw[i]);
        int64_t deadline = rv_now_ms() + NEIGH_RESOLVE_MS;
        /* An answer over a veth takes microseconds: look again soon. */
        while (missing > 0 && rv_now_ms() < deadline) {
                poll(NULL, 0, 2);
                missing = find_gateways(sk, c, gw, n, m, false, err);
                if (*err)
                        return -1;
        }
        for (size_t i = 0; i < n; i++) {
                char buf[INET6_ADDRSTRLEN];
                if (!gw[i].found)
                        rv_log(RV_LOG_WARNING, "network: gateway %s on `%s` did not answer: its neighbour entry "
                               "is not preseeded", netconf_ip_str(&gw[i].ip, buf, sizeof(buf)), gw[i].dev);
        }
        return 0;
}

/* The interfaces alone (links_only: no addresses, routes, rules, and no
 * gateway resolved) or everything netns_scan reports. */
static int scan(bool links_only, struct netconf **ret, struct rv_error **err)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = netns_nl_open(err);
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL, *rules = NULL;
        _cleanup_(netconf_freep) struct netconf *c = netconf_new();
        struct mirror_map m = { { 0 } };
        int r;

        if (sk == NULL)
                return rv_error_wrap(err, "scan network namespace");
        if (c == NULL)
                return rv_error_set(err, ENOMEM, "scan network namespace");
        if ((r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0)
                return netns_nl_error(err, r, "list interfaces");
        if (scan_links(links, c, &m, err) < 0)
                return -1;
        if (!links_only && c->n_ifaces > 0) {
                if ((r = rtnl_addr_alloc_cache(sk, &addrs)) < 0)
                        return netns_nl_error(err, r, "list addresses");
                if ((r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0)
                        return netns_nl_error(err, r, "list routes");
                if ((r = rtnl_rule_alloc_cache(sk, AF_UNSPEC, &rules)) < 0)
                        return netns_nl_error(err, r, "list policy rules");
                if (scan_addrs(addrs, c, &m, err) < 0 || scan_routes(routes, c, &m, err) < 0 ||
                    scan_rules(rules, c, err) < 0 || scan_neighbours(sk, c, &m, err) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int netns_count(size_t *ret, struct rv_error **err)
{
        _cleanup_(netconf_freep) struct netconf *c = NULL;

        if (scan(true, &c, err) < 0)
                return -1;
        *ret = c->n_ifaces;
        return 0;
}

int netns_scan(struct netconf **ret, struct rv_error **err)
{
        return scan(false, ret, err);
}
