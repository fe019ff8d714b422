/*
 * store_redis_sessions.c: sessions in the Redis store (keys in
 * store_redis_internal.h).
 *
 * A session is the hash P sess:<id>, found by its token's digest through
 * P dig:<hex> (the token itself is never stored, only its SHA-256), and
 * indexed three ways: P sessions:ord by creation order (the ord number INCR gives,
 * which stands for SQLite's rowid: the sweep's position and the loading
 * scan's ranges), P sessions:created and its account's P acct:<id>:sess by
 * (created, id), the order the walks promise. Every change to a session's
 * keys happens inside one script, so no reader sees half of one: insert
 * (with the per-account limit checked in the same script: no other node can
 * slip in between the count and the insert; the count is only made when
 * the account holds as many sessions as the limit, live or not, so a
 * login is O(1) until then), delete and delete_account
 * (with their change logged by the same script), expiry (a bounded batch
 * per script: Redis runs one script at a time, so none may run long), touch.
 *
 * Expiry follows gh_store_session_ended (gh_ended in Lua). One call deletes
 * up to GH_STORE_EXPIRE_BATCH ended sessions after *from along P sessions:ord,
 * EXPIRE_LOOK at a time per script, and logs nothing (every node applies
 * the same rule to what it holds).
 */
#include "store_redis_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

/* Sessions one expiry script looks at: deleting that many ended ones
 * (five commands each) takes Redis about 2 ms, which every other client
 * waits behind; 1000 took about 8. */
#define EXPIRE_LOOK 250
/* Sessions one delete_account script deletes (about 2 ms of Redis). */
#define DELETE_BATCH 250
/* Touches per script: a few hundred HGETs and HSETs, well under a
 * millisecond of Redis' time, and one round trip instead of dozens. */
#define TOUCH_CHUNK 256

/* The member of P sessions:created and P acct:<id>:sess (<cid>). */
#define CID_MAX GH_STORE_REDIS_CID_MAX
static void sess_cid(int64_t created, const char *id, char cid[CID_MAX + 1])
{
    snprintf(cid, CID_MAX + 1, "%016llx:%s",
             (unsigned long long)((uint64_t)created ^ (UINT64_C(1) << 63)), id);
}

/* Counting an account's live sessions, in Lua: the zset at key, now and the
 * default idle; stops at limit when limit > 0. */
#define SESS_LIVE_LUA \
    "local function gh_live(p, key, now, idle, limit)\n" \
    "  local live = 0\n" \
    "  for _, cid in ipairs(redis.call('ZRANGE', key, 0, -1)) do\n" \
    "    local v = redis.call('HMGET', p .. 'sess:' .. string.sub(cid, 18),\n" \
    "                         'last_used', 'idle_timeout', 'expires')\n" \
    "    if v[1] and not gh_ended(now, idle,\n" \
    "        {last_used = v[1], idle_timeout = v[2], expires = v[3]}) then\n" \
    "      live = live + 1\n" \
    "      if limit > 0 and live >= limit then return live end\n" \
    "    end\n" \
    "  end\n" \
    "  return live\n" \
    "end\n"

/* A fixed text field is sound: NUL-terminated within its size. */
#define SESS_FIELD_OK(f) (memchr((f), '\0', sizeof(f)) != NULL)

static bool sess_fields_ok(const gh_session_record *rec)
{
    return SESS_FIELD_OK(rec->id) && rec->id[0] != '\0' && SESS_FIELD_OK(rec->user) &&
           SESS_FIELD_OK(rec->client_addr) && SESS_FIELD_OK(rec->dialect);
}

