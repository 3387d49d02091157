/* SPDX-License-Identifier: Apache-2.0 */
/* TAPs and tc redirects between the engine's interfaces and the VM. */
#include "base/nl-cleanup.h"
#include "netns/netns.h"
#include "netns/netns-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "base/error.h"
#include "base/log.h"
#include "vm/channel/netconf.h"

#define INGRESS_HANDLE TC_HANDLE(0xffff, 0)
/* Where a filter hooks into a device's ingress: ffff:fff2 is the ingress
 * of both an `ingress` qdisc and a `clsact` one (which eBPF-based network
 * plugins add), as `tc filter add dev X ingress` says it; ffff:0 names the
 * ingress qdisc's only. */
#define INGRESS_FILTER_PARENT TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)

void netns_nics_free(struct netns_nic *nics, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (nics[i].tap_fd >= 0)
                        close(nics[i].tap_fd);
        free(nics);
}

static int ifindex_of(struct nl_sock *sk, const char *name, int *ret, struct rv_error **err)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &l);

        if (r < 0)
                return netns_nl_error(err, r, "interface `%s`", name);
        *ret = rtnl_link_get_ifindex(l);
        return 0;
}

static bool link_exists(struct nl_sock *sk, const char *name)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        return rtnl_link_get_kernel(sk, 0, name, &l) == 0;
}

/* Whether ifindex has an ingress qdisc now. */
static int has_ingress(struct nl_sock *sk, int ifindex, bool *ret, struct rv_error **err)
{
        _cleanup_(nl_cache_freep) struct nl_cache *qdiscs = NULL;
        int r = rtnl_qdisc_alloc_cache(sk, &qdiscs);

        if (r < 0)
                return netns_nl_error(err, r, "list qdiscs");
        *ret = rtnl_qdisc_get_by_parent(qdiscs, ifindex, TC_H_INGRESS) != NULL;
        if (*ret)
                rtnl_qdisc_put(rtnl_qdisc_get_by_parent(qdiscs, ifindex, TC_H_INGRESS));
        return 0;
}

int netns_plan(const struct netconf *c, struct netns_nic **ret, size_t *ret_n, struct rv_error **err)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        struct netns_nic *nics;
        unsigned next = 0;

        *ret = NULL;
        *ret_n = 0;
        if (c->n_ifaces == 0)
                return 0;
        if ((sk = netns_nl_open(err)) == NULL)
                return -1;
        nics = calloc(c->n_ifaces, sizeof(*nics));
        if (nics == NULL)
                return rv_error_set(err, ENOMEM, "network");
        for (size_t i = 0; i < c->n_ifaces; i++) {
                struct netns_nic *n = &nics[i];
                int ifindex;
                n->tap_fd = -1;
                snprintf(n->name, sizeof(n->name), "%s", c->ifaces[i].name);
                memcpy(n->mac, c->ifaces[i].mac, 6);
                n->mtu = c->ifaces[i].mtu;
                /* A name nobody in this namespace has. */
                do
                        snprintf(n->tap, sizeof(n->tap), "tap%u_runvm", next++);
                while (link_exists(sk, n->tap) && next < 1000);
                if (ifindex_of(sk, n->name, &ifindex, err) < 0 || has_ingress(sk, ifindex, &n->ingress_created, err) < 0) {
                        netns_nics_free(nics, c->n_ifaces);
                        return -1;
                }
                n->ingress_created = !n->ingress_created;
        }
        *ret = nics;
        *ret_n = c->n_ifaces;
        return 0;
}

/* A non-persistent TAP: it goes away with its last fd. IFF_VNET_HDR lets
 * QEMU pass checksum and segmentation offloads through, so full-size TCP
 * segments cross without being split. */
int netns_tap_open(const char *name, uint32_t mtu, struct rv_error **err)
{
        _cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int sock = -EBADF;
        struct ifreq ifr = { 0 };

        if (fd < 0)
                return rv_error_set(err, errno, "open /dev/net/tun");
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return rv_error_set(err, errno, "create TAP `%s`", name);
        sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return rv_error_set(err, errno, "socket");
        ifr.ifr_mtu = (int) mtu;
        if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
                return rv_error_set(err, errno, "set MTU %u on TAP `%s`", mtu, name);
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
                return rv_error_set(err, errno, "TAP `%s` flags", name);
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
                return rv_error_set(err, errno, "bring TAP `%s` up", name);
        return TAKE_FD(fd);
}

