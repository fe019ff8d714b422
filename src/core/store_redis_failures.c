/*
 * store_redis_failures.c: failed-login counters and the throttle counters of
 * sources in the Redis store (store_redis_internal.h has the helpers; the
 * SQLite twin is store_failures.c).
 *
 * Keys (P the prefix; counter keys and owners are HMACs, in hex):
 *   P fail:<key>        hash  owner window_start failures locked_until expires
 *   P fail:own:<owner>  set   the keys of an owner (failure_clear_owner)
 *   P fail:exp          zset  keys scored by expires (failure_prune)
 *   P thr:<key>         hash  failures window_start blocked_until expires
 *   P thr:exp           zset  keys scored by expires (scan, prune)
 * Every write is one script, so a counter and its indexes move together.
 * A failure is counted by failure_count's script, which reads the counter,
 * applies lockout.c's gh_lockout_count step for step and writes it back in
 * one atomic step: nodes counting failures of one account at once lose none
 * (a read-then-put from C could). Lua's numbers are doubles, exact up to
 * 2^53: times in seconds and counts are far below that. Counters are not
 * left to Redis' expiry: the rows keep the embedded store's meaning (a
 * counter is there until pruned, whatever its times), and the upkeep's
 * prune deletes a batch of those past their end through the zset. A
 * throttle counter is each node's own (its block's), so a put merges with
 * what another node stored instead of lowering it (throttle_put_script).
 * Writes here do not WAIT for replicas: a counter lost in a failover costs
 * a guesser's window, never a session.
 */
#include "store_redis_internal.h"
#include "store_redis_rows.h"

#include <string.h>

#include "token.h"

/* The counter's hash and its indexes, shared by the writing scripts. */
#define FAILURE_LUA \
    "local function gh_fail_write(p, key, owner, ws, n, lu, exp)\n" \
    "  local k = p .. 'fail:' .. key\n" \
    "  local old = redis.call('HGET', k, 'owner')\n" \
    "  if old and old ~= owner then redis.call('SREM', p .. 'fail:own:' .. old, key) end\n" \
    "  redis.call('HSET', k, 'owner', owner, 'window_start', ws, 'failures', n,\n" \
    "             'locked_until', lu, 'expires', exp)\n" \
    "  redis.call('SADD', p .. 'fail:own:' .. owner, key)\n" \
    "  redis.call('ZADD', p .. 'fail:exp', exp, key)\n" \
    "end\n" \
    "local function gh_fail_drop(p, key)\n" \
    "  local k = p .. 'fail:' .. key\n" \
    "  local owner = redis.call('HGET', k, 'owner')\n" \
    "  if owner then redis.call('SREM', p .. 'fail:own:' .. owner, key) end\n" \
    "  redis.call('ZREM', p .. 'fail:exp', key)\n" \
    "  return redis.call('DEL', k)\n" \
    "end\n"

static gh_redis_script failure_put_script = { .source = GH_STORE_REDIS_LUA FAILURE_LUA
    "gh_fail_write(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])\n"
    "return OK\n" };

static gh_redis_script failure_delete_script = { .source = GH_STORE_REDIS_LUA FAILURE_LUA
    "gh_fail_drop(ARGV[1], ARGV[2])\n"
    "return OK\n" };

static gh_redis_script failure_clear_owner_script = { .source = GH_STORE_REDIS_LUA FAILURE_LUA
    "for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do gh_fail_drop(ARGV[1], key) end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return OK\n" };

static gh_redis_script failure_prune_script = { .source = GH_STORE_REDIS_LUA FAILURE_LUA
    "local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])\n"
    "for _, key in ipairs(keys) do gh_fail_drop(ARGV[1], key) end\n"
    "return { OK, #keys }\n" };

/* lockout.c's gh_lockout_count, line for line; answers
 * { OK, window_start, failures, locked_until, expires, locked }. */
