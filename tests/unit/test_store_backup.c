/*
 * test_store_backup.c: backup and restore of the embedded store
 * (store_backup.h): a copy holds what the store held, stands alone (mode
 * 0600, no -wal), is one snapshot even while another connection commits
 * throughout, never lands on the database; the check refuses what is not a
 * whole gatehouse database of a schema this version reads; a restore puts
 * the copy in place, the old -wal gone, and a refused one (a bad copy, an
 * old WAL that cannot be folded) leaves the database as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/store_backup.h"
#include "store_fixture.h"
#include "thread_wait.h"

/* Sessions the writer thread starts from: enough pages for many steps. */
#define PRELOAD_SESSIONS 8000

static void path_in(const fixture *f, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", f->dir, name);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void exec_raw(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int64_t count_accounts(gh_store *s)
{
    int64_t n = 0;
    gh_account a;

    for (int64_t id = 1; id < 100; id++)
        n += gh_store_account_get_by_id(s, id, &a) == GH_STORE_OK;
    return n;
}

static void cleanup(const fixture *f, const char *name)
{
    char path[160];

    path_in(f, name, path, sizeof path);
    remove_db(path);
    strncat(path, ".tmp", sizeof path - strlen(path) - 1);
    unlink(path);
}

static void test_backup_round_trip(void **state)
{
    fixture *f = *state;
    char dest[160], side[170];
    uint8_t a[GH_DIGEST_LEN], b[GH_DIGEST_LEN];
    gh_backup_info info;
    gh_session_record rec;
    gh_store *copy = NULL;
    struct stat sb;
    mode_t old = umask(0);          /* the mode must not depend on the umask */
    int64_t id = add_account(f->store, "alice");

    add_account(f->store, "bob");
    insert_session(f->store, "s1", id, 100);
    path_in(f, "backup.db", dest, sizeof dest);
    assert_int_equal(gh_backup_take(f->path, dest, &info), GH_BACKUP_OK);
    umask(old);
    assert_int_equal(info.accounts, 2);
    assert_int_equal(info.sessions, 1);
    assert_int_equal(info.schema, 6);
    assert_true(info.pages > 0);
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(side, sizeof side, "%s-wal", dest);
    assert_false(exists(side));
    snprintf(side, sizeof side, "%s.tmp", dest);
    assert_false(exists(side));

    memset(&info, 0, sizeof info);
    assert_int_equal(gh_backup_check(dest, &info), GH_BACKUP_OK);
    assert_int_equal(info.accounts, 2);
    assert_int_equal(gh_store_open(dest, &copy), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(copy, "s1", &rec), GH_STORE_OK);
    assert_int_equal(rec.account_id, id);
    assert_int_equal(gh_store_secret(copy, a), GH_STORE_OK);
    assert_int_equal(gh_store_secret(f->store, b), GH_STORE_OK);
    assert_memory_equal(a, b, GH_DIGEST_LEN);
    gh_store_close(copy);
    cleanup(f, "backup.db");
}

/* Commits sessions w000000, w000001, ... one by one on a connection of its
 * own until told to stop; committed counts those acknowledged. */
typedef struct {
    fixture    *f;
    int64_t     account_id;
    atomic_long committed;
    atomic_bool stop;
} writer;

static void *writer_run(void *arg)
{
    writer *w = arg;
    gh_store *s = NULL;
    char id[24];

    if (store_open(w->f, &s) != GH_STORE_OK)
        return NULL;
    for (long i = 0; !atomic_load(&w->stop); i++) {
        gh_session_record r;

        snprintf(id, sizeof id, "w%06ld", i);
        r = make_session(id, w->account_id, 1000 + i);
        if (gh_store_session_insert(s, &r) != GH_STORE_OK)
            break;
        atomic_store(&w->committed, i + 1);
    }
    gh_store_close(s);
    return NULL;
}

static void preload(fixture *f, int64_t id)
{
    char sid[24];

    assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
    for (int i = 0; i < PRELOAD_SESSIONS; i++) {
        snprintf(sid, sizeof sid, "p%06d", i);
        insert_session(f->store, sid, id, i);
    }
    assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
}

/* The copy is one snapshot: of the writer's sessions it holds exactly the
 * first n, n at least as many as were acknowledged before it began. */
static void test_backup_while_writing(void **state)
{
    fixture *f = *state;
    char dest[160], sid[24];
    gh_backup_info info;
    gh_session_record rec;
    gh_store *copy = NULL;
    pthread_t t;
    writer w = { .f = f };
    long before;
    int64_t until;

    w.account_id = add_account(f->store, "alice");
    preload(f, w.account_id);
    assert_int_equal(pthread_create(&t, NULL, writer_run, &w), 0);
    until = test_monotonic_ms() + 30000;
    while (atomic_load(&w.committed) < 10 && test_monotonic_ms() < until)
        usleep(100);
    assert_true(atomic_load(&w.committed) >= 10);
    before = atomic_load(&w.committed);
    path_in(f, "backup.db", dest, sizeof dest);
    assert_int_equal(gh_backup_take(f->path, dest, &info), GH_BACKUP_OK);
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);
    assert_true(info.steps > 1);

    assert_true(info.sessions >= PRELOAD_SESSIONS + before);
    assert_true(info.sessions <= PRELOAD_SESSIONS + atomic_load(&w.committed));
    assert_int_equal(gh_store_open(dest, &copy), GH_STORE_OK);
    for (long i = 0; i < info.sessions - PRELOAD_SESSIONS; i++) {
        snprintf(sid, sizeof sid, "w%06ld", i);
        assert_int_equal(gh_store_session_get(copy, sid, &rec), GH_STORE_OK);
    }
    snprintf(sid, sizeof sid, "w%06ld", (long)(info.sessions - PRELOAD_SESSIONS));
    assert_int_equal(gh_store_session_get(copy, sid, &rec), GH_STORE_NOT_FOUND);
    gh_store_close(copy);
    cleanup(f, "backup.db");
}

