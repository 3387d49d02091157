/* SPDX-License-Identifier: Apache-2.0 */
/* What translate checks on the host before any VM boots: each a bad input
 * runc refuses (or warns about) too, found here in milliseconds instead of
 * after a boot, in runc's words where runc has them (docs/ERRORS.md). */
#pragma once

struct rv_error;
struct spec_config;

/* Annotations are kept in state.json (STATE_FILE_MAX): what is accepted
 * in all, keys and values counted. Kubernetes' own bound. */
#define ANNOTATIONS_MAX (256u << 10)

/* Before translation: process present, rootfs neither relative to a
 * symlink nor one, cwd not a non-directory, annotations within bounds;
 * unknown capabilities warned about (once, stderr and --log). */
int translate_check_host(const struct spec_config *c, const char *bundle, struct rv_error **err);
/* After translation: the guest spec fits one channel message. */
int translate_check_guest_spec(const struct spec_config *guest, struct rv_error **err);
