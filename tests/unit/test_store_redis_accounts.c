/*
 * test_store_redis_accounts.c: the Redis store's accounts, attributes,
 * counters and directory rows, against a real redis-server
 * (GH_TEST_REDIS_URL, set by tests/unit/with-redis; each test under a key
 * prefix of its own). What only Redis must show: failures counted at once
 * from two connections are all counted and lock at exactly the threshold,
 * also when the counter is counted in place (out naming key and owner),
 * and exactly as lockout.c counts over 500 random steps;
 * two connections renaming accounts onto one name never both win and leave
 * the name index true; an account's delete leaves no key of it behind (its
 * sessions, their digest keys, its attributes, its place in every index);
 * counters leave no index entry behind; nodes' throttle puts merge, never
 * lowering a stored count; an account added in a transaction
 * has its id before EXEC, and a rival taking its name makes the transaction
 * run again. Also the parts of store.h the contract (test_store_contract.c)
 * does not cover yet: attributes in byte order, account_due's order, and
 * directory rows with their revisions and ended sessions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/lockout.h"
#include "../../src/core/store.h"
#include "../../src/core/store_redis_conn.h"

typedef struct {
    char            dir[64];
    char            secret[96];
    char            prefix[48];
    gh_store_config cfg;
    gh_store       *store;
    gh_redis       *raw;          /* for what the interface does not show: SCAN */
} fixture;

static int setup(void **state)
{
    static int n;
    const char *url = getenv("GH_TEST_REDIS_URL");
    fixture *f = calloc(1, sizeof *f);

    /* no Redis is a failure, never a skip */
    if (f == NULL || url == NULL || url[0] == '\0') {
        fprintf(stderr, "GH_TEST_REDIS_URL is not set (tests/unit/with-redis sets it)\n");
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/gh_redis_acct.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->secret, sizeof f->secret, "%s/store-secret", f->dir);
    snprintf(f->prefix, sizeof f->prefix, "t%ld:acct%d:", (long)getpid(), ++n);
    f->cfg.url = url;
    f->cfg.key_prefix = f->prefix;
    f->cfg.secret_file = f->secret;
    *state = f;
    if (gh_store_open_config(&f->cfg, &f->store) != GH_STORE_OK ||
        gh_redis_open(&f->cfg, &f->raw) != GH_STORE_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    gh_store_close(f->store);
    gh_redis_close(f->raw);
    unlink(f->secret);
    rmdir(f->dir);
    free(f);
    return 0;
}

static gh_account make_account(const char *name, const char *domain)
{
    gh_account a;

    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.domain, sizeof a.domain, "%s", domain);
    a.role = GH_ROLE_OPERATOR;
    a.enabled = true;
    snprintf(a.password_hash, sizeof a.password_hash, "$argon2id$v=19$m=65536,t=3,p=1$x$y");
    return a;
}

static int64_t add_account(gh_store *s, const char *name, const char *domain)
{
    gh_account a = make_account(name, domain);

    assert_int_equal(gh_store_account_add(s, &a), GH_STORE_OK);
    return a.id;
}

static void add_session(gh_store *s, const char *id, int64_t account, uint8_t fill)
{
    gh_session_record r;

    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    memset(r.digest, fill, sizeof r.digest);
    snprintf(r.user, sizeof r.user, "someone");
    snprintf(r.dialect, sizeof r.dialect, "redfish");
    snprintf(r.client_addr, sizeof r.client_addr, "127.0.0.1");
    r.account_id = account;
    r.created = r.last_used = gh_now();
    assert_int_equal(gh_store_session_insert(s, &r), GH_STORE_OK);
}

/* Every key under the test's prefix (SCAN, not KEYS), as one string of
 * "key\n" lines. */
static void scan_keys(fixture *f, char *out, size_t size)
{
    char cursor[32] = "0", pattern[64];
    size_t used = 0;

    out[0] = '\0';
    snprintf(pattern, sizeof pattern, "%s*", f->prefix);
    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT", "1000" };
        size_t lens[] = { 4, strlen(cursor), 5, strlen(pattern), 5, 4 };
        redisReply *r = NULL;

        assert_int_equal(gh_redis_command(f->raw, 6, argv, lens, &r), GH_STORE_OK);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            int w = snprintf(out + used, size - used, "%s\n", r->element[1]->element[i]->str);

            assert_true(w > 0 && (size_t)w < size - used);
            used += (size_t)w;
        }
        gh_redis_reply_free(r);
    } while (strcmp(cursor, "0") != 0);
}