static void test_backup_never_on_the_database(void **state)
{
    fixture *f = *state;
    char wal[160];
    gh_backup_info info;

    add_account(f->store, "alice");
    assert_int_equal(gh_backup_take(f->path, f->path, &info), GH_BACKUP_SAME);
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_true(exists(wal));
    assert_int_equal(gh_backup_take(f->path, wal, &info), GH_BACKUP_SAME);
    assert_int_equal(count_accounts(f->store), 1);
}

/* Nor on a database whose name is FILE.tmp, the copy's own first name: the
 * create that replaces a stale copy would delete it. */
static void test_backup_never_on_the_database_as_tmp(void **state)
{
    fixture *f = *state;
    char live[150], dest[140];
    gh_store *store = NULL;
    gh_backup_info info;

    path_in(f, "live", dest, sizeof dest);
    snprintf(live, sizeof live, "%s.tmp", dest);
    assert_int_equal(gh_store_open(live, &store), GH_STORE_OK);
    add_account(store, "alice");
    assert_int_equal(gh_backup_take(live, dest, &info), GH_BACKUP_SAME);
    assert_true(exists(live));
    assert_int_equal(count_accounts(store), 1);
    gh_store_close(store);
    remove_db(live);
}

/* A copy an earlier run left at FILE.tmp (another mode, another content)
 * is replaced, never reused. */
