/*
 * test_service_metrics.c: what the core's operations count for the metrics
 * (metrics.h), each event once, over a real SQLite store in a temporary
 * directory, a shared block and a block of one metrics slot bound to this
 * process: password checks by dialect and result (a pass counted with its
 * session, or when settled), lockouts, sessions created by dialect and ended
 * by reason (logout, revoked, limit, an account disabled, the command
 * line's revocation applied from the change log, idle and lifetime ends
 * found by a lookup or by the upkeep; with a store other nodes share, by
 * the store's row deleted and the store's sweep), and every store call
 * timed once, by its backend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "../../src/core/metrics.h"
#include "../../src/core/service.h"

#define PW_ALICE "alice-Secret-1"
#define PW_WRONG "not-the-Password"
#define DIALECT  2u              /* any index of a table of dialects */

#define STORE_OK(expr) assert_int_equal((expr), GH_STORE_OK)

typedef struct {
    char              dir[64], db[128], audit_path[128];
    gh_config         cfg;
    gh_service        svc;
    gh_store         *cli;         /* a second connection, as the command line */
    void             *mem;
    void             *metrics_mem;
    gh_metrics_block *metrics;
    gh_principal      who;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gh_shared_limits l = { 64, 64, 64 };
    size_t size = gh_metrics_size(1);

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh_service_metrics.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/gatehouse.db", f->dir);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    gh_config_defaults(&f->cfg);
    f->cfg.argon2 = (gh_argon2_params){ .t_cost = 1, .m_cost_kib = 64, .parallelism = 1 };
    f->cfg.lockout_threshold = 3;
    f->cfg.lockout_duration = f->cfg.lockout_reset_after = 300;
    f->cfg.throttle_failures = 0;
    f->cfg.max_sessions_per_account = 2;
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    STORE_OK(gh_store_open(f->db, &f->cli));
    STORE_OK(gh_store_secret(f->svc.store, f->svc.secret));
    assert_int_equal(gh_audit_open(f->audit_path, &f->svc.audit), 0);
    f->svc.config = &f->cfg;
    f->svc.dialect = DIALECT;
    assert_non_null(f->mem = malloc(gh_shared_size(&l)));
    assert_non_null(f->svc.shared = gh_shared_format(f->mem, &l, (gh_shared_lock){ 0 }));
    assert_non_null(f->svc.sessions = gh_session_store_local(f->svc.shared));
    STORE_OK(gh_service_load(&f->svc));
    /* Counting starts once everything above is done. */
    assert_non_null(f->metrics_mem = aligned_alloc(64, size));
    memset(f->metrics_mem, 0, size);
    assert_non_null(f->metrics = gh_metrics_format(f->metrics_mem, size, 1));
    assert_true(gh_metrics_bind(f->metrics, 0));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];

    (void)gh_metrics_bind(NULL, 0);
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->svc.shared);
    free(f->mem);
    free(f->metrics_mem);
    gh_audit_close(f->svc.audit);
    gh_store_close(f->svc.store);
    gh_store_close(f->cli);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static uint64_t value(fixture *f, unsigned index)
{
    return gh_metrics_value(f->metrics, 0, index);
}

static uint64_t logins(fixture *f, unsigned dialect, gh_metric_login result)
{
    return value(f, GH_MV_LOGINS + dialect * GH_METRIC_LOGINS + result);
}

static uint64_t ended(fixture *f, gh_metric_end reason)
{
    return value(f, GH_MV_SESSIONS_ENDED + reason);
}

/* A histogram's count: the sum of its buckets, +Inf included. */
static uint64_t store_ops(fixture *f, gh_metric_backend backend)
{
    unsigned base = GH_MV_STORE_OPERATION + backend * GH_MV_HIST(GH_METRICS_STORE_BUCKETS);
    uint64_t n = 0;

    for (unsigned i = 0; i <= GH_METRICS_STORE_BUCKETS; i++)
        n += value(f, base + i);
    return n;
}

static int64_t add_account(fixture *f, const char *name, const char *pw, bool enabled)
{
    gh_account a = { .role = GH_ROLE_OPERATOR, .enabled = enabled };

    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.domain, sizeof(a.domain), "internal");
    assert_int_equal(gh_password_hash(&f->cfg.argon2, pw, strlen(pw), a.password_hash),
                     GH_PASSWORD_OK);
    STORE_OK(gh_store_account_add(f->cli, &a));
    return a.id;
}

