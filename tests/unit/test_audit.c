/*
 * test_audit.c: records are whole JSON lines with exactly the fields given,
 * a client cannot forge a record through a field, nothing secret reaches the
 * file, the file is 0600, and lines from many threads never interleave, nor
 * are lost or split when the file is reopened (rotated) under them; a
 * request's records carry its id and dialect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/audit.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh_audit_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The whole file, NUL-terminated; caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "r");
    char *buf;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Parse line number idx (0-based) of the file. */
static json_t *line_at(const char *text, int idx)
{
    const char *p = text, *nl;
    json_error_t jerr;
    json_t *obj;

    for (int i = 0; i < idx; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    nl = strchr(p, '\n');
    assert_non_null(nl);
    obj = json_loadb(p, (size_t)(nl - p), 0, &jerr);
    if (obj == NULL)
        fail_msg("line %d: %s", idx, jerr.text);
    return obj;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;

    for (; *text != '\0'; text++)
        n += *text == '\n';
    return n;
}

static void test_fields(void **state)
{
    fixture *f = *state;
    gh_audit *a;
    char *text;
    size_t len;
    json_t *o;
    const char *t;
    struct stat st;

    assert_int_equal(gh_audit_open(f->path, &a), 0);
    gh_audit_write(a, GH_AUDIT_LOGIN, "alice", "192.0.2.7", "redfish-login",
                   "0123456789abcdef0123456789abcdef", NULL);
    gh_audit_write(a, GH_AUDIT_LOGIN_FAILED, "bob", NULL, "basic", NULL, "bad password");
    gh_audit_write(a, GH_AUDIT_EXPIRED, NULL, NULL, NULL, NULL, NULL);
    gh_audit_close(a);

    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    text = slurp(f->path, &len);
    assert_int_equal(count_lines(text), 3);

    o = line_at(text, 0);
    assert_int_equal(json_object_size(o), 6);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "login");
    assert_string_equal(json_string_value(json_object_get(o, "user")), "alice");
    assert_string_equal(json_string_value(json_object_get(o, "client")), "192.0.2.7");
    assert_string_equal(json_string_value(json_object_get(o, "method")), "redfish-login");
    assert_string_equal(json_string_value(json_object_get(o, "session")),
                        "0123456789abcdef0123456789abcdef");
    assert_null(json_object_get(o, "detail"));
    t = json_string_value(json_object_get(o, "time"));
    assert_non_null(t);
    /* RFC 3339 in UTC: 2024-05-01T12:34:56Z */
    assert_int_equal(strlen(t), 20);
    assert_true(t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[19] == 'Z');
    json_decref(o);

    o = line_at(text, 1);
    assert_int_equal(json_object_size(o), 5);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "login_failed");
    assert_string_equal(json_string_value(json_object_get(o, "detail")), "bad password");
    assert_null(json_object_get(o, "client"));
    assert_null(json_object_get(o, "session"));
    json_decref(o);

    o = line_at(text, 2);
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "expired");
    json_decref(o);
    free(text);
}

/* A record longer than the usual (every field at its cap, escaped six
 * bytes a character) is written whole, after one of the usual size. */
static void test_long_record_whole(void **state)
{
    fixture *f = *state;
    gh_audit *a;
    char field[300], *text;
    size_t len;
    json_t *o;

    memset(field, 0x01, sizeof(field) - 1);
    field[sizeof(field) - 1] = '\0';
    assert_int_equal(gh_audit_open(f->path, &a), 0);
    gh_audit_write(a, GH_AUDIT_LOGIN, "alice", NULL, NULL, NULL, "short");
    gh_audit_write(a, GH_AUDIT_LOGIN_FAILED, field, field, field, field, field);
    gh_audit_close(a);

    text = slurp(f->path, &len);
    assert_int_equal(count_lines(text), 2);
    assert_true(len > 5 * 256 * 6);
    o = line_at(text, 1);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "detail"))), 256);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "user"))), 256);
    json_decref(o);
    o = line_at(text, 0);
    assert_string_equal(json_string_value(json_object_get(o, "detail")), "short");
    json_decref(o);
    free(text);
}

