/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI runtime-spec (1.1) config.json as typed C structs.
 *
 * Parse, validate, generate: spec_config_parse_* fills these structs and
 * checks types and enums (errors name the JSON path); spec_config_write
 * regenerates JSON from them (the host uses it to send the guest its
 * rewritten spec; the agent parses that with the same code).
 *
 * Optional scalars carry a has_<name> flag. Strings and arrays are NULL
 * when absent. Arrays are (pointer, count) pairs; string lists are
 * NULL-terminated (char **). */
#pragma once

#include "base/cleanup.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_error;
struct json_value;
struct json_writer;

#define SPEC_OCI_VERSION "1.1.0"

struct spec_user {
        uint32_t uid, gid;
        bool has_umask;
        uint32_t umask;
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char *username;                         /* windows only; kept for round trip */
};

struct spec_box { bool has; uint32_t height, width; };

struct spec_capabilities {
        char **bounding, **effective, **inheritable, **permitted, **ambient;
        bool has;                               /* the object was present */
};

struct spec_rlimit { char *type; uint64_t hard, soft; };

struct spec_io_priority { bool has; char *class_; int32_t priority; };

struct spec_scheduler {
        bool has;
        char *policy;
        bool has_nice; int32_t nice;
        bool has_priority; int32_t priority;
        char **flags;
        bool has_runtime; uint64_t runtime;
        bool has_deadline; uint64_t deadline;
        bool has_period; uint64_t period;
};

struct spec_process {
        bool terminal;
        struct spec_box console_size;
        struct spec_user user;
        char **args;
        char *command_line;
        char **env;
        char *cwd;
        struct spec_capabilities capabilities;
        struct spec_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        bool has_oom_score_adj;
        int32_t oom_score_adj;
        char *selinux_label;
        struct spec_io_priority io_priority;
        struct spec_scheduler scheduler;
};

struct spec_root { char *path; bool readonly; };

struct spec_id_mapping { uint32_t container_id, host_id, size; };

struct spec_mount {
        char *destination;
        char *type;
        char *source;
        char **options;
        struct spec_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
};

struct spec_hook {
        char *path;
        char **args;
        char **env;
        bool has_timeout;
        int32_t timeout;
};

struct spec_hook_list { struct spec_hook *hooks; size_t n; };

struct spec_hooks {
        struct spec_hook_list prestart, create_runtime, create_container,
                start_container, poststart, poststop;
};

struct spec_namespace { char *type; char *path; };

struct spec_device {
        char *path;
        char *type;                             /* "c", "b", "u", "p" */
        int64_t major, minor;
        bool has_file_mode; uint32_t file_mode;
        bool has_uid; uint32_t uid;
        bool has_gid; uint32_t gid;
};

struct spec_device_rule {
        bool allow;
        char *type;                             /* NULL or "a": all */
        bool has_major; int64_t major;
        bool has_minor; int64_t minor;
        char *access;
};

struct spec_memory {
        bool has;
        bool has_limit; int64_t limit;
        bool has_reservation; int64_t reservation;
        bool has_swap; int64_t swap;
        bool has_kernel; int64_t kernel;
        bool has_kernel_tcp; int64_t kernel_tcp;
        bool has_swappiness; uint64_t swappiness;
        bool has_disable_oom_killer; bool disable_oom_killer;
        bool has_use_hierarchy; bool use_hierarchy;
        bool has_check_before_update; bool check_before_update;
};

struct spec_cpu {
        bool has;
        bool has_shares; uint64_t shares;
        bool has_quota; int64_t quota;
        bool has_burst; uint64_t burst;
        bool has_period; uint64_t period;
        bool has_realtime_runtime; int64_t realtime_runtime;
        bool has_realtime_period; uint64_t realtime_period;
        char *cpus, *mems;
        bool has_idle; int64_t idle;
};

struct spec_weight_device { int64_t major, minor; bool has_weight; uint16_t weight; bool has_leaf_weight; uint16_t leaf_weight; };
struct spec_throttle_device { int64_t major, minor; uint64_t rate; };

struct spec_block_io {
        bool has;
        bool has_weight; uint16_t weight;
        bool has_leaf_weight; uint16_t leaf_weight;
        struct spec_weight_device *weight_device; size_t n_weight_device;
        struct spec_throttle_device *throttle_read_bps_device; size_t n_throttle_read_bps_device;
        struct spec_throttle_device *throttle_write_bps_device; size_t n_throttle_write_bps_device;
        struct spec_throttle_device *throttle_read_iops_device; size_t n_throttle_read_iops_device;
        struct spec_throttle_device *throttle_write_iops_device; size_t n_throttle_write_iops_device;
};

struct spec_hugepage_limit { char *page_size; uint64_t limit; };
struct spec_net_priority { char *name; uint32_t priority; };
struct spec_string_pair { char *key; char *value; };

