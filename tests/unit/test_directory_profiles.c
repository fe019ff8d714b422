/*
 * test_directory_profiles.c: directory profiles changed while the server
 * runs (directory_profiles.h) over a real SQLite store in a temporary
 * directory, a shared block and an audit log: the file's profile overlaid
 * by a stored one, a tombstone, a restart (a new connection), the file's
 * rules applied to a profile written whole, one default, at most four, the
 * service password written to a 0600 file and found neither in the database
 * nor in the audit log, a disabled profile never asked and its users'
 * sessions and cached credentials gone at once and through the change log,
 * and the text a profile is stored as, round trip and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/directory.h"
#include "../../src/core/directory_profiles.h"

#define SERVICE_PW "Service-Bind-Secret-7"
#define USER_PW    "directory-User-Pw-9"
#define STORE_OK(expr) assert_int_equal((expr), GH_STORE_OK)

typedef struct {
    char        dir[64], db[128], audit_path[128];
    gh_config   cfg;
    gh_service  svc;
    void       *mem;
} fixture;

static gh_shared *block(fixture *f)
{
    gh_shared_limits l = { 64, 64, 64 };

    free(f->mem);
    assert_non_null(f->mem = malloc(gh_shared_size(&l)));
    return gh_shared_format(f->mem, &l, (gh_shared_lock){ 0 });
}

/* A profile as the file would give it: corp, the default, on this host. */
static void file_profile(gh_config_directory *d, const char *name)
{
    gh_config_directory_defaults(d);
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->servers, sizeof(d->servers), "ldap://127.0.0.1:1");
    snprintf(d->user_base, sizeof(d->user_base), "ou=people,dc=example,dc=org");
    snprintf(d->readonly_groups, sizeof(d->readonly_groups), "cn=staff,dc=example,dc=org");
    d->connect_timeout = d->bind_timeout = d->search_timeout = 1;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh_dirprof_test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/gatehouse.db", f->dir);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    gh_config_defaults(&f->cfg);
    f->cfg.lockout_threshold = 0;
    f->cfg.throttle_failures = 0;
    file_profile(&f->cfg.directories[0], "corp");
    f->cfg.directories[0].is_default = true;
    f->cfg.ndirectories = 1;
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    STORE_OK(gh_store_secret(f->svc.store, f->svc.secret));
    assert_int_equal(gh_audit_open(f->audit_path, &f->svc.audit), 0);
    f->svc.config = &f->cfg;
    f->svc.data_dir = f->dir;
    assert_non_null(f->svc.shared = block(f));
    assert_non_null(f->svc.sessions = gh_session_store_local(f->svc.shared));
    *state = f;
    return 0;
}

/* The bytes of a file, NUL-terminated (a database may hold NULs: the
 * caller searches with memmem). *len its length. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, 1 << 22);

    assert_non_null(fp);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 22) - 1, fp);
    fclose(fp);
    return buf;
}

static bool file_has(const char *path, const char *needle)
{
    size_t len;
    char *text = slurp(path, &len);
    bool found = memmem(text, len, needle, strlen(needle)) != NULL;

    free(text);
    return found;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];

    assert_false(file_has(f->audit_path, SERVICE_PW));
    assert_false(file_has(f->audit_path, USER_PW));
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->svc.shared);
    free(f->mem);
    gh_audit_close(f->svc.audit);
    gh_store_close(f->svc.store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static gh_directory_put_result put(fixture *f, const gh_config_directory *p, const char *pw,
                                   char *why)
{
    return gh_service_directory_put(&f->svc, p, pw, pw != NULL ? strlen(pw) : 0, "admin",
                                    "192.0.2.1", why, 256);
}

/* A restart: the store opened again, a new block. */
static void restart(fixture *f)
{
    gh_store_close(f->svc.store);
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->svc.shared);
    assert_non_null(f->svc.shared = block(f));
    assert_non_null(f->svc.sessions = gh_session_store_local(f->svc.shared));
}