int netns_tap_set_persist(int fd, bool persist, struct rv_error **err)
{
        if (ioctl(fd, TUNSETPERSIST, persist ? 1UL : 0UL) < 0)
                return rv_error_set(err, errno, "%s the TAP persistent", persist ? "make" : "unmake");
        return 0;
}

static int ingress_add(struct nl_sock *sk, int ifindex, const char *name, struct rv_error **err)
{
        _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        int r;

        if (q == NULL)
                return rv_error_set(err, ENOMEM, "qdisc");
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
        rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
        if ((r = rtnl_tc_set_kind(TC_CAST(q), "ingress")) < 0)
                return netns_nl_error(err, r, "ingress qdisc");
        if ((r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL)) < 0)
                return netns_nl_error(err, r, "add an ingress qdisc to `%s`", name);
        return 0;
}

static void ingress_del(struct nl_sock *sk, int ifindex)
{
        _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        int r;

        if (q == NULL)
                return;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
        rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
        rtnl_tc_set_kind(TC_CAST(q), "ingress");
        if ((r = rtnl_qdisc_delete(sk, q)) < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV && r != -NLE_INVAL)
                rv_debug("network: delete ingress qdisc of ifindex %d: %s", ifindex, nl_geterror(r));
}

/* `tc filter add dev FROM ingress prio P protocol all u32 match u32 0 0
 *  action mirred egress redirect dev TO`: everything FROM receives leaves
 * through TO. */
static struct rtnl_cls *redirect_filter(int from, int to, struct rv_error **err)
{
        _cleanup_(rtnl_cls_putp) struct rtnl_cls *cls = rtnl_cls_alloc();
        _cleanup_(rtnl_act_putp) struct rtnl_act *act = rtnl_act_alloc();
        int r;

        if (cls == NULL || act == NULL) {
                rv_error_set(err, ENOMEM, "tc filter");
                return NULL;
        }
        rtnl_tc_set_ifindex(TC_CAST(cls), from);
        rtnl_tc_set_parent(TC_CAST(cls), INGRESS_FILTER_PARENT);
        rtnl_cls_set_prio(cls, NETNS_FILTER_PRIO);
        rtnl_cls_set_protocol(cls, ETH_P_ALL);
        if ((r = rtnl_tc_set_kind(TC_CAST(cls), "u32")) < 0) {
                netns_nl_error(err, r, "u32 classifier");
                return NULL;
        }
        if (to == 0)
                return TAKE_PTR(cls);
        rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
        rtnl_u32_set_cls_terminal(cls);
        if ((r = rtnl_tc_set_kind(TC_CAST(act), "mirred")) < 0) {
                netns_nl_error(err, r, "mirred action");
                return NULL;
        }
        rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
        rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
        rtnl_mirred_set_ifindex(act, (uint32_t) to);
        if ((r = rtnl_u32_add_action(cls, act)) < 0) {
                netns_nl_error(err, r, "mirred action");
                return NULL;
        }
        return TAKE_PTR(cls);
}

static int redirect_add(struct nl_sock *sk, int from, int to, const char *from_name, const char *to_name,
                        struct rv_error **err)
{
        _cleanup_(rtnl_cls_putp) struct rtnl_cls *cls = redirect_filter(from, to, err);
        int r;

        if (cls == NULL)
                return -1;
        if ((r = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_EXCL)) < 0)
                return netns_nl_error(err, r, "redirect `%s` to `%s` (tc mirred)", from_name, to_name);
        return 0;
}

static void redirect_del(struct nl_sock *sk, int from)
{
        struct rv_error *tmp_err = NULL;
        _cleanup_(rtnl_cls_putp) struct rtnl_cls *cls = redirect_filter(from, 0, &tmp_err);
        int r;

        rv_error_release(&tmp_err);
        if (cls && (r = rtnl_cls_delete(sk, cls, 0)) < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV &&
            r != -NLE_INVAL)
                rv_debug("network: delete redirect of ifindex %d: %s", from, nl_geterror(r));
}

/* The TAP exists in this namespace: the redirects both ways. */
static int redirect_pair(struct nl_sock *sk, struct netns_nic *n, struct rv_error **err)
{
        int ifindex, tapindex;

        if (ifindex_of(sk, n->name, &ifindex, err) < 0 || ifindex_of(sk, n->tap, &tapindex, err) < 0)
                return -1;
        if (n->ingress_created && ingress_add(sk, ifindex, n->name, err) < 0)
                return -1;
        if (ingress_add(sk, tapindex, n->tap, err) < 0 ||
            redirect_add(sk, ifindex, tapindex, n->name, n->tap, err) < 0 ||
            redirect_add(sk, tapindex, ifindex, n->tap, n->name, err) < 0)
                return -1;
        rv_debug("network: `%s` mirrored through TAP `%s` (MTU %u)", n->name, n->tap, n->mtu);
        return 0;
}

