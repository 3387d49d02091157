/* SPDX-License-Identifier: Apache-2.0 */
/* Destructors for the spec_config structs: NULL and half-built safe. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "spec/config.h"
#include "spec/spec-internal.h"

void spec_pairs_free(struct spec_string_pair *p, size_t n)
{
        for (size_t i = 0; p && i < n; i++) {
                free(p[i].key);
                free(p[i].value);
        }
        free(p);
}

static void spec_user_clear(struct spec_user *u)
{
        free(u->additional_gids);
        free(u->username);
}

static void spec_capabilities_clear(struct spec_capabilities *c)
{
        rv_strv_free(c->bounding);
        rv_strv_free(c->effective);
        rv_strv_free(c->inheritable);
        rv_strv_free(c->permitted);
        rv_strv_free(c->ambient);
}

void spec_process_clear(struct spec_process *p)
{
        if (p == NULL)
                return;
        spec_user_clear(&p->user);
        rv_strv_free(p->args);
        free(p->command_line);
        rv_strv_free(p->env);
        free(p->cwd);
        spec_capabilities_clear(&p->capabilities);
        for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
                free(p->rlimits[i].type);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->io_priority.class_);
        free(p->scheduler.policy);
        rv_strv_free(p->scheduler.flags);
        memset(p, 0, sizeof(*p));
}

static void spec_hook_list_clear(struct spec_hook_list *l)
{
        for (size_t i = 0; l->hooks && i < l->n; i++) {
                free(l->hooks[i].path);
                rv_strv_free(l->hooks[i].args);
                rv_strv_free(l->hooks[i].env);
        }
        free(l->hooks);
}

void spec_resources_clear(struct spec_resources *r)
{
        if (r == NULL)
                return;
        for (size_t i = 0; r->devices && i < r->n_devices; i++) {
                free(r->devices[i].type);
                free(r->devices[i].access);
        }
        free(r->devices);
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->block_io.weight_device);
        free(r->block_io.throttle_read_bps_device);
        free(r->block_io.throttle_write_bps_device);
        free(r->block_io.throttle_read_iops_device);
        free(r->block_io.throttle_write_iops_device);
        for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; r->net_priorities && i < r->n_net_priorities; i++)
                free(r->net_priorities[i].name);
        free(r->net_priorities);
        spec_pairs_free(r->rdma_raw, r->n_rdma_raw);
        spec_pairs_free(r->unified, r->n_unified);
        memset(r, 0, sizeof(*r));
}

static void spec_seccomp_clear(struct spec_seccomp *s)
{
        free(s->default_action);
        rv_strv_free(s->architectures);
        rv_strv_free(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
                struct spec_seccomp_syscall *sc = &s->syscalls[i];
                rv_strv_free(sc->names);
                free(sc->action);
                for (size_t j = 0; sc->args && j < sc->n_args; j++)
                        free(sc->args[j].op);
                free(sc->args);
        }
        free(s->syscalls);
}

static void spec_linux_clear(struct spec_linux *l)
{
        free(l->uid_mappings);
        free(l->gid_mappings);
        spec_pairs_free(l->sysctl, l->n_sysctl);
        spec_resources_clear(&l->resources);
        free(l->cgroups_path);
        for (size_t i = 0; l->namespaces && i < l->n_namespaces; i++) {
                free(l->namespaces[i].type);
                free(l->namespaces[i].path);
        }
        free(l->namespaces);
        for (size_t i = 0; l->devices && i < l->n_devices; i++) {
                free(l->devices[i].path);
                free(l->devices[i].type);
        }
        free(l->devices);
        spec_seccomp_clear(&l->seccomp);
        free(l->rootfs_propagation);
        rv_strv_free(l->masked_paths);
        rv_strv_free(l->readonly_paths);
        free(l->mount_label);
        spec_pairs_free(l->other, l->n_other);
}

void spec_config_free(struct spec_config *c)
{
        if (c == NULL)
                return;
        free(c->oci_version);
        free(c->root.path);
        for (size_t i = 0; c->mounts && i < c->n_mounts; i++) {
                struct spec_mount *m = &c->mounts[i];
                free(m->destination);
                free(m->type);
                free(m->source);
                rv_strv_free(m->options);
                free(m->uid_mappings);
                free(m->gid_mappings);
        }
        free(c->mounts);
        spec_process_clear(&c->process);
        free(c->hostname);
        free(c->domainname);
        spec_hook_list_clear(&c->hooks.prestart);
        spec_hook_list_clear(&c->hooks.create_runtime);
        spec_hook_list_clear(&c->hooks.create_container);
        spec_hook_list_clear(&c->hooks.start_container);
        spec_hook_list_clear(&c->hooks.poststart);
        spec_hook_list_clear(&c->hooks.poststop);
        spec_pairs_free(c->annotations, c->n_annotations);
        spec_linux_clear(&c->linux_);
        free(c);
}

const struct spec_namespace *spec_config_namespace(const struct spec_config *c, const char *type)
{
        if (c == NULL || type == NULL)
                return NULL;
        for (size_t i = 0; i < c->linux_.n_namespaces; i++)
                if (c->linux_.namespaces[i].type && strcmp(c->linux_.namespaces[i].type, type) == 0)
                        return &c->linux_.namespaces[i];
        return NULL;
}

/* Duplicate keys are kept in order; the last one wins, as in Go. */
const char *spec_config_annotation(const struct spec_config *c, const char *key)
{
        if (c == NULL || key == NULL)
                return NULL;
        for (size_t i = c->n_annotations; i > 0; i--)
                if (c->annotations[i - 1].key && strcmp(c->annotations[i - 1].key, key) == 0)
                        return c->annotations[i - 1].value;
        return NULL;
}
