/*
 * store_redis_internal.h: what the files of the Redis store share, private to
 * it: the connection (struct gh_store_redis), the backend functions of the
 * ops table (store_backend.h), the helpers that build keys and arguments,
 * run scripts and writes (inside or outside a transaction) and read replies,
 * and the Lua every script starts with.
 *
 * Files, each depending only on those below it (scripts/check-circles):
 *   store_redis.c             open (secret file, gh:meta), close, the ops table
 *   store_redis_bell.c        the bell (pub/sub listener)
 *   store_redis_session_walks.c  session walks (uses _sessions.c)
 *   store_redis_sessions.c    sessions                         \
 *   store_redis_changes.c     the change log                    |
 *   store_redis_accounts.c    accounts                          | the data
 *   store_redis_attributes.c  per-account attributes            |
 *   store_redis_failures.c    failure and throttle counters     |
 *   store_redis_misc.c        settings, directory rows         /
 *   store_redis_tx.c          begin/end: optimistic transactions
 *   store_redis_call.c        these helpers: commands, scripts, writes, WAIT
 *   store_redis_replies.c     the reply readers
 *   store_redis_conn.c        the connection (store_redis_conn.h)
 *
 * Key model (every key starts with the configured prefix P, "gh:" by
 * default; one database; no Redis Cluster). Integers are decimal text,
 * booleans "0"/"1", digests and HMAC keys lowercase hex:
 *   P meta                  hash  schema, secret_check, created
 *   P acct:seq              str   INCR: account ids
 *   P acct:<id>             hash  name domain role(gh_role) enabled built_in pcr
 *                                 locked_until generation created password_hash
 *   P acct:byname           hash  name -> id
 *   P acct:ids              zset  id scored by id
 *   P acct:dom:<domain>     set   ids of the domain's accounts
 *   P acct:<id>:sess        zset  the account's sessions: member <cid>, score 0
 *   P acct:<id>:attr        hash  "<dialect>\0<name>" -> value
 *   P sess:<id>             hash  digest(hex) account_id user dialect client_addr
 *                                 created last_used idle_timeout expires ord cid
 *                                 (nothing else starts with "sess:": an id a client
 *                                 sends can only ever name a session's hash)
 *   P dig:<hex digest>      str   session id (the token itself is never stored)
 *   P sessions:seq          str   INCR: ord, the creation order (SQLite's rowid)
 *   P sessions:ord          zset  session id scored by ord
 *   P sessions:created      zset  member <cid>, score 0: sessions by (created, id)
 *     <cid> is created as 16 hex digits (sign bit flipped, so byte order is
 *     numeric order) ':' id; ZRANGEBYLEX walks it; the id is from byte 18.
 *   P set                   hash  setting -> integer
 *   P fail:..., thr:..., dir:...  store_redis_failures.c, store_redis_misc.c
 *   P chg:seq               str   INCR: change sequence numbers
 *   P chg                   stream entry 0-<seq>: k (kind) i (subject_id) s (subject)
 *   P chg:pruned            str   no entry below it is expected (change_prune,
 *                                 change_floor): a reader before it missed nothing
 *   P chg:bell              channel  PUBLISHed seq of each change
 *
 * Scripts: every script gets its keys as KEYS, then the prefix as ARGV[1]
 * and its own arguments from ARGV[2] (gh_store_redis_eval puts the prefix
 * there), and starts with GH_STORE_REDIS_LUA. A script answers with its
 * status, a gh_store_err as an integer (the constants of GH_STORE_REDIS_LUA),
 * or an array whose first element is that status. Lua's numbers are
 * doubles: a value that may pass 2^53 (locked_until = GH_LOCKED_BY_ADMIN)
 * is kept and compared as text in a script, never through tonumber.
 */
#ifndef GH_STORE_REDIS_INTERNAL_H
#define GH_STORE_REDIS_INTERNAL_H

#include "config.h"
#include "store_backend.h"
#include "store_redis_conn.h"

#define GH_STORE_REDIS_PREFIX_MAX 63
#define GH_STORE_REDIS_KEY_MAX    320   /* prefix + the longest key name + a domain */
#define GH_STORE_REDIS_ERROR_MAX  256
#define GH_STORE_REDIS_SCHEMA     "1"
/* Entries the change stream keeps at least (XADD MAXLEN ~). */
#define GH_STORE_REDIS_LOG_MAX    "100000"

