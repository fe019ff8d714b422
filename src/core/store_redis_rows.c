/*
 * store_redis_rows.c: the rows of the Redis store's accounts, attributes,
 * counters and directory profiles read out of replies
 * (store_redis_rows.h). Every element is checked for its type and size by
 * the reply readers of store_redis_replies.c before anything is copied; a
 * reader that fails has still set every field of its output (zeros or what
 * it read), so a caller never passes on memory it did not write.
 */
#include "store_redis_internal.h"
#include "store_redis_rows.h"

#include <string.h>

/* Each integer of a row, in turn, while all went well. */
static bool rows_int(bool ok, const redisReply *r, int64_t *out)
{
    return ok && gh_store_redis_int(r, out) == GH_STORE_OK;
}

gh_store_err gh_store_redis_account_row(redisReply *const *e, gh_account *out)
{
    int64_t role = 0, enabled = 0, built_in = 0, pcr = 0;
    bool ok;

    memset(out, 0, sizeof *out);
    ok = rows_int(true, e[0], &out->id) &&
         gh_store_redis_text(e[1], out->name, sizeof out->name) && out->name[0] != '\0' &&
         gh_store_redis_text(e[2], out->domain, sizeof out->domain) &&
         gh_store_redis_text(e[10], out->password_hash, sizeof out->password_hash);
    ok = rows_int(ok, e[3], &role);
    ok = rows_int(ok, e[4], &enabled);
    ok = rows_int(ok, e[5], &built_in);
    ok = rows_int(ok, e[6], &pcr);
    ok = rows_int(ok, e[7], &out->locked_until);
    ok = rows_int(ok, e[8], &out->generation);
    ok = rows_int(ok, e[9], &out->created);
    out->role = role >= GH_ROLE_NONE && role <= GH_ROLE_READONLY ? (gh_role)role : GH_ROLE_NONE;
    out->enabled = enabled != 0;
    out->built_in = built_in != 0;
    out->password_change_required = pcr != 0;
    return ok && out->role == role ? GH_STORE_OK : GH_STORE_ERROR;
}

gh_store_err gh_store_redis_attribute_pick(const redisReply *r, const char *lead,
                                           size_t lead_len, size_t skip,
                                           gh_store_redis_attribute *list, size_t *n)
{
    *n = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0 || skip > lead_len)
        return GH_STORE_ERROR;
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return GH_STORE_ERROR;
        if (k->len < lead_len || memcmp(k->str, lead, lead_len) != 0)
            continue;
        /* the name: no NUL, not empty, within bounds; the value likewise */
        if (k->len == skip || k->len - skip > GH_ATTRIBUTE_NAME_MAX ||
            memchr(k->str + skip, '\0', k->len - skip) != NULL ||
            v->len > GH_ATTRIBUTE_VALUE_MAX || memchr(v->str, '\0', v->len) != NULL)
            return GH_STORE_ERROR;
        list[(*n)++] = (gh_store_redis_attribute){ k->str + skip, v->str };
    }
    return GH_STORE_OK;
}

gh_store_err gh_store_redis_failure_row(const redisReply *r, gh_failure *out)
{
    bool ok;

    memset(out, 0, sizeof *out);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 5)
        return GH_STORE_ERROR;
    if (r->element[0]->type == REDIS_REPLY_NIL)
        return GH_STORE_NOT_FOUND;
    ok = gh_store_redis_unhex(r->element[0], out->owner);
    ok = rows_int(ok, r->element[1], &out->window_start);
    ok = rows_int(ok, r->element[2], &out->failures);
    ok = rows_int(ok, r->element[3], &out->locked_until);
    ok = rows_int(ok, r->element[4], &out->expires);
    return ok ? GH_STORE_OK : GH_STORE_ERROR;
}

gh_store_err gh_store_redis_failure_counted(const redisReply *r, gh_failure *out, bool *locked)
{
    int64_t lock = 0;
    bool ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 6;

    ok = ok && rows_int(ok, r->element[1], &out->window_start);
    ok = ok && rows_int(ok, r->element[2], &out->failures);
    ok = ok && rows_int(ok, r->element[3], &out->locked_until);
    ok = ok && rows_int(ok, r->element[4], &out->expires);
    ok = ok && rows_int(ok, r->element[5], &lock);
    *locked = ok && lock != 0;
    return ok ? GH_STORE_OK : GH_STORE_ERROR;
}

gh_store_err gh_store_redis_throttle_row(redisReply *const *e, gh_throttle_count *c)
{
    int64_t failures = 0;
    bool ok;

    memset(c, 0, sizeof *c);
    ok = gh_store_redis_unhex(e[0], c->key);
    ok = rows_int(ok, e[1], &failures);
    ok = rows_int(ok, e[2], &c->window_start);
    ok = rows_int(ok, e[3], &c->blocked_until);
    c->failures = failures < 0 ? 0 : failures > UINT32_MAX ? UINT32_MAX : (uint32_t)failures;
    return ok ? GH_STORE_OK : GH_STORE_ERROR;
}

gh_store_err gh_store_redis_directory_row(const redisReply *r, gh_stored_directory *row,
                                          char *text, size_t size)
{
    int64_t deleted = 0;
    bool ok;

    memset(row, 0, sizeof *row);
    text[0] = '\0';
    ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 5 &&
         gh_store_redis_text(r->element[1], row->name, sizeof row->name) &&
         row->name[0] != '\0' && gh_store_redis_text(r->element[4], text, size);
    ok = ok && rows_int(ok, r->element[2], &deleted);
    ok = ok && rows_int(ok, r->element[3], &row->revision);
    row->text = deleted ? NULL : text;
    return ok ? GH_STORE_OK : GH_STORE_ERROR;
}
