/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what the host reads from QEMU's monitor: the CRLF line splitter,
 * fed in chunks, and the JSON parser on every line it yields.
 * Input: byte 0 seeds the chunk sizes; the rest is what QEMU "sent". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "spec/json.h"
#include "vm/qemu/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qmp_splitter s = { 0 };
        struct rv_error *err = NULL;
        unsigned seed;
        size_t off = 1;

        if (size < 1)
                return 0;
        seed = data[0] | 1u;
        while (off < size) {
                size_t chunk = 1 + (seed % 97);
                seed = seed * 1103515245u + 12345u;
                if (chunk > size - off)
                        chunk = size - off;
                if (qmp_splitter_feed(&s, (const char *) data + off, chunk, &err) < 0) {
                        /* A refused line must be a long one: the bound holds. */
                        if (s.len <= QMP_LINE_MAX)
                                abort();
                        rv_error_release(&err);
                        break;
                }
                off += chunk;
                char *line;
                while (qmp_splitter_next(&s, &line) == 1) {
                        struct json_value *v = NULL;
                        if (strchr(line, '\n') != NULL || strlen(line) > QMP_LINE_MAX)
                                abort();
                        if (json_parse(line, strlen(line), &v, &err) == 0)
                                json_value_free(v);
                        rv_error_release(&err);
                        free(line);
                }
        }
        qmp_splitter_clear(&s);
        return 0;
}