static void test_overlay_and_tombstone(void **state)
{
    fixture *f = *state;
    gh_directory_profiles l;
    gh_config_directory p, got;
    char why[256];

    STORE_OK(gh_service_directory_list(&f->svc, &l));
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].name, "corp");
    assert_int_equal(l.v[0].revision, 0);
    assert_true(l.v[0].enabled);
    assert_string_equal(l.v[0].kind, GH_DIRECTORY_KIND_LDAP);

    /* The file's profile replaced whole by a stored one of its name. */
    file_profile(&p, "corp");
    snprintf(p.user_base, sizeof(p.user_base), "ou=staff,dc=example,dc=org");
    snprintf(p.kind, sizeof(p.kind), GH_DIRECTORY_KIND_AD);
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
    restart(f);
    STORE_OK(gh_service_directory_get(&f->svc, "corp", &got));
    assert_string_equal(got.user_base, "ou=staff,dc=example,dc=org");
    assert_false(got.is_default);               /* whole: the file's default went too */
    assert_true(got.revision > 0);
    STORE_OK(gh_service_directory_first(&f->svc, GH_DIRECTORY_KIND_AD, &got));
    assert_string_equal(got.name, "corp");
    assert_int_equal(gh_service_directory_first(&f->svc, GH_DIRECTORY_KIND_LDAP, &got),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_service_directory_default(&f->svc, &got), GH_STORE_NOT_FOUND);

    /* A second write is a new revision, even of the same text. */
    {
        int64_t before = got.revision;

        assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
        STORE_OK(gh_service_directory_get(&f->svc, "corp", &got));
        assert_true(got.revision > before);
    }

    /* Deleted: a tombstone hides the file's profile across restarts. */
    assert_int_equal(gh_service_directory_delete(&f->svc, "corp", "admin", "192.0.2.1"),
                     GH_DIRPUT_OK);
    restart(f);
    assert_int_equal(gh_service_directory_get(&f->svc, "corp", &got), GH_STORE_NOT_FOUND);
    STORE_OK(gh_service_directory_list(&f->svc, &l));
    assert_int_equal(l.n, 0);
    assert_int_equal(gh_service_directory_delete(&f->svc, "corp", "admin", NULL),
                     GH_DIRPUT_NOT_FOUND);

    /* Written again: back. */
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
    STORE_OK(gh_service_directory_get(&f->svc, "corp", &got));
    assert_true(file_has(f->audit_path, "directory corp deleted"));
    assert_true(file_has(f->audit_path, "directory corp written"));
    assert_true(file_has(f->audit_path, "directory_changed"));
}

static void test_new_profiles_and_rules(void **state)
{
    fixture *f = *state;
    gh_directory_profiles l;
    gh_config_directory p;
    char why[256], name[32];

    file_profile(&p, "bad");
    p.servers[0] = '\0';
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_INVALID);
    assert_string_equal(why, "a profile needs servers and user_base");
    file_profile(&p, "bad");
    snprintf(p.servers, sizeof(p.servers), "ldap://dc.example.org");
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_INVALID);
    assert_non_null(strstr(why, "starttls"));
    file_profile(&p, "bad");
    snprintf(p.kind, sizeof(p.kind), "novell");
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_INVALID);
    file_profile(&p, "internal");
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_INVALID);
    file_profile(&p, "bad");
    snprintf(p.bind_dn, sizeof(p.bind_dn), "cn=svc,dc=example,dc=org");
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_INVALID);   /* no password */
    file_profile(&p, "bad");
    p.is_default = true;                                         /* corp is */
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_INVALID);
    assert_string_equal(why, "only one directory profile may be the default");

    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "extra%d", i);
        file_profile(&p, name);
        assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
    }
    file_profile(&p, "fifth");
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_FULL);
    STORE_OK(gh_service_directory_list(&f->svc, &l));
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].name, "corp");                    /* the file's first */
    assert_string_equal(l.v[3].name, "extra2");
    /* A stored-only profile deleted leaves no row behind. */
    assert_int_equal(gh_service_directory_delete(&f->svc, "extra1", "admin", NULL),
                     GH_DIRPUT_OK);
    STORE_OK(gh_service_directory_list(&f->svc, &l));
    assert_int_equal(l.n, 3);
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);       /* room again */
}

