/*
 * test_session.c: the session store interface. The local store answers
 * before each call returns; the waiting wrappers also work with a store that
 * answers later, from another thread, as a network store does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/session.h"
#include "thread_wait.h"

typedef struct {
    void         *mem;
    gh_shared    *shared;
    gh_session_store *ss;
} fixture;

static int setup(void **state)
{
    gh_shared_limits l = { 8, 8, 8 };
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_non_null(f->mem = calloc(1, gh_shared_size(&l)));
    assert_non_null(f->shared = gh_shared_format(f->mem, &l, (gh_shared_lock){ 0 }));
    gh_shared_setting_set(f->shared, GH_SET_SESSION_TIMEOUT, 60);
    assert_non_null(f->ss = gh_session_store_local(f->shared));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    gh_session_store_close(f->ss);
    gh_shared_detach(f->shared);
    free(f->mem);
    free(f);
    return 0;
}

static gh_session_record record(const char *id, uint8_t fill, int64_t now)
{
    gh_session_record rec;

    memset(&rec, 0, sizeof(rec));
    strcpy(rec.id, id);
    memset(rec.digest, fill, sizeof(rec.digest));
    rec.account_id = 7;
    strcpy(rec.user, "alice");
    snprintf(rec.dialect, sizeof(rec.dialect), "redfish");
    rec.created = rec.last_used = now;
    return rec;
}

typedef struct {
    int              calls;
    gh_shared_result result;
    gh_principal     who;
    char             rec_id[GH_SESSION_ID_LEN + 1];
} answer;

static void on_found(void *arg, gh_shared_result result, const gh_principal *who,
                     const gh_session_record *rec)
{
    answer *a = arg;

    a->calls++;
    a->result = result;
    if (who != NULL)
        a->who = *who;
    if (rec != NULL)
        strcpy(a->rec_id, rec->id);
}

static void on_done(void *arg, gh_shared_result result, const gh_session_record *rec)
{
    answer *a = arg;

    a->calls++;
    a->result = result;
    if (rec != NULL)
        strcpy(a->rec_id, rec->id);
}

static void test_local_answers_at_once(void **state)
{
    fixture *f = *state;
    int64_t now = 1000;
    gh_session_record rec = record("aa", 0x11, now);
    uint8_t digest[GH_DIGEST_LEN];
    answer a = { 0 };

    gh_session_add(f->ss, &rec, GH_ROLE_OPERATOR, true, on_done, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, GH_SHARED_OK);

    memset(digest, 0x11, sizeof(digest));
    memset(&a, 0, sizeof(a));
    gh_session_find(f->ss, digest, now + 5, on_found, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, GH_SHARED_OK);
    assert_string_equal(a.who.user, "alice");
    assert_int_equal(a.who.role, GH_ROLE_OPERATOR);
    assert_true(a.who.password_change_required);
    assert_string_equal(a.who.session_id, "aa");

    /* idle past the live timeout: EXPIRED, and the ended record is given */
    memset(&a, 0, sizeof(a));
    gh_session_find(f->ss, digest, now + 5 + 60, on_found, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, GH_SHARED_EXPIRED);
    assert_string_equal(a.rec_id, "aa");
    memset(&a, 0, sizeof(a));
    gh_session_find(f->ss, digest, now + 70, on_found, &a);
    assert_int_equal(a.result, GH_SHARED_NOT_FOUND);
}

static void test_local_remove(void **state)
{
    fixture *f = *state;
    gh_session_record rec = record("bb", 0x22, 1000), removed;
    answer a = { 0 };

    assert_int_equal(gh_session_add_wait(f->ss, &rec, GH_ROLE_READONLY, false), GH_SHARED_OK);
    gh_session_remove(f->ss, "bb", on_done, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, GH_SHARED_OK);
    assert_string_equal(a.rec_id, "bb");
    assert_int_equal(gh_session_remove_wait(f->ss, "bb", &removed), GH_SHARED_NOT_FOUND);
}

static void test_local_full(void **state)
{
    fixture *f = *state;
    char id[16];

    for (int i = 0; i < 8; i++) {
        gh_session_record rec;

        snprintf(id, sizeof(id), "s%d", i);
        rec = record(id, (uint8_t)(0x30 + i), 1000);
        assert_int_equal(gh_session_add_wait(f->ss, &rec, GH_ROLE_READONLY, false),
                         GH_SHARED_OK);
    }
    gh_session_record extra = record("s9", 0x50, 1000);
    assert_int_equal(gh_session_add_wait(f->ss, &extra, GH_ROLE_READONLY, false), GH_SHARED_FULL);
}

/* A store that answers from another thread, once the caller waits for the
 * answer (blocked on its condition variable: a futex). */
typedef struct {
    gh_session_store    base;
    gh_session_done_cb  cb;
    gh_session_found_cb found_cb;
    void               *arg;
    gh_session_record   rec;
    pid_t               caller;
    int                 late;     /* answers given while the caller waited */
} late_store;