gh_store_err gh_store_redis_session_parse(const redisReply *h, const char *id, size_t id_len,
                               gh_session_record *out)
{
    memset(out, 0, sizeof *out);
    if (h == NULL || h->type != REDIS_REPLY_ARRAY)
        return GH_STORE_ERROR;
    if (h->elements == 0)
        return GH_STORE_NOT_FOUND;
    if (id_len >= sizeof out->id)
        return GH_STORE_ERROR;
    memcpy(out->id, id, id_len);
    if (!gh_store_redis_unhex(gh_store_redis_field(h, "digest"), out->digest) ||
        gh_store_redis_field_int(h, "account_id", &out->account_id) != GH_STORE_OK ||
        gh_store_redis_field_int(h, "created", &out->created) != GH_STORE_OK ||
        gh_store_redis_field_int(h, "last_used", &out->last_used) != GH_STORE_OK ||
        gh_store_redis_field_int(h, "idle_timeout", &out->idle_timeout) != GH_STORE_OK ||
        gh_store_redis_field_int(h, "expires", &out->expires) != GH_STORE_OK ||
        !gh_store_redis_field_text(h, "user", out->user, sizeof out->user) ||
        !gh_store_redis_field_text(h, "dialect", out->dialect, sizeof out->dialect) ||
        !gh_store_redis_field_text(h, "client_addr", out->client_addr,
                                   sizeof out->client_addr))
        return GH_STORE_ERROR;
    return GH_STORE_OK;
}

/* Insert. */

static gh_redis_script sess_insert_script = { .source =
    GH_STORE_REDIS_LUA SESS_LIVE_LUA
    "local p = ARGV[1]\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then return NOT_FOUND end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then\n"
    "  return EXISTS\n"
    "end\n"
    "local limit = tonumber(ARGV[13])\n"
    "if limit > 0 and redis.call('ZCARD', KEYS[4]) >= limit and\n"
    "   gh_live(p, KEYS[4], tonumber(ARGV[14]), tonumber(ARGV[15]), limit) >= limit then\n"
    "  return LIMIT\n"
    "end\n"
    "local ord = redis.call('INCR', KEYS[7])\n"
    "redis.call('HSET', KEYS[2], 'digest', ARGV[3], 'account_id', ARGV[4], 'user', ARGV[5],\n"
    "           'dialect', ARGV[6], 'client_addr', ARGV[7], 'created', ARGV[8],\n"
    "           'last_used', ARGV[9], 'idle_timeout', ARGV[10], 'expires', ARGV[11],\n"
    "           'ord', ord, 'cid', ARGV[12])\n"
    "redis.call('SET', KEYS[3], ARGV[2])\n"
    "redis.call('ZADD', KEYS[4], 0, ARGV[12])\n"
    "redis.call('ZADD', KEYS[5], ord, ARGV[2])\n"
    "redis.call('ZADD', KEYS[6], 0, ARGV[12])\n"
    "return OK\n"
};

static gh_store_err sess_insert(gh_store_redis *s, const gh_session_record *rec,
                                int64_t limit, int64_t now, int64_t default_idle)
{
    char hex[2 * GH_DIGEST_LEN + 1], cid[CID_MAX + 1];
    gh_store_redis_args a;

    if (rec == NULL || !sess_fields_ok(rec))
        return gh_store_redis_fail(s, "a session field does not fit");
    gh_token_hex(rec->digest, GH_DIGEST_LEN, hex);
    sess_cid(rec->created, rec->id, cid);
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld", (long long)rec->account_id);
    gh_store_redis_arg_key(&a, s, "sess:%s", rec->id);
    gh_store_redis_arg_key(&a, s, "dig:%s", hex);
    gh_store_redis_arg_key(&a, s, "acct:%lld:sess", (long long)rec->account_id);
    gh_store_redis_arg_key(&a, s, "sessions:ord");
    gh_store_redis_arg_key(&a, s, "sessions:created");
    gh_store_redis_arg_key(&a, s, "sessions:seq");
    gh_store_redis_arg_str(&a, rec->id);
    gh_store_redis_arg_str(&a, hex);
    gh_store_redis_arg_int(&a, rec->account_id);
    gh_store_redis_arg_str(&a, rec->user);
    gh_store_redis_arg_str(&a, rec->dialect);
    gh_store_redis_arg_str(&a, rec->client_addr);
    gh_store_redis_arg_int(&a, rec->created);
    gh_store_redis_arg_int(&a, rec->last_used);
    gh_store_redis_arg_int(&a, rec->idle_timeout);
    gh_store_redis_arg_int(&a, rec->expires);
    gh_store_redis_arg_str(&a, cid);
    gh_store_redis_arg_int(&a, limit > 0 ? limit : 0);
    gh_store_redis_arg_int(&a, now);
    gh_store_redis_arg_int(&a, default_idle);
    /* a session acknowledged to a client must survive a failover */
    return gh_store_redis_write(s, &sess_insert_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

gh_store_err gh_store_redis_session_insert(gh_store *store, const gh_session_record *rec)
{
    return sess_insert(gh_store_redis_of(store), rec, 0, 0, 0);
}

gh_store_err gh_store_redis_session_insert_limited(gh_store *store,
                                                   const gh_session_record *rec,
                                                   int64_t max_per_account, int64_t now,
                                                   int64_t default_idle)
{
    return sess_insert(gh_store_redis_of(store), rec, max_per_account, now, default_idle);
}

/* Reads. */

gh_store_err gh_store_redis_session_get(gh_store *store, const char *id, gh_session_record *out)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *reply = NULL;
    gh_store_err err;

    if (id == NULL || out == NULL)
        return GH_STORE_ERROR;
    if (strlen(id) > GH_SESSION_ID_LEN)
        return GH_STORE_NOT_FOUND;      /* longer than any stored id (a client's) */
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "HGETALL");
    gh_store_redis_arg_key(&a, s, "sess:%s", id);
    err = gh_store_redis_command(s, &a, &reply);
    if (err == GH_STORE_OK)
        err = gh_store_redis_session_parse(reply, id, strlen(id), out);
    gh_redis_reply_free(reply);
    return err;
}

