/*
 * fuzz_cookie.c: libFuzzer target for gh_credential_cookie, the Cookie header
 * lookup. The input is "NAME\nHEADER": the cookie name asked for (fuzzed too,
 * so invalid names are exercised), then the raw header value. A found value
 * must be a view inside the header holding only cookie-octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t         nlen = nl != NULL ? (size_t)(nl - data) : 0;
    const uint8_t *hdr = nl != NULL ? nl + 1 : data;
    size_t         hlen = size - (size_t)(hdr - data);
    char          *name;
    gh_str         v;

    /* Without a name line, ask for a session cookie of a real dialect. */
    name = nl != NULL ? strndup((const char *)data, nlen) : strdup("auth_cookie");
    if (name == NULL)
        return 0;
    v = gh_credential_cookie((gh_str){ (const char *)hdr, hlen }, name);
    if (v.data != NULL) {
        if ((const uint8_t *)v.data < hdr || (const uint8_t *)v.data + v.len > hdr + hlen ||
            v.len > GH_TOKEN_TEXT_MAX)
            abort();
        for (size_t i = 0; i < v.len; i++) {
            unsigned char c = (unsigned char)v.data[i];

            if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\')
                abort();
        }
    }
    free(name);
    return 0;
}
