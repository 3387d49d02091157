/* SPDX-License-Identifier: Apache-2.0 */
/* The default devices of an OCI container in its /dev. */
#pragma once

struct rv_error;
struct spec_config;

/* Creates null, zero, full, random, urandom, tty (character nodes, or
 * bind mounts of the guest's nodes where mknod is refused) and the
 * /dev/fd, stdin, stdout, stderr, ptmx symlinks in the directory devfd. */
int agent_devices_create_default(int devfd, struct rv_error **err);

/* linux.devices: each node made at its path inside the rootfd (parents
 * created), type c/u (character), b (block), p (fifo), with major, minor,
 * fileMode (default 0666, umask not applied), uid and gid; an existing
 * node is kept and mknod refused (a user namespace) binds the guest's node
 * of the same path, as runc does. */
int agent_devices_create_spec(int rootfd, const struct spec_config *c, struct rv_error **err);

/* runc's mountConsole: /dev/console (an empty file) with the terminal's
 * pty slave `console` (a guest path) bound onto it; the slave becomes
 * 0600. */
int agent_devices_bind_console(int devfd, const char *console, struct rv_error **err);
