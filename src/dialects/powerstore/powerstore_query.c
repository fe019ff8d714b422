/*
 * powerstore_query.c: what a PowerStore query asks for and the paging of a
 * collection. The query string is form-encoded (form.h) and holds:
 *
 *   select=a,b(c,d)   the attributes to return (powerstore_select.c);
 *                     PowerStore returns only id without it.
 *   limit=N offset=M  a page of N items (1..2000, default 100) from item M;
 *                     a limit of 0 or less is 416, as PowerStore answers.
 *   ATTR=eq.V | neq.V | in.(V1,V2)
 *                     filters on top-level attributes, compared as text
 *                     ignoring case, as PowerStore filters are.
 *
 * Anything else (order, async, other operators) is refused with 400 rather
 * than ignored: a client that filters or sorts must not be handed data it did
 * not ask for as if it had been. The Range header ("0-99") pages too, and
 * wins over limit and offset; it is always answered 206 with Content-Range.
 *
 * Every parser here reads a bounded input (GH_PS_QUERY_MAX bytes of query,
 * 12 digits of a number) and allocates nothing; each has a fuzz target.
 */
#include "powerstore_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define GH_PS_DIGITS_MAX 12

/* ---- numbers, filters, the query ---- */

/* An optional '-' and 1..12 decimal digits, nothing else. */
static bool gh_ps_integer(const char *s, size_t len, int64_t *out)
{
    size_t  i = 0;
    bool    neg = len > 0 && s[0] == '-';
    int64_t v = 0;

    i = neg ? 1 : 0;
    if (len - i == 0 || len - i > GH_PS_DIGITS_MAX)
        return false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static void gh_ps_param_name(char *param, size_t paramlen, const char *name)
{
    if (param != NULL && paramlen > 0)
        snprintf(param, paramlen, "%s", name);
}

/* Decode a raw piece into the query's text; its offset, or -1. */
static long gh_ps_query_store(gh_ps_query *q, gh_str raw, size_t *len)
{
    long n = gh_form_decode(raw, q->text + q->text_len, sizeof(q->text) - q->text_len);
    long off = (long)q->text_len;

    if (n < 0)
        return -1;
    *len = (size_t)n;
    q->text_len += (size_t)n + 1;
    return off;
}

/* The operator and values of a filter whose decoded value is at off. */
static bool gh_ps_filter_value(gh_ps_query *q, gh_ps_filter *f, size_t off, size_t len)
{
    const char *v = q->text + off;
    size_t start, i;

    if (len >= 3 && memcmp(v, "eq.", 3) == 0) {
        f->op = GH_PS_FILTER_EQ;
        start = 3;
    } else if (len >= 4 && memcmp(v, "neq.", 4) == 0) {
        f->op = GH_PS_FILTER_NEQ;
        start = 4;
    } else if (len >= 5 && memcmp(v, "in.(", 4) == 0 && v[len - 1] == ')') {
        f->op = GH_PS_FILTER_IN;
        f->nvalues = 0;
        start = 4;
        for (i = start; i < len; i++) {
            if (v[i] != ',' && i != len - 1)
                continue;
            if (f->nvalues == GH_PS_FILTER_VALUES)
                return false;
            f->value_off[f->nvalues] = (uint16_t)(off + start);
            f->value_len[f->nvalues] = (uint16_t)(i - start);
            f->nvalues++;
            start = i + 1;
        }
        return true;
    } else {
        return false;
    }
    f->nvalues = 1;
    f->value_off[0] = (uint16_t)(off + start);
    f->value_len[0] = (uint16_t)(len - start);
    return true;
}

static gh_ps_query_result gh_ps_query_filter(gh_ps_query *q, const char *name, gh_str raw)
{
    gh_ps_filter *f;
    size_t nlen = strlen(name), vlen;
    long   noff, voff;

    if (nlen == 0 || nlen > GH_PS_NAME_MAX || q->nfilters == GH_PS_FILTERS_MAX)
        return GH_PS_QUERY_BAD_PARAM;
    for (size_t i = 0; i < nlen; i++) {
        if (!gh_ps_name_char(name[i]))
            return GH_PS_QUERY_BAD_PARAM;
    }
    f = &q->filter[q->nfilters];
    memset(f, 0, sizeof(*f));
    noff = gh_ps_query_store(q, (gh_str){ name, nlen }, &nlen);
    if (noff < 0)
        return GH_PS_QUERY_BAD_PARAM;
    voff = gh_ps_query_store(q, raw, &vlen);
    if (voff < 0 || !gh_ps_filter_value(q, f, (size_t)voff, vlen))
        return GH_PS_QUERY_BAD_PARAM;
    f->name_off = (uint16_t)noff;
    f->name_len = (uint16_t)nlen;
    q->nfilters++;
    return GH_PS_QUERY_OK;
}

/* limit or offset. */
static gh_ps_query_result gh_ps_query_number(gh_ps_query *q, bool limit, gh_str raw)
{
    char    buf[GH_PS_DIGITS_MAX + 2];
    long    n = gh_form_decode(raw, buf, sizeof(buf));
    int64_t v;

    if ((limit ? q->has_limit : q->has_offset) || n < 0 || !gh_ps_integer(buf, (size_t)n, &v))
        return GH_PS_QUERY_BAD_PARAM;
    if (limit) {
        if (v <= 0)
            return GH_PS_QUERY_BAD_RANGE;
        q->has_limit = true;
        q->limit = v > GH_PS_LIMIT_MAX ? GH_PS_LIMIT_MAX : v;
    } else {
        if (v < 0)
            return GH_PS_QUERY_BAD_PARAM;
        q->has_offset = true;
        q->offset = v;
    }
    return GH_PS_QUERY_OK;
}

static gh_ps_query_result gh_ps_query_pair(gh_ps_query *q, const char *name, gh_str raw)
{
    long n;

    if (strcmp(name, "select") == 0) {
        if (q->has_select)
            return GH_PS_QUERY_BAD_SELECT;
        n = gh_form_decode(raw, q->select.text, sizeof(q->select.text));
        if (n < 0 || gh_ps_select_parse((gh_str){ q->select.text, (size_t)n }, &q->select) != 0)
            return GH_PS_QUERY_BAD_SELECT;
        q->has_select = true;
        return GH_PS_QUERY_OK;
    }
    if (strcmp(name, "limit") == 0 || strcmp(name, "offset") == 0)
        return gh_ps_query_number(q, name[0] == 'l', raw);
    /* Known to PowerStore, not served here: refused, never ignored. */
    if (strcmp(name, "order") == 0 || strcmp(name, "async") == 0 ||
        strcmp(name, "is_async") == 0)
        return GH_PS_QUERY_BAD_PARAM;
    return gh_ps_query_filter(q, name, raw);
}

gh_ps_query_result gh_ps_query_parse(gh_str raw, gh_ps_query *q, char *param, size_t paramlen)
{
    char          name[GH_FORM_NAME_MAX + 1];
    gh_form_iter  it;
    gh_str        rn, rv;
    int           r;
    gh_ps_query_result rc = GH_PS_QUERY_OK;

    q->has_select = q->has_limit = q->has_offset = false;
    q->limit = q->offset = 0;
    q->nfilters = 0;
    q->text_len = 0;
    q->select.n = 0;
    gh_ps_param_name(param, paramlen, "");
    if (raw.len > GH_PS_QUERY_MAX) {
        gh_ps_param_name(param, paramlen, "(query)");
        return GH_PS_QUERY_BAD_PARAM;
    }
    gh_form_iter_init(&it, raw.data != NULL ? raw : (gh_str){ "", 0 });
    while (rc == GH_PS_QUERY_OK && (r = gh_form_next(&it, &rn, &rv)) == 1) {
        if (gh_form_decode(rn, name, sizeof(name)) < 0) {
            gh_ps_param_name(param, paramlen, "(name)");
            return GH_PS_QUERY_BAD_PARAM;
        }
        gh_ps_param_name(param, paramlen, name);
        rc = gh_ps_query_pair(q, name, rv);
    }
    if (rc != GH_PS_QUERY_OK)
        return rc;
    if (r < 0) {
        gh_ps_param_name(param, paramlen, "(query)");
        return GH_PS_QUERY_BAD_PARAM;
    }
    gh_ps_param_name(param, paramlen, "");
    if (!q->has_select && gh_ps_select_parse(GH_STR("id"), &q->select) != 0)
        return GH_PS_QUERY_BAD_SELECT;
    return GH_PS_QUERY_OK;
}

static gh_ps_query    gh_ps_default_query;
static bool           gh_ps_default_ok;
static pthread_once_t gh_ps_default_once = PTHREAD_ONCE_INIT;

static void gh_ps_default_parse(void)
{
    gh_ps_default_ok = gh_ps_query_parse((gh_str){ "", 0 }, &gh_ps_default_query, NULL, 0) ==
                       GH_PS_QUERY_OK;
}

const gh_ps_query *gh_ps_query_default(void)
{
    pthread_once(&gh_ps_default_once, gh_ps_default_parse);
    return gh_ps_default_ok ? &gh_ps_default_query : NULL;
}

/* ---- matching ---- */

static bool gh_ps_text_eq_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + ('a' - 'A'));
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + ('a' - 'A'));
        if (x != y)
            return false;
    }
    return true;
}

