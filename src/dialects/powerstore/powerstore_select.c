/*
 * powerstore_select.c: PowerStore's select query parameter, the attributes a
 * read returns (PowerStore returns only id without it):
 *
 *   select=a,b(c,d)      a and b, and of b's object (or of each object of its
 *                        array) only c and d; lists nest.
 *   select=*             every attribute of the resource.
 *   select=*,b(c)        every attribute, b's object cut down to c: a name
 *                        with a list says more than '*' and wins over it.
 *
 * '*' may stand in any list (appliance(*)); a '*' with a list of its own is
 * malformed, and so is '*' glued to a name. Unknown names are left out of the
 * answer, as the bundled data is smaller than a real array's.
 *
 * The parser reads at most GH_FORM_VALUE_MAX bytes, allocates nothing, keeps
 * at most GH_PS_SELECT_MAX names and recurses no deeper than
 * GH_PS_SELECT_DEPTH; tests/fuzz/fuzz_select.c is its fuzz target.
 */
#include "powerstore_internal.h"

#include <string.h>

bool gh_ps_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

bool gh_ps_blank(char c)
{
    return c == ' ' || c == '\t';
}

typedef struct {
    gh_ps_select *sel;
    size_t        pos, len;
} gh_ps_select_parser;

static void gh_ps_select_blanks(gh_ps_select_parser *p)
{
    while (p->pos < p->len && gh_ps_blank(p->sel->text[p->pos]))
        p->pos++;
}

static bool gh_ps_select_star(const gh_ps_select *sel, const gh_ps_select_node *n)
{
    return n->len == 1 && sel->text[n->off] == '*';
}

/* A name or '*' at p->pos; its length, 0 when there is none. */
static size_t gh_ps_select_name(gh_ps_select_parser *p)
{
    size_t start = p->pos;

    if (p->pos < p->len && p->sel->text[p->pos] == '*')
        p->pos++;
    else
        while (p->pos < p->len && gh_ps_name_char(p->sel->text[p->pos]))
            p->pos++;
    return p->pos - start;
}

/* The parenthesised list after node idx, at depth; -1 when malformed. */
static int gh_ps_select_list(gh_ps_select_parser *p, unsigned depth);

static int gh_ps_select_sublist(gh_ps_select_parser *p, int idx, unsigned depth)
{
    gh_ps_select *sel = p->sel;
    int           child;

    if (gh_ps_select_star(sel, &sel->node[idx]) || depth + 1 >= GH_PS_SELECT_DEPTH)
        return -1;
    p->pos++;
    child = gh_ps_select_list(p, depth + 1);
    if (child < 0)
        return -1;
    gh_ps_select_blanks(p);
    if (p->pos >= p->len || sel->text[p->pos] != ')')
        return -1;
    p->pos++;
    sel->node[idx].child = (int16_t)child;
    gh_ps_select_blanks(p);
    return 0;
}

/* One comma-separated list at depth; the index of its first node, or -1. */
static int gh_ps_select_list(gh_ps_select_parser *p, unsigned depth)
{
    gh_ps_select *sel = p->sel;
    int first = -1, prev = -1;

    for (;;) {
        size_t start, len;
        int    idx;

        gh_ps_select_blanks(p);
        start = p->pos;
        len = gh_ps_select_name(p);
        if (len == 0 || len > GH_PS_NAME_MAX || sel->n >= GH_PS_SELECT_MAX)
            return -1;
        idx = (int)sel->n++;
        sel->node[idx] = (gh_ps_select_node){ (uint16_t)start, (uint16_t)len, -1, -1 };
        if (prev >= 0)
            sel->node[prev].next = (int16_t)idx;
        else
            first = idx;
        prev = idx;
        gh_ps_select_blanks(p);
        if (p->pos < p->len && sel->text[p->pos] == '(' &&
            gh_ps_select_sublist(p, idx, depth) != 0)
            return -1;
        if (p->pos < p->len && sel->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        return first;
    }
}

int gh_ps_select_parse(gh_str text, gh_ps_select *sel)
{
    gh_ps_select_parser p = { sel, 0, text.len };

    sel->n = 0;
    if (text.data == NULL || text.len > GH_FORM_VALUE_MAX) {
        sel->text[0] = '\0';
        return -1;
    }
    /* The query parser decodes straight into sel->text: the copy may overlap. */
    memmove(sel->text, text.data, text.len);
    sel->text[text.len] = '\0';
    if (gh_ps_select_list(&p, 0) != 0 || p.pos != p.len) {
        sel->n = 0;
        return -1;
    }
    return 0;
}

static json_t *gh_ps_select_object(const gh_ps_select *sel, int first, const json_t *obj);

/* The selected form of a value under a name with a list: an object is cut
 * down, so is each object of an array; anything else stays as it is. */
static json_t *gh_ps_select_value(const gh_ps_select *sel, int first, const json_t *v)
{
    json_t *out;
    size_t  i;
    json_t *item;

    if (json_is_object(v))
        return gh_ps_select_object(sel, first, v);
    if (!json_is_array(v))
        return json_incref((json_t *)v);
    out = json_array();
    json_array_foreach(v, i, item) {
        json_t *sub = json_is_object(item) ? gh_ps_select_object(sel, first, item)
                                           : json_incref(item);

        if (out == NULL || sub == NULL || json_array_append_new(out, sub) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The node of the list at first naming key with a list of its own; -1 when
 * none (a name without a list asks for the whole value, as '*' does). */
static int gh_ps_select_listed(const gh_ps_select *sel, int first, const char *key, size_t len)
{
    for (int i = first; i >= 0; i = sel->node[i].next) {
        const gh_ps_select_node *n = &sel->node[i];

        if (n->child >= 0 && n->len == len && memcmp(sel->text + n->off, key, len) == 0)
            return i;
    }
    return -1;
}

/* A list with '*': every attribute of obj, in obj's order. */
static json_t *gh_ps_select_all(const gh_ps_select *sel, int first, const json_t *obj)
{
    json_t     *out = json_object(), *v;
    const char *key;
    size_t      klen;

    json_object_keylen_foreach((json_t *)obj, key, klen, v) {
        int     i = gh_ps_select_listed(sel, first, key, klen);
        json_t *nv = i >= 0 ? gh_ps_select_value(sel, sel->node[i].child, v) : json_incref(v);

        if (out == NULL || nv == NULL || json_object_setn_new(out, key, klen, nv) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *gh_ps_select_object(const gh_ps_select *sel, int first, const json_t *obj)
{
    json_t *out;

    for (int i = first; i >= 0; i = sel->node[i].next) {
        if (gh_ps_select_star(sel, &sel->node[i]))
            return gh_ps_select_all(sel, first, obj);
    }
    out = json_object();
    for (int i = first; out != NULL && i >= 0; i = sel->node[i].next) {
        const gh_ps_select_node *n = &sel->node[i];
        json_t *v = json_object_getn(obj, sel->text + n->off, n->len);
        json_t *nv;

        if (v == NULL || json_object_getn(out, sel->text + n->off, n->len) != NULL)
            continue;
        nv = n->child >= 0 ? gh_ps_select_value(sel, n->child, v) : json_incref(v);
        if (nv == NULL || json_object_setn_new(out, sel->text + n->off, n->len, nv) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *gh_ps_select_apply(const gh_ps_select *sel, const json_t *obj)
{
    if (sel == NULL || !json_is_object(obj))
        return NULL;
    return sel->n == 0 ? json_object() : gh_ps_select_object(sel, 0, obj);
}
