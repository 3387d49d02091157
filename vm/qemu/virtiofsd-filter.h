/* SPDX-License-Identifier: Apache-2.0 */
/* A seccomp filter stacked under virtiofsd's own: the guest asks
 * virtiofsd to create and chmod files in the host's rootfs, and no file
 * it asks for may be setuid on the host. (Device nodes are refused by
 * dropping CAP_MKNOD; security xattrs by virtiofsd's xattr mapping.) */
#pragma once

/* Installs the filter on the calling thread (which must be the only one:
 * it is inherited across exec). Returns -1 with errno set. */
int virtiofsd_filter_install(void);
