/* SPDX-License-Identifier: Apache-2.0 */
#include "text.h"

#include <string.h>

void rv_text_sanitize_n(char *s, size_t len)
{
        unsigned char *p = (unsigned char *) s;
        int need = 0;           /* continuation bytes the current sequence still has */

        for (size_t i = 0; i < len; i++) {
                unsigned char b = p[i];
                if (need > 0 && b >= 0x80 && b <= 0xbf) {
                        need--;
                        continue;
                }
                need = 0;
                if (b == '\n' || b == '\t' || b == '\r') {
                        p[i] = ' ';
                } else if (b < 0x20 || b == 0x7f) {
                        p[i] = '?';
                } else if (b < 0x80) {
                        continue;
                } else if (b == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
                        /* a C1 control in UTF-8: CSI, OSC... to a terminal */
                        p[i] = p[i + 1] = '?';
                        i++;
                } else if (b >= 0xc2 && b <= 0xdf) {
                        need = 1;
                } else if (b >= 0xe0 && b <= 0xef) {
                        need = 2;
                } else if (b >= 0xf0 && b <= 0xf4) {
                        need = 3;
                } else {
                        /* not UTF-8: a lone 0x80..0x9f is an 8-bit C1 control */
                        p[i] = '?';
                }
        }
}

char *rv_text_sanitize(char *s)
{
        if (s)
                rv_text_sanitize_n(s, strlen(s));
        return s;
}
