/*
 * test_store_tokens.c: the account tokens of the store (store_tokens.c)
 * against store.h: add, get, the walk by name over more than a page, delete,
 * a taken name, an account that does not exist, the tokens going with their
 * account, and a database of schema 4 gaining the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/store.h"

typedef struct {
    char      dir[64];
    char      path[128];
    gh_store *store;
    int64_t   account;
} fixture;

static int setup(void **state)
{
    fixture   *f = calloc(1, sizeof *f);
    gh_account a;

    if (f == NULL)
        return -1;
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh_tokens_test.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/gatehouse.db", f->dir);
    if (gh_store_open(f->path, &f->store) != GH_STORE_OK)
        return -1;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "alice");
    snprintf(a.domain, sizeof a.domain, "internal");
    a.role = GH_ROLE_OPERATOR;
    a.enabled = true;
    snprintf(a.password_hash, sizeof a.password_hash, "$argon2id$v=19$m=65536,t=3,p=1$x$y");
    if (gh_store_account_add(f->store, &a) != GH_STORE_OK)
        return -1;
    f->account = a.id;
    return 0;
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char name[160];

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

static int teardown(void **state)
{
    fixture *f = *state;
    char     other[160];

    gh_store_close(f->store);
    remove_db(f->path);
    snprintf(other, sizeof other, "%s/v4.db", f->dir);
    remove_db(other);
    rmdir(f->dir);
    free(f);
    return 0;
}

static gh_account_token make_token(int64_t account, const char *name, uint8_t fill)
{
    gh_account_token t;

    memset(&t, 0, sizeof t);
    t.account_id = account;
    snprintf(t.name, sizeof t.name, "%s", name);
    memset(t.digest, fill, sizeof t.digest);
    t.role = GH_ROLE_READONLY;
    t.created = 1000;
    t.expires = 2000;
    snprintf(t.comment, sizeof t.comment, "for %s", name);
    return t;
}

static void test_add_get_delete(void **state)
{
    fixture         *f = *state;
    gh_account_token t = make_token(f->account, "ci", 7), got;

    assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_OK);
    assert_int_equal(gh_store_token_get(f->store, f->account, "ci", &got), GH_STORE_OK);
    assert_int_equal(got.account_id, f->account);
    assert_string_equal(got.name, "ci");
    assert_memory_equal(got.digest, t.digest, GH_DIGEST_LEN);
    assert_int_equal(got.role, GH_ROLE_READONLY);
    assert_int_equal(got.created, 1000);
    assert_int_equal(got.expires, 2000);
    assert_string_equal(got.comment, "for ci");
    /* a name is unique within its account */
    assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_EXISTS);
    /* names compare exactly */
    assert_int_equal(gh_store_token_get(f->store, f->account, "CI", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_token_delete(f->store, f->account, "ci"), GH_STORE_OK);
    assert_int_equal(gh_store_token_get(f->store, f->account, "ci", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_token_delete(f->store, f->account, "ci"), GH_STORE_NOT_FOUND);
}

static void test_no_account(void **state)
{
    fixture         *f = *state;
    gh_account_token t = make_token(f->account + 100, "ci", 1);

    assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_NOT_FOUND);
    t = make_token(f->account, "", 1);
    assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_ERROR);
}

typedef struct {
    char names[40][GH_ACCOUNT_TOKEN_NAME_MAX + 1];
    int  n;
} seen;

static int see(const gh_account_token *t, void *arg)
{
    seen *s = arg;

    snprintf(s->names[s->n++], sizeof s->names[0], "%s", t->name);
    return s->n == 40;
}

/* More than a page, in name order, with the account's tokens only. */
static void test_foreach(void **state)
{
    fixture         *f = *state;
    gh_account       b;
    gh_account_token t;
    seen             s = { .n = 0 };
    char             name[16];

    memset(&b, 0, sizeof b);
    snprintf(b.name, sizeof b.name, "bob");
    snprintf(b.domain, sizeof b.domain, "internal");
    b.role = GH_ROLE_READONLY;
    b.enabled = true;
    snprintf(b.password_hash, sizeof b.password_hash, "x");
    assert_int_equal(gh_store_account_add(f->store, &b), GH_STORE_OK);
    t = make_token(b.id, "other", 3);
    assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_OK);
    for (int i = 29; i >= 0; i--) {
        snprintf(name, sizeof name, "t%02d", i);
        t = make_token(f->account, name, (uint8_t)i);
        assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_OK);
    }
    assert_int_equal(gh_store_token_foreach(f->store, f->account, see, &s), GH_STORE_OK);
    assert_int_equal(s.n, 30);
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "t%02d", i);
        assert_string_equal(s.names[i], name);
    }
}

/* Tokens go with their account. */
static void test_account_delete(void **state)
{
    fixture         *f = *state;
    gh_account_token t = make_token(f->account, "ci", 9), got;

    assert_int_equal(gh_store_token_add(f->store, &t), GH_STORE_OK);
    assert_int_equal(gh_store_account_delete(f->store, f->account), GH_STORE_OK);
    assert_int_equal(gh_store_token_get(f->store, f->account, "ci", &got), GH_STORE_NOT_FOUND);
}

/* A database of schema 4 opens at 5 with the table, and keeps what it had. */
static void test_migrate_v4(void **state)
{
    fixture         *f = *state;
    char             path[160];
    gh_store        *s = NULL;
    sqlite3         *raw = NULL;
    sqlite3_stmt    *st = NULL;
    gh_account       a;
    gh_account_token t, got;

    snprintf(path, sizeof path, "%s/v4.db", f->dir);
    assert_int_equal(gh_store_open(path, &s), GH_STORE_OK);
    gh_store_close(s);
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "DROP TABLE account_tokens; PRAGMA user_version = 4;"
                                  "INSERT INTO accounts VALUES(7, 'old', 'internal', 2, 1, 0, 0,"
                                  " 0, 3, 1000, 'x', 0);", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);

    assert_int_equal(gh_store_open(path, &s), GH_STORE_OK);
    assert_int_equal(gh_store_account_get(s, "old", &a), GH_STORE_OK);
    t = make_token(7, "ci", 1);
    assert_int_equal(gh_store_token_add(s, &t), GH_STORE_OK);
    assert_int_equal(gh_store_token_get(s, 7, "ci", &got), GH_STORE_OK);
    gh_store_close(s);

    assert_int_equal(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 5);
    sqlite3_finalize(st);
    sqlite3_close(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v4, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