/* A write queued by a transaction: its script and its whole argument list
 * (keys, the prefix, the rest), copied into one allocation at argv
 * (store_redis_call.c queues, store_redis_tx.c sends and frees). */
typedef struct {
    gh_redis_script *script;
    size_t           nkeys, argc;
    const char     **argv;
    size_t          *lens;
    unsigned         flags;
} gh_store_redis_queued;

typedef struct {
    gh_store               base;
    gh_redis              *conn;
    const gh_store_config *cfg;
    char                   prefix[GH_STORE_REDIS_PREFIX_MAX + 1];
    size_t                 prefix_len;
    uint8_t                secret[GH_DIGEST_LEN];
    char                   secret_path[GH_PATH_MAX];
    int                    wait_replicas;   /* resolved: >= 0 */
    int                    wait_ms;
    /* gh_store_begin .. gh_store_end */
    bool                   tx;
    bool                   tx_watched;      /* a WATCH was sent */
    bool                   tx_broken;       /* a command in it failed: end refuses */
    gh_store_redis_queued *queue;
    size_t                 nqueued, queue_cap;
    char                   error[GH_STORE_REDIS_ERROR_MAX];
} gh_store_redis;

/* The Redis store behind a gh_store (its ops are the Redis ones). */
static inline gh_store_redis *gh_store_redis_of(gh_store *s)
{
    return (gh_store_redis *)s;
}

/*
 * Arguments of one command or script, built in place: keys (each the prefix
 * and a formatted name, copied into the struct; a script's come first) and
 * the rest (borrowed text or bytes, or integers formatted into the struct). A field
 * that does not fit makes ok false, and every call with it answers
 * GH_STORE_ERROR. Sized for a stack.
 */
#define GH_STORE_REDIS_ARGS_MAX 48
#define GH_STORE_REDIS_KEYS_MAX 8
typedef struct {
    size_t      n, nkeys;
    bool        ok;
    const char *argv[GH_STORE_REDIS_ARGS_MAX];
    size_t      lens[GH_STORE_REDIS_ARGS_MAX];
    size_t      keyidx[GH_STORE_REDIS_KEYS_MAX];   /* argv index of each key */
    char        keys[GH_STORE_REDIS_KEYS_MAX][GH_STORE_REDIS_KEY_MAX];
    char        nums[GH_STORE_REDIS_ARGS_MAX][2 * GH_DIGEST_LEN + 1]; /* ints, hex */
} gh_store_redis_args;

