/*
 * json_secret.c: wiping the passwords of a parsed JSON body (json_secret.h).
 * jansson's string values are mutable buffers it owns; their bytes are
 * wiped where they lie, so the length jansson records stays true.
 */
#include "json_secret.h"

#include "../../core/gh.h"

void gh_json_secret_wipe(json_t *v)
{
    if (json_is_string(v))
        gh_wipe((char *)json_string_value(v), json_string_length(v));
}

void gh_json_secret_free(json_t *obj, const char *const *names)
{
    if (obj == NULL)
        return;
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        gh_json_secret_wipe(json_object_get(obj, names[i]));
    json_decref(obj);
}
