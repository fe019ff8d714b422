/*
 * test_store_redis.c: what only the Redis store does, against a real
 * redis-server (GH_TEST_REDIS_URL, started by tests/unit/with-redis): the
 * secret file and P meta (made on a first open, a wrong or missing secret
 * refused by name), a second connection seeing writes, optimistic
 * transactions (BUSY when a watched key changed), scripts lost by the
 * server (SCRIPT FLUSH), WAIT failing closed, the trimmed change log
 * (GH_STORE_GAP), and no token or password in any key or value (the bell:
 * test_store_redis_bell.c). Each test has a key prefix and a secret file
 * of its own (store_redis_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/core/password.h"
#include "redis_fixture.h"
#include "store_redis_fixture.h"

/* The first open made the secret file (0600, 32 bytes) and P meta with
 * the schema and the file's check value; the secret is the file's. */
static void test_meta_made(void **state)
{
    fixture *f = *state;
    uint8_t secret[GH_DIGEST_LEN], from_store[GH_DIGEST_LEN], mac[GH_DIGEST_LEN];
    char key[128], check[2 * GH_DIGEST_LEN + 1];
    const gh_bytes part = { "gatehouse store check 1", 23 };
    struct stat st;
    redisReply *r;
    FILE *fp;

    assert_int_equal(stat(f->secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, GH_DIGEST_LEN);
    fp = fopen(f->secret, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(secret, 1, sizeof secret, fp), sizeof secret);
    fclose(fp);
    assert_int_equal(gh_store_secret(f->store, from_store), GH_STORE_OK);
    assert_memory_equal(secret, from_store, sizeof secret);
    assert_true(gh_store_shared(f->store));

    assert_true(gh_token_mac(secret, &part, 1, mac));
    gh_token_hex(mac, sizeof mac, check);
    snprintf(key, sizeof key, "%smeta", f->prefix);
    r = RAW(f, "HGET", key, "secret_check");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, check);
    gh_redis_reply_free(r);
    r = RAW(f, "HGET", key, "schema");
    assert_string_equal(r->str, "1");
    gh_redis_reply_free(r);
}

/* A second node with the same file opens; one with another secret, or
 * without the file, or with a file others may read, is refused, and the
 * reason names the file. P meta is never replaced. */
static void test_secret_refused(void **state)
{
    fixture *f = *state;
    gh_store_config other = f->cfg;
    char path[160], key[128], before[2 * GH_DIGEST_LEN + 1];
    uint8_t wrong[GH_DIGEST_LEN];
    gh_store *s = NULL;
    redisReply *r;

    assert_int_equal(gh_store_open_config(&f->cfg, &s), GH_STORE_OK);
    gh_store_close(s);

    snprintf(key, sizeof key, "%smeta", f->prefix);
    r = RAW(f, "HGET", key, "secret_check");
    snprintf(before, sizeof before, "%s", r->str);
    gh_redis_reply_free(r);

    snprintf(path, sizeof path, "%s/other-secret", f->dir);
    other.secret_file = path;
    assert_int_equal(gh_token_random(wrong, sizeof wrong), 0);
    write_file(path, wrong, sizeof wrong, 0600);
    s = NULL;
    assert_int_equal(gh_store_open_config(&other, &s), GH_STORE_ERROR);
    assert_null(s);
    assert_non_null(strstr(gh_store_redis_open_error(), path));
    assert_non_null(strstr(gh_store_redis_open_error(), "does not match"));

    write_file(path, wrong, sizeof wrong, 0640);
    assert_int_equal(gh_store_open_config(&other, &s), GH_STORE_ERROR);
    assert_non_null(strstr(gh_store_redis_open_error(), path));

    unlink(path);               /* missing: not made, the store has a secret */
    assert_int_equal(gh_store_open_config(&other, &s), GH_STORE_ERROR);
    assert_non_null(strstr(gh_store_redis_open_error(), path));
    assert_int_equal(access(path, F_OK), -1);

    r = RAW(f, "HGET", key, "secret_check");
    assert_string_equal(r->str, before);
    gh_redis_reply_free(r);
}

