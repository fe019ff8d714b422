/*
 * store_redis_accounts.c: accounts in the Redis store
 * (store_redis_internal.h has the key model and the helpers,
 * store_redis_rows.c reads the replies; the SQLite twin is
 * store_accounts.c).
 *
 * An account is the hash P acct:<id>, found by name through P acct:byname
 * (HSETNX there is what keeps names unique), walked in id order through the
 * zset P acct:ids, and listed by domain in the set P acct:dom:<domain> (the
 * directory's rechecks and a profile's end of sessions read it). Each write
 * is one script, so the hash and every index move together: a rename takes
 * the new name and gives up the old one in the same step, and a delete
 * takes the account's sessions (with their digest keys), its attributes and
 * its place in every index. Update and delete end with the log tail (a
 * GH_CHANGE_ACCOUNT), so every node drops what it holds of the account.
 * The generation is bumped by the script that writes, after it compared the
 * one the caller read: two writers racing from one read cannot both win.
 * Hashes hold an argon2id hash, never a password; every copy made here is
 * wiped when it is done with. Inside a transaction (gh_store_begin) an
 * add takes its id at once, outside it, so a caller may write the new
 * account's attributes in the same transaction (a dialect's user creation).
 */
#include "store_redis_internal.h"
#include "store_redis_rows.h"

#include <stdlib.h>
#include <string.h>

/* The fields of P acct:<id> an account reads and writes, in script order. */
#define ACCOUNT_FIELDS "'name', 'domain', 'role', 'enabled', 'built_in', 'pcr', " \
    "'locked_until', 'generation', 'created', 'password_hash'"
#define ACCOUNT_NFIELDS 10
_Static_assert(ACCOUNT_NFIELDS + 1 == GH_STORE_REDIS_ACCOUNT_ELEMENTS, "an account's elements");

/* A new account, or one imported with its id (ARGV[2], "0": take the next),
 * generation and created. The name and the id must both be free. */
static gh_redis_script account_add_script = { .source = GH_STORE_REDIS_LUA
    "local p, id, name, domain = ARGV[1], ARGV[2], ARGV[5], ARGV[6]\n"
    "if redis.call('HEXISTS', p .. 'acct:byname', name) == 1 then return EXISTS end\n"
    "if id == '0' then\n"
    "  id = tostring(redis.call('INCR', p .. 'acct:seq'))\n"
    "else\n"
    "  if redis.call('EXISTS', p .. 'acct:' .. id) == 1 then return EXISTS end\n"
    "  local seq = redis.call('GET', p .. 'acct:seq')\n"
    "  if not seq or tonumber(id) > tonumber(seq) then redis.call('SET', p .. 'acct:seq', id) end\n"
    "end\n"
    "redis.call('HSET', p .. 'acct:' .. id, 'name', name, 'domain', domain, 'role', ARGV[7],\n"
    "           'enabled', ARGV[8], 'built_in', ARGV[9], 'pcr', ARGV[10],\n"
    "           'locked_until', ARGV[11], 'password_hash', ARGV[12],\n"
    "           'generation', ARGV[3], 'created', ARGV[4])\n"
    "redis.call('HSET', p .. 'acct:byname', name, id)\n"
    "redis.call('ZADD', p .. 'acct:ids', id, id)\n"
    "redis.call('SADD', p .. 'acct:dom:' .. domain, id)\n"
    "return { OK, id }\n" };

