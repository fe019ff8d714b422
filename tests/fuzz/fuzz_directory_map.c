/*
 * fuzz_directory_map.c: libFuzzer target for what gatehouse itself splits
 * and compares of a directory profile (config_directory.c, directory.c): a
 * role's list of group DNs ('|'-separated, each parsed by libldap) and a
 * user's group DNs as a directory returns them, mapped to a role through
 * libldap's normalisation. The input is "LIST\nGROUP\nGROUP...": the list
 * is judged; when taken, it is the administrators' list and each group is
 * mapped. Never a crash or a read past a field; a role only from a group
 * that is in the list; a list taken only when every DN of it parses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/config_value.h"
#include "../../src/core/directory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gh_config_directory d;
    char        text[4096], *groups[16], *nl, *p;
    size_t      n = 0;
    gh_role     role;

    if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nl = strchr(text, '\n');
    if (nl != NULL)
        *nl = '\0';
    memset(&d, 0, sizeof(d));
    if (strlen(text) >= sizeof(d.administrator_groups) || !gh_config_directory_groups_ok(text))
        return 0;
    memcpy(d.administrator_groups, text, strlen(text) + 1);
    for (p = nl != NULL ? nl + 1 : NULL; p != NULL && n < 16; n++) {
        groups[n] = p;
        p = strchr(p, '\n');
        if (p != NULL)
            *p++ = '\0';
    }
    role = gh_directory_role(&d, (const char *const *)groups, n);
    if (role != GH_ROLE_NONE && role != GH_ROLE_ADMINISTRATOR)
        abort();
    if (role == GH_ROLE_ADMINISTRATOR && text[0] == '\0')
        abort();
    return 0;
}