static gh_auth_result verify(fixture *f, const char *user, const char *pw)
{
    return gh_service_verify_password(&f->svc, user, pw, strlen(pw), "192.0.2.7", "basic",
                                      &f->who);
}

static gh_session_result create(fixture *f, gh_session_record *rec, int64_t idle)
{
    char token[GH_TOKEN_TEXT_LEN + 1];
    gh_session_result rc = gh_service_session_create(&f->svc, &f->who, "redfish", idle,
                                                     "192.0.2.7", token, rec);

    gh_wipe(token, sizeof(token));
    return rc;
}

/* A password check and the session it is for. */
static void login(fixture *f, gh_session_record *rec, int64_t idle)
{
    assert_int_equal(verify(f, "alice", PW_ALICE), GH_AUTH_OK);
    assert_int_equal(create(f, rec, idle), GH_SESSION_CREATED);
}

static void test_refusals_by_result(void **state)
{
    fixture *f = *state;

    add_account(f, "alice", PW_ALICE, true);
    add_account(f, "dora", PW_ALICE, false);
    assert_int_equal(verify(f, "nobody", PW_WRONG), GH_AUTH_BAD_CREDENTIALS);
    assert_int_equal(verify(f, "dora", PW_ALICE), GH_AUTH_DISABLED);
    assert_int_equal(verify(f, "alice", PW_WRONG), GH_AUTH_BAD_CREDENTIALS);
    assert_int_equal(verify(f, "alice", PW_WRONG), GH_AUTH_BAD_CREDENTIALS);
    assert_int_equal(value(f, GH_MV_LOCKOUTS), 0);
    /* the third failure from one source locks it: one lockout */
    assert_int_equal(verify(f, "alice", PW_WRONG), GH_AUTH_BAD_CREDENTIALS);
    assert_int_equal(value(f, GH_MV_LOCKOUTS), 1);
    /* the right password, locked: refused as locked, no second lockout */
    assert_int_equal(verify(f, "alice", PW_ALICE), GH_AUTH_LOCKED);
    assert_int_equal(value(f, GH_MV_LOCKOUTS), 1);

    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_UNKNOWN_USER), 1);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_DISABLED), 1);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_WRONG_PASSWORD), 3);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_LOCKED), 1);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_SUCCESS), 0);
    /* nothing under any other dialect */
    for (unsigned r = 0; r < GH_METRIC_LOGINS; r++)
        assert_int_equal(logins(f, 0, r), 0);
    assert_false(f->svc.login_passed);
}

static void test_pass_counted_with_its_outcome(void **state)
{
    fixture *f = *state;
    gh_session_record rec, kept;

    add_account(f, "alice", PW_ALICE, true);
    /* Basic: a pass with no session, counted when the task settles */
    assert_int_equal(verify(f, "alice", PW_ALICE), GH_AUTH_OK);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_SUCCESS), 0);
    gh_service_login_settle(&f->svc);
    gh_service_login_settle(&f->svc);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_SUCCESS), 1);
    /* a session login: counted by its session, the settle adds nothing */
    login(f, &rec, 0);
    gh_service_login_settle(&f->svc);
    login(f, &kept, 0);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_SUCCESS), 3);
    assert_int_equal(value(f, GH_MV_SESSIONS_CREATED + DIALECT), 2);
    /* the account's third session: the limit refuses it */
    assert_int_equal(verify(f, "alice", PW_ALICE), GH_AUTH_OK);
    assert_int_equal(create(f, &rec, 0), GH_SESSION_LIMIT_ACCOUNT);
    gh_service_login_settle(&f->svc);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_LIMIT), 1);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_SUCCESS), 3);
    assert_int_equal(value(f, GH_MV_SESSIONS_CREATED + DIALECT), 2);
    /* a session made with no check before it (a renewal) is no login */
    STORE_OK(gh_service_session_end(&f->svc, kept.id, GH_AUDIT_LOGOUT, "alice", NULL));
    assert_int_equal(create(f, &rec, 0), GH_SESSION_CREATED);
    assert_int_equal(logins(f, DIALECT, GH_METRIC_LOGIN_SUCCESS), 3);
    assert_int_equal(value(f, GH_MV_SESSIONS_CREATED + DIALECT), 3);
}

