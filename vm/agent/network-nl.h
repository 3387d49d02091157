/* SPDX-License-Identifier: Apache-2.0 */
/* The netlink steps of configure_network (network.c), shared with a pool
 * VM's preparation and claims (network-pool.c). Private to those two. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct agent_timer;
struct netconf;
struct netconf_ip;
struct nl_addr;
struct nl_cache;
struct nl_sock;
struct rtnl_link;
struct rv_error;

/* A libnl error (-NLE_*) as "what: libnl's text", with its errno. */
int net_nl_fail(struct rv_error **err, int nlerr, const char *what);
struct nl_addr *net_ip_addr(const struct netconf_ip *ip, unsigned prefixlen);
/* The kernel makes no IPv6 address of its own on ifname (addr_gen_mode
 * none): the host's link-local addresses come with the container's. */
void net_no_kernel_lladdr(const char *ifname);
/* name, mtu: unchanged when NULL, 0; up: IFF_UP and, but for lo, operstate up. */
int net_set_link(struct nl_sock *sk, struct rtnl_link *l, const char *name, uint32_t mtu, bool up,
                 struct rv_error **err);
int net_bring_up_lo(struct nl_sock *sk, struct rv_error **err);
struct rtnl_link *net_link_by_mac(struct nl_cache *links, const uint8_t mac[6]);
/* Everything of c but the pool NICs' taking: lo, names and MTUs, links,
 * addresses, routes, rules, neighbours. t may be NULL. */
int net_apply(struct nl_sock *sk, const struct netconf *c, struct agent_timer *t, struct rv_error **err);
