/*
 * store_backup.c: backup and restore of the embedded store (store_backup.h).
 *
 * The copy is SQLite's online backup API (sqlite3_backup_init/step/finish)
 * from a connection of its own to the live database. The source connection
 * opens a read transaction first and keeps it until the last step: the
 * steps then all read the one snapshot it holds. Without that each step
 * would start a read of its own and SQLite would start the copy over
 * whenever another connection had committed in between, which under a
 * steady stream of logins (each one a commit) could go on for ever. In WAL
 * mode, the store's, a reader never holds up a writer: the servers go on
 * committing meanwhile, and only the checkpoint cannot pass the snapshot
 * until the copy ends (the WAL grows by what was written during it).
 *
 * The copy is written to DEST.tmp, born 0600 (it holds password hashes and
 * the server secret), switched to a rollback journal so that it is one
 * standalone file, checked the way a restore checks, fsync'd and renamed,
 * then the rename made durable by an fsync of its directory.
 *
 * Restore copies the bytes into the data directory first (a file only the
 * caller could open, read through its descriptor), checks and upgrades
 * them there, and only then touches the old database: its WAL is folded
 * into it and emptied (so a crash before the rename leaves it whole; a
 * WAL that cannot be folded refuses the restore), its -wal and -shm go (a
 * WAL beside the new file would be replayed into it), and one rename puts
 * the copy in its place.
 */
#include "store_backup.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

#define GH_BACKUP_STEP_PAGES 256    /* 1 MiB of 4 KiB pages a step */
#define GH_BACKUP_BUSY_MS    5000   /* how long a lock is waited for, in all */
#define GH_BACKUP_SUFFIX_MAX 16

static const char *const gh_backup_tables =
    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
    " ('meta', 'accounts', 'sessions', 'settings', 'changes')";
#define GH_BACKUP_TABLES 5

const char *gh_backup_strerror(gh_backup_err err)
{
    switch (err) {
    case GH_BACKUP_OK:            return "success";
    case GH_BACKUP_IO:            return "file error";
    case GH_BACKUP_SAME:          return "the copy would replace the database itself";
    case GH_BACKUP_NOT_DATABASE:  return "not an SQLite database";
    case GH_BACKUP_SHORT:         return "cut short";
    case GH_BACKUP_DAMAGED:       return "the database is damaged";
    case GH_BACKUP_NOT_GATEHOUSE: return "not a gatehouse database";
    case GH_BACKUP_NEWER:         return "made by a newer gatehouse";
    case GH_BACKUP_BUSY:          return "the database stayed locked";
    case GH_BACKUP_ERROR:         break;
    }
    return "database error";
}

/* info->detail, cut to fit: a long path must not hide the reason. */
__attribute__((format(printf, 2, 3)))
static void backup_say(gh_backup_info *info, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(info->detail, sizeof(info->detail), fmt, ap);
    va_end(ap);
}

static gh_backup_err backup_io(gh_backup_info *info, const char *what, const char *path)
{
    backup_say(info, "%s %s: %s", what, path, strerror(errno));
    return GH_BACKUP_IO;
}