static void test_service_password(void **state)
{
    fixture *f = *state;
    gh_config_directory p, got;
    char why[256], path[256], *wal;
    struct stat st;
    size_t len;

    file_profile(&p, "corp");
    snprintf(p.bind_dn, sizeof(p.bind_dn), "cn=svc,dc=example,dc=org");
    assert_int_equal(put(f, &p, "", why), GH_DIRPUT_INVALID);
    assert_int_equal(put(f, &p, SERVICE_PW, why), GH_DIRPUT_OK);
    STORE_OK(gh_service_directory_get(&f->svc, "corp", &got));
    snprintf(path, sizeof(path), "%s/directory/corp.password", f->dir);
    assert_string_equal(got.bind_password_file, path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(file_has(path, SERVICE_PW));
    /* Kept when the next write gives none. */
    got.search_timeout = 7;
    assert_int_equal(put(f, &got, NULL, why), GH_DIRPUT_OK);
    assert_true(file_has(path, SERVICE_PW));
    /* In no file of the database. */
    gh_store_close(f->svc.store);
    assert_false(file_has(f->db, SERVICE_PW));
    snprintf(path, sizeof(path), "%s-wal", f->db);
    if (access(path, F_OK) == 0) {
        wal = slurp(path, &len);
        assert_null(memmem(wal, len, SERVICE_PW, strlen(SERVICE_PW)));
        free(wal);
    }
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    /* Deleted with its profile. */
    assert_int_equal(gh_service_directory_delete(&f->svc, "corp", "admin", NULL),
                     GH_DIRPUT_OK);
    snprintf(path, sizeof(path), "%s/directory/corp.password", f->dir);
    assert_int_not_equal(access(path, F_OK), 0);
}

/* A shadow account of corp with a session and a cached credential. */
static int64_t shadow(fixture *f, gh_session_record *rec, uint8_t key[GH_DIGEST_LEN])
{
    gh_account a = { .role = GH_ROLE_READONLY, .enabled = true };
    char token[GH_TOKEN_TEXT_LEN + 1];
    gh_principal who = { 0 };

    snprintf(a.name, sizeof(a.name), "bob@corp");
    snprintf(a.domain, sizeof(a.domain), "corp");
    STORE_OK(gh_store_account_add(f->svc.store, &a));
    who.account_id = a.id;
    who.role = a.role;
    snprintf(who.user, sizeof(who.user), "%s", a.name);
    assert_int_equal(gh_service_session_create(&f->svc, &who, "redfish", 0, "192.0.2.1", token,
                                               rec),
                     GH_SESSION_CREATED);
    gh_token_credential_key(f->svc.secret, "bob", 3, USER_PW, strlen(USER_PW), key);
    gh_shared_cred_put(f->svc.shared, key, &who, gh_now() + 300);
    return a.id;
}

static void test_disabled(void **state)
{
    fixture *f = *state;
    gh_config_directory p;
    gh_session_record rec, got;
    gh_principal who;
    uint8_t key[GH_DIGEST_LEN];
    char why[256];

    (void)shadow(f, &rec, key);
    /* Another setting: the cached credential (verified under the old one)
     * goes, the session stays. */
    file_profile(&p, "corp");
    p.is_default = true;
    p.search_timeout = 2;
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
    assert_false(gh_shared_cred_get(f->svc.shared, key, gh_now(), &who));
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, &got), GH_SHARED_OK);

    /* Disabled: never asked (the server at 127.0.0.1:1 would be
     * unavailable, not a wrong password), its sessions gone. */
    p.enabled = false;
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, &got), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->svc.store, rec.id, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_service_verify_password(&f->svc, "bob", USER_PW, strlen(USER_PW),
                                                "192.0.2.1", "basic", &who),
                     GH_AUTH_BAD_CREDENTIALS);
    assert_int_equal(gh_service_verify_password(&f->svc, "bob@corp", USER_PW, strlen(USER_PW),
                                                "192.0.2.1", "basic", &who),
                     GH_AUTH_BAD_CREDENTIALS);
    /* Enabled again: asked, and it does not answer. */
    p.enabled = true;
    assert_int_equal(put(f, &p, NULL, why), GH_DIRPUT_OK);
    assert_int_equal(gh_service_verify_password(&f->svc, "bob", USER_PW, strlen(USER_PW),
                                                "192.0.2.1", "basic", &who),
                     GH_AUTH_UNAVAILABLE);
    gh_directory_close_thread();
}

