/* SPDX-License-Identifier: Apache-2.0 */
/* The filter runvm loads: libseccomp's program behind runc's -ENOSYS stub. */
#pragma once

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;
struct sock_filter;
struct spec_seccomp;

/* The program for ctx (whose default action is def_action and whose
 * architectures are archs), with runc's stub in front unless runc would
 * not add one. *ret is malloc'ed. */
int agent_seccomp_enosys_program(scmp_filter_ctx ctx, const struct spec_seccomp *s, uint32_t def_action,
                                 const uint32_t *archs, size_t n_archs, struct sock_filter **ret,
                                 size_t *ret_len, struct rv_error **err);