/* A key by its name after the prefix, or NULL. */
static const char *find_key(const fixture *f, const char *keys, const char *name)
{
    char line[128];

    snprintf(line, sizeof line, "%s%s\n", f->prefix, name);
    return strstr(keys, line);
}

/* Deleting an account leaves nothing of it: its hash, its sessions and
 * their digest keys, its session set, its attributes, its name in the name
 * index, its id in the id and domain indexes (empty indexes are no keys). */
static void test_delete_leaves_no_key(void **state)
{
    fixture *f = *state;
    char keys[8192];
    int64_t alice = add_account(f->store, "alice", "corp");
    int64_t bob = add_account(f->store, "bob", "internal");

    add_session(f->store, "aaaa0000000000000000000000000001", alice, 0xa1);
    add_session(f->store, "aaaa0000000000000000000000000002", alice, 0xa2);
    add_session(f->store, "bbbb0000000000000000000000000001", bob, 0xb1);
    assert_int_equal(gh_store_attribute_set(f->store, alice, "redfish", "role", "x"),
                     GH_STORE_OK);
    assert_int_equal(gh_store_account_delete(f->store, bob), GH_STORE_OK);
    assert_int_equal(gh_store_account_delete(f->store, alice), GH_STORE_OK);
    scan_keys(f, keys, sizeof keys);
    /* what stays is counters and the log, never a row */
    for (const char *line = keys; *line != '\0'; line = strchr(line, '\n') + 1) {
        const char *name = line + strlen(f->prefix);

        if (strncmp(name, "acct:seq\n", 9) == 0 || strncmp(name, "sessions:seq\n", 13) == 0 ||
            strncmp(name, "chg", 3) == 0 || strncmp(name, "meta\n", 5) == 0)
            continue;
        fail_msg("key left behind: %.*s", (int)(strchr(line, '\n') - line), line);
    }
    assert_non_null(find_key(f, keys, "acct:seq"));
    assert_null(find_key(f, keys, "acct:byname"));
}

typedef struct {
    gh_store_config cfg;
    uint8_t         key[GH_DIGEST_LEN];
    int             rounds;
    int             locks;
    gh_store_err    err;
} count_job;

static void *count_failures(void *arg)
{
    count_job *j = arg;
    uint8_t owner[GH_DIGEST_LEN];
    gh_store *s = NULL;
    gh_failure out;
    bool locked;

    memset(owner, 0x0e, sizeof owner);
    j->err = gh_store_open_config(&j->cfg, &s);
    for (int i = 0; j->err == GH_STORE_OK && i < j->rounds; i++) {
        /* one window (reset_after far off), lock every 7th failure */
        j->err = gh_store_failure_count(s, j->key, owner, 1000, 1000000, 7, 60, &out, &locked);
        j->locks += locked;
    }
    gh_store_close(s);
    return NULL;
}

/* Two connections (two nodes) counting failures of one counter at once:
 * none is lost, and the locks fall at exactly every threshold-th. */