/* Every field by id, when the generation is the one expected (< 0: any). */
static gh_redis_script account_update_script = { .source = GH_STORE_REDIS_LUA
    "local p, id, expected, name, domain = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]\n"
    "local k = p .. 'acct:' .. id\n"
    "local cur = redis.call('HMGET', k, 'generation', 'name', 'domain')\n"
    "if not cur[1] then return NOT_FOUND end\n"
    "if expected >= 0 and tonumber(cur[1]) ~= expected then return CONFLICT end\n"
    "if name ~= cur[2] then\n"
    "  if redis.call('HSETNX', p .. 'acct:byname', name, id) == 0 then return EXISTS end\n"
    "  redis.call('HDEL', p .. 'acct:byname', cur[2])\n"
    "end\n"
    "if domain ~= cur[3] then\n"
    "  redis.call('SREM', p .. 'acct:dom:' .. cur[3], id)\n"
    "  redis.call('SADD', p .. 'acct:dom:' .. domain, id)\n"
    "end\n"
    "local gen = redis.call('HINCRBY', k, 'generation', 1)\n"
    "redis.call('HSET', k, 'name', name, 'domain', domain, 'role', ARGV[6], 'enabled', ARGV[7],\n"
    "           'built_in', ARGV[8], 'pcr', ARGV[9], 'locked_until', ARGV[10],\n"
    "           'password_hash', ARGV[11])\n"
    "gh_log(p, 1, id, '')\n"
    "return { OK, gen }\n" };

static gh_redis_script account_delete_script = { .source = GH_STORE_REDIS_LUA
    "local p, id = ARGV[1], ARGV[2]\n"
    "local k = p .. 'acct:' .. id\n"
    "local cur = redis.call('HMGET', k, 'name', 'domain')\n"
    "if not cur[1] then return NOT_FOUND end\n"
    "gh_sess_del_account(p, id)\n"
    "redis.call('DEL', k, k .. ':attr')\n"
    "if redis.call('HGET', p .. 'acct:byname', cur[1]) == id then\n"
    "  redis.call('HDEL', p .. 'acct:byname', cur[1])\n"
    "end\n"
    "redis.call('ZREM', p .. 'acct:ids', id)\n"
    "redis.call('SREM', p .. 'acct:dom:' .. cur[2], id)\n"
    "gh_log(p, 1, id, '')\n"
    "return OK\n" };

/* One account, by name (ARGV[2]) or, when that is "", by id (ARGV[3]):
 * { OK, id, fields... }. */
static gh_redis_script account_get_script = { .source = GH_STORE_REDIS_LUA
    "local p, id = ARGV[1], ARGV[3]\n"
    "if ARGV[2] ~= '' then\n"
    "  id = redis.call('HGET', p .. 'acct:byname', ARGV[2])\n"
    "  if not id then return NOT_FOUND end\n"
    "end\n"
    "local a = redis.call('HMGET', p .. 'acct:' .. id, " ACCOUNT_FIELDS ")\n"
    "if not a[1] then return NOT_FOUND end\n"
    "local out = { OK, id }\n"
    "for i = 1, #a do out[#out + 1] = a[i] or '' end\n"
    "return out\n" };

/* Up to ARGV[3] accounts with an id above ARGV[2]: { OK, id, fields..., ... }. */
static gh_redis_script account_page_script = { .source = GH_STORE_REDIS_LUA
    "local p = ARGV[1]\n"
    "local out = { OK }\n"
    "for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'acct:ids', '(' .. ARGV[2], '+inf',\n"
    "                               'LIMIT', 0, ARGV[3])) do\n"
    "  local a = redis.call('HMGET', p .. 'acct:' .. id, " ACCOUNT_FIELDS ")\n"
    "  if a[1] then\n"
    "    out[#out + 1] = id\n"
    "    for i = 1, #a do out[#out + 1] = a[i] or '' end\n"
    "  end\n"
    "end\n"
    "return out\n" };

/* store.h's gh_store_account_due: accounts of domain ARGV[2] with a session
 * whose attribute ARGV[3], read as SQLite's CAST reads a leading integer, is
 * missing or at most ARGV[4]; missing first by id, then by value and id. */
