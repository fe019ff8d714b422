/*
 * fuzz_x_auth_token.c: libFuzzer target for gh_credential_token, the
 * X-Auth-Token header parser. The input is the raw header value; a TOKEN
 * must be a view inside it of 1..GH_TOKEN_TEXT_MAX visible ASCII bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/dialects/common/credential.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_credential cred;

    gh_credential_token((gh_str){ (const char *)data, size }, &cred);
    if (cred.kind == GH_CRED_TOKEN) {
        if (cred.token.len == 0 || cred.token.len > GH_TOKEN_TEXT_MAX ||
            (const uint8_t *)cred.token.data < data ||
            (const uint8_t *)cred.token.data + cred.token.len > data + size)
            abort();
        for (size_t i = 0; i < cred.token.len; i++) {
            unsigned char c = (unsigned char)cred.token.data[i];

            if (c < 0x21 || c > 0x7e)
                abort();
        }
    } else if (cred.kind != GH_CRED_MALFORMED) {
        abort();
    }
    gh_credential_wipe(&cred);
    return 0;
}