/* The text a scalar compares as; false for an object or an array. */
static bool gh_ps_scalar_text(const json_t *v, char buf[40], const char **text, size_t *len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *text = json_string_value(v);
        *len = json_string_length(v);
        return true;
    case JSON_INTEGER:
        snprintf(buf, 40, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, 40, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(buf, 40, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, 40, "false");
        break;
    case JSON_NULL:
        snprintf(buf, 40, "null");
        break;
    default:
        return false;
    }
    *text = buf;
    *len = strlen(buf);
    return true;
}

static bool gh_ps_filter_match(const gh_ps_query *q, const gh_ps_filter *f, const json_t *obj)
{
    json_t     *v = json_object_getn(obj, q->text + f->name_off, f->name_len);
    char        buf[40];
    const char *text;
    size_t      len;
    bool        any = false;

    if (v == NULL)
        v = json_null();
    /* An object or an array equals no text. */
    if (!gh_ps_scalar_text(v, buf, &text, &len))
        return f->op == GH_PS_FILTER_NEQ;
    for (uint16_t i = 0; i < f->nvalues && !any; i++)
        any = gh_ps_text_eq_nocase(text, len, q->text + f->value_off[i], f->value_len[i]);
    return f->op == GH_PS_FILTER_NEQ ? !any : any;
}

