/*
 * test_service.c: the core's operations (service.h) over a real SQLite store
 * in a temporary directory, a shared block, cheap argon2 and an audit log:
 * password checks (cache, refusals, lockout, a lock racing an admin's change,
 * rehash, imported bcrypt), the throttle of a source across a restart,
 * sessions created durably within limits (the
 * per-account count asked of the store only once it can bind) and ended,
 * account update and delete, settings, loading after a restart (a store
 * larger than a batch of every kind, ended sessions swept out afterwards;
 * three threads loading one block's parts at once), applying the change log
 * the command line writes, upkeep. Each teardown
 * searches the audit log for every password and token used: none may appear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <crypt.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "../../src/core/service.h"
#include "mutex_lock.h"
#include "thread_wait.h"

#define PW_ALICE "alice-Secret-1"
#define PW_BOB   "bob-Secret-2"
#define PW_CAROL "carol-Secret-3"
#define PW_WRONG "not-the-Password"
#define MAX_TOKENS 64

/* In a test body with fixture *f; the principal lands in f->who. */
#define VERIFY(user, pw, want) assert_int_equal(verify(f, (user), (pw)), (want))
#define FIND(t, want) assert_int_equal(find_token(f, (t), gh_now()), (want))
#define STORE_OK(expr) assert_int_equal((expr), GH_STORE_OK)
#define STORE_NONE(expr) assert_int_equal((expr), GH_STORE_NOT_FOUND)
#define BLOCK_COUNT() gh_shared_session_count(f->svc.shared)

typedef struct {
    char         dir[64], db[128], audit_path[128];
    gh_config    cfg;
    gh_service   svc;
    gh_store    *cli;                   /* a second connection, as the command line */
    void        *mem;
    gh_principal who;
    char         tokens[MAX_TOKENS][GH_TOKEN_TEXT_LEN + 1];
    int          ntokens;
} fixture;

/* A new, empty block (a restart); lockless: one thread at a time uses it. */
static void new_block(fixture *f, uint32_t max_sessions)
{
    gh_shared_limits l = { max_sessions, 64, 64 };

    if (f->svc.shared != NULL) {
        gh_session_store_close(f->svc.sessions);
        gh_shared_detach(f->svc.shared);
    }
    free(f->mem);
    assert_non_null(f->mem = malloc(gh_shared_size(&l)));
    assert_non_null(f->svc.shared = gh_shared_format(f->mem, &l, (gh_shared_lock){ 0 }));
    assert_non_null(f->svc.sessions = gh_session_store_local(f->svc.shared));
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh_service_test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/gatehouse.db", f->dir);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    gh_config_defaults(&f->cfg);
    f->cfg.argon2 = (gh_argon2_params){ .t_cost = 1, .m_cost_kib = 64, .parallelism = 1 };
    f->cfg.lockout_threshold = 3;
    f->cfg.lockout_duration = f->cfg.lockout_reset_after = 300;
    f->cfg.throttle_failures = 0;       /* test_throttle's subject */
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    STORE_OK(gh_store_open(f->db, &f->cli));
    STORE_OK(gh_store_secret(f->svc.store, f->svc.secret));
    assert_int_equal(gh_audit_open(f->audit_path, &f->svc.audit), 0);
    f->svc.config = &f->cfg;
    new_block(f, 256);
    *state = f;
    return 0;
}

/* The audit log's text; caller frees. */
static char *audit_text(fixture *f)
{
    FILE *fp = fopen(f->audit_path, "r");
    char *buf = calloc(1, 1 << 20);

    assert_non_null(fp);
    assert_non_null(buf);
    buf[fread(buf, 1, (1 << 20) - 1, fp)] = '\0';
    fclose(fp);
    return buf;
}

/* Whether the audit log holds the text printf-ed from fmt. */
static bool audit_has(fixture *f, const char *fmt, ...)
{
    char *text = audit_text(f), needle[256];
    va_list ap;
    bool found;

    va_start(ap, fmt);
    vsnprintf(needle, sizeof(needle), fmt, ap);
    va_end(ap);
    found = strstr(text, needle) != NULL;
    free(text);
    return found;
}

static int teardown(void **state)
{
    static const char *const secrets[] = { PW_ALICE, PW_BOB, PW_CAROL, PW_WRONG };
    fixture *f = *state;
    char *text = audit_text(f), cmd[160];

    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        assert_null(strstr(text, secrets[i]));
    for (int i = 0; i < f->ntokens; i++)
        assert_null(strstr(text, f->tokens[i]));
    free(text);
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->svc.shared);
    free(f->mem);
    gh_audit_close(f->svc.audit);
    gh_store_close(f->svc.store);
    gh_store_close(f->cli);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* An account with password pw, or with the stored hash given instead. */
static int64_t add_account(fixture *f, const char *name, const char *pw, const char *hash,
                           gh_role role, bool enabled)
{
    gh_account a = { .role = role, .enabled = enabled };

    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.domain, sizeof(a.domain), "internal");
    if (hash != NULL)
        snprintf(a.password_hash, sizeof(a.password_hash), "%s", hash);
    else
        assert_int_equal(gh_password_hash(&f->cfg.argon2, pw, strlen(pw), a.password_hash),
                         GH_PASSWORD_OK);
    STORE_OK(gh_store_account_add(f->cli, &a));
    return a.id;
}

static gh_auth_result verify_from(fixture *f, const char *user, const char *pw,
                                  const char *addr)
{
    return gh_service_verify_password(&f->svc, user, pw, strlen(pw), addr, "basic", &f->who);
}

static gh_auth_result verify(fixture *f, const char *user, const char *pw)
{
    return verify_from(f, user, pw, "192.0.2.7");
}

#define VERIFY_FROM(addr, user, pw, want) \
    assert_int_equal(verify_from(f, (user), (pw), (addr)), (want))