/* { status, id, session hash, role, pcr, enabled, locked_until, seq } */
static gh_redis_script sess_find_script = { .source =
    GH_STORE_REDIS_LUA
    "local p = ARGV[1]\n"
    "local id = redis.call('GET', KEYS[1])\n"
    "if not id then return {NOT_FOUND} end\n"
    "local h = redis.call('HGETALL', p .. 'sess:' .. id)\n"
    "if #h == 0 then return {NOT_FOUND} end\n"
    "local a = redis.call('HMGET', p .. 'acct:' .. gh_hash(h).account_id,\n"
    "                     'role', 'pcr', 'enabled', 'locked_until')\n"
    "if not a[1] or a[3] ~= '1' then return {NOT_FOUND} end\n"
    "return {OK, id, h, a[1], a[2], a[3], a[4] or '0',\n"
    "        redis.call('GET', KEYS[2]) or '0'}\n"
};

static gh_store_err sess_owner(const redisReply *r, gh_store_session_owner *acct)
{
    int64_t role = 0, pcr = 0, enabled = 0;

    if (gh_store_redis_int(r->element[3], &role) != GH_STORE_OK ||
        gh_store_redis_int(r->element[4], &pcr) != GH_STORE_OK ||
        gh_store_redis_int(r->element[5], &enabled) != GH_STORE_OK ||
        gh_store_redis_int(r->element[6], &acct->locked_until) != GH_STORE_OK ||
        gh_store_redis_int(r->element[7], &acct->seq) != GH_STORE_OK ||
        role < GH_ROLE_NONE || role > GH_ROLE_READONLY)
        return GH_STORE_ERROR;
    acct->role = (gh_role)role;
    acct->password_change_required = pcr != 0;
    acct->enabled = enabled != 0;
    return GH_STORE_OK;
}

gh_store_err gh_store_redis_session_find_digest(gh_store *store,
                                                const uint8_t digest[GH_DIGEST_LEN],
                                                gh_session_record *out,
                                                gh_store_session_owner *acct)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char hex[2 * GH_DIGEST_LEN + 1];
    gh_store_session_owner owner;
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (digest == NULL || out == NULL)
        return GH_STORE_ERROR;
    gh_store_redis_args_init(&a);
    gh_token_hex(digest, GH_DIGEST_LEN, hex);
    gh_store_redis_arg_key(&a, s, "dig:%s", hex);
    gh_store_redis_arg_key(&a, s, "chg:seq");
    err = gh_store_redis_eval(s, &sess_find_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK && (r->type != REDIS_REPLY_ARRAY || r->elements != 8 ||
                               r->element[1]->type != REDIS_REPLY_STRING))
        err = gh_store_redis_fail(s, "session_find: an answer not of its shape");
    if (err == GH_STORE_OK)
        err = gh_store_redis_session_parse(r->element[2], r->element[1]->str, r->element[1]->len, out);
    if (err == GH_STORE_OK && sess_owner(r, &owner) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "session_find: its account is not what gatehouse writes");
    if (err == GH_STORE_OK && acct != NULL)
        *acct = owner;
    gh_redis_reply_free(r);
    return err;
}

