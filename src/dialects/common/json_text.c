/*
 * json_text.c: JSON as gatehouse writes it (json_text.h). jansson measures
 * the text first (json_dumpb with no buffer), so the body is one allocation
 * with room for the final newline, never a copy of a copy.
 */
#include "json_text.h"

#include <stdlib.h>

char *gh_json_text(const json_t *v, size_t *len)
{
    char  *text = NULL;
    size_t need;

    *len = 0;
    if (v == NULL)
        goto done;
    need = json_dumpb(v, NULL, 0, GH_JSON_FLAGS);
    if (need == 0)
        goto done;
    text = malloc(need + 2);
    if (text == NULL || json_dumpb(v, text, need, GH_JSON_FLAGS) != need) {
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