static gh_redis_script failure_count_script = { .source = GH_STORE_REDIS_LUA FAILURE_LUA
    "local p, key, owner = ARGV[1], ARGV[2], ARGV[3]\n"
    "local now, reset_after = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local threshold, duration = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "local f = redis.call('HMGET', KEYS[1], 'window_start', 'failures', 'locked_until')\n"
    "local ws, n, lu, locked = 0, 0, 0, 0\n"
    "if f[2] then ws, n, lu = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]) end\n"
    "if n == 0 or now - ws >= reset_after then\n"
    "  ws = now\n"
    "  n = 0\n"
    "end\n"
    "n = n + 1\n"
    "if threshold > 0 and n >= threshold then\n"
    "  lu = now + duration\n"
    "  n = 0\n"
    "  locked = 1\n"
    "end\n"
    "local exp = ws + reset_after\n"
    "if lu > exp then exp = lu end\n"
    "local out = { string.format('%d', ws), string.format('%d', n),\n"
    "              string.format('%d', lu), string.format('%d', exp) }\n"
    "gh_fail_write(p, key, owner, out[1], out[2], out[3], out[4])\n"
    "return { OK, out[1], out[2], out[3], out[4], locked }\n" };

/* Several nodes write one source's counter, each its own block's: a put
 * keeps the higher count (with its window) and the later wait and end, as
 * shared_cache.c's gh_shared_throttle_restore merges a loaded one, unless
 * the stored row ended before the new window began (then it is stale and
 * the new row replaces it). ARGV: key, failures, window_start (ms),
 * blocked_until (ms), expires (s). */
static gh_redis_script throttle_put_script = { .source = GH_STORE_REDIS_LUA
    "local n, ws, bu, exp = ARGV[3], ARGV[4], ARGV[5], ARGV[6]\n"
    "local cur = redis.call('HMGET', KEYS[1], 'failures', 'window_start', 'blocked_until',\n"
    "                       'expires')\n"
    "if cur[1] and tonumber(cur[4]) * 1000 > tonumber(ws) then\n"
    "  if tonumber(cur[1]) > tonumber(n) then n, ws = cur[1], cur[2] end\n"
    "  if tonumber(cur[3]) > tonumber(bu) then bu = cur[3] end\n"
    "  if tonumber(cur[4]) > tonumber(exp) then exp = cur[4] end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'failures', n, 'window_start', ws, 'blocked_until', bu,\n"
    "           'expires', exp)\n"
    "redis.call('ZADD', KEYS[2], exp, ARGV[2])\n"
    "return OK\n" };

/* Up to ARGV[4] counters not expired at ARGV[2], the last to expire first,
 * from the ARGV[3]-th: { OK, key, failures, window_start, blocked_until, ... }. */
static gh_redis_script throttle_scan_script = { .source = GH_STORE_REDIS_LUA
    "local p = ARGV[1]\n"
    "local out = { OK }\n"
    "for _, key in ipairs(redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. ARGV[2],\n"
    "                               'LIMIT', ARGV[3], ARGV[4])) do\n"
    "  local t = redis.call('HMGET', p .. 'thr:' .. key, 'failures', 'window_start',\n"
    "                       'blocked_until')\n"
    "  out[#out + 1] = key\n"
    "  for i = 1, 3 do out[#out + 1] = t[i] or '0' end\n"
    "end\n"
    "return out\n" };

static gh_redis_script throttle_prune_script = { .source = GH_STORE_REDIS_LUA
    "local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])\n"
    "for _, key in ipairs(keys) do\n"
    "  redis.call('DEL', ARGV[1] .. 'thr:' .. key)\n"
    "  redis.call('ZREM', KEYS[1], key)\n"
    "end\n"
    "return { OK, #keys }\n" };

/* Counters a scan's script reads at most (its reply stays well under the
 * connection's bound on a reply). */
#define THROTTLE_SCAN_PAGE 1000

typedef char redis_hex[2 * GH_DIGEST_LEN + 1];