/* What one connection writes, another reads at once, changes included. */
static void test_second_connection(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL), seq = -1;
    gh_session_record r = make_session("s1", acct, "token-one"), got;
    gh_store_session_owner owner;
    gh_store *b = NULL;

    assert_int_equal(gh_store_open_config(&f->cfg, &b), GH_STORE_OK);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(b, "s1", &got), GH_STORE_OK);
    assert_memory_equal(got.digest, r.digest, GH_DIGEST_LEN);
    assert_int_equal(gh_store_session_find_digest(b, r.digest, &got, &owner), GH_STORE_OK);
    assert_string_equal(got.id, "s1");
    assert_int_equal(owner.role, GH_ROLE_OPERATOR);
    assert_true(owner.enabled);
    assert_int_equal(gh_store_change_last(b, &seq), GH_STORE_OK);
    assert_int_equal(owner.seq, seq);
    assert_int_equal(gh_store_session_delete(b, "s1"), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s1", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_change_last(f->store, &owner.seq), GH_STORE_OK);
    assert_int_equal(owner.seq, seq + 1);
    gh_store_close(b);
}

/* An id longer than any stored one (a client may send anything) is no
 * such session, as in the embedded store, not an error. */
static void test_long_session_id(void **state)
{
    fixture *f = *state;
    char id[401];
    gh_session_record got;
    int64_t seq = 0, after = 0;

    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    assert_int_equal(gh_store_change_last(f->store, &seq), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, id, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_delete(f->store, id), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_change_last(f->store, &after), GH_STORE_OK);
    assert_int_equal(after, seq);
}

/* A client's id that names another key of the store (an index, a digest
 * key) is no such session: not an error, and nothing is touched. */
static void test_session_id_key_space(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL);
    gh_session_record r = make_session("s1", acct, "token-one"), got;
    const char *ids[] = { "seq", "ord", "created", "dig:00", "" };

    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        assert_int_equal(gh_store_session_get(f->store, ids[i], &got), GH_STORE_NOT_FOUND);
        assert_int_equal(gh_store_session_delete(f->store, ids[i]), GH_STORE_NOT_FOUND);
    }
    assert_int_equal(gh_store_session_find_digest(f->store, r.digest, &got, NULL), GH_STORE_OK);
    assert_string_equal(got.id, "s1");
    r = make_session("s2", acct, "token-two");   /* the indexes still work */
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
}

/* The secret file may be a symlink (secrets are often mounted so). */
static void test_secret_symlink(void **state)
{
    fixture *f = *state;
    gh_store_config cfg = f->cfg;
    char link_path[160];
    gh_store *s = NULL;

    snprintf(link_path, sizeof link_path, "%s/other-secret", f->dir);
    assert_int_equal(symlink(f->secret, link_path), 0);
    cfg.secret_file = link_path;
    assert_int_equal(gh_store_open_config(&cfg, &s), GH_STORE_OK);
    gh_store_close(s);
}

/* Touches come in batches larger than one script takes: every one is
 * written, forward only, past the chunk boundaries. */
static void test_touch_many(void **state)
{
    enum { N = 600 };
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL);
    gh_session_touch *t = calloc(N, sizeof *t);
    gh_session_record r, got;
    char token[32];

    assert_non_null(t);
    for (int i = 0; i < N; i++) {
        snprintf(t[i].id, sizeof t[i].id, "s%d", i);
        snprintf(token, sizeof token, "token-%d", i);
        r = make_session(t[i].id, acct, token);
        assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
        t[i].last_used = i % 2 == 0 ? 5000 + i : 10;      /* odd ones: older, ignored */
    }
    assert_int_equal(gh_store_session_touch(f->store, t, N), GH_STORE_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(gh_store_session_get(f->store, t[i].id, &got), GH_STORE_OK);
        assert_int_equal(got.last_used, i % 2 == 0 ? 5000 + i : 1000);
    }
    free(t);
}

/* A transaction that read a key another connection changed before it
 * committed answers GH_STORE_BUSY and writes nothing; run again, it goes. */
