/* SPDX-License-Identifier: Apache-2.0 */
/* Cleanup functions for the libnl-route-3 objects both the host's netns/
 * and the agent's network.c hold: defined once, here, for the two libnl
 * users (base/ itself links nothing of libnl; only includers do). */
#pragma once

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/classifier.h>
#include <netlink/route/action.h>

#include "base/cleanup.h"

DEFINE_CLEANUP_FUNC(struct nl_sock *, nl_socket_free)
DEFINE_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)
DEFINE_CLEANUP_FUNC(struct nl_addr *, nl_addr_put)
DEFINE_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put)
DEFINE_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put)
DEFINE_CLEANUP_FUNC(struct rtnl_rule *, rtnl_rule_put)
DEFINE_CLEANUP_FUNC(struct rtnl_neigh *, rtnl_neigh_put)
DEFINE_CLEANUP_FUNC(struct rtnl_qdisc *, rtnl_qdisc_put)
DEFINE_CLEANUP_FUNC(struct rtnl_cls *, rtnl_cls_put)
DEFINE_CLEANUP_FUNC(struct rtnl_act *, rtnl_act_put)
