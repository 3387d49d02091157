/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's network: the container's namespace as the host scanned it
 * (vm/channel/netconf.h), applied before the container starts. The VM is
 * the container's network namespace, so this is what the container sees. */
#include "base/nl-cleanup.h"
#include "vm/agent/network.h"
#include "vm/agent/network-nl.h"
#include "vm/agent/network-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <linux/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "spec/json.h"
#include "vm/agent/agent.h"
#include "vm/agent/power.h"
#include "vm/agent/init.h"
#include "vm/agent/timing.h"
#include "vm/channel/netconf.h"

/* libnl's -NLE_* as an errno, for the host to report. */
static int nl_errno(int nlerr)
{
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case NLE_NOMEM: return ENOMEM;
        case NLE_EXIST: return EEXIST;
        case NLE_OBJ_NOTFOUND: return ENOENT;
        case NLE_NODEV: return ENODEV;
        case NLE_PERM: return EPERM;
        case NLE_INVAL: return EINVAL;
        case NLE_BUSY: return EBUSY;
        case NLE_OPNOTSUPP: return EOPNOTSUPP;
        case NLE_RANGE: return ERANGE;
        case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
        case NLE_NOADDR: return EADDRNOTAVAIL;
        default: return EIO;
        }
}

int net_nl_fail(struct rv_error **err, int nlerr, const char *what)
{
        return rv_error_setx(err, nl_errno(nlerr), "%s: %s", what, nl_geterror(nlerr));
}

struct nl_addr *net_ip_addr(const struct netconf_ip *ip, unsigned prefixlen)
{
        struct nl_addr *a = nl_addr_build(ip->family, ip->addr, ip->family == AF_INET ? 4 : 16);
        if (a)
                nl_addr_set_prefixlen(a, (int) prefixlen);
        return a;
}

static int write_sysctl(const char *path, const char *value)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, strlen(value)) < 0)
                return -errno;
        return 0;
}

void net_no_kernel_lladdr(const char *ifname)
{
        char path[128];
        int r;

        snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode", ifname);
        if ((r = write_sysctl(path, "1")) < 0)
                rv_debug("network: %s: %s", path, strerror(-r));
}

int net_set_link(struct nl_sock *sk, struct rtnl_link *l, const char *name, uint32_t mtu, bool up,
                    struct rv_error **err)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
        int r;

        if (change == NULL)
                return rv_error_set(err, ENOMEM, "link");
        if (name)
                rtnl_link_set_name(change, name);
        if (mtu)
                rtnl_link_set_mtu(change, mtu);
        if (up) {
                rtnl_link_set_flags(change, IFF_UP);
                /* A NIC whose carrier never changed reads operstate
                 * "unknown" (the guest kernel's patch 0002): what runc's
                 * veth says, "up", is what the kernel takes from unknown
                 * only; a link whose carrier is down stays down. lo keeps
                 * "unknown", as on any host. */
                if (!(rtnl_link_get_flags(l) & IFF_LOOPBACK))
                        rtnl_link_set_operstate(change, IF_OPER_UP);
        } else
                rtnl_link_unset_flags(change, IFF_UP);
        if ((r = rtnl_link_change(sk, l, change, 0)) < 0)
                return net_nl_fail(err, r, "change link");
        return 0;
}

static int link_by_name(struct nl_sock *sk, const char *name, struct rtnl_link **ret, struct rv_error **err)
{
        int r = rtnl_link_get_kernel(sk, 0, name, ret);
        return r < 0 ? net_nl_fail(err, r, name) : 0;
}

int net_bring_up_lo(struct nl_sock *sk, struct rv_error **err)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *lo = NULL;

        if (link_by_name(sk, "lo", &lo, err) < 0 || net_set_link(sk, lo, NULL, 0, true, err) < 0)
                return rv_error_wrap(err, "bring up `lo`");
        return 0;
}

struct rtnl_link *net_link_by_mac(struct nl_cache *links, const uint8_t mac[6])
{
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct nl_addr *a = rtnl_link_get_addr((struct rtnl_link *) o);
                if (a && nl_addr_get_len(a) == 6 && memcmp(nl_addr_get_binary_addr(a), mac, 6) == 0)
                        return (struct rtnl_link *) o;
        }
        return NULL;
}

/* Each NIC is found by MAC. Usually it has its name and MTU already (a
 * cold boot's NICs come in the host's order with its MTUs, a pool VM's
 * was given its name when taken): nothing is changed, for each change
 * is milliseconds of the kernel's under TCG. Otherwise each is first
 * given a name no host interface can have, so that swapping eth0 and
 * eth1 cannot collide half-way. */