static void test_transaction_busy(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL);
    gh_session_record r = make_session("s1", acct, "token-one"), got;
    gh_session_touch t = { .id = "s1", .last_used = 2000 };
    gh_store *b = NULL;

    assert_int_equal(gh_store_open_config(&f->cfg, &b), GH_STORE_OK);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);

    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s1", &got), GH_STORE_OK);
    assert_int_equal(gh_store_session_delete(f->store, "s1"), GH_STORE_OK);  /* queued */
    assert_int_equal(gh_store_session_touch(b, &t, 1), GH_STORE_OK);         /* meanwhile */
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_BUSY);
    assert_int_equal(gh_store_session_get(b, "s1", &got), GH_STORE_OK);
    assert_int_equal(got.last_used, 2000);

    /* untouched since the read: it commits */
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s1", &got), GH_STORE_OK);
    assert_int_equal(gh_store_session_delete(f->store, "s1"), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(b, "s1", &got), GH_STORE_NOT_FOUND);

    /* rolled back: nothing queued runs, a read-only one ends clean */
    r = make_session("s2", acct, "token-two");
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_NOT_FOUND), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(b, "s2", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s2", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
    gh_store_close(b);
}

/* A server that lost its scripts (SCRIPT FLUSH, a new primary) gets them
 * again, alone and inside a transaction. */
static void test_scripts_flushed(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL);
    gh_session_record r = make_session("s1", acct, "token-one"), got;

    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    raw_ok(f, RAW(f, "SCRIPT", "FLUSH"));
    r = make_session("s2", acct, "token-two");
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    raw_ok(f, RAW(f, "SCRIPT", "FLUSH"));
    r = make_session("s3", acct, "token-three");
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    assert_int_equal(gh_store_session_delete(f->store, "s1"), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s3", &got), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s1", &got), GH_STORE_NOT_FOUND);
}

/* wait_replicas with no replica: the write is refused, fail closed. */
static void test_wait_fails_closed(void **state)
{
    fixture *f = *state;
    gh_store_config cfg = f->cfg;
    int64_t acct = add_account(f->store, "alice", NULL);
    gh_session_record r = make_session("s1", acct, "token-one");
    gh_store *s = NULL;

    cfg.wait_replicas = 1;
    cfg.wait_ms = 10;
    assert_int_equal(gh_store_open_config(&cfg, &s), GH_STORE_OK);
    assert_int_equal(gh_store_session_insert(s, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_store_last_error(s), "WAIT"));
    gh_store_close(s);
    r = make_session("s2", acct, "token-two");
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
}

/* Whether the replica's link to its primary is up, within 20 s. */
static bool replica_linked(const gh_test_redis *replica)
{
    char info[4096];

    for (int64_t end = gh_test_redis_ms() + 20000; gh_test_redis_ms() < end;) {
        if (gh_test_redis_inline(replica, "INFO replication", info, sizeof info) &&
            strstr(info, "master_link_status:up") != NULL)
            return true;
        usleep(20000);
    }
    return false;
}

/* With a replica that acknowledges, durable writes go through (WAIT is
 * met); once it is gone they fail. Servers of the test's own. */
static void test_wait_with_replica(void **state)
{
    fixture *f = *state;
    gh_test_redis primary, replica;
    const char *primary_args[] = { "--repl-diskless-sync-delay", "0", NULL };
    const char *replica_of[3] = { "--replicaof", NULL, NULL };
    char of[32], url[64];
    gh_store_config cfg = f->cfg;
    gh_session_record r;
    gh_store *s = NULL, *quick = NULL;
    int64_t acct;

    assert_true(gh_test_redis_start(&primary, 0, primary_args));
    snprintf(of, sizeof of, "127.0.0.1 %u", (unsigned)primary.port);
    replica_of[1] = of;
    assert_true(gh_test_redis_start(&replica, 0, replica_of));
    assert_true(replica_linked(&replica));
    snprintf(url, sizeof url, "redis://127.0.0.1:%u", (unsigned)primary.port);
    cfg.url = url;
    cfg.wait_replicas = 1;
    cfg.wait_ms = 1500;             /* a bound: WAIT answers once the replica has it */
    assert_int_equal(gh_store_open_config(&cfg, &s), GH_STORE_OK);   /* makes P meta */
    acct = add_account(s, "alice", NULL);
    r = make_session("s1", acct, "token-one");
    assert_int_equal(gh_store_session_insert(s, &r), GH_STORE_OK);
    assert_int_equal(gh_store_session_delete(s, "s1"), GH_STORE_OK);

    gh_test_redis_stop(&replica);
    cfg.wait_ms = 50;
    assert_int_equal(gh_store_open_config(&cfg, &quick), GH_STORE_OK);
    r = make_session("s2", acct, "token-two");
    assert_int_equal(gh_store_session_insert(quick, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_store_last_error(quick), "0 of 1"));
    gh_store_close(quick);
    gh_store_close(s);
    gh_test_redis_stop(&primary);
}

