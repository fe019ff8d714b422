/*
 * redfish_registry.c: the Privilege Registry lookup (redfish_registry.h).
 *
 * The generated table is a trie of DMTF's URI patterns, one node per path
 * segment. A path is split into its segments once, on the stack; then each
 * segment costs one binary search among the literal children of the node
 * reached (at most a few dozen, lower case, ordered by length and then
 * bytes, compared folding the path's case), and the wildcard child ("{ComputerSystemId}") is tried only when
 * the literal one leads nowhere. Few nodes have both, so the walk backs up
 * rarely and never far; no allocation, no hashing, no copy of the path.
 * What the operation needs was decided when the table was generated
 * (overrides applied), so a match is the answer.
 */
#include "redfish_registry.h"

#include <string.h>

/* Segments of a path the trie can match: deeper than any DMTF pattern. */
#define GH_REDFISH_REG_DEPTH 32

/* A segment against a node's label, in the table's order: shorter first,
 * then as strcmp folding the segment's ASCII case (labels are lower case).
 * Length first: most labels a segment is held against differ in it, and
 * then no byte is read. */
static int gh_redfish_reg_cmp(gh_str seg, const gh_redfish_reg_node *n)
{
    if (seg.len != n->seg_len)
        return seg.len < n->seg_len ? -1 : 1;
    for (size_t i = 0; i < seg.len; i++) {
        int d = (int)gh_path_fold((unsigned char)seg.data[i]) - (int)(unsigned char)n->seg[i];

        if (d != 0)
            return d;
    }
    return 0;
}

/* The literal child of node that is seg, or 0. */
static size_t gh_redfish_reg_child(const gh_redfish_reg_node *node, gh_str seg)
{
    size_t lo = node->first, hi = (size_t)node->first + node->nlit;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int    c = gh_redfish_reg_cmp(seg, &gh_redfish_reg_nodes[mid]);

        if (c == 0)
            return mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* The node where the pattern segs[0..n) names ends, below node; 0: none. */
static size_t gh_redfish_reg_walk(size_t node, const gh_str *segs, size_t n)
{
    const gh_redfish_reg_node *at = &gh_redfish_reg_nodes[node];
    size_t                     next, found;

    if (n == 0)
        return at->entity >= 0 ? node : 0;
    if (segs[0].len == 0)
        return 0;
    next = gh_redfish_reg_child(at, segs[0]);
    if (next != 0 && (found = gh_redfish_reg_walk(next, segs + 1, n - 1)) != 0)
        return found;
    return at->wild != 0 ? gh_redfish_reg_walk(at->wild, segs + 1, n - 1) : 0;
}

static int gh_redfish_reg_method(gh_method m)
{
    switch (m) {
    case GH_METHOD_GET:    return 0;
    case GH_METHOD_HEAD:   return 1;
    case GH_METHOD_PATCH:  return 2;
    case GH_METHOD_POST:   return 3;
    case GH_METHOD_PUT:    return 4;
    case GH_METHOD_DELETE: return 5;
    default:               return -1;
    }
}

/* Is seg "Actions", in any case? Its length first: it rarely is. */
static bool gh_redfish_reg_actions(gh_str seg)
{
    return seg.len == sizeof("Actions") - 1 && gh_str_eq_nocase(seg, "Actions");
}

/* Split path (after its leading '/') into segs; false past
 * GH_REDFISH_REG_DEPTH. memchr finds each '/' a word at a time. */
static bool gh_redfish_reg_split(const char *path, size_t len, gh_str *segs, size_t *n)
{
    const char *p = path + 1, *end = path + len;

    *n = 0;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash != NULL ? slash : end;

        if (*n == GH_REDFISH_REG_DEPTH)
            return false;
        segs[(*n)++] = (gh_str){ p, (size_t)(stop - p) };
        if (slash == NULL)
            return true;
        p = slash + 1;
    }
}

gh_redfish_needs gh_redfish_registry_needs(const char *path, size_t len, gh_method method)
{
    gh_redfish_needs need = { NULL, NULL, 0 };
    gh_str           segs[GH_REDFISH_REG_DEPTH];
    size_t           n, node;
    int              col = gh_redfish_reg_method(method);
    const gh_redfish_reg_map *map;

    if (path == NULL || len == 0 || path[0] != '/' ||
        !gh_redfish_reg_split(path, len, segs, &n))
        goto done;
    /* An action is an operation on the resource it belongs to (DSP0266). */
    if (n >= 2 && gh_redfish_reg_actions(segs[n - 2]))
        n -= 2;
    else if (n >= 3 && gh_redfish_reg_actions(segs[n - 3]) && gh_str_eq_nocase(segs[n - 2], "Oem"))
        n -= 3;
    node = gh_redfish_reg_walk(0, segs, n);
    if (node == 0)
        goto done;
    need.entity = gh_redfish_reg_entities[gh_redfish_reg_nodes[node].entity];
    if (col < 0)
        goto done;
    map = &gh_redfish_reg_maps[gh_redfish_reg_nodes[node].map];
    need.nsets = map->nsets[col];
    need.sets = need.nsets > 0 ? map->sets[col] : NULL;
done:
    return need;
}
