/*
 * store_redis_session_walks.c: the walks over the Redis store's sessions
 * (store_redis_sessions.c has the rest): foreach by (created, id) along
 * P sessions:created or the account's P acct:<id>:sess, a page per script,
 * copied out before the callbacks so they may use the store; the loading
 * scan along P sessions:ord, whose ord numbers stand for SQLite's rowids.
 */
#include "store_redis_internal.h"

#include <string.h>

/* Sessions one scan page holds. */
#define SCAN_PAGE 64

/* Up to ARGV[3] sessions after member ARGV[2] ('-': from the start) of the
 * zset KEYS[1] of <cid> members: { status, how many members were looked
 * at, the last one, then id, hash, id, hash, ... }. */
static gh_redis_script sess_page_script = { .source =
    GH_STORE_REDIS_LUA
    "local start = ARGV[2] == '-' and '-' or '(' .. ARGV[2]\n"
    "local cids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, ARGV[3])\n"
    "local out = {OK, #cids, cids[#cids] or ''}\n"
    "for _, cid in ipairs(cids) do\n"
    "  local id = string.sub(cid, 18)\n"
    "  local h = redis.call('HGETALL', ARGV[1] .. 'sess:' .. id)\n"
    "  if #h > 0 then\n"
    "    out[#out + 1] = id\n"
    "    out[#out + 1] = h\n"
    "  end\n"
    "end\n"
    "return out\n"
};

/* The sessions of one page into page[], *n of them; *looked members were
 * looked at, after (GH_STORE_REDIS_CID_MAX + 1 bytes) moves to the last. */
static gh_store_err sess_page(gh_store_redis *s, int64_t account_id, char *after,
                              gh_session_record page[GH_STORE_PAGE_MAX], size_t *n,
                              int64_t *looked)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    *n = 0;
    gh_store_redis_args_init(&a);
    if (account_id < 0)
        gh_store_redis_arg_key(&a, s, "sessions:created");
    else
        gh_store_redis_arg_key(&a, s, "acct:%lld:sess", (long long)account_id);
    gh_store_redis_arg_str(&a, after[0] != '\0' ? after : "-");
    gh_store_redis_arg_int(&a, GH_STORE_PAGE_MAX);
    err = gh_store_redis_eval(s, &sess_page_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK &&
        (r->elements < 3 || (r->elements - 3) % 2 != 0 ||
         (r->elements - 3) / 2 > GH_STORE_PAGE_MAX ||
         gh_store_redis_int(r->element[1], looked) != GH_STORE_OK ||
         (*looked > 0 && !gh_store_redis_text(r->element[2], after, GH_STORE_REDIS_CID_MAX + 1))))
        err = gh_store_redis_fail(s, "session page: an answer not of its shape");
    for (size_t i = 3; err == GH_STORE_OK && i < r->elements; i += 2, (*n)++) {
        const redisReply *id = r->element[i];

        err = id->type != REDIS_REPLY_STRING ? GH_STORE_ERROR
              : gh_store_redis_session_parse(r->element[i + 1], id->str, id->len, &page[*n]);
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_session_foreach(gh_store *store, int64_t account_id,
                                            gh_session_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_session_record page[GH_STORE_PAGE_MAX];
    char after[GH_STORE_REDIS_CID_MAX + 1] = "";
    gh_store_err err = GH_STORE_OK;
    int64_t looked = 0;
    bool stop = false;
    size_t n = 0;

    if (cb == NULL)
        return GH_STORE_ERROR;
    /* a page is copied out before the callbacks: they may use the store */
    do {
        err = sess_page(s, account_id, after, page, &n, &looked);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
    } while (err == GH_STORE_OK && !stop && looked == GH_STORE_PAGE_MAX);
    gh_wipe(page, sizeof page);
    return err;
}

/* Up to ARGV[4] sessions of ord in (ARGV[2], ARGV[3]]: { status, how many
 * ords were looked at, the last one, then id, hash, ... }. */
static gh_redis_script sess_scan_script = { .source =
    GH_STORE_REDIS_LUA
    "local page = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], ARGV[3],\n"
    "                        'WITHSCORES', 'LIMIT', 0, ARGV[4])\n"
    "local out = {OK, #page / 2, page[#page] or '0'}\n"
    "for i = 1, #page, 2 do\n"
    "  local h = redis.call('HGETALL', ARGV[1] .. 'sess:' .. page[i])\n"
    "  if #h > 0 then\n"
    "    out[#out + 1] = page[i]\n"
    "    out[#out + 1] = h\n"
    "  end\n"
    "end\n"
    "return out\n"
};

/* One page of the scan, each session to cb (which must not use the store);
 * *after moves to the last ord looked at. */
static gh_store_err sess_scan_page(gh_store_redis *s, int64_t *after, int64_t upto,
                                   gh_session_cb cb, void *arg, int64_t *looked, bool *stop)
{
    gh_store_redis_args a;
    gh_session_record rec;
    redisReply *r = NULL;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "sessions:ord");
    gh_store_redis_arg_int(&a, *after);
    gh_store_redis_arg_int(&a, upto);
    gh_store_redis_arg_int(&a, SCAN_PAGE);
    err = gh_store_redis_eval(s, &sess_scan_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK &&
        (r->elements < 3 || (r->elements - 3) % 2 != 0 ||
         gh_store_redis_int(r->element[1], looked) != GH_STORE_OK ||
         (*looked > 0 && gh_store_redis_int(r->element[2], after) != GH_STORE_OK)))
        err = gh_store_redis_fail(s, "session scan: an answer not of its shape");
    for (size_t i = 3; err == GH_STORE_OK && !*stop && i < r->elements; i += 2) {
        const redisReply *id = r->element[i];

        err = id->type != REDIS_REPLY_STRING ? GH_STORE_ERROR
              : gh_store_redis_session_parse(r->element[i + 1], id->str, id->len, &rec);
        if (err == GH_STORE_OK)
            *stop = cb(&rec, arg) != 0;
    }
    gh_wipe(&rec, sizeof rec);
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_session_scan(gh_store *store, int64_t after, int64_t upto,
                                         gh_session_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_err err = GH_STORE_OK;
    int64_t looked = SCAN_PAGE;
    bool stop = false;

    if (cb == NULL)
        return GH_STORE_ERROR;
    while (err == GH_STORE_OK && !stop && looked == SCAN_PAGE && after < upto)
        err = sess_scan_page(s, &after, upto, cb, arg, &looked, &stop);
    return err;
}

gh_store_err gh_store_redis_session_rowid_last(gh_store *store, int64_t *rowid)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (rowid == NULL)
        return GH_STORE_ERROR;
    *rowid = 0;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "ZREVRANGE");
    gh_store_redis_arg_key(&a, s, "sessions:ord");
    gh_store_redis_arg_str(&a, "0");
    gh_store_redis_arg_str(&a, "0");
    gh_store_redis_arg_str(&a, "WITHSCORES");
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK && (r->type != REDIS_REPLY_ARRAY ||
                               (r->elements != 0 && r->elements != 2) ||
                               (r->elements == 2 &&
                                gh_store_redis_int(r->element[1], rowid) != GH_STORE_OK)))
        err = gh_store_redis_fail(s, "ZREVRANGE: an answer not of its shape");
    gh_redis_reply_free(r);
    return err;
}