/* A WAIT longer than the command timeout could never be answered in time
 * (the connection gives up first): such a configuration is refused. */
static void test_wait_longer_than_timeout(void **state)
{
    fixture *f = *state;
    gh_store_config cfg = f->cfg;
    gh_store *s = NULL;

    cfg.wait_replicas = 1;
    cfg.wait_ms = cfg.timeout_ms;
    assert_int_equal(gh_store_open_config(&cfg, &s), GH_STORE_ERROR);
    assert_null(s);
    assert_non_null(strstr(gh_store_redis_open_error(), "wait_ms"));
    cfg.wait_replicas = 0;          /* no WAIT: nothing to refuse */
    assert_int_equal(gh_store_open_config(&cfg, &s), GH_STORE_OK);
    gh_store_close(s);
}

typedef struct {
    int     n;
    int64_t first;
} seen_changes;

static int see_change(const gh_change *c, void *arg)
{
    seen_changes *seen = arg;

    if (seen->n++ == 0)
        seen->first = c->seq;
    return 0;
}

static gh_store_err changes_since(gh_store *s, int64_t seq, seen_changes *seen)
{
    memset(seen, 0, sizeof *seen);
    return gh_store_change_since(s, seq, see_change, seen);
}

/* Calls of EVALSHA the server has answered so far (INFO commandstats). */
static int64_t evalsha_calls(fixture *f)
{
    redisReply *info = RAW(f, "INFO", "commandstats");
    const char *at = strstr(info->str, "cmdstat_evalsha:calls=");
    int64_t calls = at != NULL ? strtoll(at + 22, NULL, 10) : -1;

    gh_redis_reply_free(info);
    return calls;
}

static void insert_many(fixture *f, int64_t acct, const char *tag, int n)
{
    gh_session_record r;
    char id[GH_SESSION_ID_LEN + 1], token[48];

    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s%d", tag, i);
        snprintf(token, sizeof token, "token-%s-%d", tag, i);
        r = make_session(id, acct, token);
        assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    }
}

/* Ending every session of a big account takes several scripts (none holds
 * Redis for all of them), logs one change at the end, and counts them all;
 * inside a transaction one queued script takes them all. */
static void test_delete_account_batches(void **state)
{
    enum { N = 600 };
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL), seq = 0, last = 0, calls;
    seen_changes seen;
    gh_session_record got;
    int count = 0;

    insert_many(f, acct, "a", N);
    assert_int_equal(gh_store_change_last(f->store, &seq), GH_STORE_OK);
    calls = evalsha_calls(f);
    assert_int_equal(gh_store_session_delete_account(f->store, acct, &count), GH_STORE_OK);
    assert_int_equal(count, N);
    assert_true(evalsha_calls(f) - calls >= 3);
    assert_int_equal(changes_since(f->store, seq, &seen), GH_STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(gh_store_session_get(f->store, "a0", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->store, "a599", &got), GH_STORE_NOT_FOUND);

    insert_many(f, acct, "b", N);
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_delete_account(f->store, acct, NULL), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "b599", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_change_last(f->store, &last), GH_STORE_OK);
    assert_int_equal(last, seq + 2);
}

/* Entries trimmed off the stream past a reader are a gap (GH_STORE_GAP);
 * entries pruned on purpose, or numbers change_floor jumped over, are not. */