gh_store_err gh_store_redis_failure_get(gh_store *store, const uint8_t key[GH_DIGEST_LEN],
                                        gh_failure *out)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    gh_failure row;
    redis_hex hex;

    /* out may hold key itself (out->key == key): read into row first */
    if (key == NULL || out == NULL)
        return GH_STORE_ERROR;
    gh_token_hex(key, GH_DIGEST_LEN, hex);
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "HMGET");
    gh_store_redis_arg_key(&a, s, "fail:%s", hex);
    gh_store_redis_arg_str(&a, "owner");
    gh_store_redis_arg_str(&a, "window_start");
    gh_store_redis_arg_str(&a, "failures");
    gh_store_redis_arg_str(&a, "locked_until");
    gh_store_redis_arg_str(&a, "expires");
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK) {
        err = gh_store_redis_failure_row(r, &row);
        if (err == GH_STORE_ERROR)
            err = gh_store_redis_fail(s, "a failure counter is unreadable");
    }
    if (err == GH_STORE_OK) {
        memcpy(row.key, key, GH_DIGEST_LEN);
        *out = row;
    }
    gh_redis_reply_free(r);
    return err;
}

/* Arguments of a script on one counter: its hash as KEYS[1], ARGV[2] its hex. */
static void redis_failure_args(gh_store_redis_args *a, const gh_store_redis *s,
                               const uint8_t key[GH_DIGEST_LEN], redis_hex hex)
{
    gh_token_hex(key, GH_DIGEST_LEN, hex);
    gh_store_redis_args_init(a);
    gh_store_redis_arg_key(a, s, "fail:%s", hex);
    gh_store_redis_arg_str(a, hex);
}

gh_store_err gh_store_redis_failure_put(gh_store *store, const gh_failure *f)
{
    gh_store_redis *s = gh_store_redis_of(store);
    redis_hex hex, owner;
    gh_store_redis_args a;

    if (f == NULL)
        return GH_STORE_ERROR;
    redis_failure_args(&a, s, f->key, hex);
    gh_token_hex(f->owner, GH_DIGEST_LEN, owner);
    gh_store_redis_arg_str(&a, owner);
    gh_store_redis_arg_int(&a, f->window_start);
    gh_store_redis_arg_int(&a, f->failures);
    gh_store_redis_arg_int(&a, f->locked_until);
    gh_store_redis_arg_int(&a, f->expires);
    return gh_store_redis_write(s, &failure_put_script, &a, 0, NULL);
}

gh_store_err gh_store_redis_failure_count(gh_store *store, const uint8_t key[GH_DIGEST_LEN],
                                          const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                          int64_t reset_after, int64_t threshold,
                                          int64_t duration, gh_failure *out, bool *locked)
{
    gh_store_redis *s = gh_store_redis_of(store);
    redis_hex hex, owner_hex;
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    gh_failure row;

    /* out may be the counter key and owner name (service_login.c counts
     * in place): both are copied before out is written, and out only at
     * the end */
    if (key == NULL || owner == NULL || out == NULL || locked == NULL)
        return GH_STORE_ERROR;
    *locked = false;
    memset(&row, 0, sizeof row);
    memcpy(row.key, key, GH_DIGEST_LEN);
    memcpy(row.owner, owner, GH_DIGEST_LEN);
    redis_failure_args(&a, s, row.key, hex);
    gh_token_hex(row.owner, GH_DIGEST_LEN, owner_hex);
    gh_store_redis_arg_str(&a, owner_hex);
    gh_store_redis_arg_int(&a, now);
    gh_store_redis_arg_int(&a, reset_after);
    gh_store_redis_arg_int(&a, threshold);
    gh_store_redis_arg_int(&a, duration);
    err = gh_store_redis_write(s, &failure_count_script, &a, 0, &r);
    /* queued in a transaction: the count is not known until it commits */
    if (err == GH_STORE_OK && r == NULL)
        err = gh_store_redis_fail(s, "failure_count inside a transaction");
    if (err == GH_STORE_OK && gh_store_redis_failure_counted(r, &row, locked) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "failure_count: unexpected reply");
    if (err == GH_STORE_OK)
        *out = row;
    else
        *locked = false;
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_failure_delete(gh_store *store, const uint8_t key[GH_DIGEST_LEN])
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redis_hex hex;

    if (key == NULL)
        return GH_STORE_ERROR;
    redis_failure_args(&a, s, key, hex);
    return gh_store_redis_write(s, &failure_delete_script, &a, 0, NULL);
}

gh_store_err gh_store_redis_failure_clear_owner(gh_store *store,
                                                const uint8_t owner[GH_DIGEST_LEN])
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redis_hex hex;

    if (owner == NULL)
        return GH_STORE_ERROR;
    gh_token_hex(owner, GH_DIGEST_LEN, hex);
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "fail:own:%s", hex);
    return gh_store_redis_write(s, &failure_clear_owner_script, &a, 0, NULL);
}