/* Deletes. */

static gh_redis_script sess_delete_script = { .source =
    GH_STORE_REDIS_LUA
    "if not gh_sess_del(ARGV[1], ARGV[2]) then return NOT_FOUND end\n"
    "gh_log(ARGV[1], 2, 0, ARGV[2])\n"
    "return OK\n"
};

gh_store_err gh_store_redis_session_delete(gh_store *store, const char *id)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;

    if (id == NULL)
        return GH_STORE_ERROR;
    if (strlen(id) > GH_SESSION_ID_LEN)
        return GH_STORE_NOT_FOUND;      /* longer than any stored id (a client's) */
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "sess:%s", id);
    gh_store_redis_arg_str(&a, id);
    return gh_store_redis_write(s, &sess_delete_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

/* Up to ARGV[3] of the account's sessions go (-1: all): { status, how
 * many, how many are left }. The last call, the one that leaves none,
 * logs the change, even when none was stored: a node may still hold some. */
static gh_redis_script sess_delete_account_script = { .source =
    GH_STORE_REDIS_LUA
    "local n, stop = 0, tonumber(ARGV[3])\n"
    "stop = stop < 0 and -1 or stop - 1\n"
    "for _, cid in ipairs(redis.call('ZRANGE', KEYS[1], 0, stop)) do\n"
    "  if gh_sess_del(ARGV[1], string.sub(cid, 18)) then n = n + 1 end\n"
    "  redis.call('ZREM', KEYS[1], cid)\n"
    "end\n"
    "local left = redis.call('ZCARD', KEYS[1])\n"
    "if left == 0 then gh_log(ARGV[1], 1, ARGV[2], '') end\n"
    "return {OK, n, left}\n"
};

/* One batch of delete_account: *n more gone, *left still there. */
static gh_store_err sess_delete_account_step(gh_store_redis *s, int64_t account_id,
                                             int64_t max, int64_t *n, int64_t *left)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    int64_t gone = 0;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld:sess", (long long)account_id);
    gh_store_redis_arg_int(&a, account_id);
    gh_store_redis_arg_int(&a, max);
    *left = 0;
    err = gh_store_redis_write(s, &sess_delete_account_script, &a, GH_STORE_REDIS_DURABLE, &r);
    /* inside a transaction there is no answer yet: nothing to count */
    if (err == GH_STORE_OK && r != NULL &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
         gh_store_redis_int(r->element[1], &gone) != GH_STORE_OK ||
         gh_store_redis_int(r->element[2], left) != GH_STORE_OK))
        err = gh_store_redis_fail(s, "session_delete_account: an answer not of its shape");
    *n += gone;
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_session_delete_account(gh_store *store, int64_t account_id,
                                                   int *count)
{
    gh_store_redis *s = gh_store_redis_of(store);
    int64_t n = 0, left = 0, rounds = 0;
    gh_store_err err;

    if (count != NULL)
        *count = 0;
    /* A batch per script, so an account of a million sessions never holds
     * Redis for seconds; a transaction queues one script for them all.
     * Sessions made meanwhile may add rounds: past what the first count
     * allows, one last script takes all that is left. */
    err = sess_delete_account_step(s, account_id, s->tx ? -1 : DELETE_BATCH, &n, &left);
    rounds = left / DELETE_BATCH + 2;
    while (err == GH_STORE_OK && left > 0)
        err = sess_delete_account_step(s, account_id, --rounds > 0 ? DELETE_BATCH : -1, &n,
                                       &left);
    if (err == GH_STORE_OK && count != NULL)
        *count = (int)n;
    return err;
}