static void test_failure_count_two_connections(void **state)
{
    fixture *f = *state;
    count_job a = { .cfg = f->cfg, .rounds = 700 }, b = a;
    pthread_t ta, tb;
    gh_failure got;

    memset(a.key, 0x5a, sizeof a.key);
    memcpy(b.key, a.key, sizeof b.key);
    assert_int_equal(pthread_create(&ta, NULL, count_failures, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, count_failures, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.err, GH_STORE_OK);
    assert_int_equal(b.err, GH_STORE_OK);
    /* 1400 failures: 200 locks, none left over */
    assert_int_equal(a.locks + b.locks, 1400 / 7);
    assert_int_equal(gh_store_failure_get(f->store, a.key, &got), GH_STORE_OK);
    assert_int_equal(got.failures, 0);
    assert_int_equal(got.locked_until, 1000 + 60);
}

/* service_login.c counts into the very counter it names: out is the
 * gh_failure whose key and owner are passed. The counter written is still
 * the one named (not one of zeros), and a get may read into its key too. */
static void test_failure_count_in_place(void **state)
{
    fixture *f = *state;
    gh_failure c, got;
    bool locked;
    char keys[8192];

    memset(&c, 0, sizeof c);
    memset(c.key, 0x3c, sizeof c.key);
    memset(c.owner, 0x4d, sizeof c.owner);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gh_store_failure_count(f->store, c.key, c.owner, 1000, 60, 0, 300, &c,
                                                &locked), GH_STORE_OK);
    assert_int_equal(c.failures, 3);
    assert_int_equal(c.key[0], 0x3c);
    assert_int_equal(c.owner[31], 0x4d);
    scan_keys(f, keys, sizeof keys);
    assert_null(strstr(keys, "fail:0000000000"));
    assert_int_equal(gh_store_failure_get(f->store, c.key, &c), GH_STORE_OK);
    assert_int_equal(c.failures, 3);
    assert_int_equal(c.key[31], 0x3c);
    memset(got.key, 0x3c, sizeof got.key);
    assert_int_equal(gh_store_failure_get(f->store, got.key, &got), GH_STORE_OK);
    assert_memory_equal(&got, &c, sizeof c);
    /* the owner's index holds the counter: a clear finds it */
    assert_int_equal(gh_store_failure_clear_owner(f->store, c.owner), GH_STORE_OK);
    assert_int_equal(gh_store_failure_get(f->store, c.key, &got), GH_STORE_NOT_FOUND);
}

/* The script's count against lockout.c's gh_lockout_count over many
 * random steps (seeded, so a failure repeats): times forward by 0 to 200
 * seconds, windows of 1 to 120, thresholds 0 to 5, locks of 0 to 300;
 * after each, the answer and the stored row are exactly C's. */
static void test_failure_count_random(void **state)
{
    fixture *f = *state;
    gh_failure want, got, read;
    uint8_t key[GH_DIGEST_LEN], owner[GH_DIGEST_LEN];
    unsigned seed = 16;
    int64_t now = 1700000000;
    bool locked, want_locked;

    memset(key, 0x6a, sizeof key);
    memset(owner, 0x6b, sizeof owner);
    memset(&want, 0, sizeof want);
    memcpy(want.key, key, sizeof key);
    memcpy(want.owner, owner, sizeof owner);
    for (int i = 0; i < 500; i++) {
        int64_t reset_after = 1 + rand_r(&seed) % 120, threshold = rand_r(&seed) % 6;
        int64_t duration = rand_r(&seed) % 301;

        now += rand_r(&seed) % 201;
        want_locked = gh_lockout_count(&want, now, reset_after, threshold, duration);
        assert_int_equal(gh_store_failure_count(f->store, key, owner, now, reset_after,
                                                threshold, duration, &got, &locked),
                         GH_STORE_OK);
        assert_int_equal(locked, want_locked);
        assert_memory_equal(&got, &want, sizeof want);
        assert_int_equal(gh_store_failure_get(f->store, key, &read), GH_STORE_OK);
        assert_memory_equal(&read, &want, sizeof want);
    }
}

typedef struct {
    gh_store_config cfg;
    int64_t         id;
    int             round;
    int             wins;
    int             exists;
    gh_store_err    err;
    pthread_barrier_t *start;
} rename_job;

/* Rename the account to "taken<round>" rounds times, each round started
 * with the other thread's. */
static void *rename_rounds(void *arg)
{
    rename_job *j = arg;
    gh_store *s = NULL;
    gh_account a;
    gh_store_err err;

    j->err = gh_store_open_config(&j->cfg, &s);
    for (int i = 0; i < 200; i++) {
        pthread_barrier_wait(j->start);
        if (j->err != GH_STORE_OK)
            continue;
        j->err = gh_store_account_get_by_id(s, j->id, &a);
        if (j->err != GH_STORE_OK)
            continue;
        snprintf(a.name, sizeof a.name, "taken%d", i);
        err = gh_store_account_update(s, &a, a.generation);
        if (err == GH_STORE_OK)
            j->wins++;
        else if (err == GH_STORE_EXISTS)
            j->exists++;
        else
            j->err = err;
    }
    gh_store_close(s);
    return NULL;
}