static bool cred_cached(fixture *f, const char *user, const char *pw, gh_principal *who)
{
    uint8_t key[GH_DIGEST_LEN];

    gh_token_credential_key(f->svc.secret, user, strlen(user), pw, strlen(pw), key);
    return gh_shared_cred_get(f->svc.shared, key, gh_now(), who);
}

static gh_session_result create(fixture *f, char *token, gh_session_record *rec)
{
    return gh_service_session_create(&f->svc, &f->who, "redfish", 0, "192.0.2.7",
                                     token, rec);
}

/* Log in and open a session (its record to rec unless NULL); returns the
 * index of its token in f->tokens. */
static int login(fixture *f, const char *user, const char *pw, gh_session_record *rec)
{
    gh_session_record mine;
    int t = f->ntokens++;

    assert_true(t < MAX_TOKENS);
    VERIFY(user, pw, GH_AUTH_OK);
    assert_int_equal(create(f, f->tokens[t], rec ? rec : &mine), GH_SESSION_CREATED);
    return t;
}

/* alice (administrator), bob and carol (operators); sessions a1, a2, b1, c1. */
enum { A1, A2, B1, C1 };
static void users(fixture *f, int t[4])
{
    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_ADMINISTRATOR, true);
    add_account(f, "bob", PW_BOB, NULL, GH_ROLE_OPERATOR, true);
    add_account(f, "carol", PW_CAROL, NULL, GH_ROLE_OPERATOR, true);
    t[A1] = login(f, "alice", PW_ALICE, NULL);
    t[A2] = login(f, "alice", PW_ALICE, NULL);
    t[B1] = login(f, "bob", PW_BOB, NULL);
    t[C1] = login(f, "carol", PW_CAROL, NULL);
}

static gh_shared_result find_token(fixture *f, int t, int64_t now)
{
    uint8_t digest[GH_DIGEST_LEN];

    gh_token_digest(f->tokens[t], GH_TOKEN_TEXT_LEN, digest);
    return gh_shared_session_find(f->svc.shared, digest, now, &f->who, NULL);
}

static gh_account get_account(fixture *f, const char *name)
{
    gh_account a;

    STORE_OK(gh_store_account_get(f->cli, name, &a));
    return a;
}

static int count_cb(const gh_session_record *rec, void *arg)
{
    (void)rec;
    return ++*(int *)arg, 0;
}

/* Sessions in the store, seen through the second connection. */
static int store_sessions(fixture *f, int64_t account_id)
{
    int n = 0;

    STORE_OK(gh_store_session_foreach(f->cli, account_id, count_cb, &n));
    return n;
}

static void test_verify(void **state)
{
    fixture *f = *state;
    int64_t id = add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    gh_argon2_params stronger = { .t_cost = 2, .m_cost_kib = 128, .parallelism = 1 };
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    gh_account after;
    gh_principal cached;

    add_account(f, "carol", PW_CAROL, NULL, GH_ROLE_OPERATOR, false);
    memset(&f->who, 0x5a, sizeof(f->who));
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    assert_int_equal(f->who.account_id, id);
    assert_string_equal(f->who.user, "alice");
    assert_int_equal(f->who.role, GH_ROLE_OPERATOR);
    assert_string_equal(f->who.session_id, "");
    assert_true(cred_cached(f, "alice", PW_ALICE, &cached));
    assert_int_equal(cached.account_id, id);
    assert_false(cred_cached(f, "alice", PW_WRONG, &cached));
    assert_true(audit_has(f, "\"event\":\"login\",\"user\":\"alice\""));
    VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    VERIFY("nobody", PW_ALICE, GH_AUTH_BAD_CREDENTIALS);
    VERIFY("carol", PW_CAROL, GH_AUTH_DISABLED);
    VERIFY("carol", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_false(cred_cached(f, "carol", PW_CAROL, &cached));
    assert_true(audit_has(f, "\"user\":\"nobody\""));
    assert_true(audit_has(f, "\"detail\":\"disabled\""));
    /* new argon2 parameters: the next good login rehashes */
    f->cfg.argon2 = stronger;
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    after = get_account(f, "alice");
    assert_non_null(strstr(after.password_hash, "m=128,t=2,p=1"));
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);                /* rehashed once only */
    assert_string_equal(get_account(f, "alice").password_hash, after.password_hash);
    /* an imported bcrypt hash verifies, and becomes argon2id */
    assert_non_null(cd);
    assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)));
    assert_non_null(crypt_r(PW_BOB, setting, cd));
    assert_true(strncmp(cd->output, "$2b$04$", 7) == 0);
    add_account(f, "bob", NULL, cd->output, GH_ROLE_READONLY, true);
    free(cd);
    VERIFY("bob", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    VERIFY("bob", PW_BOB, GH_AUTH_OK);
    assert_int_equal(f->who.role, GH_ROLE_READONLY);
    assert_true(strncmp(get_account(f, "bob").password_hash, "$argon2id$", 10) == 0);
}

/* Per (account, source): three failures lock alice at that source only (an
 * IPv4-mapped address is the same IPv4 source; an IPv6 source is its /64).
 * Seven over every source lock her everywhere, written to the account. */
