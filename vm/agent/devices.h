/* SPDX-License-Identifier: Apache-2.0 */
/* The default devices of an OCI container in its /dev. */
#pragma once

struct rv_error;

/* Creates null, zero, full, random, urandom, tty (character nodes, or
 * bind mounts of the guest's nodes where mknod is refused) and the
 * /dev/fd, stdin, stdout, stderr, ptmx symlinks in the directory devfd. */
int agent_devices_create_default(int devfd, struct rv_error **err);