static int name_nics(struct nl_sock *sk, const struct netconf *c, int *ifindex, struct rv_error **err)
{
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL;
        struct rtnl_link *found[NETCONF_MAX_IFACES];
        char mac[18], tmp[IFNAMSIZ];
        bool as_wanted = true;
        int r;

        if ((r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0)
                return net_nl_fail(err, r, "list NICs");
        for (size_t i = 0; i < c->n_ifaces; i++) {
                const struct netconf_iface *f = &c->ifaces[i];
                if ((found[i] = net_link_by_mac(links, f->mac)) == NULL)
                        return rv_error_setx(err, ENODEV, "interface `%s`: the VM has no NIC with MAC %s",
                                             f->name, netconf_mac_str(f->mac, mac, sizeof(mac)));
                ifindex[i] = rtnl_link_get_ifindex(found[i]);
                as_wanted &= strcmp(rtnl_link_get_name(found[i]), f->name) == 0 &&
                             rtnl_link_get_mtu(found[i]) == f->mtu;
        }
        for (size_t i = 0; !as_wanted && i < c->n_ifaces; i++) {
                snprintf(tmp, sizeof(tmp), "rvnic%u", (unsigned) i);
                if (net_set_link(sk, found[i], tmp, 0, false, err) < 0)
                        return rv_error_wrap(err, "interface `%s`", c->ifaces[i].name);
        }
        for (size_t i = 0; i < c->n_ifaces; i++) {
                const struct netconf_iface *f = &c->ifaces[i];
                _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
                snprintf(tmp, sizeof(tmp), "rvnic%u", (unsigned) i);
                if (!as_wanted && (link_by_name(sk, tmp, &l, err) < 0 || net_set_link(sk, l, f->name, f->mtu, false, err) < 0))
                        return rv_error_wrap(err, "interface `%s`", f->name);
                /* The host's link-local addresses come with the others. */
                net_no_kernel_lladdr(f->name);
        }
        return 0;
}

static int add_addrs(struct nl_sock *sk, const struct netconf_iface *f, int ifindex, struct rv_error **err)
{
        char buf[INET6_ADDRSTRLEN], what[128];

        for (size_t k = 0; k < f->n_addrs; k++) {
                const struct netconf_addr *na = &f->addrs[k];
                _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
                _cleanup_(nl_addr_putp) struct nl_addr *local = net_ip_addr(&na->ip, na->prefixlen);
                int r;

                if (a == NULL || local == NULL)
                        return rv_error_set(err, ENOMEM, "address");
                rtnl_addr_set_ifindex(a, ifindex);
                rtnl_addr_set_family(a, na->ip.family);
                rtnl_addr_set_local(a, local);
                rtnl_addr_set_prefixlen(a, na->prefixlen);
                /* The host already did duplicate detection for it. */
                if (na->ip.family == AF_INET6)
                        rtnl_addr_set_flags(a, IFA_F_NODAD);
                if ((r = rtnl_addr_add(sk, a, 0)) < 0 && r != -NLE_EXIST) {
                        snprintf(what, sizeof(what), "add address %s/%u to `%s`",
                                 netconf_ip_str(&na->ip, buf, sizeof(buf)), na->prefixlen, f->name);
                        return net_nl_fail(err, r, what);
                }
        }
        return 0;
}

static int ifindex_of(const struct netconf *c, const int *ifindex, const char *dev)
{
        for (size_t i = 0; i < c->n_ifaces; i++)
                if (strcmp(c->ifaces[i].name, dev) == 0)
                        return ifindex[i];
        return 0;
}

static int add_route(struct nl_sock *sk, const struct netconf *c, const int *ifindex,
                     const struct netconf_route *nr)
{
        _cleanup_(rtnl_route_putp) struct rtnl_route *r = rtnl_route_alloc();
        struct netconf_ip any = { .family = nr->family };
        _cleanup_(nl_addr_putp) struct nl_addr *dst = NULL;

        dst = net_ip_addr(nr->dst.family ? &nr->dst : &any, nr->dst.family ? nr->dst_len : 0);
        if (r == NULL || dst == NULL)
                return -NLE_NOMEM;
        rtnl_route_set_family(r, (uint8_t) nr->family);
        rtnl_route_set_table(r, nr->table);
        rtnl_route_set_type(r, nr->type);
        rtnl_route_set_scope(r, nr->scope);
        rtnl_route_set_protocol(r, nr->protocol);
        rtnl_route_set_priority(r, nr->metric);
        rtnl_route_set_dst(r, dst);
        if (nr->src.family) {
                _cleanup_(nl_addr_putp) struct nl_addr *src = net_ip_addr(&nr->src, nr->family == AF_INET ? 32 : 128);
                if (src == NULL)
                        return -NLE_NOMEM;
                rtnl_route_set_pref_src(r, src);
        }
        if (nr->mtu)
                rtnl_route_set_metric(r, RTAX_MTU, nr->mtu);
        if (nr->dev[0] || nr->gateway.family) {
                struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
                if (nh == NULL)
                        return -NLE_NOMEM;
                if (nr->dev[0])
                        rtnl_route_nh_set_ifindex(nh, ifindex_of(c, ifindex, nr->dev));
                if (nr->gateway.family) {
                        _cleanup_(nl_addr_putp) struct nl_addr *gw = net_ip_addr(&nr->gateway, nr->family == AF_INET ? 32 : 128);
                        if (gw == NULL) {
                                rtnl_route_nh_free(nh);
                                return -NLE_NOMEM;
                        }
                        rtnl_route_nh_set_gateway(nh, gw);
                }
                if (nr->onlink)
                        rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
                rtnl_route_add_nexthop(r, nh);
        }
        int ret = rtnl_route_add(sk, r, NLM_F_EXCL);
        return ret == -NLE_EXIST ? 0 : ret;
}

/* A gateway route needs the route to its gateway first, whatever order
 * the host listed them in: add what can be added until nothing moves. */
static int add_routes(struct nl_sock *sk, const struct netconf *c, const int *ifindex, struct rv_error **err)
{
        bool done[NETCONF_MAX_ROUTES] = { false };
        size_t left = c->n_routes;
        int last = 0;

        while (left > 0) {
                size_t before = left;
                for (size_t i = 0; i < c->n_routes; i++) {
                        if (done[i])
                                continue;
                        int r = add_route(sk, c, ifindex, &c->routes[i]);
                        if (r == 0) {
                                done[i] = true;
                                left--;
                        } else {
                                last = r;
                        }
                }
                if (left == before)
                        break;
        }
        for (size_t i = 0; i < c->n_routes; i++) {
                if (done[i])
                        continue;
                const struct netconf_route *r = &c->routes[i];
                char buf[INET6_ADDRSTRLEN] = "default", what[160];
                if (r->dst.family)
                        netconf_ip_str(&r->dst, buf, sizeof(buf));
                snprintf(what, sizeof(what), "add route to %s/%u (table %u%s%s)", buf, r->dst_len, r->table,
                         r->dev[0] ? ", dev " : "", r->dev);
                return net_nl_fail(err, last, what);
        }
        return 0;
}

static int add_rules(struct nl_sock *sk, const struct netconf *c, struct rv_error **err)
{
        char what[64];

        for (size_t i = 0; i < c->n_rules; i++) {
                const struct netconf_rule *nr = &c->rules[i];
                _cleanup_(rtnl_rule_putp) struct rtnl_rule *r = rtnl_rule_alloc();
                int ret;

                if (r == NULL)
                        return rv_error_set(err, ENOMEM, "rule");
                rtnl_rule_set_family(r, nr->family);
                rtnl_rule_set_prio(r, nr->priority);
                rtnl_rule_set_table(r, nr->table);
                rtnl_rule_set_action(r, FR_ACT_TO_TBL);
                if (nr->src.family) {
                        _cleanup_(nl_addr_putp) struct nl_addr *a = net_ip_addr(&nr->src, nr->src_len);
                        if (a == NULL || rtnl_rule_set_src(r, a) < 0)
                                return rv_error_set(err, ENOMEM, "rule");
                }
                if (nr->dst.family) {
                        _cleanup_(nl_addr_putp) struct nl_addr *a = net_ip_addr(&nr->dst, nr->dst_len);
                        if (a == NULL || rtnl_rule_set_dst(r, a) < 0)
                                return rv_error_set(err, ENOMEM, "rule");
                }
                if (nr->iif[0])
                        rtnl_rule_set_iif(r, nr->iif);
                if (nr->oif[0])
                        rtnl_rule_set_oif(r, nr->oif);
                if (nr->fwmark || nr->fwmask) {
                        rtnl_rule_set_mark(r, nr->fwmark);
                        rtnl_rule_set_mask(r, nr->fwmask);
                }
                if ((ret = rtnl_rule_add(sk, r, NLM_F_EXCL)) < 0 && ret != -NLE_EXIST) {
                        snprintf(what, sizeof(what), "add policy rule %u", nr->priority);
                        return net_nl_fail(err, ret, what);
                }
        }
        return 0;
}

/* Preseeded, so the container's first packet to its gateway does not
 * wait on (or lose a race with) ARP or neighbour discovery. */
static int add_neighbours(struct nl_sock *sk, const struct netconf *c, const int *ifindex, struct rv_error **err)
{
        char buf[INET6_ADDRSTRLEN], what[128];

        for (size_t i = 0; i < c->n_neighs; i++) {
                const struct netconf_neigh *nn = &c->neighs[i];
                _cleanup_(rtnl_neigh_putp) struct rtnl_neigh *n = rtnl_neigh_alloc();
                _cleanup_(nl_addr_putp) struct nl_addr *dst = net_ip_addr(&nn->ip, nn->ip.family == AF_INET ? 32 : 128);
                _cleanup_(nl_addr_putp) struct nl_addr *ll = nl_addr_build(AF_LLC, nn->mac, 6);
                int r;

                if (n == NULL || dst == NULL || ll == NULL)
                        return rv_error_set(err, ENOMEM, "neighbour");
                rtnl_neigh_set_ifindex(n, ifindex_of(c, ifindex, nn->dev));
                rtnl_neigh_set_family(n, nn->ip.family);
                rtnl_neigh_set_dst(n, dst);
                rtnl_neigh_set_lladdr(n, ll);
                rtnl_neigh_set_state(n, nn->permanent ? NUD_PERMANENT : NUD_REACHABLE);
                if ((r = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE)) < 0) {
                        snprintf(what, sizeof(what), "add neighbour %s on `%s`",
                                 netconf_ip_str(&nn->ip, buf, sizeof(buf)), nn->dev);
                        return net_nl_fail(err, r, what);
                }
        }
        return 0;
}