static void test_backup_replaces_a_stale_tmp(void **state)
{
    fixture *f = *state;
    char dest[160], tmp[170];
    gh_backup_info info;
    struct stat sb;

    add_account(f->store, "alice");
    path_in(f, "backup.db", dest, sizeof dest);
    snprintf(tmp, sizeof tmp, "%s.tmp", dest);
    write_file(tmp, "stale", 5, 0644);
    assert_int_equal(gh_backup_take(f->path, dest, &info), GH_BACKUP_OK);
    assert_int_equal(stat(dest, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_false(exists(tmp));
    assert_int_equal(gh_backup_check(dest, &info), GH_BACKUP_OK);
    cleanup(f, "backup.db");
}

static void test_check_refuses(void **state)
{
    fixture *f = *state;
    char dest[160], bad[160], half[160];
    gh_backup_info info;
    struct stat sb;
    char *buf;
    int fd;

    add_account(f->store, "alice");
    path_in(f, "backup.db", dest, sizeof dest);
    assert_int_equal(gh_backup_take(f->path, dest, &info), GH_BACKUP_OK);

    path_in(f, "garbage.db", bad, sizeof bad);
    write_file(bad, "this is not a database, not even close to one, at all\n", 55, 0600);
    assert_int_equal(gh_backup_check(bad, &info), GH_BACKUP_NOT_DATABASE);

    /* the copy cut in half */
    path_in(f, "other.db", half, sizeof half);
    assert_int_equal(stat(dest, &sb), 0);
    buf = malloc((size_t)sb.st_size);
    fd = open(dest, O_RDONLY);
    assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
    close(fd);
    write_file(half, buf, (size_t)sb.st_size / 2, 0600);
    free(buf);
    assert_int_equal(gh_backup_check(half, &info), GH_BACKUP_SHORT);
    assert_non_null(strstr(info.detail, "header says"));

    /* an SQLite database of someone else's */
    remove_db(bad);
    exec_raw(bad, "CREATE TABLE t(x); PRAGMA user_version = 3;");
    assert_int_equal(gh_backup_check(bad, &info), GH_BACKUP_NOT_GATEHOUSE);
    /* a gatehouse database without its secret */
    remove_db(half);
    exec_raw(dest, "PRAGMA journal_mode = DELETE;");
    exec_raw(dest, "DELETE FROM meta WHERE key = 'secret';");
    assert_int_equal(gh_backup_check(dest, &info), GH_BACKUP_NOT_GATEHOUSE);
    /* one a newer gatehouse wrote */
    exec_raw(dest, "PRAGMA user_version = 99;");
    assert_int_equal(gh_backup_check(dest, &info), GH_BACKUP_NEWER);
    assert_non_null(strstr(info.detail, "99"));
    cleanup(f, "backup.db");
}

static int open_read(const char *path)
{
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    return fd;
}

/* What the store held at the backup comes back; what came after goes, the
 * old database's -wal with it. */
static void test_restore(void **state)
{
    fixture *f = *state;
    char dest[160], wal[160], tmp[170];
    gh_backup_info info;
    gh_session_record rec;
    int64_t id = add_account(f->store, "alice");
    int fd;

    insert_session(f->store, "s1", id, 100);
    path_in(f, "backup.db", dest, sizeof dest);
    assert_int_equal(gh_backup_take(f->path, dest, &info), GH_BACKUP_OK);
    add_account(f->store, "bob");
    insert_session(f->store, "s2", id, 200);
    gh_store_close(f->store);
    f->store = NULL;
    /* a WAL beside the old database, as a crash leaves one */
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    write_file(wal, "left by a crash", 15, 0600);

    fd = open_read(dest);
    assert_int_equal(gh_backup_restore(fd, f->path, &info), GH_BACKUP_OK);
    close(fd);
    assert_int_equal(info.accounts, 1);
    assert_int_equal(info.sessions, 1);
    assert_false(exists(wal));
    snprintf(tmp, sizeof tmp, "%s.restore", f->path);
    assert_false(exists(tmp));
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(count_accounts(f->store), 1);
    assert_int_equal(gh_store_session_get(f->store, "s1", &rec), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s2", &rec), GH_STORE_NOT_FOUND);
    cleanup(f, "backup.db");
}

/* A refused copy leaves the database as it was, and nothing beside it. */
static void test_restore_refused(void **state)
{
    fixture *f = *state;
    char bad[160], tmp[170];
    gh_backup_info info;
    int fd;

    add_account(f->store, "alice");
    add_account(f->store, "bob");
    gh_store_close(f->store);
    f->store = NULL;
    path_in(f, "garbage.db", bad, sizeof bad);
    write_file(bad, "not a database\n", 15, 0600);
    fd = open_read(bad);
    assert_int_equal(gh_backup_restore(fd, f->path, &info), GH_BACKUP_NOT_DATABASE);
    close(fd);
    snprintf(tmp, sizeof tmp, "%s.restore", f->path);
    assert_false(exists(tmp));
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(count_accounts(f->store), 2);
}

/* A connection still reading the old database keeps its WAL from being
 * folded and emptied: the restore is refused, the database and its WAL as
 * they were (removing a WAL not folded would lose what it holds). */
static void test_restore_refused_while_the_wal_is_read(void **state)
{
    fixture *f = *state;
    char dest[160], wal[160], tmp[170];
    gh_backup_info info;
    sqlite3 *reader = NULL;
    int fd;

    add_account(f->store, "alice");
    path_in(f, "backup.db", dest, sizeof dest);
    assert_int_equal(gh_backup_take(f->path, dest, &info), GH_BACKUP_OK);
    /* a read snapshot taken before bob: the WAL cannot be emptied under it */
    assert_int_equal(sqlite3_open(f->path, &reader), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM accounts;", NULL, NULL,
                                  NULL), SQLITE_OK);
    add_account(f->store, "bob");
    gh_store_close(f->store);      /* not the last connection: the WAL stays */
    f->store = NULL;
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_true(exists(wal));

    fd = open_read(dest);
    assert_int_equal(gh_backup_restore(fd, f->path, &info), GH_BACKUP_BUSY);
    close(fd);
    assert_non_null(strstr(info.detail, "could not be folded"));
    assert_true(exists(wal));
    snprintf(tmp, sizeof tmp, "%s.restore", f->path);
    assert_false(exists(tmp));
    sqlite3_close(reader);
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(count_accounts(f->store), 2);
    cleanup(f, "backup.db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_round_trip, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_backup_while_writing, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_backup_never_on_the_database, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backup_never_on_the_database_as_tmp, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backup_replaces_a_stale_tmp, setup_sqlite,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_refuses, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_restore_refused, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_restore_refused_while_the_wal_is_read,
                                        setup_sqlite, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
