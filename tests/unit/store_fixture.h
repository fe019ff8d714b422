/*
 * store_fixture.h: what the store's unit tests share: a fixture with one
 * open store and the helpers that fill and read it through store.h alone.
 * setup() opens the store the contract tests run against: the embedded
 * store in a fresh directory, or, when the environment names
 * GH_TEST_STORE_URL (and GH_TEST_STORE_SECRET_FILE), that store, each
 * test under a key prefix of its own ("t<pid>:<n>:"). setup_sqlite()
 * always opens the embedded store (test_store_sqlite.c). Every further
 * connection a test makes goes through store_open(). The helpers are
 * static inline so a file may leave some unused.
 */
#ifndef GH_TEST_STORE_FIXTURE_H
#define GH_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/store.h"

typedef struct {
    char            dir[64];
    char            path[128];
    char            secret_file[512];
    char            prefix[48];
    gh_store_config cfg;
    gh_store       *store;
} fixture;

/* A connection of its own to the fixture's store. */
static inline gh_store_err store_open(fixture *f, gh_store **out)
{
    return gh_store_open_config(&f->cfg, out);
}

static inline int fixture_setup(void **state, bool from_env)
{
    static int tests;
    const char *url = from_env ? getenv("GH_TEST_STORE_URL") : NULL;
    const char *secret = from_env ? getenv("GH_TEST_STORE_SECRET_FILE") : NULL;
    fixture *f = calloc(1, sizeof *f);

    if (f == NULL)
        return -1;
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh_store_test.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/gatehouse.db", f->dir);
    if (secret != NULL && secret[0] != '\0')
        snprintf(f->secret_file, sizeof f->secret_file, "%s", secret);
    else
        snprintf(f->secret_file, sizeof f->secret_file, "%s/store-secret", f->dir);
    snprintf(f->prefix, sizeof f->prefix, "t%ld:%d:", (long)getpid(), ++tests);
    f->cfg.url = url != NULL && url[0] != '\0' ? url : NULL;
    f->cfg.path = f->path;
    f->cfg.secret_file = f->secret_file;
    f->cfg.key_prefix = f->prefix;
    if (store_open(f, &f->store) != GH_STORE_OK) {
        rmdir(f->dir);
        free(f);
        return -1;
    }
    return 0;
}

static inline int setup(void **state)
{
    return fixture_setup(state, true);
}

static inline int setup_sqlite(void **state)
{
    return fixture_setup(state, false);
}

static inline void remove_db(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char name[160];

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    char other[160];

    gh_store_close(f->store);
    remove_db(f->path);
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    remove_db(other);
    snprintf(other, sizeof other, "%s/garbage.db", f->dir);
    remove_db(other);
    snprintf(other, sizeof other, "%s/store-secret", f->dir);
    unlink(other);
    rmdir(f->dir);
    free(f);
    return 0;
}

static inline gh_account make_account(const char *name)
{
    gh_account a;

    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.domain, sizeof a.domain, "internal");
    a.role = GH_ROLE_OPERATOR;
    a.enabled = true;
    snprintf(a.password_hash, sizeof a.password_hash, "$argon2id$v=19$m=65536,t=3,p=1$x$y");
    return a;
}

static inline void assert_account_equal(const gh_account *x, const gh_account *y)
{
    assert_int_equal(x->id, y->id);
    assert_string_equal(x->name, y->name);
    assert_string_equal(x->domain, y->domain);
    assert_int_equal(x->role, y->role);
    assert_int_equal(x->enabled, y->enabled);
    assert_int_equal(x->built_in, y->built_in);
    assert_int_equal(x->password_change_required, y->password_change_required);
    assert_int_equal(x->locked_until, y->locked_until);
    assert_int_equal(x->generation, y->generation);
    assert_int_equal(x->created, y->created);
    assert_string_equal(x->password_hash, y->password_hash);
}

static inline int64_t add_account(gh_store *s, const char *name)
{
    gh_account a = make_account(name);

    assert_int_equal(gh_store_account_add(s, &a), GH_STORE_OK);
    return a.id;
}

static inline gh_session_record make_session(const char *id, int64_t account_id,
                                             int64_t created)
{
    gh_session_record r;

    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    /* the digest only has to be unique per id here */
    for (size_t i = 0; i < GH_DIGEST_LEN && id[0] != '\0'; i++)
        r.digest[i] = (uint8_t)(id[i % strlen(id)] + i);
    r.account_id = account_id;
    snprintf(r.user, sizeof r.user, "user%lld", (long long)account_id);
    snprintf(r.dialect, sizeof(r.dialect), "redfish");
    r.created = created;
    r.last_used = created;
    snprintf(r.client_addr, sizeof r.client_addr, "127.0.0.1");
    return r;
}

static inline void insert_session(gh_store *s, const char *id, int64_t account_id,
                                  int64_t created)
{
    gh_session_record r = make_session(id, account_id, created);

    assert_int_equal(gh_store_session_insert(s, &r), GH_STORE_OK);
}

/* Collects the change log. */
typedef struct {
    gh_change rows[64];
    size_t    n;
    size_t    stop_after;   /* 0: never stop */
} changes;

static inline int collect_change(const gh_change *c, void *arg)
{
    changes *cs = arg;

    if (cs->n < 64)
        cs->rows[cs->n] = *c;
    cs->n++;
    return cs->stop_after != 0 && cs->n >= cs->stop_after;
}

static inline changes changes_since(gh_store *s, int64_t seq)
{
    changes cs;

    memset(&cs, 0, sizeof cs);
    assert_int_equal(gh_store_change_since(s, seq, collect_change, &cs), GH_STORE_OK);
    return cs;
}

static inline int64_t last_seq(gh_store *s)
{
    int64_t seq = -1;

    assert_int_equal(gh_store_change_last(s, &seq), GH_STORE_OK);
    return seq;
}

/* Exactly one change since seq, of this kind; returns it. */
static inline gh_change one_change(gh_store *s, int64_t seq, gh_change_kind kind)
{
    changes cs = changes_since(s, seq);

    assert_int_equal(cs.n, 1);
    assert_int_equal(cs.rows[0].kind, kind);
    assert_true(cs.rows[0].seq > seq);
    return cs.rows[0];
}

static inline void no_change(gh_store *s, int64_t seq)
{
    assert_int_equal(changes_since(s, seq).n, 0);
}

static inline gh_throttle_count make_throttle(uint8_t key, uint32_t failures)
{
    gh_throttle_count c = { .failures = failures, .window_start = 1000000,
                            .blocked_until = 2000000 };

    memset(c.key, key, sizeof c.key);
    return c;
}

/* What a throttle scan saw, in order. */
typedef struct {
    gh_throttle_count seen[8];
    int               n;
} throttle_seen;

static inline int see_throttle(const gh_throttle_count *c, void *arg)
{
    throttle_seen *t = arg;

    t->seen[t->n++] = *c;
    return t->n == 8;
}

#endif
