/* SPDX-License-Identifier: Apache-2.0 */
/* Where a bind mount's source sits in the virtio-fs share, so that the
 * guest's mountinfo shows for it the root runc's container shows: the
 * source's path inside the host filesystem that holds it. */
#pragma once

struct rv_error;

/* The root field a bind mount of real_path (absolute, symlinks resolved)
 * has in the host's mountinfo (mountinfo: the text of
 * /proc/self/mountinfo): the path within its filesystem, e.g. "/x" for
 * /tmp/x when /tmp is a tmpfs. */
int share_layout_root(const char *mountinfo, const char *real_path, char **ret, struct rv_error **err);