/* Expiry. */

/* Looks at up to ARGV[6] sessions after ord ARGV[2] and deletes the ended
 * ones, at most ARGV[5]: { status, deleted, ord of the last deleted (-1:
 * none), ord of the last looked at, how many were looked at, how many of
 * the deleted ended by their absolute end first (the rule of
 * gh_store_session_ended_by_lifetime) }. A member without its hash (none
 * should be) goes too, uncounted. */
static gh_redis_script sess_expire_script = { .source =
    GH_STORE_REDIS_LUA
    "local p, now, idle = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local max = tonumber(ARGV[5])\n"
    "local page = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf',\n"
    "                        'WITHSCORES', 'LIMIT', 0, ARGV[6])\n"
    "local deleted, last_deleted, last, seen, lifetime = 0, -1, ARGV[2], 0, 0\n"
    "for i = 1, #page, 2 do\n"
    "  local id = page[i]\n"
    "  seen, last = seen + 1, page[i + 1]\n"
    "  local v = redis.call('HMGET', p .. 'sess:' .. id, 'last_used', 'idle_timeout',\n"
    "                       'expires')\n"
    "  if not v[1] then\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  elseif gh_ended(now, idle, {last_used = v[1], idle_timeout = v[2],\n"
    "                              expires = v[3]}) then\n"
    "    gh_sess_del(p, id)\n"
    "    deleted, last_deleted = deleted + 1, page[i + 1]\n"
    "    local own, expires = tonumber(v[2]) or 0, tonumber(v[3]) or 0\n"
    "    if own <= 0 then own = idle end\n"
    "    if expires > 0 and (own <= 0 or expires <= (tonumber(v[1]) or 0) + own) then\n"
    "      lifetime = lifetime + 1\n"
    "    end\n"
    "    if deleted >= max then break end\n"
    "  end\n"
    "end\n"
    "return {OK, deleted, last_deleted, last, seen, lifetime}\n"
};

/* One script's worth: *deleted more gone, *from past them, *looked past
 * the last session looked at, *done when none is left after it. */
static gh_store_err sess_expire_step(gh_store_redis *s, int64_t now, int64_t default_idle,
                                     int64_t max, int64_t *looked, int64_t *from,
                                     int64_t *deleted, int64_t *lifetime, bool *done)
{
    int64_t n = 0, last_deleted = -1, last = 0, seen = 0, by_lifetime = 0;
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "sessions:ord");
    gh_store_redis_arg_int(&a, *looked);
    gh_store_redis_arg_int(&a, now);
    gh_store_redis_arg_int(&a, default_idle);
    gh_store_redis_arg_int(&a, max);
    gh_store_redis_arg_int(&a, EXPIRE_LOOK);
    err = gh_store_redis_write(s, &sess_expire_script, &a, 0, &r);
    if (err == GH_STORE_OK && r == NULL)
        err = gh_store_redis_fail(s, "session_expire: not inside a transaction");
    if (err == GH_STORE_OK &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
         gh_store_redis_int(r->element[1], &n) != GH_STORE_OK ||
         gh_store_redis_int(r->element[2], &last_deleted) != GH_STORE_OK ||
         gh_store_redis_int(r->element[3], &last) != GH_STORE_OK ||
         gh_store_redis_int(r->element[4], &seen) != GH_STORE_OK ||
         gh_store_redis_int(r->element[5], &by_lifetime) != GH_STORE_OK))
        err = gh_store_redis_fail(s, "session_expire: an answer not of its shape");
    if (err == GH_STORE_OK) {
        *deleted += n;
        *lifetime += by_lifetime;
        if (last_deleted > *from)
            *from = last_deleted;
        *looked = last;
        *done = seen < EXPIRE_LOOK && n < max;
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_session_expire(gh_store *store, int64_t now, int64_t default_idle,
                                           int64_t *from, int *count, int *lifetime)
{
    gh_store_redis *s = gh_store_redis_of(store);
    int64_t looked, deleted = 0, by_lifetime = 0;
    gh_store_err err = GH_STORE_OK;
    bool done = false;

    if (count != NULL)
        *count = 0;
    if (lifetime != NULL)
        *lifetime = 0;
    if (from == NULL)
        return GH_STORE_ERROR;
    looked = *from;
    while (err == GH_STORE_OK && !done && deleted < GH_STORE_EXPIRE_BATCH)
        err = sess_expire_step(s, now, default_idle, GH_STORE_EXPIRE_BATCH - deleted, &looked,
                               from, &deleted, &by_lifetime, &done);
    if (err == GH_STORE_OK && count != NULL)
        *count = (int)deleted;
    if (err == GH_STORE_OK && lifetime != NULL)
        *lifetime = (int)by_lifetime;
    return err;
}

/* { status, live sessions of the account } */
static gh_redis_script sess_count_script = { .source =
    GH_STORE_REDIS_LUA SESS_LIVE_LUA
    "return {OK, gh_live(ARGV[1], KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 0)}\n"
};

gh_store_err gh_store_redis_session_count_live(gh_store *store, int64_t account_id, int64_t now,
                                               int64_t default_idle, int64_t *count)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (count == NULL)
        return GH_STORE_ERROR;
    *count = 0;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld:sess", (long long)account_id);
    gh_store_redis_arg_int(&a, now);
    gh_store_redis_arg_int(&a, default_idle);
    err = gh_store_redis_eval(s, &sess_count_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK && (r->elements != 2 ||
                               gh_store_redis_int(r->element[1], count) != GH_STORE_OK))
        err = gh_store_redis_fail(s, "session_count_live: an answer not of its shape");
    gh_redis_reply_free(r);
    return err;
}

