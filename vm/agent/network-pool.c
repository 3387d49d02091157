/* SPDX-License-Identifier: Apache-2.0 */
/* A warm pool VM's network namespaces and NICs (network-pool.h). */
#include "base/nl-cleanup.h"
#include "vm/agent/network-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "spec/json.h"
#include "vm/agent/agent.h"
#include "vm/agent/network-nl.h"
#include "vm/agent/power.h"
#include "vm/channel/netconf.h"

/* Each NIC of vm_macs given its interface's name (a temporary one if a
 * NIC has it), MAC and MTU, in one request, so that name_nics usually has
 * nothing left to change. */
static int take_nics(struct nl_sock *sk, const struct json_value *vm_macs, const struct netconf *c,
                     struct rv_error **err)
{
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL;
        size_t n = json_array_size(vm_macs);
        char name[IFNAMSIZ];
        int r;

        if (!json_is_array(vm_macs) || n > c->n_ifaces)
                return rv_error_setx(err, EINVAL, "`vm_macs`: one MAC per interface at most");
        if ((r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0)
                return net_nl_fail(err, r, "list the pool NICs");
        for (size_t i = 0; i < n; i++) {
                const struct netconf_iface *f = &c->ifaces[i];
                _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc(), *clash = NULL;
                _cleanup_(nl_addr_putp) struct nl_addr *ll = nl_addr_build(AF_LLC, f->mac, 6);
                const char *s = NULL;
                uint8_t mac[6];

                if (json_read_string(json_array_get(vm_macs, i), "vm_macs", &s, err) < 0)
                        return -1;
                if (netconf_mac_parse(s, mac) < 0)
                        return rv_error_setx(err, EINVAL, "`vm_macs`: `%s` is not a MAC", s);
                struct rtnl_link *l = net_link_by_mac(links, mac);
                if (l == NULL)
                        return rv_error_setx(err, ENODEV, "interface `%s`: no pool NIC has MAC %s", f->name, s);
                if (change == NULL || ll == NULL)
                        return rv_error_set(err, ENOMEM, "link");
                if (strcmp(rtnl_link_get_name(l), f->name) != 0 &&
                    rtnl_link_get_kernel(sk, 0, f->name, &clash) == 0)
                        snprintf(name, sizeof(name), "rvpool%u", (unsigned) (i % 100));
                else
                        snprintf(name, sizeof(name), "%s", f->name);
                rtnl_link_set_name(change, name);
                rtnl_link_set_addr(change, ll);
                rtnl_link_set_mtu(change, f->mtu);
                if ((r = rtnl_link_change(sk, l, change, 0)) < 0)
                        return net_nl_fail(err, r, "take the pool NIC");
        }
        return 0;
}

int agent_network_take_pool_nics(struct nl_sock *sk, const struct agent_pool_netns *pn,
                                 const struct json_value *vm_macs, const struct netconf *c, struct rv_error **err)
{
        if (pn == NULL || pn->spare_fd < 0)
                return rv_error_setx(err, ENODEV, "`vm_macs`: this VM has no pool NIC (not a warm pool VM)");
        if (pn->containers_in_spare)
                return rv_error_setx(err, EBUSY, "`vm_macs`: this VM already has a container, without an interface");
        return take_nics(sk, vm_macs, c, err);
}

/* An rtnetlink socket of the namespace netns_fd; the thread returns to
 * home_fd. */
static int nl_socket_in(int netns_fd, int home_fd, struct nl_sock **ret, struct rv_error **err)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (sk == NULL)
                return rv_error_set(err, ENOMEM, "network");
        /* A socket opened there talks to that namespace. */
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join the spare network namespace");
        r = nl_connect(sk, NETLINK_ROUTE);
        if (setns(home_fd, CLONE_NEWNET) < 0)
                agent_power_fatal(errno, "return to the VM's network namespace");
        if (r < 0)
                return net_nl_fail(err, r, "connect to rtnetlink in the spare network namespace");
        *ret = TAKE_PTR(sk);
        return 0;
}

/* A claim's requests, made once on the NIC with link-local stand-ins and
 * undone: its parse, take, addresses, route and neighbour then run code
 * the guest has run before (translated once under TCG: a claim's
 * addresses went from 8 to 2 ms). The down and up undo the route, the
 * neighbour and the IPv6 address; the IPv4 one is deleted. */