static gh_redis_script account_due_script = { .source = GH_STORE_REDIS_LUA
    "local p, field, before, page = ARGV[1], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local missing, dated = {}, {}\n"
    "for _, id in ipairs(redis.call('SMEMBERS', p .. 'acct:dom:' .. ARGV[2])) do\n"
    "  if redis.call('EXISTS', p .. 'acct:' .. id .. ':sess') == 1 then\n"
    "    local v = redis.call('HGET', p .. 'acct:' .. id .. ':attr', field)\n"
    "    if not v then\n"
    "      missing[#missing + 1] = tonumber(id)\n"
    "    else\n"
    "      local n = tonumber(string.match(v, '^%s*([+-]?%d+)') or '0') or 0\n"
    "      if n <= before then dated[#dated + 1] = { n, tonumber(id) } end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "table.sort(missing)\n"
    "table.sort(dated, function(x, y)\n"
    "  if x[1] ~= y[1] then return x[1] < y[1] end\n"
    "  return x[2] < y[2]\n"
    "end)\n"
    "local out = { OK }\n"
    "for i = 1, #missing do if #out <= page then out[#out + 1] = missing[i] end end\n"
    "for i = 1, #dated do if #out <= page then out[#out + 1] = dated[i][2] end end\n"
    "return out\n" };

static bool redis_account_sound(const gh_account *a)
{
    return a != NULL && memchr(a->name, '\0', sizeof a->name) != NULL && a->name[0] != '\0' &&
           memchr(a->domain, '\0', sizeof a->domain) != NULL &&
           memchr(a->password_hash, '\0', sizeof a->password_hash) != NULL;
}

/* The fields every write passes, in the scripts' order from name. */
static void redis_account_args(gh_store_redis_args *a, const gh_account *acct)
{
    gh_store_redis_arg_str(a, acct->name);
    gh_store_redis_arg_str(a, acct->domain);
    gh_store_redis_arg_int(a, (int64_t)acct->role);
    gh_store_redis_arg_int(a, acct->enabled);
    gh_store_redis_arg_int(a, acct->built_in);
    gh_store_redis_arg_int(a, acct->password_change_required);
    gh_store_redis_arg_int(a, acct->locked_until);
    gh_store_redis_arg_str(a, acct->password_hash);
}

/* One account by name, or by id when name is NULL. Inside a transaction the
 * by-name read is two steps, so the account's own hash is WATCHed too. */
static gh_store_err redis_account_fetch(gh_store_redis *s, const char *name, int64_t id,
                                        gh_account *out)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (name != NULL && s->tx) {
        gh_store_redis_args_init(&a);
        gh_store_redis_arg_str(&a, "HGET");
        gh_store_redis_arg_key(&a, s, "acct:byname");
        gh_store_redis_arg_str(&a, name);
        err = gh_store_redis_command(s, &a, &r);
        if (err == GH_STORE_OK)
            err = gh_store_redis_int(r, &id);
        gh_redis_reply_free(r);
        r = NULL;
        if (err != GH_STORE_OK)
            return err;
        name = NULL;
    }
    gh_store_redis_args_init(&a);
    if (name != NULL)
        gh_store_redis_arg_key(&a, s, "acct:byname");
    else
        gh_store_redis_arg_key(&a, s, "acct:%lld", (long long)id);
    gh_store_redis_arg_str(&a, name != NULL ? name : "");
    gh_store_redis_arg_int(&a, id);
    err = gh_store_redis_eval(s, &account_get_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK && r->elements != ACCOUNT_NFIELDS + 2)
        err = gh_store_redis_fail(s, "account reply of %zu elements", r->elements);
    if (err == GH_STORE_OK && gh_store_redis_account_row(r->element + 1, out) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "an account record is unreadable");
    if (err != GH_STORE_OK)
        gh_wipe(out, sizeof *out);
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_account_get(gh_store *store, const char *name, gh_account *out)
{
    if (name == NULL || out == NULL)
        return GH_STORE_ERROR;
    return redis_account_fetch(gh_store_redis_of(store), name, 0, out);
}

gh_store_err gh_store_redis_account_get_by_id(gh_store *store, int64_t id, gh_account *out)
{
    if (out == NULL)
        return GH_STORE_ERROR;
    return redis_account_fetch(gh_store_redis_of(store), NULL, id, out);
}

