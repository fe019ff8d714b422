/*
 * test_recheck.c: the recheck of directory users' live sessions
 * (service_recheck.c) over a real SQLite store, a shared block and an audit
 * log, with a profile whose server does not answer (a closed port of
 * 127.0.0.1): which accounts fall due (gh_store_account_due), one claim per
 * interval whichever connection asks, sessions kept through one missed
 * recheck and ended (audited) at the next, a last answer long gone counted
 * afresh, and a profile that never rechecks. What a recheck does with each
 * answer of a directory that does answer is test_directory.c's
 * (gh_directory_recheck_decide) and, against a real slapd,
 * tests/integration/test_directory_recheck.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/core/config_value.h"
#include "../../src/core/directory.h"
#include "../../src/core/service.h"

#define STORE_OK(expr) assert_int_equal((expr), GH_STORE_OK)
#define INTERVAL_MS    10000

typedef struct {
    char        dir[64], db[128], audit_path[128];
    gh_config   cfg;
    gh_service  svc;
    gh_service  other;              /* another worker: its own connection */
    void       *mem;
} fixture;

/* A port of 127.0.0.1 nobody listens on. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void profile(gh_config_directory *d, const char *name)
{
    gh_config_directory_defaults(d);
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->servers, sizeof(d->servers), "ldap://127.0.0.1:%d", closed_port());
    snprintf(d->user_base, sizeof(d->user_base), "%s", "dc=example,dc=org");
    snprintf(d->readonly_groups, sizeof(d->readonly_groups), "%s", "cn=r,dc=example,dc=org");
    d->connect_timeout = d->bind_timeout = d->search_timeout = 2;
    d->recheck_interval = INTERVAL_MS / 1000;
}

static int setup(void **state)
{
    gh_shared_limits l = { 64, 16, 16 };
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh_recheck_test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/gatehouse.db", f->dir);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    gh_config_defaults(&f->cfg);
    profile(&f->cfg.directories[0], "corp");
    f->cfg.ndirectories = 1;
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    STORE_OK(gh_store_secret(f->svc.store, f->svc.secret));
    assert_int_equal(gh_audit_open(f->audit_path, &f->svc.audit), 0);
    f->svc.config = &f->cfg;
    assert_non_null(f->mem = malloc(gh_shared_size(&l)));
    assert_non_null(f->svc.shared = gh_shared_format(f->mem, &l, (gh_shared_lock){ 0 }));
    assert_non_null(f->svc.sessions = gh_session_store_local(f->svc.shared));
    f->other = f->svc;
    STORE_OK(gh_store_open(f->db, &f->other.store));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];

    gh_directory_close_thread();
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->svc.shared);
    free(f->mem);
    gh_audit_close(f->svc.audit);
    gh_store_close(f->svc.store);
    gh_store_close(f->other.store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* An account NAME in domain, as a login makes a directory user's. */
static int64_t add_account(fixture *f, const char *name, const char *domain)
{
    gh_account a = { .role = GH_ROLE_READONLY, .enabled = true };

    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.domain, sizeof(a.domain), "%s", domain);
    STORE_OK(gh_store_account_add(f->svc.store, &a));
    return a.id;
}

/* A session of the account (its record to rec). */
static void add_session(fixture *f, int64_t id, const char *name, gh_session_record *rec)
{
    gh_principal who = { .account_id = id, .role = GH_ROLE_READONLY };
    char token[GH_TOKEN_TEXT_LEN + 1];

    snprintf(who.user, sizeof(who.user), "%s", name);
    assert_int_equal(gh_service_session_create(&f->svc, &who, "redfish", 0, "192.0.2.7", token,
                                               rec), GH_SESSION_CREATED);
    gh_wipe(token, sizeof(token));
}

static void set_state(fixture *f, int64_t id, int64_t checked, int64_t confirmed)
{
    char v[64];

    snprintf(v, sizeof(v), "%" PRId64 " %" PRId64, checked, confirmed);
    STORE_OK(gh_store_attribute_set(f->svc.store, id, "directory", "recheck", v));
}

/* The account's kept recheck state, "" when none. */
static const char *state_of(fixture *f, int64_t id)
{
    static char v[GH_ATTRIBUTE_VALUE_MAX + 1];

    if (gh_store_attribute_get(f->svc.store, id, "directory", "recheck", v, sizeof(v)) !=
        GH_STORE_OK)
        v[0] = '\0';
    return v;
}

static const char *state_text(int64_t checked, int64_t confirmed)
{
    static char v[64];

    snprintf(v, sizeof(v), "%" PRId64 " %" PRId64, checked, confirmed);
    return v;
}

static bool session_alive(fixture *f, const gh_session_record *rec)
{
    gh_session_record got;
    bool stored = gh_store_session_get(f->svc.store, rec->id, &got) == GH_STORE_OK;
    bool held = gh_shared_session_get(f->svc.shared, rec->id, &got) == GH_SHARED_OK;

    assert_int_equal(stored, held);
    return stored;
}

