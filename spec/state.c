/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI state document, in runc's member order. */
#include "spec/state.h"

#include "spec/config.h"
#include "spec/json.h"

static void write_annotations(struct json_writer *w, const struct spec_state *s)
{
        if (s->n_annotations == 0 || s->annotations == NULL)
                return;
        json_write_key(w, "annotations");
        json_write_object_begin(w);
        for (size_t i = 0; i < s->n_annotations; i++) {
                json_write_key(w, s->annotations[i].key);
                json_write_string(w, s->annotations[i].value ? s->annotations[i].value : "");
        }
        json_write_object_end(w);
}

static const char *S(const char *s)
{
        return s ? s : "";
}

void spec_state_write_full(struct json_writer *w, const struct spec_state *s)
{
        json_write_object_begin(w);
        json_write_key(w, "ociVersion");
        json_write_string(w, s->oci_version ? s->oci_version : SPEC_OCI_VERSION);
        json_write_key(w, "id");
        json_write_string(w, S(s->id));
        json_write_key(w, "pid");
        json_write_int64(w, s->pid);
        json_write_key(w, "status");
        json_write_string(w, S(s->status));
        json_write_key(w, "bundle");
        json_write_string(w, S(s->bundle));
        json_write_key(w, "rootfs");
        json_write_string(w, S(s->rootfs));
        json_write_key(w, "created");
        json_write_string(w, S(s->created));
        write_annotations(w, s);
        json_write_key(w, "owner");
        json_write_string(w, S(s->owner));
        if (s->write_extra)
                s->write_extra(w, s->extra);
        json_write_object_end(w);
}

void spec_state_write_hook(struct json_writer *w, const struct spec_state *s)
{
        json_write_object_begin(w);
        json_write_key(w, "ociVersion");
        json_write_string(w, s->oci_version ? s->oci_version : SPEC_OCI_VERSION);
        json_write_key(w, "id");
        json_write_string(w, S(s->id));
        json_write_key(w, "status");
        json_write_string(w, S(s->status));
        if (s->pid != 0) {
                json_write_key(w, "pid");
                json_write_int64(w, s->pid);
        }
        json_write_key(w, "bundle");
        json_write_string(w, S(s->bundle));
        write_annotations(w, s);
        json_write_object_end(w);
}
