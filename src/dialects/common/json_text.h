/*
 * json_text.h: the one place that decides how gatehouse writes JSON. Every
 * JSON body any dialect sends (Redfish, oVirt, PowerStore; replies, errors,
 * sessions, documents rendered when the tree loads) is written here, the way
 * the bundled files under data/ are written: indented by two spaces, ASCII
 * only (anything else as \uXXXX), and ending in a newline.
 */
#ifndef GH_JSON_TEXT_H
#define GH_JSON_TEXT_H

#include <jansson.h>

#include "http.h"

/* jansson's flags for a body: JSON_ENCODE_ANY, so a bare value is a body too. */
#define GH_JSON_FLAGS (JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_ENCODE_ANY)

/* The text of v as a body: malloc'd, *len bytes ending in '\n', a NUL after
 * them. NULL (and *len 0) when v is NULL or memory runs out. */
char *gh_json_text(const json_t *v, size_t *len);

/* Make body (stolen; may be NULL) the response's body with that status and
 * content type. -1, with the response untouched, when body is NULL or memory
 * runs out: the caller answers its own way (a bodiless 500). */
int gh_json_reply(gh_response *resp, int status, json_t *body, const char *content_type);

#endif
