/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the netns module: libnl sockets and errors. */
#pragma once

#include <netlink/netlink.h>
#include <netlink/cache.h>

#include "base/nl-cleanup.h"
#include "base/cleanup.h"

struct rv_error;

/* A NETLINK_ROUTE socket connected in the current network namespace. */
struct nl_sock *netns_nl_open(struct rv_error **err);
/* Sets *err from a libnl error (-NLE_*): its errno, and nl_geterror(). */
int netns_nl_error(struct rv_error **err, int nlerr, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* libnl's -NLE_* as an errno. */
int netns_nl_errno(int nlerr);