static bool audit_has(fixture *f, const char *needle)
{
    FILE *fp = fopen(f->audit_path, "r");
    char buf[1 << 16];
    size_t n;

    assert_non_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return strstr(buf, needle) != NULL;
}

/* Accounts of the profile's domain with a stored session, not checked since
 * the cutoff, those never checked first. */
static void test_due_accounts(void **state)
{
    fixture *f = *state;
    int64_t dana = add_account(f, "dana@corp", "corp"), ids[GH_STORE_PAGE_MAX];
    int64_t olly = add_account(f, "olly@corp", "corp");
    int64_t rita = add_account(f, "rita@corp", "corp");
    int64_t other = add_account(f, "dana@other", "other");
    int64_t local = add_account(f, "admin", "internal");
    gh_session_record rec;
    size_t n;

    add_session(f, dana, "dana@corp", &rec);
    add_session(f, rita, "rita@corp", &rec);
    add_session(f, other, "dana@other", &rec);
    add_session(f, local, "admin", &rec);
    (void)olly;                                   /* no session: never due */
    STORE_OK(gh_store_account_due(f->svc.store, "corp", "directory", "recheck", 1000, ids, &n));
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], dana);
    assert_int_equal(ids[1], rita);
    set_state(f, dana, 2000, 2000);
    set_state(f, rita, 500, 500);
    STORE_OK(gh_store_account_due(f->svc.store, "corp", "directory", "recheck", 1000, ids, &n));
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], rita);
    STORE_OK(gh_store_account_due(f->svc.store, "corp", "directory", "recheck", 2000, ids, &n));
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], rita);               /* the least recent first */
    assert_int_equal(ids[1], dana);
}

/* The directory does not answer: the session goes on through one missed
 * recheck and ends at the next; each recheck is claimed once, whichever
 * connection (worker) asks. */
static void test_unavailable_keeps_then_ends(void **state)
{
    fixture *f = *state;
    int64_t dana = add_account(f, "dana@corp", "corp"), t = gh_epoch_ms();
    gh_session_record rec;

    add_session(f, dana, "dana@corp", &rec);
    STORE_OK(gh_service_directory_recheck(&f->svc, t));
    assert_true(session_alive(f, &rec));
    assert_string_equal(state_of(f, dana), state_text(t, t));
    /* not due again before an interval, for this worker or another */
    STORE_OK(gh_service_directory_recheck(&f->other, t + 1));
    STORE_OK(gh_service_directory_recheck(&f->svc, t + INTERVAL_MS - 1));
    assert_string_equal(state_of(f, dana), state_text(t, t));
    /* one missed recheck: kept */
    STORE_OK(gh_service_directory_recheck(&f->other, t + INTERVAL_MS));
    assert_true(session_alive(f, &rec));
    assert_string_equal(state_of(f, dana), state_text(t + INTERVAL_MS, t));
    assert_false(audit_has(f, "directory recheck"));
    /* the next one missed: ended, audited, nothing left to recheck */
    STORE_OK(gh_service_directory_recheck(&f->svc, t + 2 * INTERVAL_MS));
    assert_false(session_alive(f, &rec));
    assert_true(audit_has(f, "\"event\":\"revoked\""));
    assert_true(audit_has(f, "by directory recheck (directory unavailable)"));
    assert_string_equal(state_of(f, dana), "");
}

/* A last check long gone (no live sessions for a while, or the server was
 * down): the directory's last answer counts from now, not from then. */
static void test_stale_state_counts_afresh(void **state)
{
    fixture *f = *state;
    int64_t dana = add_account(f, "dana@corp", "corp"), t = gh_epoch_ms();
    gh_session_record rec;

    add_session(f, dana, "dana@corp", &rec);
    set_state(f, dana, 1000, 1000);
    STORE_OK(gh_service_directory_recheck(&f->svc, t));
    assert_true(session_alive(f, &rec));
    assert_string_equal(state_of(f, dana), state_text(t, t));
    /* a last check within two intervals keeps its last answer */
    set_state(f, dana, t - INTERVAL_MS, t - 2 * INTERVAL_MS + 1);
    STORE_OK(gh_service_directory_recheck(&f->svc, t));
    assert_true(session_alive(f, &rec));
    STORE_OK(gh_service_directory_recheck(&f->svc, t + INTERVAL_MS));
    assert_false(session_alive(f, &rec));
}

/* recheck_interval = 0: never rechecked. */
static void test_interval_zero_never(void **state)
{
    fixture *f = *state;
    int64_t dana = add_account(f, "dana@corp", "corp"), t = gh_epoch_ms();
    gh_session_record rec;

    f->cfg.directories[0].recheck_interval = 0;
    add_session(f, dana, "dana@corp", &rec);
    for (int i = 0; i < 4; i++)
        STORE_OK(gh_service_directory_recheck(&f->svc, t + i * 100000000LL));
    assert_true(session_alive(f, &rec));
    assert_string_equal(state_of(f, dana), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_due_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable_keeps_then_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_state_counts_afresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_zero_never, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