static int rehearse_claim(struct nl_sock *sk, struct rtnl_link *l, struct rv_error **err)
{
        _cleanup_(netconf_freep) struct netconf *c = netconf_new();
        _cleanup_(netconf_freep) struct netconf *parsed = NULL;
        _cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(NULL);
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
        _cleanup_free_ char *text = NULL;
        struct nl_addr *mac = rtnl_link_get_addr(l);
        char mac_str[18];
        size_t len;
        int r;

        if (c == NULL || a == NULL)
                return rv_error_set(err, ENOMEM, "network");
        if (mac == NULL || nl_addr_get_len(mac) != 6)
                return 0;
        struct netconf_iface *f = &c->ifaces[c->n_ifaces++];
        snprintf(f->name, sizeof(f->name), "%s", rtnl_link_get_name(l));
        memcpy(f->mac, nl_addr_get_binary_addr(mac), 6);
        f->mtu = rtnl_link_get_mtu(l);
        f->up = true;
        f->addrs[f->n_addrs++] = (struct netconf_addr) {
                .ip = { .family = AF_INET, .addr = { 169, 254, 255, 2 } }, .prefixlen = 30 };
        f->addrs[f->n_addrs++] = (struct netconf_addr) {
                .ip = { .family = AF_INET6, .addr = { 0xfe, 0x80, [15] = 2 } }, .prefixlen = 64 };
        struct netconf_route gw = {
                .family = AF_INET, .table = RT_TABLE_MAIN, .type = RTN_UNICAST, .scope = RT_SCOPE_UNIVERSE,
                .protocol = RTPROT_BOOT, .gateway = { .family = AF_INET, .addr = { 169, 254, 255, 1 } },
        };
        snprintf(gw.dev, sizeof(gw.dev), "%s", f->name);
        if (netconf_add_route(c, &gw, err) < 0)
                return -1;
        struct netconf_neigh *n = &c->neighs[c->n_neighs++];
        *n = (struct netconf_neigh) { .ip = gw.gateway, .mac = { 0x02, 0, 0, 0, 0, 0x01 } };
        snprintf(n->dev, sizeof(n->dev), "%s", gw.dev);
        /* What the host sends, as the claim parses it. */
        json_write_object_begin(w);
        json_write_key(w, "network");
        netconf_write(w, c);
        json_write_key(w, "vm_macs");
        json_write_array_begin(w);
        json_write_string(w, netconf_mac_str(f->mac, mac_str, sizeof(mac_str)));
        json_write_array_end(w);
        json_write_object_end(w);
        if (json_writer_finish(w, &text, &len, err) < 0 || json_parse(text, len, &v, err) < 0 ||
            netconf_parse(json_get(v, "network"), &parsed, err) < 0)
                return rv_error_wrap(err, "rehearsal");
        if (take_nics(sk, json_get(v, "vm_macs"), parsed, err) < 0 ||
            net_apply(sk, parsed, NULL, err) < 0)
                return rv_error_wrap(err, "rehearsal");
        if (net_set_link(sk, l, NULL, 0, false, err) < 0 || net_set_link(sk, l, NULL, 0, true, err) < 0)
                return rv_error_wrap(err, "rehearsal: down and up `%s`", f->name);
        local = net_ip_addr(&f->addrs[0].ip, f->addrs[0].prefixlen);
        if (local == NULL)
                return rv_error_set(err, ENOMEM, "network");
        rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(l));
        rtnl_addr_set_family(a, AF_INET);
        rtnl_addr_set_local(a, local);
        rtnl_addr_set_prefixlen(a, f->addrs[0].prefixlen);
        if ((r = rtnl_addr_delete(sk, a, 0)) < 0)
                return net_nl_fail(err, r, "rehearsal: remove its address");
        return 0;
}

/* Up, without an address of the kernel's own (the host's link-local
 * addresses come with the container's), so that a container's interface
 * is up when taken: an up is milliseconds of the guest kernel's. */
static int bring_up_pool_nics(struct nl_sock *sk, struct rv_error **err)
{
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL;
        bool rehearsed = false;
        int r;

        if ((r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0)
                return net_nl_fail(err, r, "list NICs");
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *) o;
                if (rtnl_link_get_flags(l) & IFF_LOOPBACK)
                        continue;
                net_no_kernel_lladdr(rtnl_link_get_name(l));
                if (net_set_link(sk, l, NULL, 0, true, err) < 0)
                        return rv_error_wrap(err, "bring up `%s`", rtnl_link_get_name(l));
                if (!rehearsed && rehearse_claim(sk, l, err) < 0)
                        return -1;
                rehearsed = true;
        }
        return 0;
}

int agent_network_pool_prepare(struct agent_pool_netns *pn, struct rv_error **err)
{
        _cleanup_close_ int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int spare = -EBADF;
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        _cleanup_(nl_socket_freep) struct nl_sock *spare_sk = NULL;
        int r;

        if (home < 0)
                return rv_error_set(err, errno, "open /proc/self/ns/net");
        if (sk == NULL)
                return rv_error_set(err, ENOMEM, "network");
        if (unshare(CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "a spare network namespace");
        spare = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int saved = errno;
        /* The agent itself stays in the VM's. */
        if (setns(home, CLONE_NEWNET) < 0)
                agent_power_fatal(errno, "return to the VM's network namespace");
        if (spare < 0)
                return rv_error_set(err, saved, "open the spare network namespace");
        if (nl_socket_in(spare, home, &spare_sk, err) < 0 || net_bring_up_lo(spare_sk, err) < 0)
                return rv_error_wrap(err, "spare network namespace");
        if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0)
                return net_nl_fail(err, r, "connect to rtnetlink");
        if (net_bring_up_lo(sk, err) < 0)
                return -1;
        if (bring_up_pool_nics(sk, err) < 0)
                return -1;
        pn->spare_fd = TAKE_FD(spare);
        pn->home_fd = TAKE_FD(home);
        rv_debug("network: spare namespace made, lo up in both");
        return 0;
}

int agent_network_enter(const struct agent *a, int *restore, struct rv_error **err)
{
        struct agent_pool_netns *pn = a->pool_netns;

        *restore = -1;
        if (pn == NULL || pn->spare_fd < 0 || pn->nics_taken)
                return 0;
        if (setns(pn->spare_fd, CLONE_NEWNET) < 0)
                return rv_error_set(err, errno, "join the containers' network namespace");
        pn->containers_in_spare = true;
        *restore = pn->home_fd;
        return 0;
}

void agent_network_leave(int restore)
{
        if (restore >= 0 && setns(restore, CLONE_NEWNET) < 0)
                agent_power_fatal(errno, "return to the VM's network namespace");
}