/* Two connections renaming two accounts onto the same name at once: each
 * round exactly one wins, the other is told the name is taken, and the name
 * index says what the accounts say. */
static void test_rename_race(void **state)
{
    fixture *f = *state;
    pthread_barrier_t start;
    rename_job a = { .cfg = f->cfg, .start = &start }, b;
    pthread_t ta, tb;
    gh_account got, by_name;

    a.id = add_account(f->store, "first", "internal");
    b = a;
    b.id = add_account(f->store, "second", "internal");
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    assert_int_equal(pthread_create(&ta, NULL, rename_rounds, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, rename_rounds, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(a.err, GH_STORE_OK);
    assert_int_equal(b.err, GH_STORE_OK);
    assert_int_equal(a.wins + b.wins, 200);
    assert_int_equal(a.exists + b.exists, 200);
    /* each account is found by the name it holds, and only by it */
    for (int64_t id = a.id; id <= b.id; id += b.id - a.id) {
        assert_int_equal(gh_store_account_get_by_id(f->store, id, &got), GH_STORE_OK);
        assert_int_equal(gh_store_account_get(f->store, got.name, &by_name), GH_STORE_OK);
        assert_int_equal(by_name.id, id);
    }
    /* an old name stays only with an account that never won a round */
    assert_int_equal(gh_store_account_get(f->store, "first", &got),
                     a.wins == 0 ? GH_STORE_OK : GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_account_get(f->store, "second", &got),
                     b.wins == 0 ? GH_STORE_OK : GH_STORE_NOT_FOUND);
}

/* Counters and their indexes go together: after a clear by owner, a delete
 * and prunes, no key of them is left. */
static void test_counters_leave_no_key(void **state)
{
    fixture *f = *state;
    gh_failure a = { .window_start = 10, .failures = 2, .expires = 500 }, b = a, c = a;
    gh_throttle_count t = { .failures = 3, .window_start = 1000 };
    char keys[8192];
    int n;

    memset(a.key, 1, sizeof a.key);
    memset(a.owner, 9, sizeof a.owner);
    memset(b.key, 2, sizeof b.key);
    memset(b.owner, 9, sizeof b.owner);
    memset(c.key, 3, sizeof c.key);
    memset(c.owner, 8, sizeof c.owner);
    c.expires = 900;
    memset(t.key, 4, sizeof t.key);
    assert_int_equal(gh_store_failure_put(f->store, &a), GH_STORE_OK);
    assert_int_equal(gh_store_failure_put(f->store, &b), GH_STORE_OK);
    assert_int_equal(gh_store_failure_put(f->store, &c), GH_STORE_OK);
    /* a counter moved to another owner leaves the old owner's index */
    c.owner[0] = 7;
    assert_int_equal(gh_store_failure_put(f->store, &c), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_put(f->store, &t, 700), GH_STORE_OK);
    assert_int_equal(gh_store_failure_clear_owner(f->store, a.owner), GH_STORE_OK);
    assert_int_equal(gh_store_failure_prune(f->store, 1000, &n), GH_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_store_throttle_prune(f->store, 700, &n), GH_STORE_OK);
    assert_int_equal(n, 1);
    scan_keys(f, keys, sizeof keys);
    assert_null(strstr(keys, "fail"));
    assert_null(strstr(keys, "thr"));
}

static int see_throttle(const gh_throttle_count *c, void *arg)
{
    *(gh_throttle_count *)arg = *c;
    return 0;
}

/* Nodes put their own blocks' counters of one source: a lower count does
 * not lower the stored one, a later wait and end are kept; a stored row
 * that ended before the new window began is replaced whole. */
static void test_throttle_merge(void **state)
{
    fixture *f = *state;
    gh_throttle_count a = { .failures = 5, .window_start = 1000000 }, b, got;
    int n;

    memset(a.key, 0x77, sizeof a.key);
    b = a;
    b.failures = 2;
    b.window_start = 1000500;
    b.blocked_until = 1500000;
    assert_int_equal(gh_store_throttle_put(f->store, &a, 2000), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_put(f->store, &b, 1900), GH_STORE_OK);
    memset(&got, 0, sizeof got);
    assert_int_equal(gh_store_throttle_scan(f->store, 0, 10, see_throttle, &got), GH_STORE_OK);
    assert_int_equal(got.failures, 5);
    assert_int_equal(got.window_start, 1000000);
    assert_int_equal(got.blocked_until, 1500000);
    assert_int_equal(gh_store_throttle_prune(f->store, 1999, &n), GH_STORE_OK);
    assert_int_equal(n, 0);                     /* the later end stands */
    /* a new window after the stored row's end: replaced */
    b.failures = 1;
    b.window_start = 3000000;
    b.blocked_until = 0;
    assert_int_equal(gh_store_throttle_put(f->store, &b, 3100), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_scan(f->store, 0, 10, see_throttle, &got), GH_STORE_OK);
    assert_memory_equal(&got, &b, sizeof b);
    assert_int_equal(gh_store_throttle_prune(f->store, 3099, &n), GH_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gh_store_throttle_prune(f->store, 3100, &n), GH_STORE_OK);
    assert_int_equal(n, 1);
}

static int walk_attribute(const char *name, const char *value, void *arg)
{
    char *out = arg;

    strcat(out, name);
    strcat(out, "=");
    strcat(out, value);
    strcat(out, ";");
    return 0;
}

/* Attributes by account, dialect and name; walked in byte order with the
 * prefix taken as bytes; queued in one transaction with the account's
 * insert (the id known before EXEC), and none of it kept when the
 * transaction is given up. */
static void test_attributes(void **state)
{
    fixture *f = *state;
    int64_t a = add_account(f->store, "alice", "internal"), b;
    char value[GH_ATTRIBUTE_VALUE_MAX + 1], walk[512] = "";
    gh_account carol = make_account("carol", "internal"), dup = make_account("alice", "x");

    assert_int_equal(gh_store_attribute_set(f->store, a, "one", "k:zeta", "1"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(f->store, a, "one", "k:alpha", "2"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(f->store, a, "one", "k*", "3"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(f->store, a, "one", "kx", ""), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(f->store, a, "onex", "k:other", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(f->store, a + 100, "one", "k", "1"),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_attribute_foreach(f->store, a, "one", "k:", walk_attribute, walk),
                     GH_STORE_OK);
    assert_string_equal(walk, "k:alpha=2;k:zeta=1;");
    walk[0] = '\0';
    assert_int_equal(gh_store_attribute_foreach(f->store, a, "one", "", walk_attribute, walk),
                     GH_STORE_OK);
    assert_string_equal(walk, "k*=3;k:alpha=2;k:zeta=1;kx=;");
    walk[0] = '\0';
    assert_int_equal(gh_store_attribute_foreach(f->store, a, "one", "k*", walk_attribute, walk),
                     GH_STORE_OK);
    assert_string_equal(walk, "k*=3;");
    assert_int_equal(gh_store_attribute_get(f->store, a, "onex", "k:other", value, sizeof value),
                     GH_STORE_OK);
    assert_string_equal(value, "4");
    assert_int_equal(gh_store_attribute_delete(f->store, a, "onex", "k:other"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_delete(f->store, a, "onex", "k:other"),
                     GH_STORE_NOT_FOUND);

    /* in one transaction with the account that gets it */
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_account_add(f->store, &carol), GH_STORE_OK);
    assert_true(carol.id > a);
    assert_int_equal(gh_store_attribute_set(f->store, carol.id, "one", "role", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_get(f->store, carol.id, "one", "role", value,
                                            sizeof value), GH_STORE_OK);
    assert_string_equal(value, "4");
    /* a taken name is said at once; a transaction given up keeps nothing */
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_account_add(f->store, &dup), GH_STORE_EXISTS);
    assert_int_equal(gh_store_end(f->store, GH_STORE_EXISTS), GH_STORE_EXISTS);
    carol = make_account("dave", "internal");
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_account_add(f->store, &carol), GH_STORE_OK);
    b = carol.id;
    assert_int_equal(gh_store_attribute_set(f->store, b, "one", "role", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_CONFLICT), GH_STORE_CONFLICT);
    assert_int_equal(gh_store_account_get(f->store, "dave", &carol), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_attribute_get(f->store, b, "one", "role", value, sizeof value),
                     GH_STORE_NOT_FOUND);
}

/* Another connection takes the name between a transaction's add and its
 * end: the transaction is run again (BUSY), and then told the name is
 * taken; nothing of it was written. */
static void test_add_transaction_raced(void **state)
{
    fixture *f = *state;
    gh_account mine = make_account("erin", "internal"), theirs = mine, got;
    gh_store *other = NULL;

    assert_int_equal(gh_store_open_config(&f->cfg, &other), GH_STORE_OK);
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_account_add(f->store, &mine), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(f->store, mine.id, "one", "role", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_account_add(other, &theirs), GH_STORE_OK);
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_BUSY);
    assert_int_equal(gh_store_account_get(f->store, "erin", &got), GH_STORE_OK);
    assert_int_equal(got.id, theirs.id);
    assert_int_equal(gh_store_account_get_by_id(f->store, mine.id, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    assert_int_equal(gh_store_account_add(f->store, &mine), GH_STORE_EXISTS);
    assert_int_equal(gh_store_end(f->store, GH_STORE_EXISTS), GH_STORE_EXISTS);
    gh_store_close(other);
}

/* Which accounts of a domain fall due: those with a stored session only;
 * never checked first (by id), then by the attribute's leading integer, as
 * SQLite's CAST reads it ("12abc" is 12, "x" is 0), then by id; at most a
 * page. */
static void test_account_due(void **state)
{
    fixture *f = *state;
    int64_t ids[GH_STORE_PAGE_MAX], id[6], many[20];
    char name[32], sid[GH_SESSION_ID_LEN + 1], huge[400];
    gh_account acct;
    size_t n;
    const char *values[] = { NULL, "12abc", " 7", "x", "-3", "2000" };

    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "u%d@corp", i);
        id[i] = add_account(f->store, name, "corp");
        snprintf(sid, sizeof sid, "c%031d", i);
        add_session(f->store, sid, id[i], (uint8_t)(0x10 + i));
        if (values[i] != NULL)
            assert_int_equal(gh_store_attribute_set(f->store, id[i], "directory", "recheck",
                                                    values[i]), GH_STORE_OK);
    }
    (void)add_account(f->store, "nosession@corp", "corp");
    add_session(f->store, "d0000000000000000000000000000000", add_account(f->store, "o@other",
                                                                        "other"), 0x30);
    assert_int_equal(gh_store_account_due(f->store, "corp", "directory", "recheck", 100, ids,
                                          &n), GH_STORE_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ids[0], id[0]);            /* never checked */
    assert_int_equal(ids[1], id[4]);            /* -3 */
    assert_int_equal(ids[2], id[3]);            /* "x": 0 */
    assert_int_equal(ids[3], id[2]);            /* 7 */
    assert_int_equal(ids[4], id[1]);            /* 12 */
    /* more than a page due: a page */
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "m%d@big", i);
        many[i] = add_account(f->store, name, "big");
        snprintf(sid, sizeof sid, "e%031d", i);
        add_session(f->store, sid, many[i], (uint8_t)(0x40 + i));
    }
    assert_int_equal(gh_store_account_due(f->store, "big", "directory", "recheck", 0, ids, &n),
                     GH_STORE_OK);
    assert_int_equal(n, GH_STORE_PAGE_MAX);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ids[i], many[i]);
    assert_int_equal(gh_store_account_due(f->store, "none", "directory", "recheck", 0, ids, &n),
                     GH_STORE_OK);
    assert_int_equal(n, 0);
    /* a name longer than any stored (longer than a key may be): none */
    memset(huge, 'd', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(gh_store_account_due(f->store, huge, "directory", "recheck", 0, ids, &n),
                     GH_STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gh_store_account_get(f->store, huge, &acct), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_directory_forget(f->store, huge), GH_STORE_ERROR);
}

typedef struct {
    char    names[4][GH_DOMAIN_MAX + 1];
    bool    deleted[4];
    int64_t revisions[4];
    int     n;
} dir_walk;

static int walk_directory(const gh_stored_directory *row, void *arg)
{
    dir_walk *w = arg;

    assert_true(w->n < 4);
    snprintf(w->names[w->n], sizeof w->names[0], "%s", row->name);
    w->deleted[w->n] = row->text == NULL;
    w->revisions[w->n] = row->revision;
    w->n++;
    return 0;
}

static int last_change(const gh_change *c, void *arg)
{
    *(gh_change *)arg = *c;
    return 0;
}

/* Directory rows: each write's revision is the seq of the change it logged
 * (kind DIRECTORY, the name as subject); rows walk by name, tombstones
 * included; end_sessions and forget end the sessions of the domain's
 * accounts (and only theirs) in the same step. */
static void test_directory_rows(void **state)
{
    fixture *f = *state;
    int64_t corp = add_account(f->store, "x@corp", "corp");
    int64_t local = add_account(f->store, "admin", "internal");
    int64_t rev = 0, seq;
    gh_session_record r;
    gh_change c;
    dir_walk w = { 0 };

    add_session(f->store, "f0000000000000000000000000000001", corp, 0x61);
    add_session(f->store, "f0000000000000000000000000000002", local, 0x62);
    assert_int_equal(gh_store_change_last(f->store, &seq), GH_STORE_OK);
    assert_int_equal(gh_store_directory_put(f->store, "corp", "url = ldap://x\n", false, &rev),
                     GH_STORE_OK);
    assert_int_equal(gh_store_change_since(f->store, seq, last_change, &c), GH_STORE_OK);
    assert_int_equal(rev, c.seq);
    assert_int_equal(c.kind, GH_CHANGE_DIRECTORY);
    assert_string_equal(c.subject, "corp");
    assert_int_equal(gh_store_session_get(f->store, "f0000000000000000000000000000001", &r),
                     GH_STORE_OK);
    assert_int_equal(gh_store_directory_put(f->store, "corp", NULL, true, &rev), GH_STORE_OK);
    assert_true(rev > c.seq);
    assert_int_equal(gh_store_session_get(f->store, "f0000000000000000000000000000001", &r),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->store, "f0000000000000000000000000000002", &r),
                     GH_STORE_OK);
    assert_int_equal(gh_store_directory_put(f->store, "alpha", "a = 1\n", false, NULL),
                     GH_STORE_OK);
    assert_int_equal(gh_store_directory_foreach(f->store, walk_directory, &w), GH_STORE_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.names[0], "alpha");
    assert_false(w.deleted[0]);
    assert_string_equal(w.names[1], "corp");
    assert_true(w.deleted[1]);
    assert_int_equal(w.revisions[1], rev);
    /* forget: the row goes, logged, with the domain's sessions */
    add_session(f->store, "f0000000000000000000000000000003", corp, 0x63);
    assert_int_equal(gh_store_change_last(f->store, &seq), GH_STORE_OK);
    assert_int_equal(gh_store_directory_forget(f->store, "corp"), GH_STORE_OK);
    assert_int_equal(gh_store_change_since(f->store, seq, last_change, &c), GH_STORE_OK);
    assert_int_equal(c.kind, GH_CHANGE_DIRECTORY);
    assert_int_equal(gh_store_session_get(f->store, "f0000000000000000000000000000003", &r),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_directory_forget(f->store, "corp"), GH_STORE_NOT_FOUND);
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_directory_foreach(f->store, walk_directory, &w), GH_STORE_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.names[0], "alpha");
    /* a profile may be called anything, even what an index of its is */
    assert_int_equal(gh_store_directory_put(f->store, "names", "n = 1\n", false, NULL),
                     GH_STORE_OK);
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_directory_foreach(f->store, walk_directory, &w), GH_STORE_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.names[1], "names");
    assert_int_equal(gh_store_directory_forget(f->store, "names"), GH_STORE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delete_leaves_no_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_count_two_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_count_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_count_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_leave_no_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttle_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_transaction_raced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_rows, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
