/*
 * store_redis_attributes.c: what a dialect keeps of an account for itself,
 * in the Redis store (store_redis_internal.h has the key model and the
 * helpers; the SQLite twin is store_attributes.c).
 *
 * An account's attributes are the hash P acct:<id>:attr, one field
 * "<dialect>\0<name>" each (a dialect's name holds no NUL, so the field
 * cannot be read as another dialect's). A set checks in the same script
 * that the account exists, so it may be queued in one transaction with the
 * account's insert; the account's delete takes the hash with it
 * (store_redis_accounts.c). No worker caches them: writes log no change. A
 * walk reads the account's whole hash (an account keeps a handful) and sorts
 * the dialect's names in byte order itself; the prefix is compared as bytes,
 * never as a pattern.
 */
#include "store_redis_internal.h"
#include "store_redis_rows.h"

#include <stdlib.h>
#include <string.h>

static gh_redis_script attribute_set_script = { .source = GH_STORE_REDIS_LUA
    "if redis.call('EXISTS', KEYS[1]) == 0 then return NOT_FOUND end\n"
    "redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])\n"
    "return OK\n" };

static gh_redis_script attribute_delete_script = { .source = GH_STORE_REDIS_LUA
    "if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return NOT_FOUND end\n"
    "return OK\n" };

#define FIELD_MAX (GH_DIALECT_NAME_MAX + 1 + GH_ATTRIBUTE_NAME_MAX)

static bool redis_attribute_key_ok(const char *dialect, const char *name)
{
    return dialect != NULL && name != NULL && dialect[0] != '\0' && name[0] != '\0' &&
           strlen(dialect) <= GH_DIALECT_NAME_MAX && strlen(name) <= GH_ATTRIBUTE_NAME_MAX;
}

/* "<dialect>\0<name>" into buf (FIELD_MAX bytes, checked names); its length. */
static size_t redis_attribute_field(char buf[FIELD_MAX], const char *dialect, const char *name)
{
    size_t dl = strlen(dialect), nl = strlen(name);

    memcpy(buf, dialect, dl + 1);
    memcpy(buf + dl + 1, name, nl);
    return dl + 1 + nl;
}

gh_store_err gh_store_redis_attribute_get(gh_store *store, int64_t account_id,
                                          const char *dialect, const char *name, char *value,
                                          size_t size)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char field[FIELD_MAX];
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (value == NULL || size == 0 || !redis_attribute_key_ok(dialect, name))
        return GH_STORE_ERROR;
    value[0] = '\0';
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "HGET");
    gh_store_redis_arg_key(&a, s, "acct:%lld:attr", (long long)account_id);
    gh_store_redis_arg(&a, field, redis_attribute_field(field, dialect, name));
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK && r->type == REDIS_REPLY_NIL)
        err = GH_STORE_NOT_FOUND;
    else if (err == GH_STORE_OK && !gh_store_redis_text(r, value, size))
        err = GH_STORE_ERROR;       /* too long for value, or not ours */
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_attribute_set(gh_store *store, int64_t account_id,
                                          const char *dialect, const char *name,
                                          const char *value)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char field[FIELD_MAX];
    gh_store_redis_args a;

    if (value == NULL || strlen(value) > GH_ATTRIBUTE_VALUE_MAX ||
        !redis_attribute_key_ok(dialect, name))
        return GH_STORE_ERROR;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld", (long long)account_id);
    gh_store_redis_arg_key(&a, s, "acct:%lld:attr", (long long)account_id);
    gh_store_redis_arg(&a, field, redis_attribute_field(field, dialect, name));
    gh_store_redis_arg_str(&a, value);
    return gh_store_redis_write(s, &attribute_set_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

gh_store_err gh_store_redis_attribute_delete(gh_store *store, int64_t account_id,
                                             const char *dialect, const char *name)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char field[FIELD_MAX];
    gh_store_redis_args a;

    if (!redis_attribute_key_ok(dialect, name))
        return GH_STORE_ERROR;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "acct:%lld:attr", (long long)account_id);
    gh_store_redis_arg(&a, field, redis_attribute_field(field, dialect, name));
    return gh_store_redis_write(s, &attribute_delete_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

static int redis_attribute_cmp(const void *x, const void *y)
{
    /* names hold no NUL (store_redis_rows.c): strcmp compares unsigned bytes */
    return strcmp(((const gh_store_redis_attribute *)x)->name,
                  ((const gh_store_redis_attribute *)y)->name);
}

gh_store_err gh_store_redis_attribute_foreach(gh_store *store, int64_t account_id,
                                              const char *dialect, const char *prefix,
                                              gh_attribute_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char lead[FIELD_MAX];
    gh_store_redis_attribute *list = NULL;
    gh_store_redis_args a;
    redisReply *r = NULL;
    size_t n = 0, lead_len, skip;
    gh_store_err err;

    if (cb == NULL || prefix == NULL || strlen(prefix) > GH_ATTRIBUTE_NAME_MAX ||
        !redis_attribute_key_ok(dialect, "-"))
        return GH_STORE_ERROR;
    skip = strlen(dialect) + 1;
    lead_len = redis_attribute_field(lead, dialect, prefix);
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "HGETALL");
    gh_store_redis_arg_key(&a, s, "acct:%lld:attr", (long long)account_id);
    err = gh_store_redis_command(s, &a, &r);
    if (err != GH_STORE_OK)
        goto done;
    list = malloc((r->elements / 2 + 1) * sizeof *list);
    if (list == NULL) {
        err = gh_store_redis_fail(s, "out of memory");
        goto done;
    }
    if (gh_store_redis_attribute_pick(r, lead, lead_len, skip, list, &n) != GH_STORE_OK) {
        err = gh_store_redis_fail(s, "attributes of account %lld unreadable",
                                  (long long)account_id);
        goto done;
    }
    qsort(list, n, sizeof *list, redis_attribute_cmp);
    for (size_t i = 0; i < n; i++)
        if (cb(list[i].name, list[i].value, arg) != 0)
            break;
done:
    free(list);
    gh_redis_reply_free(r);
    return err;
}
