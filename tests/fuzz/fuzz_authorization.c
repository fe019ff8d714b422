/*
 * fuzz_authorization.c: libFuzzer target for gh_credential_authorization, the
 * Authorization header parser, in both modes (whole user name, and oVirt's
 * user@domain split). The input is the raw header value. Besides the
 * sanitizers, it checks the parser's promises: limits hold, strings are
 * terminated, a Bearer token is a view inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/credential.h"

static void gh_fuzz_check(const uint8_t *data, size_t size, const gh_credential *c)
{
    switch (c->kind) {
    case GH_CRED_BASIC:
        if (c->user[0] == '\0' || strlen(c->user) > GH_USER_NAME_MAX ||
            strlen(c->domain) > GH_DOMAIN_MAX || c->password_len > GH_PASSWORD_MAX ||
            c->password[c->password_len] != '\0' || strlen(c->password) != c->password_len)
            abort();
        for (const char *p = c->user; *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
        }
        break;
    case GH_CRED_BEARER:
        if (c->token.len == 0 || c->token.len > GH_TOKEN_TEXT_MAX ||
            (const uint8_t *)c->token.data < data ||
            (const uint8_t *)c->token.data + c->token.len > data + size)
            abort();
        break;
    case GH_CRED_NONE:
    case GH_CRED_MALFORMED:
        if (c->user[0] != '\0' || c->password_len != 0)
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_str        value = { (const char *)data, size };
    gh_credential cred;

    gh_credential_authorization(value, false, &cred);
    gh_fuzz_check(data, size, &cred);
    if (cred.kind == GH_CRED_BASIC && cred.domain[0] != '\0')
        abort();
    gh_credential_wipe(&cred);

    gh_credential_authorization(value, true, &cred);
    gh_fuzz_check(data, size, &cred);
    gh_credential_wipe(&cred);
    return 0;
}
