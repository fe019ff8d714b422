/*
 * fuzz_select.c: libFuzzer target for the PowerStore query parsers: the
 * select grammar on its own (gh_ps_select_parse over the raw input; names,
 * '*' and nested lists, seeds in corpus/select) and the
 * whole form-encoded query (gh_ps_query_parse: select, limit, offset and the
 * filters), then applied to a fixed collection the way a GET answers it
 * (gh_ps_query_match, gh_ps_select_apply). A selected object may hold only
 * attributes its source has, a parsed select has at least one and at most
 * GH_PS_SELECT_MAX names, and nothing may read outside its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/powerstore/powerstore_internal.h"

static const char collection[] =
    "[{\"id\":\"1\",\"name\":\"Vol1\",\"size\":5,\"ok\":true,\"none\":null,"
    "\"policy\":{\"id\":\"p\",\"name\":\"P\",\"inner\":{\"a\":[1,{\"b\":2}]}},"
    "\"hosts\":[{\"id\":\"h\",\"name\":\"H\"},7,[8]]},"
    "{\"id\":\"2\",\"name\":\"vol2\",\"size\":1.5,\"tags\":[\"a\",\"b\"]}]";

/* Every key of out is a key of src, and nested selections hold the same. */
static void check_subset(const json_t *out, const json_t *src)
{
    const char *key;
    json_t     *v;

    if (!json_is_object(out) || !json_is_object(src))
        abort();
    json_object_foreach((json_t *)out, key, v) {
        json_t *s = json_object_get(src, key);

        if (s == NULL)
            abort();
        if (json_is_object(v) && json_is_object(s))
            check_subset(v, s);
    }
}

static void apply(const gh_ps_query *q, json_t *items)
{
    size_t  i;
    json_t *item;

    json_array_foreach(items, i, item) {
        json_t *out;

        (void)gh_ps_query_match(q, item);
        out = gh_ps_select_apply(&q->select, item);
        if (out == NULL)
            abort();
        check_subset(out, item);
        json_decref(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_ps_select *sel = malloc(sizeof(*sel));
    gh_ps_query  *q = malloc(sizeof(*q));
    json_t       *items = json_loads(collection, 0, NULL);
    char         *copy = malloc(size + 1);
    char          param[GH_PS_NAME_MAX + 1];

    if (sel == NULL || q == NULL || items == NULL || copy == NULL)
        abort();
    memcpy(copy, data, size);
    if (gh_ps_select_parse((gh_str){ copy, size }, sel) == 0) {
        if (sel->n == 0 || sel->n > GH_PS_SELECT_MAX)
            abort();
        for (size_t i = 0; i < sel->n; i++) {
            if (sel->node[i].len == 0 || sel->node[i].off + sel->node[i].len > size)
                abort();
        }
    }
    if (gh_ps_query_parse((gh_str){ copy, size }, q, param, sizeof(param)) == GH_PS_QUERY_OK) {
        if (q->select.n == 0 || (q->has_limit && (q->limit < 1 || q->limit > GH_PS_LIMIT_MAX)) ||
            q->nfilters > GH_PS_FILTERS_MAX)
            abort();
        apply(q, items);
    } else if (strlen(param) >= sizeof(param)) {
        abort();
    }
    json_decref(items);
    free(copy);
    free(q);
    free(sel);
    return 0;
}
