/*
 * fuzz_session_login.c: libFuzzer target for gh_redfish_parse_login, the
 * Redfish session-login body parser ({"UserName": ..., "Password": ...}).
 * The input is the raw request body. On success both outputs must be
 * terminated within their buffers; any result but 0 leaves nothing to check
 * beyond the sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/redfish/redfish.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char user[GH_USER_NAME_MAX + 1];
    char password[GH_PASSWORD_MAX + 1];
    int  r;

    memset(user, 'U', sizeof(user));
    memset(password, 'P', sizeof(password));
    r = gh_redfish_parse_login((gh_str){ (const char *)data, size }, user, sizeof(user),
                               password, sizeof(password));
    if (r == 0 && (memchr(user, '\0', sizeof(user)) == NULL ||
                   memchr(password, '\0', sizeof(password)) == NULL))
        abort();
    if (r < 0)
        abort();
    gh_wipe(password, sizeof(password));
    return 0;
}