struct spec_resources {
        bool has;
        struct spec_device_rule *devices; size_t n_devices;
        struct spec_memory memory;
        struct spec_cpu cpu;
        bool has_pids; int64_t pids_limit;
        struct spec_block_io block_io;
        struct spec_hugepage_limit *hugepage_limits; size_t n_hugepage_limits;
        bool has_network; bool has_class_id; uint32_t class_id;
        struct spec_net_priority *net_priorities; size_t n_net_priorities;
        struct spec_string_pair *rdma_raw;  size_t n_rdma_raw;   /* kept as raw JSON text per key */
        struct spec_string_pair *unified; size_t n_unified;
};

struct spec_seccomp_arg { uint32_t index; uint64_t value; bool has_value_two; uint64_t value_two; char *op; };

struct spec_seccomp_syscall {
        char **names;
        char *action;
        bool has_errno_ret; uint32_t errno_ret;
        struct spec_seccomp_arg *args; size_t n_args;
};

struct spec_seccomp {
        bool has;
        char *default_action;
        bool has_default_errno_ret; uint32_t default_errno_ret;
        char **architectures;
        char **flags;
        char *listener_path;
        char *listener_metadata;
        struct spec_seccomp_syscall *syscalls; size_t n_syscalls;
};

struct spec_linux {
        bool has;
        struct spec_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        struct spec_string_pair *sysctl; size_t n_sysctl;
        struct spec_resources resources;
        char *cgroups_path;
        struct spec_namespace *namespaces; size_t n_namespaces;
        struct spec_device *devices; size_t n_devices;
        struct spec_seccomp seccomp;
        char *rootfs_propagation;
        char **masked_paths;
        char **readonly_paths;
        char *mount_label;
        /* present but not modelled field by field (intelRdt, personality,
         * timeOffsets): kept as raw JSON so the guest spec round-trips */
        struct spec_string_pair *other; size_t n_other;
};

struct spec_config {
        char *oci_version;
        struct spec_root root;
        bool has_root;
        struct spec_mount *mounts; size_t n_mounts;
        bool has_process;
        struct spec_process process;
        char *hostname;
        char *domainname;
        struct spec_hooks hooks;
        struct spec_string_pair *annotations; size_t n_annotations;
        struct spec_linux linux_;
};

/* Parsing. Type errors, unknown enum values and missing required fields
 * fail with the JSON path. */
int spec_config_parse_file(const char *path, struct spec_config **ret, struct rv_error **err);
int spec_config_parse(const char *text, size_t len, struct spec_config **ret, struct rv_error **err);
int spec_config_from_json(const struct json_value *v, struct spec_config **ret, struct rv_error **err);
void spec_config_free(struct spec_config *c);
DEFINE_CLEANUP_FUNC(struct spec_config *, spec_config_free)

/* Semantic checks beyond types (paths absolute where they must be, known
 * namespace types, no duplicate namespaces, ...). */
int spec_config_validate(const struct spec_config *c, struct rv_error **err);
/* The process rules alone, paths relative to the Process object (exec's
 * process.json): args non-empty, cwd absolute, known rlimits, ... */
int spec_process_validate(const struct spec_process *p, struct rv_error **err);

/* Generation: writes the whole config as one JSON object. */
void spec_config_write(struct json_writer *w, const struct spec_config *c);
int spec_config_to_json(const struct spec_config *c, const char *indent, char **ret, struct rv_error **err);

/* Parses a runtime-spec Process object (exec --process). */
int spec_process_from_json(const struct json_value *v, const char *path, struct spec_process *ret, struct rv_error **err);
int spec_process_parse_file(const char *path, struct spec_process *ret, struct rv_error **err);
void spec_process_write(struct json_writer *w, const struct spec_process *p);
void spec_process_clear(struct spec_process *p);

/* A runtime-spec LinuxResources object on its own (`update --resources`). */
int spec_resources_from_json(const struct json_value *v, const char *path, struct spec_resources *ret,
                             struct rv_error **err);
void spec_resources_write(struct json_writer *w, const struct spec_resources *r);
void spec_resources_clear(struct spec_resources *r);

/* Helpers. */

/* A hook without a timeout is still cut off (so create can never hang). */
#define SPEC_HOOK_DEFAULT_TIMEOUT_S 300
/* The longest the hooks of a list may take in total, in milliseconds. */
int64_t spec_hooks_max_ms(const struct spec_hook_list *l);
const struct spec_namespace *spec_config_namespace(const struct spec_config *c, const char *type);
const char *spec_config_annotation(const struct spec_config *c, const char *key);

/* runc's default config.json (`runvm spec`), tab-indented; rootless when
 * asked. */
int spec_default_config_json(bool rootless, char **ret, struct rv_error **err);
