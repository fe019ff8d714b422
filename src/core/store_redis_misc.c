/*
 * store_redis_misc.c: live settings and the directory profiles written
 * through the API, in the Redis store (store_redis_internal.h has the
 * helpers; the SQLite twins are store_sqlite.c's settings and
 * store_directory.c).
 *
 * Keys (P the prefix):
 *   P set            hash  setting key -> integer
 *   P dir:<name>     hash  text (absent for a tombstone) deleted revision
 *   P dirs           zset  profile names, all scored 0: walked by name (lex);
 *                         not under dir: where a profile could be named like it
 * A setting's write and a profile's are each one script ending with the log
 * tail (GH_CHANGE_SETTING, GH_CHANGE_DIRECTORY), so every node learns of
 * them. A profile's revision is the sequence number of the change its write
 * logged: unique over the life of the store, as in SQLite. A write that
 * takes the profile's users out (end_sessions, and every forget) deletes, in
 * the same script, each session of every account of the domain, found
 * through P acct:dom:<name>.
 */
#include "store_redis_internal.h"
#include "store_redis_rows.h"

#include <stdlib.h>
#include <string.h>

static gh_redis_script setting_set_script = { .source = GH_STORE_REDIS_LUA
    "redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])\n"
    "gh_log(ARGV[1], 3, 0, ARGV[4])\n"
    "return OK\n" };

#define DIRECTORY_LUA \
    "local function gh_dir_end_sessions(p, name)\n" \
    "  for _, id in ipairs(redis.call('SMEMBERS', p .. 'acct:dom:' .. name)) do\n" \
    "    gh_sess_del_account(p, id)\n" \
    "  end\n" \
    "end\n"

/* ARGV: name, has text ("1"/"0"), text, end_sessions, the change's subject;
 * answers { OK, revision }. */
static gh_redis_script directory_put_script = { .source = GH_STORE_REDIS_LUA DIRECTORY_LUA
    "local p, name = ARGV[1], ARGV[2]\n"
    "local seq = gh_log(p, 4, 0, ARGV[6])\n"
    "if ARGV[3] == '1' then\n"
    "  redis.call('HSET', KEYS[1], 'text', ARGV[4], 'deleted', '0', 'revision', seq)\n"
    "else\n"
    "  redis.call('HDEL', KEYS[1], 'text')\n"
    "  redis.call('HSET', KEYS[1], 'deleted', '1', 'revision', seq)\n"
    "end\n"
    "redis.call('ZADD', KEYS[2], 0, name)\n"
    "if ARGV[5] == '1' then gh_dir_end_sessions(p, name) end\n"
    "return { OK, seq }\n" };

/* ARGV: name, has text, text, revision: the row as it was, nothing logged. */
static gh_redis_script directory_import_script = { .source = GH_STORE_REDIS_LUA
    "redis.call('DEL', KEYS[1])\n"
    "if ARGV[3] == '1' then\n"
    "  redis.call('HSET', KEYS[1], 'text', ARGV[4], 'deleted', '0', 'revision', ARGV[5])\n"
    "else\n"
    "  redis.call('HSET', KEYS[1], 'deleted', '1', 'revision', ARGV[5])\n"
    "end\n"
    "redis.call('ZADD', KEYS[2], 0, ARGV[2])\n"
    "return OK\n" };

/* ARGV: name, the change's subject. */
static gh_redis_script directory_forget_script = { .source = GH_STORE_REDIS_LUA DIRECTORY_LUA
    "if redis.call('DEL', KEYS[1]) == 0 then return NOT_FOUND end\n"
    "redis.call('ZREM', KEYS[2], ARGV[2])\n"
    "gh_log(ARGV[1], 4, 0, ARGV[3])\n"
    "gh_dir_end_sessions(ARGV[1], ARGV[2])\n"
    "return OK\n" };

/* The first row named after ARGV[2] ("": the first of all):
 * { OK, name, deleted, revision, text } or NOT_FOUND. */
static gh_redis_script directory_next_script = { .source = GH_STORE_REDIS_LUA
    "local from = ARGV[2] == '' and '-' or '(' .. ARGV[2]\n"
    "for _, name in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, 1)) do\n"
    "  local d = redis.call('HMGET', ARGV[1] .. 'dir:' .. name, 'deleted', 'revision', 'text')\n"
    "  return { OK, name, d[1] or '1', d[2] or '0', d[3] or '' }\n"
    "end\n"
    "return NOT_FOUND\n" };

/* Settings. */

