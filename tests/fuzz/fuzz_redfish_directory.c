/*
 * fuzz_redfish_directory.c: libFuzzer target for the Redfish AccountService's
 * LDAP / ActiveDirectory objects (redfish_directory.c): the input as a JSON
 * body, its object read over a profile (gh_redfish_directory_patch), then
 * shown again (gh_redfish_directory_json). Whatever the body, every string
 * field of the profile stays NUL-terminated within its size, the password
 * handed on lies inside the body's string, nothing read from the body ends
 * up with a control character, and the answer's password is null.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/redfish/redfish_internal.h"

#define FIELD_OK(p, f) (memchr((p)->f, '\0', sizeof((p)->f)) != NULL)

static void check_profile(const gh_config_directory *p)
{
    if (!FIELD_OK(p, servers) || !FIELD_OK(p, bind_dn) || !FIELD_OK(p, user_base) ||
        !FIELD_OK(p, user_attribute) || !FIELD_OK(p, group_attribute) ||
        !FIELD_OK(p, administrator_groups) || !FIELD_OK(p, operator_groups) ||
        !FIELD_OK(p, readonly_groups) || !FIELD_OK(p, bind_password_file))
        abort();
    for (const char *s = p->servers; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20)
            abort();
    for (const char *s = p->bind_dn; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK, NULL);
    json_t *errors = json_array();
    gh_config_directory p;
    gh_redfish_directory_change chg;
    json_t *shown, *auth;

    gh_config_directory_defaults(&p);
    memcpy(p.name, "corp", 5);
    memcpy(p.readonly_groups, "cn=r,dc=x", 10);
    if (body != NULL && errors != NULL) {
        const json_t *obj = json_is_object(body) && json_object_get(body, "LDAP") != NULL
                                ? json_object_get(body, "LDAP") : body;

        (void)gh_redfish_directory_patch(obj, &p, &chg, errors);
        check_profile(&p);
        if (chg.password != NULL) {
            const json_t *pw = json_object_get(json_object_get(obj, "Authentication"),
                                               "Password");

            if (chg.password != json_string_value(pw) || chg.password_len == 0 ||
                chg.password_len != json_string_length(pw))
                abort();
        }
        shown = gh_redfish_directory_json(&p, false);
        auth = json_object_get(shown, "Authentication");
        if (shown != NULL && (auth == NULL || !json_is_null(json_object_get(auth, "Password"))))
            abort();
        json_decref(shown);
    }
    json_decref(errors);
    json_decref(body);
    return 0;
}
