/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/agent/caps.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "spec/config.h"

static int cap_free_ptr(cap_t c) { return cap_free(c); }
DEFINE_CLEANUP_FUNC(cap_t, cap_free_ptr)

/* "CAP_NET_ADMIN" -> its number; -1 when this libcap/kernel does not know it. */
static int cap_parse(const char *name)
{
        char lower[64];
        cap_value_t v;
        size_t i;

        for (i = 0; name[i] != '\0' && i + 1 < sizeof(lower); i++)
                lower[i] = (char) tolower((unsigned char) name[i]);
        lower[i] = '\0';
        if (cap_from_name(lower, &v) < 0 || v < 0 || v >= (cap_value_t) cap_max_bits())
                return -1;
        return v;
}

/* A list of names as a set, each name looked up once: testing all 41
 * capabilities against the list name by name cost milliseconds under
 * TCG. Capability numbers stay below 64 (CAP_LAST_CAP is 40 in 6.1). */
static uint64_t cap_set_of(char **list)
{
        uint64_t set = 0;

        for (char **p = list; p != NULL && *p != NULL; p++) {
                int v = cap_parse(*p);
                if (v >= 0 && v < 64)
                        set |= UINT64_C(1) << v;
        }
        return set;
}

/* No capabilities object means every set empty, as under runc (its
 * libcontainer/capabilities.New with an empty Capabilities). */
int agent_caps_drop_bounding(const struct spec_capabilities *caps, struct rv_error **err)
{
        uint64_t keep = cap_set_of(caps->bounding);

        for (int cap = 0; cap < (int) cap_max_bits(); cap++) {
                if (cap < 64 && (keep & (UINT64_C(1) << cap)))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return rv_error_set(err, errno, "drop capability %d from the bounding set", cap);
        }
        return 0;
}

static int set_flag(cap_t c, cap_flag_t flag, char **list, struct rv_error **err)
{
        for (char **p = list; p != NULL && *p != NULL; p++) {
                int v = cap_parse(*p);
                cap_value_t value;

                if (v < 0) {
                        rv_debug("ignoring unknown capability `%s`", *p);
                        continue;
                }
                value = v;
                if (cap_set_flag(c, flag, 1, &value, CAP_SET) < 0)
                        return rv_error_set(err, errno, "capability `%s`", *p);
        }
        return 0;
}

int agent_caps_apply(const struct spec_capabilities *caps, struct rv_error **err)
{
        _cleanup_(cap_free_ptrp) cap_t c = NULL;

        c = cap_init();
        if (c == NULL)
                return rv_error_set(err, errno, "cap_init");
        if (set_flag(c, CAP_EFFECTIVE, caps->effective, err) < 0 ||
            set_flag(c, CAP_PERMITTED, caps->permitted, err) < 0 ||
            set_flag(c, CAP_INHERITABLE, caps->inheritable, err) < 0)
                return -1;
        if (cap_set_proc(c) < 0)
                return rv_error_set(err, errno, "set capabilities");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return rv_error_set(err, errno, "clear ambient capabilities");
        for (char **p = caps->ambient; p != NULL && *p != NULL; p++) {
                int v = cap_parse(*p);
                if (v < 0)
                        continue;
                /* runc ignores ambient capabilities it cannot raise (not
                 * in permitted and inheritable). */
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0)
                        rv_debug("cannot raise ambient capability `%s`: %s", *p, strerror(errno));
        }
        return 0;
}