/* The next account id, taken at once (a transaction's add must know it
 * before EXEC; a transaction given up leaves a gap, which is harmless).
 * Not WATCHed: the INCR itself would fail the transaction. */
static gh_store_err redis_account_next_id(gh_store_redis *s, int64_t *id)
{
    char key[GH_STORE_REDIS_KEY_MAX];
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (!gh_store_redis_key(s, key, sizeof key, "acct:seq"))
        return GH_STORE_ERROR;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "INCR");
    gh_store_redis_arg_str(&a, key);
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_int(r, id);
    gh_redis_reply_free(r);
    return err == GH_STORE_NOT_FOUND ? GH_STORE_ERROR : err;
}

/* Inside a transaction a taken name is answered at once, and the name index
 * is WATCHed: whoever takes it before EXEC makes this one run again. */
static gh_store_err redis_account_name_free(gh_store_redis *s, const char *name)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    int64_t taken = 0;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "HEXISTS");
    gh_store_redis_arg_key(&a, s, "acct:byname");
    gh_store_redis_arg_str(&a, name);
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_int(r, &taken);
    gh_redis_reply_free(r);
    if (err == GH_STORE_OK && taken != 0)
        err = GH_STORE_EXISTS;
    return err == GH_STORE_NOT_FOUND ? GH_STORE_ERROR : err;
}

static gh_store_err redis_account_insert(gh_store_redis *s, const gh_account *acct,
                                         int64_t *id)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:byname");
    gh_store_redis_arg_key(&a, s, "acct:ids");
    gh_store_redis_arg_int(&a, *id);
    gh_store_redis_arg_int(&a, acct->generation);
    gh_store_redis_arg_int(&a, acct->created);
    redis_account_args(&a, acct);
    err = gh_store_redis_write(s, &account_add_script, &a, GH_STORE_REDIS_DURABLE, &r);
    /* queued (r NULL): the id was given */
    if (err == GH_STORE_OK && r != NULL) {
        err = r->type == REDIS_REPLY_ARRAY && r->elements == 2
                  ? gh_store_redis_int(r->element[1], id) : GH_STORE_ERROR;
        if (err != GH_STORE_OK)
            err = gh_store_redis_fail(s, "account add: unexpected reply");
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_account_add(gh_store *store, gh_account *acct)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_account row;
    gh_store_err err = GH_STORE_OK;
    int64_t id = 0;

    if (!redis_account_sound(acct))
        return GH_STORE_ERROR;
    row = *acct;
    row.generation = 1;
    row.created = gh_now();
    if (s->tx) {
        err = redis_account_name_free(s, acct->name);
        if (err == GH_STORE_OK)
            err = redis_account_next_id(s, &id);
    }
    if (err == GH_STORE_OK)
        err = redis_account_insert(s, &row, &id);
    if (err == GH_STORE_OK) {
        acct->id = id;
        acct->generation = row.generation;
        acct->created = row.created;
    }
    gh_wipe(&row, sizeof row);
    return err;
}

gh_store_err gh_store_redis_account_import(gh_store *store, const gh_account *acct)
{
    int64_t id;

    if (!redis_account_sound(acct) || acct->id <= 0)
        return GH_STORE_ERROR;
    id = acct->id;
    return redis_account_insert(gh_store_redis_of(store), acct, &id);
}