int net_apply(struct nl_sock *sk, const struct netconf *c, struct agent_timer *t, struct rv_error **err)
{
        int ifindex[NETCONF_MAX_IFACES] = { 0 };

        if (net_bring_up_lo(sk, err) < 0)
                return -1;
        agent_timer_step(t, "lo");
        if (name_nics(sk, c, ifindex, err) < 0)
                return -1;
        agent_timer_step(t, "names");
        for (size_t i = 0; i < c->n_ifaces; i++) {
                const struct netconf_iface *f = &c->ifaces[i];
                _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
                /* Down on the host: down here too, with its addresses. */
                if (f->up && (link_by_name(sk, f->name, &l, err) < 0 || net_set_link(sk, l, NULL, 0, true, err) < 0))
                        return rv_error_wrap(err, "bring up `%s`", f->name);
                if (add_addrs(sk, f, ifindex[i], err) < 0)
                        return -1;
        }
        agent_timer_step(t, "up+addresses");
        if (add_routes(sk, c, ifindex, err) < 0 || add_rules(sk, c, err) < 0 ||
            add_neighbours(sk, c, ifindex, err) < 0)
                return -1;
        agent_timer_step(t, "routes+rules+neighbours");
        return 0;
}

int agent_network_configure(struct agent *a, const struct json_value *params, struct json_writer *w,
                            struct rv_error **err)
{
        _cleanup_(netconf_freep) struct netconf *c = NULL;
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        struct agent_pool_netns *pn = a->pool_netns;
        int r;
        struct agent_timer timer;