static void test_no_secret_leaks(void **state)
{
    fixture *f = *state;
    /* What a login carries besides the fields: none of it may be written. */
    static const char password[] = "Tr0ub4dor&3-never-logged";
    static const char token[] =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    gh_audit *a;
    char *text;
    size_t len;
    json_t *o;
    const char *key;
    json_t *val;

    assert_int_equal(gh_audit_open(f->path, &a), 0);
    gh_audit_write(a, GH_AUDIT_LOGIN, "carol", "2001:db8::1", "session",
                   "abcdefabcdefabcdefabcdefabcdefab", NULL);
    gh_audit_write(a, GH_AUDIT_LOGOUT, "carol", "2001:db8::1", "session",
                   "abcdefabcdefabcdefabcdefabcdefab", NULL);
    gh_audit_close(a);

    text = slurp(f->path, &len);
    assert_null(strstr(text, password));
    assert_null(strstr(text, token));
    /* Only the documented keys, each holding exactly what it was given. */
    for (int i = 0; i < 2; i++) {
        o = line_at(text, i);
        json_object_foreach(o, key, val) {
            assert_true(strcmp(key, "time") == 0 || strcmp(key, "event") == 0
                        || strcmp(key, "user") == 0 || strcmp(key, "client") == 0
                        || strcmp(key, "method") == 0 || strcmp(key, "session") == 0);
        }
        assert_string_equal(json_string_value(json_object_get(o, "user")), "carol");
        json_decref(o);
    }
    free(text);
}

static void test_forgery_and_bad_bytes(void **state)
{
    fixture *f = *state;
    gh_audit *a;
    char *text, longuser[1000];
    size_t len;
    json_t *o;

    memset(longuser, 'u', sizeof(longuser) - 1);
    longuser[sizeof(longuser) - 1] = '\0';
    assert_int_equal(gh_audit_open(f->path, &a), 0);
    /* A newline and a fake record inside a user name. */
    gh_audit_write(a, GH_AUDIT_LOGIN_FAILED,
                   "eve\n{\"event\":\"login\",\"user\":\"admin\"}", NULL, "basic", NULL, NULL);
    /* Latin-1, not UTF-8. */
    gh_audit_write(a, GH_AUDIT_LOGIN_FAILED, "j\xf6rg", NULL, "basic", NULL, NULL);
    gh_audit_write(a, GH_AUDIT_LOGIN_FAILED, longuser, NULL, "basic", NULL, NULL);
    /* Valid UTF-8 survives untouched. */
    gh_audit_write(a, GH_AUDIT_LOGIN, "j\xc3\xb6rg", NULL, "basic", NULL, NULL);
    gh_audit_close(a);

    text = slurp(f->path, &len);
    assert_int_equal(count_lines(text), 4);
    o = line_at(text, 0);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "login_failed");
    assert_string_equal(json_string_value(json_object_get(o, "user")),
                        "eve\n{\"event\":\"login\",\"user\":\"admin\"}");
    json_decref(o);
    o = line_at(text, 1);
    assert_string_equal(json_string_value(json_object_get(o, "user")), "j?rg");
    json_decref(o);
    o = line_at(text, 2);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "user"))), 256);
    json_decref(o);
    o = line_at(text, 3);
    assert_string_equal(json_string_value(json_object_get(o, "user")), "j\xc3\xb6rg");
    json_decref(o);
    free(text);
}

