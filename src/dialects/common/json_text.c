/*
 * json_text.c: JSON as gatehouse writes it (json_text.h). jansson writes
 * the text once into a buffer of a usual size, which json_dumpb says was
 * enough or how much is needed (then a second pass into one that fits):
 * the body is one allocation with room for the final newline, never a copy
 * of a copy, and a usual body is dumped once, not measured first.
 */
#include "json_text.h"

#include <stdlib.h>

#define GH_JSON_USUAL 2048    /* bytes: most replies fit */

char *gh_json_text(const json_t *v, size_t *len)
{
    char  *text = NULL, *bigger;
    size_t need;

    *len = 0;
    if (v == NULL || (text = malloc(GH_JSON_USUAL)) == NULL)
        goto done;
    need = json_dumpb(v, text, GH_JSON_USUAL - 2, GH_JSON_FLAGS);
    if (need > GH_JSON_USUAL - 2) {
        bigger = realloc(text, need + 2);
        if (bigger == NULL || json_dumpb(v, bigger, need, GH_JSON_FLAGS) != need) {
            free(bigger != NULL ? bigger : text);
            text = NULL;
            goto done;
        }
        text = bigger;
    }
    if (need == 0) {
        free(text);
        text = NULL;
        goto done;
    }
    text[need] = '\n';
    text[need + 1] = '\0';
    *len = need + 1;
done:
    return text;
}

int gh_json_reply(gh_response *resp, int status, json_t *body, const char *content_type)
{
    size_t len;
    char  *text = gh_json_text(body, &len);

    json_decref(body);
    if (text == NULL)
        return -1;
    resp->status = status;
    gh_response_set_body(resp, text, len, content_type);
    return 0;
}