/* A batch of counters past their end out of the zset `index` (and their
 * hashes), by script. */
static gh_store_err redis_prune(gh_store_redis *s, gh_redis_script *script, const char *index,
                                int64_t now, int *count)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    int64_t n = 0;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "%s", index);
    gh_store_redis_arg_int(&a, now);
    gh_store_redis_arg_int(&a, GH_STORE_EXPIRE_BATCH);
    err = gh_store_redis_write(s, script, &a, 0, &r);
    if (err == GH_STORE_OK && r != NULL)
        err = r->type == REDIS_REPLY_ARRAY && r->elements == 2
                  ? gh_store_redis_int(r->element[1], &n) : GH_STORE_ERROR;
    if (count != NULL)
        *count = err == GH_STORE_OK ? (int)n : 0;
    gh_redis_reply_free(r);
    return err == GH_STORE_NOT_FOUND ? GH_STORE_ERROR : err;
}

gh_store_err gh_store_redis_failure_prune(gh_store *store, int64_t now, int *count)
{
    return redis_prune(gh_store_redis_of(store), &failure_prune_script, "fail:exp", now, count);
}

gh_store_err gh_store_redis_throttle_put(gh_store *store, const gh_throttle_count *c,
                                         int64_t expires)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redis_hex hex;

    if (c == NULL)
        return GH_STORE_ERROR;
    gh_token_hex(c->key, GH_DIGEST_LEN, hex);
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "thr:%s", hex);
    gh_store_redis_arg_key(&a, s, "thr:exp");
    gh_store_redis_arg_str(&a, hex);
    gh_store_redis_arg_int(&a, c->failures);
    gh_store_redis_arg_int(&a, c->window_start);
    gh_store_redis_arg_int(&a, c->blocked_until);
    gh_store_redis_arg_int(&a, expires);
    return gh_store_redis_write(s, &throttle_put_script, &a, 0, NULL);
}

/* A page of at most THROTTLE_SCAN_PAGE counters from the from-th; *n how
 * many it held, *stop whether cb stopped the walk. */
static gh_store_err redis_throttle_page(gh_store_redis *s, int64_t now, uint32_t from,
                                        uint32_t want, gh_throttle_cb cb, void *arg,
                                        size_t *n, bool *stop)
{
    gh_throttle_count c;
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    *n = 0;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "thr:exp");
    gh_store_redis_arg_int(&a, now);
    gh_store_redis_arg_int(&a, from);
    gh_store_redis_arg_int(&a, want);
    err = gh_store_redis_eval(s, &throttle_scan_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK && (r->elements - 1) % GH_STORE_REDIS_THROTTLE_ELEMENTS != 0)
        err = gh_store_redis_fail(s, "throttle scan of %zu elements", r->elements);
    for (size_t i = 1; err == GH_STORE_OK && !*stop && i < r->elements;
         i += GH_STORE_REDIS_THROTTLE_ELEMENTS, (*n)++) {
        err = gh_store_redis_throttle_row(r->element + i, &c);
        if (err != GH_STORE_OK)
            err = gh_store_redis_fail(s, "throttle counter unreadable");
        else
            *stop = cb(&c, arg) != 0;
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_throttle_scan(gh_store *store, int64_t now, uint32_t max,
                                          gh_throttle_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_err err = GH_STORE_OK;
    uint32_t seen = 0, want;
    bool stop = false;
    size_t n;

    if (cb == NULL)
        return GH_STORE_ERROR;
    while (err == GH_STORE_OK && !stop && seen < max) {
        want = max - seen < THROTTLE_SCAN_PAGE ? max - seen : THROTTLE_SCAN_PAGE;
        err = redis_throttle_page(s, now, seen, want, cb, arg, &n, &stop);
        seen += (uint32_t)n;
        if (n < want)
            break;
    }
    return err;
}

gh_store_err gh_store_redis_throttle_prune(gh_store *store, int64_t now, int *count)
{
    return redis_prune(gh_store_redis_of(store), &throttle_prune_script, "thr:exp", now, count);
}