gh_store_err gh_store_redis_setting_get(gh_store *store, const char *key, int64_t *out)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (key == NULL || out == NULL)
        return GH_STORE_ERROR;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "HGET");
    gh_store_redis_arg_key(&a, s, "set");
    gh_store_redis_arg_str(&a, key);
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_int(r, out);
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_setting_set(gh_store *store, const char *key, int64_t value)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char subject[GH_SESSION_ID_LEN + 1];      /* gh_change.subject */
    gh_store_redis_args a;
    size_t len;

    if (key == NULL || key[0] == '\0')
        return GH_STORE_ERROR;
    /* the change carries what a gh_change can; keys are short */
    len = strnlen(key, sizeof subject - 1);
    memcpy(subject, key, len);
    subject[len] = '\0';
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "set");
    gh_store_redis_arg_str(&a, key);
    gh_store_redis_arg_int(&a, value);
    gh_store_redis_arg_str(&a, subject);
    return gh_store_redis_write(s, &setting_set_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

/* Directory profiles. */

static bool redis_directory_name_ok(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) <= GH_DOMAIN_MAX;
}

/* The keys and arguments every directory write starts with: the row, the
 * name index, the name. */
static void redis_directory_args(gh_store_redis_args *a, const gh_store_redis *s,
                                 const char *name)
{
    gh_store_redis_args_init(a);
    gh_store_redis_arg_key(a, s, "dir:%s", name);
    gh_store_redis_arg_key(a, s, "dirs");
    gh_store_redis_arg_str(a, name);
}

/* A change's subject: the name, or "" (any) when it is longer than one. */
static const char *redis_directory_subject(const char *name)
{
    return strlen(name) <= GH_SESSION_ID_LEN ? name : "";
}

gh_store_err gh_store_redis_directory_put(gh_store *store, const char *name, const char *text,
                                          bool end_sessions, int64_t *revision)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;
    int64_t seq = 0;

    if (revision != NULL)
        *revision = 0;
    if (!redis_directory_name_ok(name) ||
        (text != NULL && strlen(text) >= GH_DIRECTORY_TEXT_MAX))
        return GH_STORE_ERROR;
    redis_directory_args(&a, s, name);
    gh_store_redis_arg_str(&a, text != NULL ? "1" : "0");
    gh_store_redis_arg_str(&a, text != NULL ? text : "");
    gh_store_redis_arg_str(&a, end_sessions ? "1" : "0");
    gh_store_redis_arg_str(&a, redis_directory_subject(name));
    err = gh_store_redis_write(s, &directory_put_script, &a, GH_STORE_REDIS_DURABLE, &r);
    if (err == GH_STORE_OK && r == NULL)
        err = gh_store_redis_fail(s, "directory_put inside a transaction");
    if (err == GH_STORE_OK && (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                               gh_store_redis_int(r->element[1], &seq) != GH_STORE_OK))
        err = gh_store_redis_fail(s, "directory_put: unexpected reply");
    if (err == GH_STORE_OK && revision != NULL)
        *revision = seq;
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_directory_import(gh_store *store, const gh_stored_directory *row)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;

    if (row == NULL || !redis_directory_name_ok(row->name) ||
        (row->text != NULL && strlen(row->text) >= GH_DIRECTORY_TEXT_MAX))
        return GH_STORE_ERROR;
    redis_directory_args(&a, s, row->name);
    gh_store_redis_arg_str(&a, row->text != NULL ? "1" : "0");
    gh_store_redis_arg_str(&a, row->text != NULL ? row->text : "");
    gh_store_redis_arg_int(&a, row->revision);
    return gh_store_redis_write(s, &directory_import_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

gh_store_err gh_store_redis_directory_forget(gh_store *store, const char *name)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;

    if (!redis_directory_name_ok(name))
        return GH_STORE_ERROR;
    redis_directory_args(&a, s, name);
    gh_store_redis_arg_str(&a, redis_directory_subject(name));
    return gh_store_redis_write(s, &directory_forget_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}

typedef struct {
    gh_stored_directory row;
    char                text[GH_DIRECTORY_TEXT_MAX];
} redis_directory_item;

/* The row after `after` into it: GH_STORE_NOT_FOUND when there is none. */
static gh_store_err redis_directory_next(gh_store_redis *s, const char *after,
                                         redis_directory_item *it)
{
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "dirs");
    gh_store_redis_arg_str(&a, after);
    err = gh_store_redis_eval(s, &directory_next_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK &&
        gh_store_redis_directory_row(r, &it->row, it->text, sizeof it->text) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "a directory row is unreadable");
    gh_redis_reply_free(r);
    return err;
}

/* By name, a row per script run, so cb may write to the store. */
gh_store_err gh_store_redis_directory_foreach(gh_store *store, gh_directory_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    char after[GH_DOMAIN_MAX + 1] = "";
    redis_directory_item *it;
    gh_store_err err = GH_STORE_OK;

    if (cb == NULL || (it = calloc(1, sizeof *it)) == NULL)
        return GH_STORE_ERROR;
    while (err == GH_STORE_OK) {
        err = redis_directory_next(s, after, it);
        if (err != GH_STORE_OK)
            break;
        memcpy(after, it->row.name, sizeof after);
        if (cb(&it->row, arg) != 0)
            break;
    }
    free(it);
    return err == GH_STORE_NOT_FOUND ? GH_STORE_OK : err;
}
