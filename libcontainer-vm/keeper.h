/* SPDX-License-Identifier: Apache-2.0 */
/* A keeper: a fork that keeps the host credentials of the process that
 * made it, and runs a few fixed operations for it on request, over a
 * socketpair (docs/SECURITY.md, "The monitor in the container's user
 * namespace"). The monitor makes one right before it enters the
 * container's user namespace, where signalling QEMU, netlink in the
 * container's network namespace and reading a ctl client's host uid are
 * no longer possible.
 *
 * The keeper holds no fd of its maker's but its log and its end of the
 * socket (so it never keeps a listening socket or a stdio pipe open); a
 * request brings the fds it acts on. It exits when the maker's end
 * closes, or with the maker (PR_SET_PDEATHSIG). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/cleanup.h"

struct rv_error;

#define KEEPER_MAX_FDS 8

/* One operation, run in the keeper: arg and fds as the caller sent them
 * (the keeper closes the fds after), *ret_value goes back on success. */
typedef int (*keeper_op_fn)(void *data, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                            struct rv_error **err);

struct keeper_ops {
        const keeper_op_fn *ops;        /* by request number */
        size_t n_ops;
        /* In the keeper, once the maker's fds are closed: forget the
         * numbers data still holds (they are not the keeper's). */
        void (*child_init)(void *data);
};

struct keeper;

/* Forks the keeper; data is the keeper's copy of the caller's memory. */
int keeper_start(const struct keeper_ops *ops, void *data, struct keeper **ret, struct rv_error **err);
/* Runs operation op in the keeper and waits (bounded) for its verdict. */
int keeper_call(struct keeper *k, uint32_t op, int32_t arg, const int *fds, size_t n_fds, int32_t *ret_value,
                struct rv_error **err);
/* Closes the socket and reaps the keeper (bounded; killed after). NULL
 * is fine. */
void keeper_free(struct keeper *k);
DEFINE_CLEANUP_FUNC(struct keeper *, keeper_free)