static void test_lockout(void **state)
{
    fixture *f = *state;
    gh_account a;
    int t[4];

    f->cfg.lockout_account_threshold = 7;
    users(f, t);
    for (int i = 0; i < 2; i++)
        VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_false(audit_has(f, "\"event\":\"lockout\""));
    VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_true(audit_has(f, "\"event\":\"lockout\",\"user\":\"alice\",\"client\":\"192.0.2.7\""));
    assert_int_equal(get_account(f, "alice").locked_until, 0);
    /* the right password does not help at that source; elsewhere it does */
    VERIFY("alice", PW_ALICE, GH_AUTH_LOCKED);
    VERIFY_FROM("::ffff:192.0.2.7", "alice", PW_ALICE, GH_AUTH_LOCKED);
    VERIFY_FROM("198.51.100.1", "alice", PW_ALICE, GH_AUTH_OK);
    for (int i = 0; i < 3; i++)
        VERIFY_FROM("2001:db8:1:2::1", "alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    VERIFY_FROM("2001:db8:1:2:ffff::9", "alice", PW_ALICE, GH_AUTH_LOCKED);
    VERIFY_FROM("2001:db8:1:3::1", "alice", PW_ALICE, GH_AUTH_OK);
    /* six failures so far; the seventh, from anywhere, locks every source */
    VERIFY_FROM("203.0.113.5", "alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    a = get_account(f, "alice");
    assert_true(a.locked_until >= gh_now() + 299 && a.locked_until <= gh_now() + 300);
    assert_true(audit_has(f, "\"detail\":\"too many failed logins from all sources\""));
    VERIFY_FROM("198.51.100.1", "alice", PW_ALICE, GH_AUTH_LOCKED);
    assert_false(cred_cached(f, "alice", PW_ALICE, &f->who));
    /* the lock ended no session */
    FIND(t[A1], GH_SHARED_OK);
    assert_int_equal(store_sessions(f, a.id), 2);
    /* an unlock clears every counter and lock of the account at once */
    a.locked_until = 0;
    STORE_OK(gh_service_account_update(&f->svc, &a, a.generation));
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    VERIFY_FROM("2001:db8:1:2::1", "alice", PW_ALICE, GH_AUTH_OK);
    /* a success resets the counter of its source */
    for (int i = 0; i < 9; i++)
        VERIFY("bob", i % 3 == 2 ? PW_BOB : PW_WRONG,
               i % 3 == 2 ? GH_AUTH_OK : GH_AUTH_BAD_CREDENTIALS);
    VERIFY("bob", PW_BOB, GH_AUTH_OK);
}

/* Names that do not exist are counted and locked like real ones. */
static void test_lockout_unknown(void **state)
{
    fixture *f = *state;
    sqlite3_stmt *st;
    sqlite3 *db;

    for (int i = 0; i < 3; i++)
        VERIFY("nobody", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_true(audit_has(f, "\"event\":\"lockout\",\"user\":\"nobody\""));
    /* refused while locked: counted no more */
    VERIFY("nobody", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_true(audit_has(f, "\"user\":\"nobody\",\"client\":\"192.0.2.7\","
                          "\"method\":\"basic\",\"detail\":\"unknown user\""));
    /* two counters, and no name or address in clear in either */
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(instr(key, 'nobody') +"
                                        " instr(owner, 'nobody') + instr(key, '192.0.2'))"
                                        " FROM login_failures", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 2);
    assert_int_equal(sqlite3_column_int64(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

typedef struct {
    fixture *f;
    pid_t    tid;       /* the login's thread, set as it starts */
} race_login;

static void *wrong_login(void *arg)
{
    race_login *rl = arg;

    __atomic_store_n(&rl->tid, gettid(), __ATOMIC_RELEASE);
    return (void *)(intptr_t)verify(rl->f, "carol", PW_WRONG);
}

/* The failure that locks carol everywhere meets an administrator's change
 * made while its hash ran: the lock is added and the change kept. */
static void test_lockout_race(void **state)
{
    fixture *f = *state;
    char hash[GH_PASSWORD_HASH_MAX], sql[512], addr[32];
    gh_account a;
    sqlite3 *raw;
    race_login rl = { f, 0 };
    pthread_t th;
    pid_t tid;
    void *rc;

    f->cfg.lockout_account_threshold = 3;
    add_account(f, "carol", PW_CAROL, NULL, GH_ROLE_OPERATOR, true);
    for (int i = 0; i < 2; i++) {
        snprintf(addr, sizeof(addr), "198.51.100.%d", i + 1);
        VERIFY_FROM(addr, "carol", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    }
    assert_int_equal(gh_password_hash(&f->cfg.argon2, PW_BOB, strlen(PW_BOB), hash),
                     GH_PASSWORD_OK);
    snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; UPDATE accounts SET password_hash = '%s',"
             " generation = generation + 1 WHERE name = 'carol'", hash);
    assert_int_equal(sqlite3_open(f->db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    /* The login reads the account, hashes, then waits for the write lock:
     * commit once it sleeps in SQLite's busy handler (usleep). */
    assert_int_equal(pthread_create(&th, NULL, wrong_login, &rl), 0);
    tid = test_thread_started(&rl.tid, 10000);
    assert_true(tid != 0);
    assert_true(test_thread_blocked_in(tid, SYS_clock_nanosleep, SYS_nanosleep, 10000));
    assert_int_equal(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pthread_join(th, &rc), 0);
    sqlite3_close(raw);
    assert_int_equal((intptr_t)rc, GH_AUTH_BAD_CREDENTIALS);
    a = get_account(f, "carol");
    assert_string_equal(a.password_hash, hash);
    assert_true(a.locked_until > gh_now());
    VERIFY_FROM("203.0.113.9", "carol", PW_BOB, GH_AUTH_LOCKED);
}

static void test_session_create_end(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_ADMINISTRATOR, true);
    gh_session_record rec, stored, extra;
    char token[GH_TOKEN_TEXT_LEN + 1];
    uint8_t digest[GH_DIGEST_LEN];
    int t;

    add_account(f, "bob", PW_BOB, NULL, GH_ROLE_OPERATOR, true);
    t = login(f, "alice", PW_ALICE, &rec);
    assert_int_equal(strspn(f->tokens[t], "0123456789abcdef"), GH_TOKEN_TEXT_LEN);
    gh_token_digest(f->tokens[t], GH_TOKEN_TEXT_LEN, digest);
    assert_memory_equal(rec.digest, digest, GH_DIGEST_LEN);
    /* durable: another connection sees it at once */
    STORE_OK(gh_store_session_get(f->cli, rec.id, &stored));
    assert_memory_equal(stored.digest, digest, GH_DIGEST_LEN);
    assert_int_equal(stored.account_id, alice);
    assert_string_equal(stored.client_addr, "192.0.2.7");
    assert_int_equal(stored.expires, 0);
    FIND(t, GH_SHARED_OK);
    assert_string_equal(f->who.session_id, rec.id);
    assert_int_equal(f->who.role, GH_ROLE_ADMINISTRATOR);
    assert_true(audit_has(f, "\"session\":\"%s\"", rec.id));
    /* per account */
    f->cfg.max_sessions_per_account = 2;
    login(f, "alice", PW_ALICE, &extra);
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    assert_int_equal(create(f, token, &extra), GH_SESSION_LIMIT_ACCOUNT);
    assert_int_equal(store_sessions(f, alice), 2);
    /* in total */
    f->cfg.max_sessions = 3;
    f->cfg.session_lifetime = 3600;
    login(f, "bob", PW_BOB, &extra);
    assert_true(extra.expires >= gh_now() + 3599 && extra.expires <= gh_now() + 3600);
    VERIFY("bob", PW_BOB, GH_AUTH_OK);
    assert_int_equal(create(f, token, &extra), GH_SESSION_LIMIT_TOTAL);
    /* ending one: gone from store and block, audited by id, once only */
    STORE_OK(gh_service_session_end(&f->svc, rec.id, GH_AUDIT_LOGOUT, "alice", "192.0.2.9"));
    STORE_NONE(gh_store_session_get(f->cli, rec.id, &stored));
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, NULL), GH_SHARED_NOT_FOUND);
    FIND(t, GH_SHARED_NOT_FOUND);
    STORE_NONE(gh_service_session_end(&f->svc, rec.id, GH_AUDIT_LOGOUT, "alice", NULL));
    assert_true(audit_has(f, "\"event\":\"logout\",\"user\":\"alice\",\"client\":\"192.0.2.9\","
                          "\"session\":\"%s\",\"detail\":\"by alice\"", rec.id));
    login(f, "bob", PW_BOB, &extra);
    assert_int_equal(store_sessions(f, -1), 3);
    assert_int_equal(BLOCK_COUNT(), 3);
    /* a session already gone from the store still leaves the block */
    STORE_OK(gh_store_session_delete(f->cli, extra.id));
    STORE_OK(gh_service_session_end(&f->svc, extra.id, GH_AUDIT_REVOKED, "admin", NULL));
    assert_int_equal(BLOCK_COUNT(), 2);
    assert_true(audit_has(f, "\"event\":\"revoked\",\"user\":\"bob\""));
}

static void test_account_update_delete(void **state)
{
    fixture *f = *state;
    gh_account a, stale;
    int t[4];

    users(f, t);
    /* a role change reaches live sessions; a stale generation is refused */
    a = get_account(f, "alice");
    a.role = GH_ROLE_READONLY;
    a.password_change_required = true;
    STORE_OK(gh_service_account_update(&f->svc, &a, a.generation));
    FIND(t[A1], GH_SHARED_OK);
    assert_int_equal(f->who.role, GH_ROLE_READONLY);
    assert_true(f->who.password_change_required);
    assert_false(cred_cached(f, "alice", PW_ALICE, &f->who));
    assert_int_equal(gh_service_account_update(&f->svc, &a, 1), GH_STORE_CONFLICT);
    /* disabling ends the sessions, in the store and the block */
    a.enabled = false;
    STORE_OK(gh_service_account_update(&f->svc, &a, a.generation));
    FIND(t[A1], GH_SHARED_NOT_FOUND);
    FIND(t[A2], GH_SHARED_NOT_FOUND);
    assert_int_equal(store_sessions(f, a.id), 0);
    FIND(t[B1], GH_SHARED_OK);
    assert_true(audit_has(f, "\"event\":\"account_changed\",\"user\":\"alice\""));
    /* a lockout of failed logins stops new logins only; an administrator's
     * lock ends the sessions too */
    a = get_account(f, "bob");
    a.locked_until = gh_now() + 100;
    STORE_OK(gh_service_account_update(&f->svc, &a, -1));
    FIND(t[B1], GH_SHARED_OK);
    assert_int_equal(store_sessions(f, a.id), 1);
    VERIFY("bob", PW_BOB, GH_AUTH_LOCKED);
    a.locked_until = GH_LOCKED_BY_ADMIN;
    STORE_OK(gh_service_account_update(&f->svc, &a, -1));
    FIND(t[B1], GH_SHARED_NOT_FOUND);
    assert_int_equal(store_sessions(f, a.id), 0);
    VERIFY("bob", PW_BOB, GH_AUTH_LOCKED);
    /* delete: account, sessions and cached credential gone */
    assert_true(cred_cached(f, "carol", PW_CAROL, &f->who));
    a = get_account(f, "carol");
    STORE_OK(gh_service_account_delete(&f->svc, a.id));
    STORE_NONE(gh_store_account_get_by_id(f->cli, a.id, &stale));
    FIND(t[C1], GH_SHARED_NOT_FOUND);
    assert_false(cred_cached(f, "carol", PW_CAROL, &f->who));
    VERIFY("carol", PW_CAROL, GH_AUTH_BAD_CREDENTIALS);
    STORE_NONE(gh_service_account_delete(&f->svc, a.id));
    assert_true(audit_has(f, "\"detail\":\"deleted\""));
}

/* Restart: a new block and a reopened store, loaded as the first worker does. */
static void restart(fixture *f, int64_t *seq)
{
    gh_store_close(f->svc.store);
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    new_block(f, 256);
    STORE_OK(gh_service_load(&f->svc));
    *seq = gh_shared_change_seq(f->svc.shared);
    assert_true(*seq >= 0);
}

/* Failed logins on any accounts throttle their source: after two, the next
 * check is refused before anything is read, even with the right password;
 * another source is not slowed. */
static void test_throttle(void **state)
{
    fixture *f = *state;
    uint32_t failures;
    char *text;

    f->cfg.throttle_failures = 2;
    f->cfg.throttle_delay = 30;
    f->cfg.throttle_max_delay = 60;
    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_int_equal(gh_service_throttle_wait(&f->svc, "192.0.2.7", &failures), 0);
    assert_int_equal(failures, 1);
    VERIFY("nobody", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_in_range(gh_service_throttle_wait(&f->svc, "::ffff:192.0.2.7", NULL), 29, 30);
    VERIFY("alice", PW_ALICE, GH_AUTH_THROTTLED);
    VERIFY("carol", PW_WRONG, GH_AUTH_THROTTLED);
    VERIFY_FROM("198.51.100.1", "alice", PW_ALICE, GH_AUTH_OK);
    text = audit_text(f);
    assert_null(strstr(text, "\"user\":\"carol\""));     /* nothing was checked */
    free(text);
}

/* Whether the database files (the database and its WAL) hold text. */
static bool db_holds(fixture *f, const char *text)
{
    static const char *const suffixes[] = { "", "-wal" };
    char path[160], *buf;
    bool found = false;
    size_t n;
    FILE *fp;

    assert_non_null(buf = malloc(1 << 22));
    for (size_t i = 0; i < 2 && !found; i++) {
        snprintf(path, sizeof(path), "%s%s", f->db, suffixes[i]);
        if ((fp = fopen(path, "rb")) == NULL)
            continue;
        n = fread(buf, 1, 1 << 22, fp);
        fclose(fp);
        found = memmem(buf, n, text, strlen(text)) != NULL;
    }
    free(buf);
    return found;
}

/* The throttle's counts are copied to the store: a new block over a new
 * connection (a restart) loads them, so the source still waits for what is
 * left of its delay, even with lockout off, and another source goes on from
 * its own count. Once the upkeep prunes the copies, a restart loads none. */
static void test_throttle_restart(void **state)
{
    fixture *f = *state;
    uint32_t failures;
    int64_t seq;

    f->cfg.lockout_threshold = 0;
    f->cfg.throttle_failures = 2;
    f->cfg.throttle_delay = 30;
    f->cfg.throttle_max_delay = 60;
    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    VERIFY_FROM("198.51.100.1", "nobody", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    VERIFY("nobody", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_true(db_holds(f, "alice"));          /* the search finds what is there */
    assert_false(db_holds(f, "192.0.2.7"));     /* keyed by HMAC: no address */
    assert_false(db_holds(f, "198.51.100.1"));
    restart(f, &seq);
    assert_in_range(gh_service_throttle_wait(&f->svc, "192.0.2.7", &failures), 29, 30);
    assert_int_equal(failures, 2);
    VERIFY("alice", PW_ALICE, GH_AUTH_THROTTLED);
    assert_int_equal(gh_service_throttle_wait(&f->svc, "198.51.100.1", &failures), 0);
    assert_int_equal(failures, 1);
    VERIFY_FROM("198.51.100.1", "alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    assert_in_range(gh_service_throttle_wait(&f->svc, "198.51.100.1", NULL), 29, 30);
    STORE_OK(gh_service_upkeep(&f->svc, gh_now() + 3600));
    restart(f, &seq);
    assert_int_equal(gh_service_throttle_wait(&f->svc, "192.0.2.7", &failures), 0);
    assert_int_equal(failures, 0);
}

/* Failure counters are the store's: a restart keeps them. */
static void test_lockout_restart(void **state)
{
    fixture *f = *state;
    int64_t seq;

    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    for (int i = 0; i < 2; i++)
        VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    restart(f, &seq);
    VERIFY("alice", PW_WRONG, GH_AUTH_BAD_CREDENTIALS);
    VERIFY("alice", PW_ALICE, GH_AUTH_LOCKED);
}

/* Settings, then a restart that keeps every live session. */
static void test_settings_load(void **state)
{
    fixture *f = *state;
    gh_session_record old;
    gh_account carol;
    int64_t seq, last, v;
    int t[4];

    /* settings: the service's own writes, and another connection's on sync */
    assert_int_equal(gh_service_setting(&f->svc, GH_SET_SESSION_TIMEOUT), 1800);
    STORE_OK(gh_service_setting_set(&f->svc, GH_SET_SESSION_TIMEOUT, 600));
    assert_int_equal(gh_shared_setting(f->svc.shared, GH_SET_SESSION_TIMEOUT), 600);
    assert_true(gh_store_setting_get(f->cli, "session_timeout", &v) == GH_STORE_OK && v == 600);
    STORE_OK(gh_store_setting_set(f->cli, "lockout_threshold", 9));
    STORE_OK(gh_service_sync_settings(&f->svc));
    assert_int_equal(gh_service_setting(&f->svc, GH_SET_LOCKOUT_THRESHOLD), 9);
    assert_int_equal(gh_shared_setting(f->svc.shared, GH_SET_LOCKOUT_DURATION), 300);
    users(f, t);
    FIND(t[B1], GH_SHARED_OK);
    STORE_OK(gh_store_session_get(f->cli, f->who.session_id, &old));
    /* a session idle for longer than SessionTimeout */
    snprintf(old.id, sizeof(old.id), "%032x", 0xdead);
    memset(old.digest, 0x42, sizeof(old.digest));
    old.last_used = gh_now() - 7200;
    STORE_OK(gh_store_session_insert(f->cli, &old));
    /* carol disabled behind the server's back: her session must not come back */
    carol = get_account(f, "carol");
    carol.enabled = false;
    STORE_OK(gh_store_account_update(f->cli, &carol, -1));
    STORE_OK(gh_store_setting_set(f->cli, "session_timeout", 1000));
    restart(f, &seq);
    STORE_OK(gh_store_change_last(f->cli, &last));
    assert_true(seq == last && gh_shared_change_seq(f->svc.shared) == last);
    assert_int_equal(gh_shared_setting(f->svc.shared, GH_SET_SESSION_TIMEOUT), 1000);
    assert_int_equal(BLOCK_COUNT(), 3);
    FIND(t[A1], GH_SHARED_OK);
    assert_int_equal(f->who.role, GH_ROLE_ADMINISTRATOR);
    FIND(t[A2], GH_SHARED_OK);
    FIND(t[B1], GH_SHARED_OK);
    FIND(t[C1], GH_SHARED_NOT_FOUND);
    /* loaded: a second worker's load claims nothing */
    assert_false(gh_shared_load_claim(f->svc.shared, 0, &(int64_t){ 0 }, &(int64_t){ 0 }));
    STORE_OK(gh_service_load(&f->svc));
    /* the ended session was left in the store for the upkeep to sweep out,
     * silently: it ended while no server ran */
    assert_int_equal(gh_shared_session_get(f->svc.shared, old.id, NULL), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_store_expiry_from(f->svc.shared), 0);
    STORE_OK(gh_store_session_get(f->cli, old.id, &old));
    STORE_OK(gh_service_upkeep(&f->svc, gh_now()));
    STORE_NONE(gh_store_session_get(f->cli, old.id, &old));
    assert_int_equal(gh_shared_store_expiry_from(f->svc.shared), -1);
    assert_false(audit_has(f, "\"session\":\"%s\"", old.id));
    assert_int_equal(BLOCK_COUNT(), 3);
}

/* A session as a store of a past run holds it: n makes id and digest. */
static gh_session_record stored_rec(int64_t account_id, uint32_t n, int64_t last_used)
{
    gh_session_record r = { .account_id = account_id, .dialect = "redfish" };

    snprintf(r.id, sizeof(r.id), "%032x", n);
    memset(r.digest, 0x5a, sizeof(r.digest));
    memcpy(r.digest, &n, sizeof(n));
    snprintf(r.user, sizeof(r.user), "user%lld", (long long)account_id);
    r.created = r.last_used = last_used;
    return r;
}

/* A restart over a large store: live sessions beyond one load batch, more
 * ended ones than one expiry batch, sessions of a disabled account, and one
 * session a worker took before the load was done. The block gets each live
 * session once; the ended ones leave the store a batch per upkeep. */
static void test_load_large(void **state)
{
    enum { LIVE = 3000, ENDED = 7 * LIVE, OFF = 10 };
    fixture *f = *state;
    int64_t alice = add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    int64_t dave = add_account(f, "dave", PW_ALICE, NULL, GH_ROLE_OPERATOR, false);
    int64_t now = gh_now();
    gh_session_record rec;
    uint32_t n = 0;

    STORE_OK(gh_store_begin(f->cli));
    for (uint32_t i = 0; i < LIVE + ENDED; i++) {
        /* ended and live interleaved, as time leaves them */
        rec = stored_rec(alice, n++, i % 8 == 0 ? now - 10 : now - 7200);
        STORE_OK(gh_store_session_insert(f->cli, &rec));
    }
    for (uint32_t i = 0; i < OFF; i++) {
        rec = stored_rec(dave, n++, now);
        STORE_OK(gh_store_session_insert(f->cli, &rec));
    }
    STORE_OK(gh_store_end(f->cli, GH_STORE_OK));
    assert_true(ENDED > 2 * GH_STORE_EXPIRE_BATCH);

    new_block(f, LIVE + 10);
    rec = stored_rec(alice, 0, now - 10);          /* live (i == 0) */
    assert_int_equal(gh_shared_session_add(f->svc.shared, &rec, GH_ROLE_OPERATOR, false),
                     GH_SHARED_OK);
    STORE_OK(gh_service_load(&f->svc));
    assert_true(gh_shared_change_seq(f->svc.shared) >= 0);
    assert_int_equal(BLOCK_COUNT(), LIVE);
    assert_int_equal(gh_shared_session_remove(f->svc.shared, rec.id, NULL), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, NULL), GH_SHARED_NOT_FOUND);
    rec = stored_rec(alice, 8 * (LIVE - 1), 0);    /* the last live one */
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, NULL), GH_SHARED_OK);
    rec = stored_rec(dave, LIVE + ENDED, 0);
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, NULL), GH_SHARED_NOT_FOUND);

    /* the sweep: one batch per upkeep, the live and the disabled stay */
    for (int left = ENDED; left > 0; left -= GH_STORE_EXPIRE_BATCH) {
        assert_true(gh_shared_store_expiry_from(f->svc.shared) >= 0);
        assert_int_equal(store_sessions(f, alice), LIVE + left);
        STORE_OK(gh_service_upkeep(&f->svc, now));
    }
    assert_int_equal(store_sessions(f, alice), LIVE);
    assert_int_equal(store_sessions(f, dave), OFF);
    assert_int_equal(gh_shared_store_expiry_from(f->svc.shared), -1);

    /* a block smaller than the store keeps what fits */
    new_block(f, 100);
    STORE_OK(gh_service_load(&f->svc));
    assert_int_equal(BLOCK_COUNT(), 100);
    assert_int_equal(gh_shared_store_expiry_from(f->svc.shared), -1);
}

static void test_apply_changes(void **state)
{
    fixture *f = *state;
    int64_t seq, last;
    gh_account a;
    int t[4];

    users(f, t);
    STORE_OK(gh_service_apply_changes(&f->svc));          /* unloaded: nothing to do */
    assert_int_equal(gh_shared_change_seq(f->svc.shared), -1);
    restart(f, &seq);
    /* `session revoke ID`, `user disable`, a role change, a setting */
    FIND(t[A1], GH_SHARED_OK);
    STORE_OK(gh_store_session_delete(f->cli, f->who.session_id));
    a = get_account(f, "bob");
    a.enabled = false;
    STORE_OK(gh_store_account_update(f->cli, &a, a.generation));
    a = get_account(f, "alice");
    a.role = GH_ROLE_READONLY;
    STORE_OK(gh_store_account_update(f->cli, &a, a.generation));
    STORE_OK(gh_store_setting_set(f->cli, "session_timeout", 77));
    FIND(t[A1], GH_SHARED_OK);                            /* not yet */
    for (int round = 0; round < 2; round++) {             /* idempotent */
        STORE_OK(gh_service_apply_changes(&f->svc));
        STORE_OK(gh_store_change_last(f->cli, &last));
        assert_int_equal(gh_shared_change_seq(f->svc.shared), last);
        FIND(t[A1], GH_SHARED_NOT_FOUND);
        FIND(t[A2], GH_SHARED_OK);
        assert_int_equal(f->who.role, GH_ROLE_READONLY);
        FIND(t[B1], GH_SHARED_NOT_FOUND);
        FIND(t[C1], GH_SHARED_OK);
        assert_int_equal(gh_shared_setting(f->svc.shared, GH_SET_SESSION_TIMEOUT), 77);
        assert_int_equal(BLOCK_COUNT(), 2);
    }
    /* `session revoke --user carol`: every session of an account that stays
     * enabled, logged as one account change */
    STORE_OK(gh_store_session_delete_account(f->cli, get_account(f, "carol").id, NULL));
    STORE_OK(gh_service_apply_changes(&f->svc));
    FIND(t[C1], GH_SHARED_NOT_FOUND);
    FIND(t[A2], GH_SHARED_OK);
    assert_int_equal(BLOCK_COUNT(), 1);
}

static void test_upkeep(void **state)
{
    fixture *f = *state;
    gh_session_record rec, stale, got;
    gh_session_touch touch;
    int64_t now = gh_now();
    int t;

    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    STORE_OK(gh_service_setting_set(&f->svc, GH_SET_SESSION_TIMEOUT, 60));
    t = login(f, "alice", PW_ALICE, &rec);
    /* one idle since long ago, in store and block as a load would leave it */
    stale = rec;
    snprintf(stale.id, sizeof(stale.id), "%032x", 0xbeef);
    memset(stale.digest, 0x17, sizeof(stale.digest));
    stale.created = stale.last_used = now - 1000;
    STORE_OK(gh_store_session_insert(f->cli, &stale));
    assert_int_equal(gh_shared_session_add(f->svc.shared, &stale, GH_ROLE_OPERATOR, false),
                     GH_SHARED_OK);
    assert_int_equal(find_token(f, t, now + 30), GH_SHARED_OK);
    STORE_OK(gh_service_upkeep(&f->svc, now + 30));
    STORE_OK(gh_store_session_get(f->cli, rec.id, &got));
    assert_int_equal(got.last_used, now + 30);
    STORE_NONE(gh_store_session_get(f->cli, stale.id, &got));
    assert_int_equal(gh_shared_session_get(f->svc.shared, stale.id, NULL), GH_SHARED_NOT_FOUND);
    assert_true(audit_has(f, "\"event\":\"expired\",\"user\":\"alice\""));
    assert_true(audit_has(f, "\"session\":\"%s\"", stale.id));
    /* idle for the whole timeout since the last use */
    STORE_OK(gh_service_upkeep(&f->svc, now + 89));
    assert_int_equal(BLOCK_COUNT(), 1);
    STORE_OK(gh_service_upkeep(&f->svc, now + 90));
    assert_int_equal(BLOCK_COUNT(), 0);
    STORE_NONE(gh_store_session_get(f->cli, rec.id, &got));
    assert_int_equal(find_token(f, t, now + 90), GH_SHARED_NOT_FOUND);
    /* more sessions used between two ticks than one batch holds: one upkeep
     * still writes them all, so none looks idle in the store while in use */
    new_block(f, 2048);
    rec.last_used = now;
    for (uint32_t i = 0; i < 1500; i++) {
        snprintf(rec.id, sizeof(rec.id), "%032x", i);
        memcpy(rec.digest, &i, sizeof(i));
        assert_int_equal(gh_shared_session_add(f->svc.shared, &rec, GH_ROLE_OPERATOR, false),
                         GH_SHARED_OK);
        assert_int_equal(gh_shared_session_find(f->svc.shared, rec.digest, now + 1, NULL, NULL),
                         GH_SHARED_OK);
    }
    STORE_OK(gh_service_upkeep(&f->svc, now + 1));
    assert_int_equal(gh_shared_session_collect_touched(f->svc.shared, &touch, 1), 0);
    assert_int_equal(BLOCK_COUNT(), 1500);
}

static void *load_thread(void *arg)
{
    return (void *)(intptr_t)gh_service_load(arg);
}

/* Workers load together: three threads, each with its own store connection
 * and handle on one block, claim the parts between them; the block ends up
 * with every live session once and is loaded only when all are done. */
static void test_load_by_workers(void **state)
{
    enum { LIVE = 5000, WORKERS = 3 };
    fixture *f = *state;
    int64_t alice = add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    int64_t now = gh_now();
    gh_shared_limits l = { LIVE + 100, 8, 8 };
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    gh_shared_lock lk = test_mutex_shared_lock(&mutex);
    gh_service svc[WORKERS];
    pthread_t tid[WORKERS];
    gh_session_record rec;
    gh_shared *sh;
    void *mem, *rc;

    STORE_OK(gh_store_begin(f->cli));
    for (uint32_t i = 0; i < 2 * LIVE; i++) {
        rec = stored_rec(alice, i, i % 2 == 0 ? now : now - 7200);   /* odd: ended */
        STORE_OK(gh_store_session_insert(f->cli, &rec));
    }
    STORE_OK(gh_store_end(f->cli, GH_STORE_OK));
    assert_non_null(mem = malloc(gh_shared_size(&l)));
    assert_non_null(sh = gh_shared_format(mem, &l, lk));
    for (int w = 0; w < WORKERS; w++) {
        svc[w] = f->svc;
        STORE_OK(gh_store_open(f->db, &svc[w].store));
        assert_non_null(svc[w].shared = gh_shared_attach(mem, lk));
    }
    for (int w = 0; w < WORKERS; w++)
        assert_int_equal(pthread_create(&tid[w], NULL, load_thread, &svc[w]), 0);
    for (int w = 0; w < WORKERS; w++) {
        assert_int_equal(pthread_join(tid[w], &rc), 0);
        assert_int_equal((intptr_t)rc, GH_STORE_OK);
    }
    assert_true(gh_shared_change_seq(sh) >= 0);
    assert_int_equal(gh_shared_session_count(sh), LIVE);
    for (uint32_t i = 0; i < 2 * LIVE; i++) {
        rec = stored_rec(alice, i, 0);
        assert_int_equal(gh_shared_session_get(sh, rec.id, NULL),
                         i % 2 == 0 ? GH_SHARED_OK : GH_SHARED_NOT_FOUND);
    }
    for (int w = 0; w < WORKERS; w++) {
        gh_shared_detach(svc[w].shared);
        gh_store_close(svc[w].store);
    }
    gh_shared_detach(sh);
    free(mem);
}

/* The per-account limit is the store's count, taken in one step with the
 * insert: sessions the block never saw (another node's, or a login racing
 * this one) count as much as the block's own. */
static void test_account_limit_counted_by_store(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    gh_session_record rec;
    char token[GH_TOKEN_TEXT_LEN + 1];

    f->cfg.max_sessions_per_account = 3;
    for (uint32_t i = 0; i < 2; i++) {
        rec = stored_rec(alice, 900 + i, gh_now());
        STORE_OK(gh_store_session_insert(f->cli, &rec));
    }
    login(f, "alice", PW_ALICE, NULL);
    assert_int_equal(BLOCK_COUNT(), 1);
    assert_int_equal(store_sessions(f, alice), 3);
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    assert_int_equal(create(f, token, &rec), GH_SESSION_LIMIT_ACCOUNT);
    assert_int_equal(BLOCK_COUNT(), 1);
    assert_int_equal(store_sessions(f, alice), 3);
}

/* credcache_seconds = 0: a good password is verified and not remembered,
 * so the next request with it is hashed again. */
static void test_credcache_off(void **state)
{
    fixture *f = *state;
    gh_principal cached;

    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    f->cfg.credcache_seconds = 0;
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    assert_false(cred_cached(f, "alice", PW_ALICE, &cached));
    f->cfg.credcache_seconds = 300;
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    assert_true(cred_cached(f, "alice", PW_ALICE, &cached));
}

/* upgrade_hashes = no: an imported bcrypt hash, and argon2id at other
 * parameters, stay as they were imported after a good login. */
static void test_upgrade_hashes_off(void **state)
{
    fixture *f = *state;
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char setting[CRYPT_GENSALT_OUTPUT_SIZE], bcrypt[CRYPT_OUTPUT_SIZE];
    gh_argon2_params stronger = { .t_cost = 2, .m_cost_kib = 128, .parallelism = 1 };
    gh_account before;

    assert_non_null(cd);
    assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)));
    assert_non_null(crypt_r(PW_BOB, setting, cd));
    snprintf(bcrypt, sizeof(bcrypt), "%s", cd->output);
    free(cd);
    add_account(f, "bob", NULL, bcrypt, GH_ROLE_READONLY, true);
    add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    before = get_account(f, "alice");
    f->cfg.upgrade_hashes = false;
    f->cfg.argon2 = stronger;
    VERIFY("bob", PW_BOB, GH_AUTH_OK);
    VERIFY("bob", PW_BOB, GH_AUTH_OK);
    assert_string_equal(get_account(f, "bob").password_hash, bcrypt);
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    assert_string_equal(get_account(f, "alice").password_hash, before.password_hash);
}

/* A session the block has no room for, though the configuration allows it:
 * refused after its token was made and its row written, and then nothing of
 * it is left: no row, no token, no digest in the record handed back. */
static void test_session_refused_leaves_nothing(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f, "alice", PW_ALICE, NULL, GH_ROLE_OPERATOR, true);
    gh_session_record rec;
    char token[GH_TOKEN_TEXT_LEN + 1];
    static const uint8_t zero[GH_DIGEST_LEN];
    static const char nothing[GH_TOKEN_TEXT_LEN + 1];

    new_block(f, 1);
    f->cfg.max_sessions = 10;
    login(f, "alice", PW_ALICE, NULL);
    VERIFY("alice", PW_ALICE, GH_AUTH_OK);
    memset(token, 'x', sizeof(token));
    assert_int_equal(create(f, token, &rec), GH_SESSION_LIMIT_TOTAL);
    assert_memory_equal(token, nothing, sizeof(token));
    assert_memory_equal(rec.digest, zero, sizeof(zero));
    assert_int_equal(store_sessions(f, alice), 1);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_verify), TEST(test_credcache_off), TEST(test_upgrade_hashes_off),
        TEST(test_lockout), TEST(test_lockout_unknown),
        TEST(test_lockout_race), TEST(test_lockout_restart), TEST(test_throttle),
        TEST(test_throttle_restart),
        TEST(test_session_create_end), TEST(test_account_limit_counted_by_store),
        TEST(test_session_refused_leaves_nothing),
        TEST(test_account_update_delete), TEST(test_settings_load), TEST(test_load_large),
        TEST(test_load_by_workers),
        TEST(test_apply_changes), TEST(test_upkeep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
