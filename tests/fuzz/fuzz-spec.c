/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes config.json parsing: parse, validate, write, re-parse; the
 * round trip must hold (parse(write(c)) writes the same text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "spec/config.h"
#include "spec/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *write_or_die(const struct spec_config *c, const char *indent)
{
        struct rv_error *err = NULL;
        char *out = NULL;

        if (spec_config_to_json(c, indent, &out, &err) < 0)
                abort();
        return out;
}

static struct spec_config *parse_or_die(const char *text)
{
        struct spec_config *c = NULL;
        struct rv_error *err = NULL;

        if (spec_config_parse(text, strlen(text), &c, &err) < 0)
                abort();
        return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_config *c = NULL, *c2, *c3;
        struct json_value *v = NULL;
        struct spec_process p;
        struct rv_error *err = NULL;
        char *out, *out2, *pretty, *pretty2;

        if (spec_config_parse((const char *) data, size, &c, &err) < 0) {
                /* every failure carries a message */
                if (err == NULL || err->msg == NULL)
                        abort();
                rv_error_free(err);
                return 0;
        }
        if (spec_config_validate(c, &err) < 0) {
                if (err == NULL || err->msg == NULL || err->msg[0] != '`')
                        abort();
                rv_error_release(&err);
        }

        out = write_or_die(c, NULL);
        c2 = parse_or_die(out);
        out2 = write_or_die(c2, NULL);
        if (strcmp(out, out2) != 0)
                abort();

        pretty = write_or_die(c2, "\t");
        c3 = parse_or_die(pretty);
        pretty2 = write_or_die(c3, "\t");
        if (strcmp(pretty, pretty2) != 0)
                abort();

        /* the process alone, as exec's process.json */
        if (json_parse((const char *) data, size, &v, &err) == 0) {
                if (spec_process_from_json(v, NULL, &p, &err) == 0) {
                        (void) spec_process_validate(&p, &err);
                        spec_process_clear(&p);
                }
                rv_error_release(&err);
                json_value_free(v);
        } else {
                abort();        /* it parsed as a config a moment ago */
        }

        free(out);
        free(out2);
        free(pretty);
        free(pretty2);
        spec_config_free(c);
        spec_config_free(c2);
        spec_config_free(c3);
        return 0;
}