static void *late_answer(void *p)
{
    late_store *ls = p;
    gh_principal who;

    if (test_thread_blocked_in(ls->caller, SYS_futex, SYS_futex, 10000))
        ls->late++;
    if (ls->found_cb != NULL) {
        memset(&who, 0, sizeof(who));
        strcpy(who.user, ls->rec.user);
        strcpy(who.dialect, ls->rec.dialect);
        strcpy(who.session_id, ls->rec.id);
        ls->found_cb(ls->arg, GH_SHARED_OK, &who, &ls->rec);
    } else {
        ls->cb(ls->arg, GH_SHARED_OK, &ls->rec);
    }
    return NULL;
}

static void late_start(late_store *ls, gh_session_done_cb cb, void *arg)
{
    pthread_t t;

    ls->cb = cb;
    ls->arg = arg;
    ls->caller = gettid();
    assert_int_equal(pthread_create(&t, NULL, late_answer, ls), 0);
    pthread_detach(t);
}

static void late_add(gh_session_store *ss, const gh_session_record *rec, gh_role role,
                     bool pcr, gh_session_done_cb cb, void *arg)
{
    (void)role;
    (void)pcr;
    ((late_store *)ss)->rec = *rec;
    late_start((late_store *)ss, cb, arg);
}

static void late_remove(gh_session_store *ss, const char *id, gh_session_done_cb cb, void *arg)
{
    strcpy(((late_store *)ss)->rec.id, id);
    late_start((late_store *)ss, cb, arg);
}

static void late_find(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN], int64_t now,
                      gh_session_found_cb cb, void *arg)
{
    late_store *ls = (late_store *)ss;
    pthread_t t;

    (void)now;
    memcpy(ls->rec.digest, digest, GH_DIGEST_LEN);
    ls->found_cb = cb;
    ls->arg = arg;
    ls->caller = gettid();
    assert_int_equal(pthread_create(&t, NULL, late_answer, ls), 0);
    pthread_detach(t);
}

static void late_close(gh_session_store *ss)
{
    (void)ss;
}

static const gh_session_store_ops late_ops = { late_find, late_add, late_remove, late_close };

static void test_wait_for_a_late_store(void **state)
{
    late_store ls = { .base = { &late_ops } };
    gh_session_record rec = record("cc", 0x33, 1000), removed;

    (void)state;
    assert_int_equal(gh_session_add_wait(&ls.base, &rec, GH_ROLE_READONLY, false), GH_SHARED_OK);
    memset(&removed, 0, sizeof(removed));
    assert_int_equal(gh_session_remove_wait(&ls.base, "dd", &removed), GH_SHARED_OK);
    assert_string_equal(removed.id, "dd");
    assert_int_equal(ls.late, 2);
}

static void test_find_wait(void **state)
{
    fixture *f = *state;
    gh_session_record rec = record("ee", 0x44, 1000), got;
    uint8_t digest[GH_DIGEST_LEN], other[GH_DIGEST_LEN];
    gh_principal who;

    memset(digest, 0x44, sizeof(digest));
    memset(other, 0x45, sizeof(other));
    assert_int_equal(gh_session_add_wait(f->ss, &rec, GH_ROLE_OPERATOR, false), GH_SHARED_OK);
    memset(&who, 0, sizeof(who));
    memset(&got, 0, sizeof(got));
    assert_int_equal(gh_session_find_wait(f->ss, digest, 1030, &who, &got), GH_SHARED_OK);
    assert_string_equal(who.user, "alice");
    assert_string_equal(who.session_id, "ee");
    assert_int_equal(who.role, GH_ROLE_OPERATOR);
    assert_string_equal(got.id, "ee");
    assert_int_equal(got.last_used, 1030);     /* a find is a use */
    /* Either output may be left out. */
    assert_int_equal(gh_session_find_wait(f->ss, digest, 1031, NULL, NULL), GH_SHARED_OK);
    assert_int_equal(gh_session_find_wait(f->ss, other, 1031, &who, &got), GH_SHARED_NOT_FOUND);
    /* Idle past the 60 s timeout: expired, removed, and the record said which. */
    memset(&got, 0, sizeof(got));
    assert_int_equal(gh_session_find_wait(f->ss, digest, 1031 + 60, NULL, &got),
                     GH_SHARED_EXPIRED);
    assert_string_equal(got.id, "ee");
    assert_int_equal(gh_session_find_wait(f->ss, digest, 1031 + 60, NULL, &got),
                     GH_SHARED_NOT_FOUND);
}

static void test_find_wait_for_a_late_store(void **state)
{
    late_store ls = { .base = { &late_ops } };
    uint8_t digest[GH_DIGEST_LEN];
    gh_session_record got;
    gh_principal who;

    (void)state;
    ls.rec = record("ff", 0, 1000);
    memset(digest, 0x5a, sizeof(digest));
    memset(&who, 0, sizeof(who));
    assert_int_equal(gh_session_find_wait(&ls.base, digest, 1000, &who, &got), GH_SHARED_OK);
    assert_string_equal(who.session_id, "ff");
    assert_string_equal(got.id, "ff");
    assert_memory_equal(got.digest, digest, GH_DIGEST_LEN);
    assert_int_equal(ls.late, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_local_answers_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_full, setup, teardown),
        cmocka_unit_test(test_wait_for_a_late_store),
        cmocka_unit_test_setup_teardown(test_find_wait, setup, teardown),
        cmocka_unit_test(test_find_wait_for_a_late_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