static void test_change_gap(void **state)
{
    fixture *f = *state;
    seen_changes seen;
    int64_t last = 0;
    char key[128];

    for (int i = 0; i < 5; i++)
        assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 60 + i), GH_STORE_OK);
    assert_int_equal(gh_store_change_last(f->store, &last), GH_STORE_OK);
    assert_int_equal(last, 5);
    assert_int_equal(gh_store_change_prune(f->store, 3), GH_STORE_OK);
    assert_int_equal(changes_since(f->store, 0, &seen), GH_STORE_OK);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.first, 3);

    snprintf(key, sizeof key, "%schg", f->prefix);
    raw_ok(f, RAW(f, "XTRIM", key, "MAXLEN", "1"));     /* as MAXLEN ~ trims */
    assert_int_equal(changes_since(f->store, 2, &seen), GH_STORE_GAP);
    assert_int_equal(changes_since(f->store, 4, &seen), GH_STORE_OK);
    assert_int_equal(seen.n, 1);
    raw_ok(f, RAW(f, "XTRIM", key, "MAXLEN", "0"));
    assert_int_equal(changes_since(f->store, 4, &seen), GH_STORE_GAP);
    assert_int_equal(changes_since(f->store, 5, &seen), GH_STORE_OK);
    assert_int_equal(seen.n, 0);

    assert_int_equal(gh_store_change_floor(f->store, 100), GH_STORE_OK);
    assert_int_equal(gh_store_change_last(f->store, &last), GH_STORE_OK);
    assert_int_equal(last, 100);
    assert_int_equal(changes_since(f->store, 5, &seen), GH_STORE_OK);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 70), GH_STORE_OK);
    assert_int_equal(changes_since(f->store, 5, &seen), GH_STORE_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.first, 101);
}

/* Whether text occurs in a reply's strings, at any depth. */
static bool reply_holds(const redisReply *r, const char *text)
{
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        return memmem(r->str, r->len, text, strlen(text)) != NULL;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (reply_holds(r->element[i], text))
            return true;
    return false;
}

/* Everything key holds, read the way its type is read. */
static redisReply *read_value(fixture *f, const char *key)
{
    redisReply *type = RAW(f, "TYPE", key), *v;

    assert_int_equal(type->type, REDIS_REPLY_STATUS);
    if (strcmp(type->str, "string") == 0)
        v = RAW(f, "GET", key);
    else if (strcmp(type->str, "hash") == 0)
        v = RAW(f, "HGETALL", key);
    else if (strcmp(type->str, "zset") == 0)
        v = RAW(f, "ZRANGE", key, "0", "-1", "WITHSCORES");
    else if (strcmp(type->str, "set") == 0)
        v = RAW(f, "SMEMBERS", key);
    else if (strcmp(type->str, "stream") == 0)
        v = RAW(f, "XRANGE", key, "-", "+");
    else
        v = RAW(f, "LRANGE", key, "0", "-1");
    gh_redis_reply_free(type);
    assert_int_not_equal(v->type, REDIS_REPLY_ERROR);
    return v;
}

/* Whether text occurs in any key name or value under the prefix. */
static bool stored_anywhere(fixture *f, const char *text)
{
    char pattern[80], cursor[32] = "0";
    bool found = false;

    snprintf(pattern, sizeof pattern, "%s*", f->prefix);
    do {
        redisReply *page = RAW(f, "SCAN", cursor, "MATCH", pattern, "COUNT", "100");

        assert_int_equal(page->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof cursor, "%s", page->element[0]->str);
        for (size_t i = 0; i < page->element[1]->elements; i++) {
            const char *key = page->element[1]->element[i]->str;
            redisReply *v = read_value(f, key);

            found = found || strstr(key, text) != NULL || reply_holds(v, text);
            gh_redis_reply_free(v);
        }
        gh_redis_reply_free(page);
    } while (strcmp(cursor, "0") != 0);
    return found;
}

/* No token and no password is kept: a session's token only as its digest,
 * a password only as its argon2id hash. */
static void test_no_secret_stored(void **state)
{
    static const gh_argon2_params fast = { 1, 64, 1 };
    static const char token[] = "7f3a9c0e5b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8b1d3f5a";
    static const char password[] = "Correct-Horse-Battery-Staple-42";
    fixture *f = *state;
    char hash[GH_PASSWORD_HASH_MAX];
    gh_session_record r;
    int64_t acct;

    assert_int_equal(gh_password_hash(&fast, password, strlen(password), hash), GH_PASSWORD_OK);
    acct = add_account(f->store, "alice", hash);
    r = make_session("s1", acct, token);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 61), GH_STORE_OK);
    /* the test itself can find what it looks for: the hash is there */
    assert_true(stored_anywhere(f, "$argon2id$"));
    assert_true(stored_anywhere(f, "s1"));
    assert_false(stored_anywhere(f, token));
    assert_false(stored_anywhere(f, password));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_meta_made, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_session_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_id_key_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_touch_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_account_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scripts_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_fails_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_with_replica, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_longer_than_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secret_stored, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