/* Another worker's (or machine's) write reaches this one's block through
 * the change log alone. */
static void test_change_log(void **state)
{
    fixture *f = *state;
    gh_service other = f->svc;
    gh_config_directory p;
    gh_session_record rec, got;
    gh_principal who;
    uint8_t key[GH_DIGEST_LEN];
    void *mem;
    gh_shared_limits l = { 64, 64, 64 };
    char why[256];

    STORE_OK(gh_service_load(&f->svc));
    (void)shadow(f, &rec, key);
    assert_non_null(mem = malloc(gh_shared_size(&l)));
    assert_non_null(other.shared = gh_shared_format(mem, &l, (gh_shared_lock){ 0 }));
    STORE_OK(gh_store_open(f->db, &other.store));
    file_profile(&p, "corp");
    p.enabled = false;
    assert_int_equal(gh_service_directory_put(&other, &p, NULL, 0, "admin", NULL, why,
                                              sizeof(why)),
                     GH_DIRPUT_OK);
    assert_true(gh_shared_cred_get(f->svc.shared, key, gh_now(), &who));
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, &got), GH_SHARED_OK);
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_false(gh_shared_cred_get(f->svc.shared, key, gh_now(), &who));
    assert_int_equal(gh_shared_session_get(f->svc.shared, rec.id, &got), GH_SHARED_NOT_FOUND);
    gh_store_close(other.store);
    gh_shared_detach(other.shared);
    free(mem);
}

static void test_text(void **state)
{
    gh_config_directory p, q;
    char text[GH_DIRECTORY_TEXT_MAX];
    const char *why;

    (void)state;
    file_profile(&p, "corp");
    snprintf(p.operator_groups, sizeof(p.operator_groups), "cn=a\\2Cb,dc=x|cn=c,dc=x");
    snprintf(p.user_filter, sizeof(p.user_filter), "(&(objectClass=person)(cn=é=))");
    p.enabled = false;
    p.starttls = true;
    assert_true(gh_config_directory_write(&p, text, sizeof(text)));
    gh_config_directory_defaults(&q);
    snprintf(q.name, sizeof(q.name), "corp");
    assert_true(gh_config_directory_read(&q, text, &why));
    assert_string_equal(q.operator_groups, p.operator_groups);
    assert_string_equal(q.user_filter, p.user_filter);
    assert_false(q.enabled);
    assert_true(q.starttls);
    assert_int_equal(q.search_timeout, 1);
    assert_false(gh_config_directory_write(&p, text, 100));
    assert_false(gh_config_directory_read(&q, "servers", &why));
    assert_false(gh_config_directory_read(&q, "password=x\n", &why));
    assert_false(gh_config_directory_read(&q, "search_timeout=0\n", &why));
    assert_false(gh_config_directory_read(&q, "enabled=maybe\n", &why));
    assert_false(gh_config_directory_read(&q, "servers=\n", &why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_overlay_and_tombstone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_profiles_and_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
        cmocka_unit_test(test_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