bool gh_ps_query_match(const gh_ps_query *q, const json_t *obj)
{
    for (size_t i = 0; i < q->nfilters; i++) {
        if (!gh_ps_filter_match(q, &q->filter[i], obj))
            return false;
    }
    return true;
}

/* ---- Range and paging ---- */

static size_t gh_ps_digits(gh_str v, size_t i, uint64_t *out)
{
    size_t start = i;

    *out = 0;
    while (i < v.len && i - start < GH_PS_DIGITS_MAX + 1 && v.data[i] >= '0' && v.data[i] <= '9') {
        *out = *out * 10 + (uint64_t)(v.data[i] - '0');
        i++;
    }
    return i - start;
}

int gh_ps_range_parse(gh_str v, gh_ps_range *out)
{
    size_t i = 0, n;

    memset(out, 0, sizeof(*out));
    if (v.data == NULL)
        return 0;
    while (i < v.len && gh_ps_blank(v.data[i]))
        i++;
    n = gh_ps_digits(v, i, &out->first);
    if (n == 0 || n > GH_PS_DIGITS_MAX)
        return -1;
    i += n;
    if (i >= v.len || v.data[i] != '-')
        return -1;
    i++;
    n = gh_ps_digits(v, i, &out->last);
    if (n > GH_PS_DIGITS_MAX)
        return -1;
    out->has_last = n > 0;
    i += n;
    while (i < v.len && gh_ps_blank(v.data[i]))
        i++;
    if (i != v.len || (out->has_last && out->last < out->first))
        return -1;
    return 1;
}