gh_store_err gh_store_redis_account_update(gh_store *store, gh_account *acct,
                                           int64_t expected_generation)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    int64_t generation = 0;

    if (!redis_account_sound(acct))
        return GH_STORE_ERROR;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld", (long long)acct->id);
    gh_store_redis_arg_key(&a, s, "acct:byname");
    gh_store_redis_arg_int(&a, acct->id);
    gh_store_redis_arg_int(&a, expected_generation < 0 ? -1 : expected_generation);
    redis_account_args(&a, acct);
    err = gh_store_redis_write(s, &account_update_script, &a, GH_STORE_REDIS_DURABLE, &r);
    if (err == GH_STORE_OK && r != NULL) {
        err = r->type == REDIS_REPLY_ARRAY && r->elements == 2
                  ? gh_store_redis_int(r->element[1], &generation) : GH_STORE_ERROR;
        if (err == GH_STORE_OK)
            acct->generation = generation;
        else
            err = gh_store_redis_fail(s, "account update: unexpected reply");
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_account_delete(gh_store *store, int64_t id)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld", (long long)id);
    gh_store_redis_arg_int(&a, id);
    return gh_store_redis_write(s, &account_delete_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

/* One page of accounts after id `after` into page; *n how many. */
static gh_store_err redis_account_page(gh_store_redis *s, int64_t after,
                                       gh_account page[GH_STORE_PAGE_MAX], size_t *n)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    *n = 0;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:ids");
    gh_store_redis_arg_int(&a, after);
    gh_store_redis_arg_int(&a, GH_STORE_PAGE_MAX);
    err = gh_store_redis_eval(s, &account_page_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK && ((r->elements - 1) % (ACCOUNT_NFIELDS + 1) != 0 ||
                               (r->elements - 1) / (ACCOUNT_NFIELDS + 1) > GH_STORE_PAGE_MAX))
        err = gh_store_redis_fail(s, "account page of %zu elements", r->elements);
    for (size_t i = 1; err == GH_STORE_OK && i < r->elements; i += ACCOUNT_NFIELDS + 1) {
        if (gh_store_redis_account_row(r->element + i, &page[*n]) != GH_STORE_OK)
            err = gh_store_redis_fail(s, "an account record is unreadable");
        (*n)++;
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_account_foreach(gh_store *store, gh_account_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_account page[GH_STORE_PAGE_MAX];
    int64_t after = 0;
    bool stop = false;
    gh_store_err err;
    size_t n;

    if (cb == NULL)
        return GH_STORE_ERROR;
    do {
        err = redis_account_page(s, after, page, &n);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
        if (n > 0)
            after = page[n - 1].id;
    } while (err == GH_STORE_OK && !stop && n == GH_STORE_PAGE_MAX);
    /* the copies hold password hashes */
    gh_wipe(page, sizeof page);
    return err;
}

gh_store_err gh_store_redis_account_due(gh_store *store, const char *domain,
                                        const char *dialect, const char *name, int64_t before,
                                        int64_t ids[GH_STORE_PAGE_MAX], size_t *n)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char field[GH_DIALECT_NAME_MAX + 1 + GH_ATTRIBUTE_NAME_MAX];
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    size_t dl, len;

    *n = 0;
    if (domain == NULL || dialect == NULL || name == NULL ||
        (dl = strlen(dialect)) > GH_DIALECT_NAME_MAX || strlen(name) > GH_ATTRIBUTE_NAME_MAX)
        return GH_STORE_ERROR;
    /* no account has a longer domain (and its key would not fit) */
    if (strlen(domain) > GH_DOMAIN_MAX)
        return GH_STORE_OK;
    /* the attribute's field, "<dialect>\0<name>" (store_redis_attributes.c) */
    memcpy(field, dialect, dl + 1);
    memcpy(field + dl + 1, name, strlen(name));
    len = dl + 1 + strlen(name);
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:dom:%s", domain);
    gh_store_redis_arg_str(&a, domain);
    gh_store_redis_arg(&a, field, len);
    gh_store_redis_arg_int(&a, before);
    gh_store_redis_arg_int(&a, GH_STORE_PAGE_MAX);
    err = gh_store_redis_eval(s, &account_due_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK && r->elements - 1 > GH_STORE_PAGE_MAX)
        err = gh_store_redis_fail(s, "account_due: %zu ids", r->elements - 1);
    for (size_t i = 1; err == GH_STORE_OK && i < r->elements; i++, (*n)++)
        err = gh_store_redis_int(r->element[i], &ids[*n]);
    if (err != GH_STORE_OK)
        *n = 0;
    gh_redis_reply_free(r);
    return err == GH_STORE_NOT_FOUND ? GH_STORE_ERROR : err;
}