static int wire_one(struct nl_sock *sk, struct netns_nic *n, struct rv_error **err)
{
        n->tap_fd = netns_tap_open(n->tap, n->mtu, err);
        if (n->tap_fd < 0)
                return -1;
        return redirect_pair(sk, n, err);
}

/* Moved TAPs arrive down, with the MTU they had: the interface's MTU and
 * up, as netns_tap_open makes them. */
static int adopt_one(struct nl_sock *sk, struct netns_nic *n, struct rv_error **err)
{
        _cleanup_(rtnl_link_putp) struct rtnl_link *tap = NULL, *change = rtnl_link_alloc();
        int r;

        if (change == NULL)
                return rv_error_set(err, ENOMEM, "link");
        if ((r = rtnl_link_get_kernel(sk, 0, n->tap, &tap)) < 0)
                return netns_nl_error(err, r, "TAP `%s`", n->tap);
        rtnl_link_set_mtu(change, n->mtu);
        rtnl_link_set_flags(change, IFF_UP);
        if ((r = rtnl_link_change(sk, tap, change, 0)) < 0)
                return netns_nl_error(err, r, "set MTU %u on TAP `%s` and bring it up", n->mtu, n->tap);
        return redirect_pair(sk, n, err);
}

int netns_link_move(const char *name, int netns_fd, const char *new_name, struct rv_error **err)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = netns_nl_open(err);
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL, *change = rtnl_link_alloc();
        int r;

        if (sk == NULL)
                return -1;
        if (change == NULL)
                return rv_error_set(err, ENOMEM, "link");
        if ((r = rtnl_link_get_kernel(sk, 0, name, &l)) < 0)
                return netns_nl_error(err, r, "interface `%s`", name);
        rtnl_link_set_ns_fd(change, netns_fd);
        rtnl_link_set_name(change, new_name);
        if ((r = rtnl_link_change(sk, l, change, 0)) < 0)
                return netns_nl_error(err, r, "move `%s` into another network namespace as `%s`", name, new_name);
        return 0;
}

static int wire_each(struct netns_nic *nics, size_t n,
                     int (*one)(struct nl_sock *sk, struct netns_nic *n, struct rv_error **err), struct rv_error **err)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;

        if (n == 0)
                return 0;
        if ((sk = netns_nl_open(err)) == NULL)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (one(sk, &nics[i], err) < 0) {
                        netns_unwire(nics, n);
                        return rv_error_wrap(err, "mirror `%s` into the VM", nics[i].name);
                }
        }
        return 0;
}

int netns_wire(struct netns_nic *nics, size_t n, struct rv_error **err)
{
        return wire_each(nics, n, wire_one, err);
}

int netns_wire_moved(struct netns_nic *nics, size_t n, struct rv_error **err)
{
        return wire_each(nics, n, adopt_one, err);
}

void netns_unwire(struct netns_nic *nics, size_t n)
{
        struct rv_error *tmp_err = NULL;
        _cleanup_(nl_socket_freep) struct nl_sock *sk = n ? netns_nl_open(&tmp_err) : NULL;

        if (n && sk == NULL)
                rv_warn("network teardown: %s", tmp_err->msg);
        rv_error_release(&tmp_err);
        for (size_t i = 0; i < n; i++) {
                struct netns_nic *nic = &nics[i];
                int ifindex;
                if (nic->tap_fd >= 0)
                        close(nic->tap_fd);
                nic->tap_fd = -1;
                if (sk == NULL)
                        continue;
                if (ifindex_of(sk, nic->name, &ifindex, &tmp_err) == 0) {
                        /* The engine's own ingress qdisc stays; only our filter goes. */
                        if (nic->ingress_created)
                                ingress_del(sk, ifindex);
                        else
                                redirect_del(sk, ifindex);
                }
                rv_error_release(&tmp_err);
                _cleanup_(rtnl_link_putp) struct rtnl_link *tap = NULL;
                if (rtnl_link_get_kernel(sk, 0, nic->tap, &tap) == 0) {
                        int r = rtnl_link_delete(sk, tap);
                        if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
                                rv_warn("network teardown: delete TAP `%s`: %s", nic->tap, nl_geterror(r));
                }
        }
}