int gh_ps_page_plan(const gh_ps_query *q, const gh_ps_range *range, size_t total,
                    gh_ps_page *out)
{
    uint64_t first, count;

    memset(out, 0, sizeof(*out));
    if (range != NULL) {
        first = range->first;
        count = range->has_last ? range->last - range->first + 1 : GH_PS_LIMIT_MAX;
    } else {
        first = q != NULL && q->has_offset ? (uint64_t)q->offset : 0;
        count = q != NULL && q->has_limit ? (uint64_t)q->limit : GH_PS_LIMIT_DEFAULT;
    }
    if (count > GH_PS_LIMIT_MAX)
        count = GH_PS_LIMIT_MAX;
    /* Nothing to page: an empty collection is the same answer from anywhere. */
    if (total == 0)
        return 0;
    if (first >= total)
        return -1;
    if (count > total - first)
        count = total - first;
    out->first = (size_t)first;
    out->count = (size_t)count;
    out->partial = range != NULL || count < total;
    return 0;
}

/* ---- replies ---- */

void gh_ps_reply_collection(const gh_ps_ctx *c, json_t *items)
{
    json_t     *kept = json_array(), *page = json_array(), *v;
    gh_ps_range range;
    gh_ps_page  pg;
    size_t      i;
    int         rr = gh_ps_range_parse(gh_request_header(c->req, "Range"), &range);

    if (kept == NULL || page == NULL || !json_is_array(items) || c->query == NULL) {
        gh_ps_fail(c->resp, GH_PS_E_INTERNAL, NULL);
        goto done;
    }
    if (rr < 0) {
        gh_ps_fail(c->resp, GH_PS_E_RANGE, NULL);
        goto done;
    }
    json_array_foreach(items, i, v) {
        if (json_is_object(v) && gh_ps_query_match(c->query, v) && json_array_append(kept, v) != 0) {
            gh_ps_fail(c->resp, GH_PS_E_INTERNAL, NULL);
            goto done;
        }
    }
    if (gh_ps_page_plan(c->query, rr > 0 ? &range : NULL, json_array_size(kept), &pg) != 0) {
        gh_ps_fail(c->resp, GH_PS_E_RANGE, NULL);
        gh_response_header_add(c->resp, "Content-Range", "*/%zu", json_array_size(kept));
        goto done;
    }
    for (i = pg.first; i < pg.first + pg.count; i++) {
        if (json_array_append_new(page, gh_ps_select_apply(&c->query->select,
                                                           json_array_get(kept, i))) != 0) {
            gh_ps_fail(c->resp, GH_PS_E_INTERNAL, NULL);
            goto done;
        }
    }
    gh_ps_reply(c->resp, pg.partial ? 206 : 200, page);
    page = NULL;
    if (pg.partial && c->resp->status == 206)
        gh_response_header_add(c->resp, "Content-Range", "%zu-%zu/%zu", pg.first,
                               pg.first + pg.count - 1, json_array_size(kept));
done:
    json_decref(page);
    json_decref(kept);
    json_decref(items);
}

void gh_ps_reply_instance(const gh_ps_ctx *c, json_t *obj)
{
    char name[GH_PS_NAME_MAX + 1];

    if (c->query != NULL && c->query->nfilters > 0) {
        /* Filters choose among a collection's instances, not within one. */
        snprintf(name, sizeof(name), "%.*s", (int)c->query->filter[0].name_len,
                 c->query->text + c->query->filter[0].name_off);
        gh_ps_fail(c->resp, GH_PS_E_BAD_QUERY, name);
        json_decref(obj);
        return;
    }
    gh_ps_reply(c->resp, 200, c->query != NULL && json_is_object(obj)
                                  ? gh_ps_select_apply(&c->query->select, obj) : NULL);
    json_decref(obj);
}
