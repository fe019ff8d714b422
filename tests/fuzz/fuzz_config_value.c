/*
 * fuzz_config_value.c: libFuzzer target for the configuration values gateway
 * mode added (config_value.c): an upstream URL, a host name, a header-name
 * prefix, a list of paths, a path, and the free text of a directory
 * profile (an LDAP DN or filter, GH_CONFIG_TEXT), each given the whole input as its
 * value. A value is taken whole or not at all: when taken, the field holds
 * exactly the input, NUL-terminated inside the field, with none of the
 * characters that would change the meaning of the nginx.conf it is written
 * into; when refused, the field is unchanged and a reason is given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/config_value.h"

typedef struct {
    char url[64], host[64], prefix[64], paths[128], path[64], text[64];
} gh_fuzz_fields;

static const gh_config_key gh_fuzz_keys[] = {
    { "upstream", GH_CONFIG_URL, offsetof(gh_fuzz_fields, url), 64, 0, 0, true },
    { "upstream_server_name", GH_CONFIG_HOST, offsetof(gh_fuzz_fields, host), 64, 0, 0, true },
    { "identity_header_prefix", GH_CONFIG_PREFIX, offsetof(gh_fuzz_fields, prefix), 64, 0, 0,
      false },
    { "upload_paths", GH_CONFIG_PATHS, offsetof(gh_fuzz_fields, paths), 128, 0, 0, true },
    { "upstream_ca", GH_CONFIG_PATH, offsetof(gh_fuzz_fields, path), 64, 0, 0, true },
    { "user_base", GH_CONFIG_TEXT, offsetof(gh_fuzz_fields, text), 64, 0, 0, true },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           value[256];
    gh_fuzz_fields f, before;

    if (size >= sizeof(value) || memchr(data, '\0', size) != NULL)
        return 0;           /* inih hands over a NUL-terminated line */
    memcpy(value, data, size);
    value[size] = '\0';
    memset(&f, 'x', sizeof(f));
    for (size_t k = 0; k < sizeof(gh_fuzz_keys) / sizeof(gh_fuzz_keys[0]); k++) {
        const gh_config_key *key = &gh_fuzz_keys[k];
        char                *field = (char *)&f + key->offset;
        const char          *why = NULL;

        memcpy(&before, &f, sizeof(f));
        if (!gh_config_set(key, value, &f, &why)) {
            if (why == NULL || memcmp(&before, &f, sizeof(f)) != 0)
                abort();
            continue;
        }
        if (memchr(field, '\0', key->size) == NULL || strcmp(field, value) != 0)
            abort();
        if (key->type == GH_CONFIG_TEXT) {
            /* never written into nginx.conf: anything but a control character */
            for (const char *c = field; *c != '\0'; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    abort();
            continue;
        }
        if (strpbrk(field, ";{}\"'\\\n\r") != NULL)
            abort();
        if (key->type == GH_CONFIG_URL && size > 0 && strncmp(field, "http://", 7) != 0
            && strncmp(field, "https://", 8) != 0 && strncmp(field, "unix:/", 6) != 0)
            abort();
        if (key->type != GH_CONFIG_PATH && strpbrk(field, "$#") != NULL)
            abort();
    }
    return 0;
}