static void test_utf8_cut_on_boundary(void **state)
{
    fixture *f = *state;
    gh_audit *a;
    char *text, user[600];
    size_t len, n = 0;
    json_t *o;
    const char *u;

    /* 'x' then two-byte characters, so byte 256 falls inside one. */
    user[n++] = 'x';
    while (n + 2 < sizeof(user)) {
        user[n++] = '\xc3';
        user[n++] = '\xa9';
    }
    user[n] = '\0';
    assert_int_equal(gh_audit_open(f->path, &a), 0);
    gh_audit_write(a, GH_AUDIT_LOGIN_FAILED, user, NULL, NULL, NULL, NULL);
    gh_audit_close(a);
    text = slurp(f->path, &len);
    o = line_at(text, 0);
    u = json_string_value(json_object_get(o, "user"));
    assert_int_equal(strlen(u), 255);
    assert_int_equal(strncmp(u, user, 255), 0);
    json_decref(o);
    free(text);
}

static void test_null_and_empty_path(void **state)
{
    gh_audit *a = NULL;

    (void)state;
    assert_int_equal(gh_audit_open(NULL, &a), 0);
    assert_non_null(a);
    gh_audit_write(a, GH_AUDIT_LOGIN, "x", NULL, NULL, NULL, NULL);
    gh_audit_close(a);
    assert_int_equal(gh_audit_open("", &a), 0);
    gh_audit_write(a, GH_AUDIT_LOGIN, "x", NULL, NULL, NULL, NULL);
    gh_audit_close(a);
    gh_audit_write(NULL, GH_AUDIT_LOGIN, "x", NULL, NULL, NULL, NULL);
    gh_audit_close(NULL);
}

static void test_open_failure(void **state)
{
    gh_audit *a = (gh_audit *)1;

    (void)state;
    assert_int_equal(gh_audit_open("/nonexistent-dir-gh/audit.log", &a), -1);
    assert_int_equal(errno, ENOENT);
    assert_null(a);
}

static void test_event_names(void **state)
{
    (void)state;
    assert_string_equal(gh_audit_event_name(GH_AUDIT_LOGIN), "login");
    assert_string_equal(gh_audit_event_name(GH_AUDIT_LOGIN_FAILED), "login_failed");
    assert_string_equal(gh_audit_event_name(GH_AUDIT_LOGOUT), "logout");
    assert_string_equal(gh_audit_event_name(GH_AUDIT_EXPIRED), "expired");
    assert_string_equal(gh_audit_event_name(GH_AUDIT_REVOKED), "revoked");
    assert_string_equal(gh_audit_event_name(GH_AUDIT_LOCKOUT), "lockout");
    assert_string_equal(gh_audit_event_name(GH_AUDIT_ACCOUNT_CHANGED), "account_changed");
    assert_string_equal(gh_audit_event_name((gh_audit_event)99), "unknown");
}

#define THREADS 8
#define PER_THREAD 300

static void *writer(void *arg)
{
    gh_audit *a = arg;
    char detail[200];

    memset(detail, 'd', sizeof(detail) - 1);
    detail[sizeof(detail) - 1] = '\0';
    for (int i = 0; i < PER_THREAD; i++)
        gh_audit_write(a, GH_AUDIT_LOGIN, "threaded", "127.0.0.1", "basic", NULL, detail);
    return NULL;
}

static void test_threads_never_interleave(void **state)
{
    fixture *f = *state;
    pthread_t th[THREADS];
    gh_audit *a, *b;
    char *text;
    size_t len;
    json_t *o;

    /* Two handles on one file, as two nginx workers would have. */
    assert_int_equal(gh_audit_open(f->path, &a), 0);
    assert_int_equal(gh_audit_open(f->path, &b), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, i % 2 ? a : b), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    gh_audit_close(a);
    gh_audit_close(b);

    text = slurp(f->path, &len);
    assert_int_equal(count_lines(text), THREADS * PER_THREAD);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        o = line_at(text, i);
        assert_string_equal(json_string_value(json_object_get(o, "user")), "threaded");
        json_decref(o);
    }
    free(text);
}