/* Touch: pairs of (id, last_used) from ARGV[2]; forward only, a session no
 * longer stored skipped. Compared as numbers: times are far below 2^53. */
static gh_redis_script sess_touch_script = { .source =
    GH_STORE_REDIS_LUA
    "for i = 2, #ARGV - 1, 2 do\n"
    "  local k = ARGV[1] .. 'sess:' .. ARGV[i]\n"
    "  local cur = redis.call('HGET', k, 'last_used')\n"
    "  if cur and tonumber(cur) < tonumber(ARGV[i + 1]) then\n"
    "    redis.call('HSET', k, 'last_used', ARGV[i + 1])\n"
    "  end\n"
    "end\n"
    "return OK\n"
};

gh_store_err gh_store_redis_session_touch(gh_store *store, const gh_session_touch *touches,
                                          size_t n)
{
    gh_store_redis *s = gh_store_redis_of(store);
    const char **items = NULL;
    size_t *lens = NULL;
    char (*times)[24] = NULL;
    gh_store_err err = GH_STORE_OK;

    if (touches == NULL && n > 0)
        return GH_STORE_ERROR;
    if (n == 0)
        return GH_STORE_OK;
    items = malloc(2 * TOUCH_CHUNK * sizeof *items);
    lens = malloc(2 * TOUCH_CHUNK * sizeof *lens);
    times = malloc(TOUCH_CHUNK * sizeof *times);
    if (items == NULL || lens == NULL || times == NULL)
        err = gh_store_redis_fail(s, "out of memory");
    for (size_t i = 0; err == GH_STORE_OK && i < n; i += TOUCH_CHUNK) {
        size_t m = 0;

        for (size_t j = i; err == GH_STORE_OK && j < n && j < i + TOUCH_CHUNK; j++, m++) {
            if (!SESS_FIELD_OK(touches[j].id)) {
                err = gh_store_redis_fail(s, "a touched session's id does not fit");
                break;
            }
            items[2 * m] = touches[j].id;
            lens[2 * m] = strlen(touches[j].id);
            lens[2 * m + 1] = (size_t)snprintf(times[m], sizeof times[m], "%lld",
                                               (long long)touches[j].last_used);
            items[2 * m + 1] = times[m];
        }
        if (err == GH_STORE_OK)
            err = gh_store_redis_write_list(s, &sess_touch_script, items, lens, 2 * m, 0);
    }
    free(items);
    free(lens);
    free(times);
    return err;
}
