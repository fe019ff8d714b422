/*
 * json_secret.h: the secrets a parsed JSON body holds. jansson keeps its own
 * copy of every string it parses, so a password in a login or account body
 * lives in jansson's memory until the body is freed; these wipe it first.
 */
#ifndef GH_JSON_SECRET_H
#define GH_JSON_SECRET_H

#include <jansson.h>

/* Wipe the text of v in place when it is a string; nothing otherwise. */
void gh_json_secret_wipe(json_t *v);

/* Wipe each member of obj named in names (NULL-terminated) that is a string,
 * then drop the caller's reference to obj (NULL: nothing). */
void gh_json_secret_free(json_t *obj, const char *const *names);

#endif