static void test_ends_by_reason(void **state)
{
    fixture *f = *state;
    gh_session_record a, b;
    gh_account acct;

    add_account(f, "alice", PW_ALICE, true);
    login(f, &a, 0);
    login(f, &b, 0);
    STORE_OK(gh_service_session_end(&f->svc, a.id, GH_AUDIT_LOGOUT, "alice", NULL));
    STORE_OK(gh_service_session_end(&f->svc, b.id, GH_AUDIT_REVOKED, "admin", NULL));
    /* gone already: no second end */
    assert_int_equal(gh_service_session_end(&f->svc, b.id, GH_AUDIT_REVOKED, "admin", NULL),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(ended(f, GH_METRIC_END_LOGOUT), 1);
    assert_int_equal(ended(f, GH_METRIC_END_REVOKED), 1);

    login(f, &a, 0);
    STORE_OK(gh_service_session_end_as(&f->svc, a.id, GH_AUDIT_REVOKED, GH_METRIC_END_LIMIT,
                                       "alice", NULL));
    assert_int_equal(ended(f, GH_METRIC_END_LIMIT), 1);

    /* an account disabled: both its sessions, counted once though the
     * change it logged is applied afterwards */
    login(f, &a, 0);
    login(f, &b, 0);
    STORE_OK(gh_store_account_get(f->svc.store, "alice", &acct));
    acct.enabled = false;
    STORE_OK(gh_service_account_update(&f->svc, &acct, acct.generation));
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_int_equal(ended(f, GH_METRIC_END_REVOKED), 3);
    assert_int_equal(gh_shared_session_count(f->svc.shared), 0);
    assert_int_equal(ended(f, GH_METRIC_END_IDLE) + ended(f, GH_METRIC_END_LIFETIME), 0);
}

static void test_revocation_applied_from_the_log(void **state)
{
    fixture *f = *state;
    gh_session_record a, b;

    add_account(f, "alice", PW_ALICE, true);
    login(f, &a, 0);
    login(f, &b, 0);
    /* the command line revokes one (it counts nothing itself) */
    STORE_OK(gh_store_session_delete(f->cli, a.id));
    STORE_OK(gh_service_apply_changes(&f->svc));
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_int_equal(ended(f, GH_METRIC_END_REVOKED), 1);
    /* a worker ends the other, then applies its own change: once */
    STORE_OK(gh_service_session_end(&f->svc, b.id, GH_AUDIT_REVOKED, "admin", NULL));
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_int_equal(ended(f, GH_METRIC_END_REVOKED), 2);
}

static void test_time_ends(void **state)
{
    fixture *f = *state;
    gh_session_record idle, life;
    uint8_t digest[GH_DIGEST_LEN];
    int64_t now = gh_now();

    f->cfg.session_lifetime = 100;
    add_account(f, "alice", PW_ALICE, true);
    login(f, &idle, 10);
    login(f, &life, 1000);
    /* the first lookup past its idle end ends it */
    memcpy(digest, idle.digest, sizeof(digest));
    assert_int_equal(gh_shared_session_find(f->svc.shared, digest, now + 20, NULL, NULL),
                     GH_SHARED_EXPIRED);
    assert_int_equal(gh_shared_session_find(f->svc.shared, digest, now + 20, NULL, NULL),
                     GH_SHARED_NOT_FOUND);
    assert_int_equal(ended(f, GH_METRIC_END_IDLE), 1);
    /* the upkeep finds the other past its lifetime, before its idle end */
    STORE_OK(gh_service_upkeep(&f->svc, now + 150));
    STORE_OK(gh_service_upkeep(&f->svc, now + 151));
    assert_int_equal(ended(f, GH_METRIC_END_LIFETIME), 1);
    assert_int_equal(ended(f, GH_METRIC_END_IDLE), 1);
    assert_int_equal(gh_shared_session_count(f->svc.shared), 0);
}

/* With a store other nodes share the block is a cache: an end counts by
 * the store's row the node deleted, a session ended by time when the
 * store's sweep takes it, never by the cache's eviction. */
static void test_cache_mode_ends(void **state)
{
    fixture *f = *state;
    gh_session_record idle, life, other, mine;
    int64_t now = gh_now();

    f->cfg.session_lifetime = 100;
    gh_shared_set_cached(f->svc.shared, true);
    add_account(f, "alice", PW_ALICE, true);
    login(f, &idle, 10);
    login(f, &life, 1000);
    /* idle ended at +10: evicted and swept a grace later, counted once */
    STORE_OK(gh_service_upkeep(&f->svc, now + 11));
    assert_int_equal(ended(f, GH_METRIC_END_IDLE), 0);
    STORE_OK(gh_service_upkeep(&f->svc, now + 10 + GH_SERVICE_SWEEP_GRACE));
    STORE_OK(gh_service_upkeep(&f->svc, now + 11 + GH_SERVICE_SWEEP_GRACE));
    assert_int_equal(ended(f, GH_METRIC_END_IDLE), 1);
    assert_int_equal(gh_store_session_get(f->cli, idle.id, &other), GH_STORE_NOT_FOUND);
    /* the lifetime's end, found by a lookup here, is no end either */
    assert_int_equal(gh_shared_session_find(f->svc.shared, life.digest, now + 100, NULL, NULL),
                     GH_SHARED_EXPIRED);
    assert_int_equal(ended(f, GH_METRIC_END_LIFETIME), 0);
    gh_shared_store_expiry_due(f->svc.shared);
    STORE_OK(gh_service_upkeep(&f->svc, now + 100 + GH_SERVICE_SWEEP_GRACE));
    assert_int_equal(ended(f, GH_METRIC_END_LIFETIME), 1);
    /* a logout of a session only the store holds (made on another node)
     * counts; one the store no longer holds (ended there) does not */
    login(f, &other, 0);
    assert_int_equal(gh_shared_session_remove(f->svc.shared, other.id, NULL), GH_SHARED_OK);
    login(f, &mine, 0);
    STORE_OK(gh_store_session_delete(f->cli, mine.id));
    STORE_OK(gh_service_session_end(&f->svc, other.id, GH_AUDIT_LOGOUT, "alice", NULL));
    STORE_OK(gh_service_session_end(&f->svc, mine.id, GH_AUDIT_LOGOUT, "alice", NULL));
    assert_int_equal(ended(f, GH_METRIC_END_LOGOUT), 1);
    /* the change log's removal from the cache is no end */
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_int_equal(ended(f, GH_METRIC_END_REVOKED), 0);
}

static void test_ended_by_lifetime(void **state)
{
    gh_session_record r = { .last_used = 1000, .idle_timeout = 0, .expires = 0 };

    (void)state;
    assert_false(gh_store_session_ended_by_lifetime(&r, 60));
    r.expires = 1050;
    assert_true(gh_store_session_ended_by_lifetime(&r, 60));    /* 1050 before 1060 */
    r.expires = 1070;
    assert_false(gh_store_session_ended_by_lifetime(&r, 60));   /* idle at 1060 first */
    r.idle_timeout = 100;
    assert_true(gh_store_session_ended_by_lifetime(&r, 60));    /* its own idle: 1100 */
    r.idle_timeout = 0;
    assert_true(gh_store_session_ended_by_lifetime(&r, 0));     /* no idle end at all */
}

static void test_store_calls_timed_once(void **state)
{
    fixture *f = *state;
    gh_account acct;
    uint64_t before = store_ops(f, GH_METRIC_BACKEND_SQLITE);

    add_account(f, "alice", PW_ALICE, true);        /* one call */
    assert_int_equal(store_ops(f, GH_METRIC_BACKEND_SQLITE), before + 1);
    STORE_OK(gh_store_account_get(f->svc.store, "alice", &acct));
    assert_int_equal(gh_store_account_get(f->svc.store, "nobody", &acct), GH_STORE_NOT_FOUND);
    STORE_OK(gh_store_begin(f->svc.store));
    STORE_OK(gh_store_end(f->svc.store, GH_STORE_OK));
    assert_int_equal(store_ops(f, GH_METRIC_BACKEND_SQLITE), before + 5);
    assert_int_equal(store_ops(f, GH_METRIC_BACKEND_REDIS), 0);
    /* a NULL store answers without a backend: nothing timed */
    assert_int_equal(gh_store_account_get(NULL, "alice", &acct), GH_STORE_ERROR);
    assert_int_equal(store_ops(f, GH_METRIC_BACKEND_SQLITE), before + 5);
    /* unbound, nothing counts */
    (void)gh_metrics_bind(NULL, 0);
    STORE_OK(gh_store_account_get(f->svc.store, "alice", &acct));
    assert_true(gh_metrics_bind(f->metrics, 0));
    assert_int_equal(store_ops(f, GH_METRIC_BACKEND_SQLITE), before + 5);
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
}

int main(void)
{
#define TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_refusals_by_result), TEST(test_pass_counted_with_its_outcome),
        TEST(test_ends_by_reason), TEST(test_revocation_applied_from_the_log),
        TEST(test_time_ends), TEST(test_cache_mode_ends),
        cmocka_unit_test(test_ended_by_lifetime),
        TEST(test_store_calls_timed_once),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