static void test_origin(void **state)
{
    fixture *f = *state;
    gh_audit_origin origin = { "0123456789abcdef0123456789abcdef", "redfish", 0 };
    gh_audit_origin none = { "", NULL, 0 };
    gh_audit *a;
    char *text;
    size_t len;
    json_t *o;

    assert_int_equal(gh_audit_open(f->path, &a), 0);
    gh_audit_write_for(a, &origin, GH_AUDIT_LOGIN_FAILED, "bob", NULL, "basic", NULL, NULL);
    gh_audit_write_for(a, &origin, GH_AUDIT_LOCKOUT, "bob", NULL, "basic", NULL, NULL);
    gh_audit_write_for(a, &none, GH_AUDIT_LOGOUT, "bob", NULL, NULL, NULL, NULL);
    gh_audit_write_for(a, NULL, GH_AUDIT_EXPIRED, "bob", NULL, NULL, NULL, NULL);
    gh_audit_close(a);
    assert_int_equal(origin.events,
                     (1u << GH_AUDIT_LOGIN_FAILED) | (1u << GH_AUDIT_LOCKOUT));
    assert_int_equal(none.events, 1u << GH_AUDIT_LOGOUT);

    text = slurp(f->path, &len);
    assert_int_equal(count_lines(text), 4);
    o = line_at(text, 0);
    assert_string_equal(json_string_value(json_object_get(o, "request_id")),
                        "0123456789abcdef0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(o, "dialect")), "redfish");
    json_decref(o);
    for (int i = 2; i < 4; i++) {
        o = line_at(text, i);
        assert_null(json_object_get(o, "request_id"));
        assert_null(json_object_get(o, "dialect"));
        json_decref(o);
    }
    free(text);
}

static void test_facility(void **state)
{
    (void)state;
    assert_int_equal(gh_audit_facility("authpriv"), LOG_AUTHPRIV);
    assert_int_equal(gh_audit_facility("local7"), LOG_LOCAL7);
    assert_int_equal(gh_audit_facility("auth"), LOG_AUTH);
    assert_int_equal(gh_audit_facility("kern"), -1);
    assert_int_equal(gh_audit_facility(""), -1);
    assert_int_equal(gh_audit_facility(NULL), -1);
}

/* Writers keep writing while the file is renamed away and the log reopened,
 * again and again (logrotate, then nginx's reopen): every record lands whole
 * in one of the files, none is lost, and the new files are 0600. */
#define ROTATIONS 20

static void test_reopen_under_writers(void **state)
{
    fixture *f = *state;
    pthread_t th[THREADS];
    char rotated[ROTATIONS][160], *text;
    size_t len, total = 0;
    gh_audit *a;
    struct stat st;

    assert_int_equal(gh_audit_open(f->path, &a), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, a), 0);
    for (int r = 0; r < ROTATIONS; r++) {
        snprintf(rotated[r], sizeof(rotated[r]), "%s.%d", f->path, r);
        assert_int_equal(rename(f->path, rotated[r]), 0);
        assert_int_equal(gh_audit_reopen(a), 0);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    gh_audit_close(a);

    for (int r = 0; r <= ROTATIONS; r++) {
        const char *path = r < ROTATIONS ? rotated[r] : f->path;
        size_t n;

        text = slurp(path, &len);
        n = count_lines(text);
        for (size_t i = 0; i < n; i++)
            json_decref(line_at(text, (int)i));     /* each a whole object */
        total += n;
        free(text);
        if (r < ROTATIONS)
            unlink(path);
    }
    assert_int_equal(total, THREADS * PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_record_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secret_leaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forgery_and_bad_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_cut_on_boundary, setup, teardown),
        cmocka_unit_test(test_null_and_empty_path),
        cmocka_unit_test(test_open_failure),
        cmocka_unit_test(test_event_names),
        cmocka_unit_test_setup_teardown(test_threads_never_interleave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin, setup, teardown),
        cmocka_unit_test(test_facility),
        cmocka_unit_test_setup_teardown(test_reopen_under_writers, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