        agent_timer_start(&timer);
        if (netconf_parse(json_get(params, "network"), &c, err) < 0)
                return rv_error_wrap(err, "network");
        if (sk == NULL)
                return rv_error_set(err, ENOMEM, "network");
        if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0)
                return net_nl_fail(err, r, "network: connect to rtnetlink");
        const struct json_value *vm_macs = json_get(params, "vm_macs");
        agent_timer_step(&timer, "parse+connect");
        if (vm_macs && agent_network_take_pool_nics(sk, pn, vm_macs, c, err) < 0)
                return rv_error_wrap(err, "network");
        if (vm_macs)
                pn->nics_taken = true;
        agent_timer_step(&timer, "pool NICs");
        if (net_apply(sk, c, &timer, err) < 0)
                return rv_error_wrap(err, "network");
        if (timer.on) {
                char steps[512];
                agent_timer_format(&timer, steps, sizeof(steps));
                rv_log(RV_LOG_INFO, "timing: network: %.1f ms (done at %lld ms): %s", agent_timer_total_ms(&timer),
                       (long long) agent_uptime_ms(), steps);
        }
        rv_debug("network: %zu interfaces, %zu routes, %zu rules, %zu neighbours", c->n_ifaces, c->n_routes,
                 c->n_rules, c->n_neighs);
        json_write_object_begin(w);
        json_write_object_end(w);
        return 0;
}
