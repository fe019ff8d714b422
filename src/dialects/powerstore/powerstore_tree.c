/*
 * powerstore_tree.c: the bundled read-only resources of the PowerStore
 * dialect: a resource of the tree, or a member of a bundled collection found
 * by its id; and the answer to a plain read of each, rendered once when the
 * tree loads (the dialect's render hook), which the router lends to every
 * read that asks for nothing more. Replies build new values that take
 * references of what they keep, so the tree's own values are only read.
 */
#include "powerstore_internal.h"

#include <stdio.h>
#include <string.h>

/* The parsed form of the tree's entry at path (tree.h: parsed once at load,
 * shared, never changed), or NULL. */
static const json_t *gh_ps_tree_json(const gh_tree *tree, const char *path, size_t len)
{
    const gh_tree_entry *e = gh_tree_find(tree, (gh_str){ path, len }, "json");

    return e != NULL ? e->json : NULL;
}

/* The resource at the route, borrowed from the tree: its own entry, else the
 * member of a collection (an array of objects) whose id is the last segment. */
const json_t *gh_ps_tree_resource(const gh_tree *tree, const gh_ps_route *r)
{
    const json_t *v = gh_ps_tree_json(tree, r->path, r->path_len);
    const json_t *coll, *item;
    size_t        i;

    if (v != NULL || r->segments != 4 || r->member_len == 0)
        return v;
    coll = gh_ps_tree_json(tree, r->path, r->collection_len);
    json_array_foreach(coll, i, item) {
        const json_t *id = json_object_get(item, "id");

        if (json_is_string(id) && json_string_length(id) == r->member_len &&
            memcmp(json_string_value(id), r->path + r->member_off, r->member_len) == 0)
            return item;
    }
    return NULL;
}

/* The replies build new values that take references of what they keep, so
 * the tree's own values are only read. */
void gh_ps_serve_tree(gh_ps_ctx *c)
{
    const json_t *v = gh_ps_tree_resource(c->tree, c->route);

    if (json_is_array(v))
        gh_ps_reply_collection(c, json_incref((json_t *)v));
    else if (json_is_object(v))
        gh_ps_reply_instance(c, json_incref((json_t *)v));
    else
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
}

/* The render hook: the answer gh_ps_serve_tree gives a plain read of each
 * bundled PowerStore file, as a "reply" entry at its path. Only a whole
 * answer (200, no header of its own) is kept. An entry the tree has no room
 * for is left out, not an error: that read is then built per request. */
int gh_ps_render(gh_tree *tree, char *err, size_t errlen)
{
    static const gh_request plain;       /* no header, no query */
    const gh_ps_query      *query = gh_ps_query_default();
    const gh_tree_entry    *e;
    gh_ps_route             route;
    gh_response             resp;
    char                   *body;
    size_t                  len;

    if (query == NULL) {
        snprintf(err, errlen, "PowerStore: out of memory");
        return -1;
    }
    for (size_t i = 0; (e = gh_tree_at(tree, i)) != NULL; i++) {
        gh_ps_ctx c = { NULL, tree, &plain, NULL, &route, query, &resp };
        gh_str    path = { e->path, strlen(e->path) };

        if (e->json == NULL || !gh_path_under(path, GH_PS_PREFIX))
            continue;
        gh_ps_route_parse(path, &route);
        if (!route.valid || route.kind != GH_PS_TREE)
            continue;
        gh_response_init(&resp);
        gh_ps_serve_tree(&c);
        len = resp.body_len;
        body = resp.status == 200 && resp.nheaders == 0 ? gh_response_release_body(&resp) : NULL;
        gh_response_free(&resp);
        if (body != NULL && gh_tree_add(tree, e->path, "reply", body, len, err, errlen) != 0)
            err[0] = '\0';
    }
    return 0;
}
