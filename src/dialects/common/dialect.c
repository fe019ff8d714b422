/*
 * dialect.c: the list of dialects, the choice of one by path, and the empty
 * plan every classify starts from. A dialect owns its prefix and everything
 * below it on a segment boundary, matched ignoring ASCII case as HPE iLO
 * matches paths: "/redfish", "/redfish/" and "/Redfish/v1" are Redfish's,
 * "/redfishx" is nobody's. Adding a dialect is one line in gh_dialects[] and
 * its header's include.
 */
#include "dialect.h"

#include <stddef.h>
#include <string.h>

#include "../ovirt/ovirt.h"
#include "../powerstore/powerstore.h"
#include "../proxmox/proxmox.h"
#include "../redfish/redfish.h"

void gh_plan_init(gh_plan *plan)
{
    memset(plan, 0, offsetof(gh_plan, route));
}

const gh_dialect *const gh_dialects[] = {
    &gh_redfish_dialect,
    &gh_ovirt_dialect,
    &gh_powerstore_dialect,
    &gh_proxmox_dialect,
    NULL
};

static unsigned char gh_dialect_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Does path start with prefix, ignoring case, ending at a segment boundary? */
static bool gh_dialect_owns(gh_str path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (path.len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (gh_dialect_lower((unsigned char)path.data[i]) != gh_dialect_lower((unsigned char)prefix[i]))
            return false;
    }
    return path.len == n || path.data[n] == '/' || prefix[n - 1] == '/';
}

const gh_dialect *gh_dialect_for_path(gh_str path)
{
    if (path.data == NULL || path.len == 0)
        return NULL;
    for (size_t i = 0; gh_dialects[i] != NULL; i++) {
        const char *prefix = gh_dialects[i]->prefix;

        if (prefix != NULL && prefix[0] != '\0' && gh_dialect_owns(path, prefix))
            return gh_dialects[i];
    }
    return NULL;
}
