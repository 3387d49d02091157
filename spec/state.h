/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI state document: `runvm state`, `list --format json`, hooks' stdin. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct rv_error;
struct json_writer;
struct spec_string_pair;

struct spec_state {
        const char *oci_version;
        const char *id;
        const char *status;             /* creating|created|running|paused|stopped */
        pid_t pid;                      /* 0 when stopped */
        const char *bundle;
        const char *rootfs;
        const char *created;            /* RFC 3339 with nanoseconds */
        const char *owner;
        const struct spec_string_pair *annotations;
        size_t n_annotations;
        /* `state` only: runvm's own fields (the NICs), written last. */
        void (*write_extra)(struct json_writer *w, const void *data);
        const void *extra;
};

/* `runvm state` output: 2-space indent, all fields, annotations omitted
 * when empty, no trailing newline. */
void spec_state_write_full(struct json_writer *w, const struct spec_state *s);
/* Hook stdin: compact, pid omitted when 0, no rootfs/created/owner. */
void spec_state_write_hook(struct json_writer *w, const struct spec_state *s);