void gh_store_redis_args_init(gh_store_redis_args *a);
/* Append P + the formatted name as a key (also remembered for WATCH). */
void gh_store_redis_arg_key(gh_store_redis_args *a, const gh_store_redis *s,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append len bytes at p, borrowed: they must outlive the call. */
void gh_store_redis_arg(gh_store_redis_args *a, const void *p, size_t len);
void gh_store_redis_arg_str(gh_store_redis_args *a, const char *s);
void gh_store_redis_arg_int(gh_store_redis_args *a, int64_t v);
/* A digest or HMAC key as 64 hex digits (formatted into the struct). */
void gh_store_redis_arg_hex(gh_store_redis_args *a, const uint8_t digest[GH_DIGEST_LEN]);

/* cfg's key prefix ("gh:" when unset) into prefix, its length into *len;
 * false when it is longer than GH_STORE_REDIS_PREFIX_MAX. */
bool gh_store_redis_prefix(const gh_store_config *cfg,
                           char prefix[GH_STORE_REDIS_PREFIX_MAX + 1], size_t *len);

/* P + the formatted name into buf; false when it does not fit. */
bool gh_store_redis_key(const gh_store_redis *s, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A plain command: a->argv as given (the command's name first). Inside a
 * transaction it WATCHes a's keys first: use it for reads only. *reply owned
 * by the caller (gh_redis_reply_free); an error reply answers GH_STORE_ERROR
 * (the reason in last_error) with *reply NULL. */
gh_store_err gh_store_redis_command(gh_store_redis *s, const gh_store_redis_args *a,
                                    redisReply **reply);
/* A script that only reads: EVALSHA with a's keys, P, the rest. Inside a
 * transaction its keys are WATCHed first. *reply as above; its status is
 * the caller's to read (gh_store_redis_status). */
gh_store_err gh_store_redis_eval(gh_store_redis *s, gh_redis_script *script,
                                 const gh_store_redis_args *a, redisReply **reply);

/* Flags of a write. */
#define GH_STORE_REDIS_DURABLE 1u   /* WAIT for the replicas when configured */
/* A script that writes. Outside a transaction: run now, then (DURABLE)
 * WAIT wait_replicas wait_ms: fewer acknowledgements are GH_STORE_ERROR,
 * fail closed. Returns the script's status; *reply (reply may be NULL: not
 * wanted) receives the whole answer when the status is OK. Inside a
 * transaction: a copy is queued for gh_store_end, GH_STORE_OK, *reply NULL
 * (a write whose caller needs a value it returns must get it another way:
 * INCR an id first, outside the transaction). */
gh_store_err gh_store_redis_write(gh_store_redis *s, gh_redis_script *script,
                                  const gh_store_redis_args *a, unsigned flags,
                                  redisReply **reply);
/* The same for a script of no keys and many arguments (items[i] of lens[i]
 * bytes, after the prefix), where the argument builder is too small. The
 * status only; inside a transaction, queued. */
gh_store_err gh_store_redis_write_list(gh_store_redis *s, gh_redis_script *script,
                                       const char *const *items, const size_t *lens, size_t n,
                                       unsigned flags);
/* WAIT for wait_replicas after writes made by other means (no-op at 0). */
gh_store_err gh_store_redis_wait(gh_store_redis *s);

/* Reply readers. status: an integer reply, or an array's first element, as
 * a gh_store_err (anything else: GH_STORE_ERROR). int: an integer, or a
 * string holding one (a nil reads as GH_STORE_NOT_FOUND). text: a string
 * copied into dst (false when it does not fit, or is not a string). field:
 * the value of name in a flat [name, value, ...] array (HGETALL), or NULL. */
gh_store_err gh_store_redis_status(const redisReply *r);
gh_store_err gh_store_redis_int(const redisReply *r, int64_t *out);
bool gh_store_redis_text(const redisReply *r, char *dst, size_t size);
const redisReply *gh_store_redis_field(const redisReply *r, const char *name);
/* field's integer (missing: GH_STORE_NOT_FOUND) and text (missing: false). */
gh_store_err gh_store_redis_field_int(const redisReply *r, const char *name, int64_t *out);
bool gh_store_redis_field_text(const redisReply *r, const char *name, char *dst, size_t size);
/* 64 hex digits into a digest; false when it is not that. */
bool gh_store_redis_unhex(const redisReply *r, uint8_t digest[GH_DIGEST_LEN]);

/* The longest <cid>: created in hex, ':', a session id. */
#define GH_STORE_REDIS_CID_MAX (16 + 1 + GH_SESSION_ID_LEN)
/* A session hash (HGETALL's flat answer) of the session id (id_len bytes)
 * into out: GH_STORE_NOT_FOUND for an empty one. store_redis_sessions.c. */
gh_store_err gh_store_redis_session_parse(const redisReply *h, const char *id, size_t id_len,
                                          gh_session_record *out);

/* One entry of the change stream, [ "0-<seq>", [k, kind, i, id, s,
 * subject] ], into c; false when it is not of that shape.
 * store_redis_changes.c. */
bool gh_store_redis_change_parse(const redisReply *e, gh_change *c);

/* Note why the last call failed (printf, no secret): GH_STORE_ERROR. */
gh_store_err gh_store_redis_fail(gh_store_redis *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The Lua every script starts with: the status constants (gh_store_err's
 * values) and the functions the writing scripts share.
 *   gh_log(p, kind, id, subject): the log tail of a write a server must see:
 *     INCR P chg:seq, XADD P chg MAXLEN ~ N 0-<seq> k kind i id s subject,
 *     PUBLISH P chg:bell seq; returns seq. Call it last, once per change.
 *   gh_ended(now, default_idle, h): gh_store_session_ended on the fields
 *     last_used, idle_timeout, expires of a session hash read as a table
 *     (gh_hash).
 *   gh_hash(flat): an HGETALL answer as a table.
 *   gh_sess_del(p, id): delete session id with its digest key, its place in
 *     P sessions:ord and in its account's set; true when it existed.
 *   gh_sess_del_account(p, account_id): every session of the account and its
 *     set; returns how many.
 */
#define GH_STORE_REDIS_LUA \
    "local OK, NOT_FOUND, EXISTS, CONFLICT, BUSY, ERROR, LIMIT = 0, 1, 2, 3, 4, 5, 6\n" \
    "local function gh_log(p, kind, id, subject)\n" \
    "  local seq = redis.call('INCR', p .. 'chg:seq')\n" \
    "  redis.call('XADD', p .. 'chg', 'MAXLEN', '~', " GH_STORE_REDIS_LOG_MAX ",\n" \
    "             '0-' .. seq, 'k', kind, 'i', id, 's', subject)\n" \
    "  redis.call('PUBLISH', p .. 'chg:bell', seq)\n" \
    "  return seq\n" \
    "end\n" \
    "local function gh_hash(flat)\n" \
    "  local t = {}\n" \
    "  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end\n" \
    "  return t\n" \
    "end\n" \
    "local function gh_ended(now, default_idle, h)\n" \
    "  local idle = tonumber(h.idle_timeout) or 0\n" \
    "  if idle <= 0 then idle = default_idle end\n" \
    "  if idle > 0 and now - (tonumber(h.last_used) or 0) >= idle then return true end\n" \
    "  local expires = tonumber(h.expires) or 0\n" \
    "  return expires > 0 and now >= expires\n" \
    "end\n" \
    "local function gh_sess_del(p, id)\n" \
    "  local k = p .. 'sess:' .. id\n" \
    "  local v = redis.call('HMGET', k, 'digest', 'account_id', 'cid')\n" \
    "  if not v[1] then return false end\n" \
    "  redis.call('DEL', k, p .. 'dig:' .. v[1])\n" \
    "  redis.call('ZREM', p .. 'sessions:ord', id)\n" \
    "  redis.call('ZREM', p .. 'sessions:created', v[3])\n" \
    "  redis.call('ZREM', p .. 'acct:' .. v[2] .. ':sess', v[3])\n" \
    "  return true\n" \
    "end\n" \
    "local function gh_sess_del_account(p, account_id)\n" \
    "  local set = p .. 'acct:' .. account_id .. ':sess'\n" \
    "  local n = 0\n" \
    "  for _, cid in ipairs(redis.call('ZRANGE', set, 0, -1)) do\n" \
    "    if gh_sess_del(p, string.sub(cid, 18)) then n = n + 1 end\n" \
    "  end\n" \
    "  redis.call('DEL', set)\n" \
    "  return n\n" \
    "end\n"

/* The backend (store_backend.h's members, same contracts). */
gh_store_err gh_store_redis_begin(gh_store *s);                         /* _tx.c */
gh_store_err gh_store_redis_end(gh_store *s, gh_store_err err);         /* _tx.c */
/* Free what a transaction's queue holds (at close). */
void gh_store_redis_tx_free(gh_store_redis *s);                        /* _tx.c */

gh_store_err gh_store_redis_account_get(gh_store *s, const char *name, gh_account *out);
gh_store_err gh_store_redis_account_get_by_id(gh_store *s, int64_t id, gh_account *out);
gh_store_err gh_store_redis_account_add(gh_store *s, gh_account *acct);
gh_store_err gh_store_redis_account_import(gh_store *s, const gh_account *acct);
gh_store_err gh_store_redis_account_update(gh_store *s, gh_account *acct,
                                           int64_t expected_generation);
gh_store_err gh_store_redis_account_delete(gh_store *s, int64_t id);
gh_store_err gh_store_redis_account_foreach(gh_store *s, gh_account_cb cb, void *arg);
gh_store_err gh_store_redis_account_due(gh_store *s, const char *domain, const char *dialect,
                                        const char *name, int64_t before,
                                        int64_t ids[GH_STORE_PAGE_MAX], size_t *n);

gh_store_err gh_store_redis_session_insert(gh_store *s, const gh_session_record *rec);
gh_store_err gh_store_redis_session_insert_limited(gh_store *s, const gh_session_record *rec,
                                                   int64_t max_per_account, int64_t now,
                                                   int64_t default_idle);
gh_store_err gh_store_redis_session_get(gh_store *s, const char *id, gh_session_record *out);
gh_store_err gh_store_redis_session_find_digest(gh_store *s,
                                                const uint8_t digest[GH_DIGEST_LEN],
                                                gh_session_record *out,
                                                gh_store_session_owner *acct);
gh_store_err gh_store_redis_session_delete(gh_store *s, const char *id);
gh_store_err gh_store_redis_session_delete_account(gh_store *s, int64_t account_id,
                                                   int *count);
gh_store_err gh_store_redis_session_expire(gh_store *s, int64_t now, int64_t default_idle,
                                           int64_t *from, int *count, int *lifetime);
gh_store_err gh_store_redis_session_count_live(gh_store *s, int64_t account_id, int64_t now,
                                               int64_t default_idle, int64_t *count);
gh_store_err gh_store_redis_session_touch(gh_store *s, const gh_session_touch *touches,
                                          size_t n);
gh_store_err gh_store_redis_session_foreach(gh_store *s, int64_t account_id,
                                            gh_session_cb cb, void *arg);
gh_store_err gh_store_redis_session_scan(gh_store *s, int64_t after, int64_t upto,
                                         gh_session_cb cb, void *arg);
gh_store_err gh_store_redis_session_rowid_last(gh_store *s, int64_t *rowid);

gh_store_err gh_store_redis_attribute_get(gh_store *s, int64_t account_id, const char *dialect,
                                          const char *name, char *value, size_t size);
gh_store_err gh_store_redis_attribute_set(gh_store *s, int64_t account_id, const char *dialect,
                                          const char *name, const char *value);
gh_store_err gh_store_redis_attribute_delete(gh_store *s, int64_t account_id,
                                             const char *dialect, const char *name);
gh_store_err gh_store_redis_attribute_foreach(gh_store *s, int64_t account_id,
                                              const char *dialect, const char *prefix,
                                              gh_attribute_cb cb, void *arg);

gh_store_err gh_store_redis_setting_get(gh_store *s, const char *key, int64_t *out);
gh_store_err gh_store_redis_setting_set(gh_store *s, const char *key, int64_t value);

gh_store_err gh_store_redis_failure_get(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                        gh_failure *out);
gh_store_err gh_store_redis_failure_put(gh_store *s, const gh_failure *f);
gh_store_err gh_store_redis_failure_count(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                          const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                          int64_t reset_after, int64_t threshold,
                                          int64_t duration, gh_failure *out, bool *locked);
gh_store_err gh_store_redis_failure_delete(gh_store *s, const uint8_t key[GH_DIGEST_LEN]);
gh_store_err gh_store_redis_failure_clear_owner(gh_store *s,
                                                const uint8_t owner[GH_DIGEST_LEN]);
gh_store_err gh_store_redis_failure_prune(gh_store *s, int64_t now, int *count);

gh_store_err gh_store_redis_throttle_put(gh_store *s, const gh_throttle_count *c,
                                         int64_t expires);
gh_store_err gh_store_redis_throttle_scan(gh_store *s, int64_t now, uint32_t max,
                                          gh_throttle_cb cb, void *arg);
gh_store_err gh_store_redis_throttle_prune(gh_store *s, int64_t now, int *count);

gh_store_err gh_store_redis_directory_put(gh_store *s, const char *name, const char *text,
                                          bool end_sessions, int64_t *revision);
gh_store_err gh_store_redis_directory_import(gh_store *s, const gh_stored_directory *row);
gh_store_err gh_store_redis_directory_forget(gh_store *s, const char *name);
gh_store_err gh_store_redis_directory_foreach(gh_store *s, gh_directory_cb cb, void *arg);

gh_store_err gh_store_redis_change_last(gh_store *s, int64_t *seq);
gh_store_err gh_store_redis_change_since(gh_store *s, int64_t seq, gh_change_cb cb, void *arg);
gh_store_err gh_store_redis_change_prune(gh_store *s, int64_t before_seq);
gh_store_err gh_store_redis_change_floor(gh_store *s, int64_t seq);

#endif