/* An SQLite failure of db as one of ours, its message kept. */
static gh_backup_err backup_rc(gh_backup_info *info, sqlite3 *db, int rc)
{
    backup_say(info, "%s",
             db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    switch (rc & 0xff) {
    case SQLITE_NOTADB:  return GH_BACKUP_NOT_DATABASE;
    case SQLITE_CORRUPT: return GH_BACKUP_DAMAGED;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:  return GH_BACKUP_BUSY;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:    return GH_BACKUP_IO;
    default:             return GH_BACKUP_ERROR;
    }
}

/* path + suffix into out; false when it does not fit. */
static bool backup_name(char *out, size_t size, const char *path, const char *suffix)
{
    int n = snprintf(out, size, "%s%s", path, suffix);

    return n >= 0 && (size_t)n < size;
}

static gh_backup_err backup_open(const char *path, sqlite3 **db, gh_backup_info *info)
{
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_extended_result_codes(*db, 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(*db, GH_BACKUP_BUSY_MS);
    return rc == SQLITE_OK ? GH_BACKUP_OK : backup_rc(info, *db, rc);
}

/* The first row of sql: column 0 as a number into *num when given, as text
 * into text (size bytes) when given. */
static gh_backup_err backup_row(sqlite3 *db, const char *sql, int64_t *num, char *text,
                                size_t size, gh_backup_info *info)
{
    sqlite3_stmt        *st = NULL;
    const unsigned char *s;
    int                  rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (num != NULL)
            *num = sqlite3_column_int64(st, 0);
        s = sqlite3_column_text(st, 0);
        if (text != NULL)
            snprintf(text, size, "%s", s != NULL ? (const char *)s : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? GH_BACKUP_OK : backup_rc(info, db, rc);
}

static gh_backup_err backup_exec(sqlite3 *db, const char *sql, gh_backup_info *info)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? GH_BACKUP_OK : backup_rc(info, db, rc);
}

/* What makes a database gatehouse's, read in one transaction. */
static gh_backup_err backup_inspect(sqlite3 *db, gh_backup_info *info)
{
    char          ok[sizeof(info->detail)];
    int64_t       n = 0;
    gh_backup_err err = backup_row(db, "PRAGMA integrity_check(1)", NULL, ok, sizeof(ok), info);

    if (err == GH_BACKUP_OK && strcmp(ok, "ok") != 0) {
        backup_say(info, "%s", ok);
        return GH_BACKUP_DAMAGED;
    }
    if (err == GH_BACKUP_OK)
        err = backup_row(db, "PRAGMA user_version", &info->schema, NULL, 0, info);
    if (err == GH_BACKUP_OK && info->schema > GH_STORE_SCHEMA) {
        backup_say(info, "schema %lld; this gatehouse reads "
                 "up to %d", (long long)info->schema, GH_STORE_SCHEMA);
        return GH_BACKUP_NEWER;
    }
    if (err == GH_BACKUP_OK)
        err = backup_row(db, gh_backup_tables, &n, NULL, 0, info);
    if (err == GH_BACKUP_OK && (info->schema < 1 || n != GH_BACKUP_TABLES))
        goto not_ours;
    if (err == GH_BACKUP_OK)
        err = backup_row(db, "SELECT count(*) FROM meta WHERE key = 'secret'"
                         " AND length(value) = 32", &n, NULL, 0, info);
    if (err == GH_BACKUP_OK && n != 1)
        goto not_ours;
    if (err == GH_BACKUP_OK)
        err = backup_row(db, "SELECT count(*) FROM accounts", &info->accounts, NULL, 0, info);
    if (err == GH_BACKUP_OK)
        err = backup_row(db, "SELECT count(*) FROM sessions", &info->sessions, NULL, 0, info);
    return err;
not_ours:
    backup_say(info, "no gatehouse tables or server secret "
             "(schema version %lld)", (long long)info->schema);
    return GH_BACKUP_NOT_GATEHOUSE;
}

static uint32_t backup_be(const unsigned char *p, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The database header's own size against the file's (SQLite file format,
 * 1.3: the size at offset 28 counts when the change counter at 24 equals
 * the version-valid-for at 92; a page size of 1 means 65536). A file cut
 * short may still pass integrity_check where the cut fell on unused pages. */
static gh_backup_err backup_length(const char *path, gh_backup_info *info)
{
    unsigned char h[100];
    struct stat   st;
    int           fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t      page, want;
    gh_backup_err err = GH_BACKUP_OK;

    if (fd < 0 || fstat(fd, &st) < 0)
        err = backup_io(info, "cannot read", path);
    else if (read(fd, h, sizeof(h)) == (ssize_t)sizeof(h)
             && memcmp(h, "SQLite format 3", 16) == 0
             && backup_be(h + 24, 4) == backup_be(h + 92, 4)) {
        page = backup_be(h + 16, 2) == 1 ? 65536 : backup_be(h + 16, 2);
        want = page * backup_be(h + 28, 4);
        if ((uint64_t)st.st_size < want) {
            backup_say(info, "%lld bytes, where its header says %llu",
                       (long long)st.st_size, (unsigned long long)want);
            err = GH_BACKUP_SHORT;
        }
    }
    if (fd >= 0)
        close(fd);
    return err;
}

gh_backup_err gh_backup_check(const char *path, gh_backup_info *info)
{
    sqlite3      *db = NULL;
    gh_backup_err err;

    info->detail[0] = '\0';
    err = backup_length(path, info);
    if (err == GH_BACKUP_OK)
        err = backup_open(path, &db, info);
    if (err == GH_BACKUP_OK)
        err = backup_exec(db, "BEGIN", info);
    if (err == GH_BACKUP_OK) {
        err = backup_inspect(db, info);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return err;
}

/* A file and its directory entry made durable. */
static gh_backup_err backup_sync(const char *path, bool entry, gh_backup_info *info)
{
    char          copy[GH_PATH_MAX];
    int           fd = open(path, O_RDONLY | O_CLOEXEC);
    gh_backup_err err = GH_BACKUP_OK;

    if (fd < 0 || fsync(fd) != 0)
        err = backup_io(info, "cannot sync", path);
    if (fd >= 0)
        close(fd);
    if (err != GH_BACKUP_OK || !entry)
        return err;
    snprintf(copy, sizeof(copy), "%s", path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        err = backup_io(info, "cannot sync the directory of", path);
    if (fd >= 0)
        close(fd);
    return err;
}

/* A new empty file at path, mode 0600 whatever the umask; an old one there
 * (a copy an earlier run left) goes first. */
static int backup_create(const char *path, int flags, gh_backup_info *info)
{
    int fd;

    if (unlink(path) < 0 && errno != ENOENT) {
        backup_io(info, "cannot remove", path);
        return -1;
    }
    fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        backup_io(info, "cannot create", path);
    return fd;
}

/* Remove path + each suffix; a missing one is fine. */
static gh_backup_err backup_unlink(const char *path, const char *const *suffixes,
                                   gh_backup_info *info)
{
    char name[GH_PATH_MAX + GH_BACKUP_SUFFIX_MAX];

    for (size_t i = 0; suffixes[i] != NULL; i++) {
        if (!backup_name(name, sizeof(name), path, suffixes[i]))
            return GH_BACKUP_IO;
        if (unlink(name) < 0 && errno != ENOENT)
            return backup_io(info, "cannot remove", name);
    }
    return GH_BACKUP_OK;
}

static const char *const gh_backup_side_files[] = { "-wal", "-shm", "-journal", NULL };

/* dest must not be the database, nor a file SQLite keeps beside it. */
static gh_backup_err backup_not_the_database(const char *db_path, const char *dest,
                                             gh_backup_info *info)
{
    static const char *const all[] = { "", "-wal", "-shm", "-journal", NULL };
    char        name[GH_PATH_MAX + GH_BACKUP_SUFFIX_MAX];
    struct stat d, s;

    if (stat(db_path, &s) < 0)
        return backup_io(info, "cannot read", db_path);
    if (stat(dest, &d) < 0)
        return GH_BACKUP_OK;     /* a new file: whether it can be made, the create says */
    for (size_t i = 0; all[i] != NULL; i++) {
        if (backup_name(name, sizeof(name), db_path, all[i]) && stat(name, &s) == 0
            && s.st_dev == d.st_dev && s.st_ino == d.st_ino) {
            backup_say(info, "%s is %s", dest, name);
            return GH_BACKUP_SAME;
        }
    }
    return GH_BACKUP_OK;
}

/* Step the copy to its end; a step that finds the database busy is tried
 * again, 1 ms later, until GH_BACKUP_BUSY_MS have gone by in such waits. */
static gh_backup_err backup_steps(sqlite3 *src, sqlite3 *dst, gh_backup_info *info)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    int             rc = SQLITE_OK, finished, waited_ms = 0;

    if (b == NULL)
        return backup_rc(info, dst, sqlite3_errcode(dst));
    while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        rc = sqlite3_backup_step(b, GH_BACKUP_STEP_PAGES);
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
            rc &= 0xff;
            if (waited_ms++ >= GH_BACKUP_BUSY_MS)
                break;
            sqlite3_sleep(1);
            continue;
        }
        info->steps++;
    }
    info->pages = sqlite3_backup_pagecount(b);
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    finished = sqlite3_backup_finish(b);
    if (rc == SQLITE_OK)
        rc = finished;
    return rc == SQLITE_OK ? GH_BACKUP_OK : backup_rc(info, rc == SQLITE_BUSY ? src : dst, rc);
}

/* The copy into tmp, from one snapshot of db_path, left a standalone file. */
static gh_backup_err backup_copy(const char *db_path, const char *tmp, gh_backup_info *info)
{
    sqlite3      *src = NULL, *dst = NULL;
    int64_t       n;
    gh_backup_err err = backup_open(db_path, &src, info);

    /* the snapshot starts at the first read of the transaction */
    if (err == GH_BACKUP_OK)
        err = backup_exec(src, "BEGIN", info);
    if (err == GH_BACKUP_OK)
        err = backup_row(src, "SELECT count(*) FROM sqlite_schema", &n, NULL, 0, info);
    if (err == GH_BACKUP_OK)
        err = backup_open(tmp, &dst, info);
    if (err == GH_BACKUP_OK)
        err = backup_steps(src, dst, info);
    if (src != NULL)
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    /* the pages say WAL, as the source's do: one file is what a copy wants */
    if (err == GH_BACKUP_OK)
        err = backup_exec(dst, "PRAGMA journal_mode = DELETE", info);
    sqlite3_close(dst);
    sqlite3_close(src);
    return err;
}

gh_backup_err gh_backup_take(const char *db_path, const char *dest, gh_backup_info *info)
{
    char          tmp[GH_PATH_MAX + GH_BACKUP_SUFFIX_MAX];
    gh_backup_info found;
    gh_backup_err err;
    int           fd;

    memset(info, 0, sizeof(*info));
    if (!backup_name(tmp, sizeof(tmp), dest, ".tmp")) {
        backup_say(info, "path too long");
        return GH_BACKUP_IO;
    }
    /* nor its .tmp, which the create replaces */
    err = backup_not_the_database(db_path, dest, info);
    if (err == GH_BACKUP_OK)
        err = backup_not_the_database(db_path, tmp, info);
    if (err != GH_BACKUP_OK)
        return err;
    fd = backup_create(tmp, O_WRONLY, info);
    if (fd < 0)
        return GH_BACKUP_IO;
    close(fd);
    err = backup_copy(db_path, tmp, info);
    if (err == GH_BACKUP_OK) {
        memset(&found, 0, sizeof(found));
        err = gh_backup_check(tmp, &found);
        info->schema = found.schema;
        info->accounts = found.accounts;
        info->sessions = found.sessions;
        if (err != GH_BACKUP_OK)
            backup_say(info, "the copy: %s", found.detail);
    }
    if (err == GH_BACKUP_OK)
        err = backup_sync(tmp, false, info);
    if (err == GH_BACKUP_OK && rename(tmp, dest) < 0)
        err = backup_io(info, "cannot rename the copy to", dest);
    if (err == GH_BACKUP_OK)
        err = backup_sync(dest, true, info);
    if (err != GH_BACKUP_OK) {
        unlink(tmp);
        backup_unlink(tmp, gh_backup_side_files, &(gh_backup_info){ 0 });
    }
    return err;
}

/* fd's bytes, from its start, into a new file at path. */
static gh_backup_err backup_write_from(int fd, const char *path, gh_backup_info *info)
{
    char          buf[65536];
    ssize_t       got = 1, put;
    gh_backup_err err = GH_BACKUP_OK;
    int           out = backup_create(path, O_WRONLY, info);

    if (out < 0)
        return GH_BACKUP_IO;
    while (err == GH_BACKUP_OK && got > 0) {
        got = read(fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            err = backup_io(info, "cannot read", "the backup");
        for (ssize_t off = 0; err == GH_BACKUP_OK && off < got; off += put) {
            put = write(out, buf + off, (size_t)(got - off));
            if (put < 0 && errno == EINTR)
                put = 0;
            else if (put < 0)
                err = backup_io(info, "cannot write", path);
        }
    }
    if (err == GH_BACKUP_OK && fsync(out) != 0)
        err = backup_io(info, "cannot sync", path);
    close(out);
    return err;
}

/* The copy at tmp upgraded to this version's schema, as an open of the
 * store does; the open's close, the last connection's, folds its WAL back
 * into the file and removes it. */
static gh_backup_err backup_upgrade(const char *tmp, gh_backup_info *info)
{
    gh_store    *store = NULL;
    gh_store_err err = gh_store_open(tmp, &store);
    char         wal[GH_PATH_MAX + GH_BACKUP_SUFFIX_MAX];

    gh_store_close(store);
    if (err != GH_STORE_OK) {
        backup_say(info, "schema %lld cannot be brought to "
                 "%d: %s", (long long)info->schema, GH_STORE_SCHEMA, gh_store_strerror(err));
        return GH_BACKUP_NOT_GATEHOUSE;
    }
    if (backup_name(wal, sizeof(wal), tmp, "-wal") && access(wal, F_OK) == 0) {
        backup_say(info, "%s was left behind", wal);
        return GH_BACKUP_IO;
    }
    return backup_sync(tmp, false, info);
}

/* Fold the old database's WAL into it and empty the WAL, so that removing
 * it loses nothing: until the rename the old database stays whole. A file
 * SQLite finds no sound database in (what a restore may be mending) has no
 * WAL worth keeping; any other failure (a connection still reading it, an
 * I/O error) refuses the restore, the old database and its WAL untouched. */
static gh_backup_err backup_checkpoint(const char *db_path, gh_backup_info *info)
{
    sqlite3      *db = NULL;
    gh_backup_err err = GH_BACKUP_OK;
    int64_t       busy = 0;

    if (access(db_path, F_OK) != 0)
        return GH_BACKUP_OK;
    /* The pragma, not sqlite3_wal_checkpoint_v2: it reads the file first,
     * where a fresh connection's call would not yet know it is in WAL mode
     * and do nothing. Its first column says whether it had to stop short
     * (a reader on a snapshot the WAL still holds, past the busy wait). */
    err = backup_open(db_path, &db, info);
    if (err == GH_BACKUP_OK)
        err = backup_row(db, "PRAGMA wal_checkpoint(TRUNCATE)", &busy, NULL, 0, info);
    if (err == GH_BACKUP_OK && busy != 0) {
        backup_say(info, "another connection still reads it");
        err = GH_BACKUP_BUSY;
    }
    sqlite3_close(db);
    if (err == GH_BACKUP_NOT_DATABASE || err == GH_BACKUP_DAMAGED)
        return GH_BACKUP_OK;
    if (err != GH_BACKUP_OK) {
        size_t n = strlen(info->detail);

        snprintf(info->detail + n, sizeof(info->detail) - n,
                 " (the WAL of %s could not be folded into it; it is left as it was)",
                 db_path);
    }
    return err;
}

gh_backup_err gh_backup_restore(int fd, const char *db_path, gh_backup_info *info)
{
    char          tmp[GH_PATH_MAX + GH_BACKUP_SUFFIX_MAX];
    gh_backup_err err;

    memset(info, 0, sizeof(*info));
    if (!backup_name(tmp, sizeof(tmp), db_path, ".restore")) {
        backup_say(info, "path too long");
        return GH_BACKUP_IO;
    }
    /* a WAL an earlier run left beside tmp would be replayed into the copy */
    err = backup_unlink(tmp, gh_backup_side_files, info);
    if (err == GH_BACKUP_OK)
        err = backup_write_from(fd, tmp, info);
    if (err == GH_BACKUP_OK)
        err = gh_backup_check(tmp, info);
    if (err == GH_BACKUP_OK)
        err = backup_upgrade(tmp, info);
    if (err == GH_BACKUP_OK)
        err = backup_checkpoint(db_path, info);
    if (err == GH_BACKUP_OK)
        err = backup_unlink(db_path, gh_backup_side_files, info);
    if (err == GH_BACKUP_OK && rename(tmp, db_path) < 0)
        err = backup_io(info, "cannot rename the copy to", db_path);
    if (err == GH_BACKUP_OK)
        err = backup_sync(db_path, true, info);
    if (err != GH_BACKUP_OK) {
        unlink(tmp);
        backup_unlink(tmp, gh_backup_side_files, &(gh_backup_info){ 0 });
    }
    return err;
}
