/*
 * store_backup.h: a copy of the embedded store (the SQLite database of a
 * data directory) taken while servers use it, checked, and put back:
 * what `gatehouse backup` and `gatehouse restore` do (store_backup.c). Only
 * the database: the data directory's other files (certificates, the
 * configuration, directory password files) are the caller's business.
 */
#ifndef GH_STORE_BACKUP_H
#define GH_STORE_BACKUP_H

#include <stdint.h>

typedef enum {
    GH_BACKUP_OK = 0,
    GH_BACKUP_IO,            /* a file could not be opened, written, synced or
                                renamed: detail names it and why */
    GH_BACKUP_SAME,          /* the copy would land on the database or its WAL */
    GH_BACKUP_NOT_DATABASE,  /* not an SQLite database */
    GH_BACKUP_SHORT,         /* one cut short: fewer bytes than its header says */
    GH_BACKUP_DAMAGED,       /* PRAGMA integrity_check found a fault: detail */
    GH_BACKUP_NOT_GATEHOUSE, /* an SQLite database gatehouse did not make */
    GH_BACKUP_NEWER,         /* made by a newer gatehouse: a schema this one
                                does not read */
    GH_BACKUP_BUSY,          /* the database stayed locked past the wait */
    GH_BACKUP_ERROR          /* anything else SQLite refused: detail */
} gh_backup_err;

/* What a check, a backup or a restore found: the copy's schema version and
 * what it holds (sessions as stored, ended ones not yet swept included). */
typedef struct {
    int64_t schema;          /* PRAGMA user_version */
    int64_t accounts;
    int64_t sessions;
    int64_t pages;           /* backup: pages copied */
    int64_t steps;           /* backup: sqlite3_backup_step calls that copied */
    char    detail[320];     /* on failure: a path and its errno text, or
                                SQLite's message (never a value of a row) */
} gh_backup_info;

/* Short English text for an error. Static storage. */
const char *gh_backup_strerror(gh_backup_err err);

/* Whether the file at path is a whole gatehouse database this version reads:
 * as long as its header says (when the header's size is valid), SQLite's
 * integrity_check answers ok, the schema version is one this code
 * writes or upgrades from, the core's tables and the server secret are
 * there. Opens the file for writing (it may be a WAL database, whose reader
 * needs its -shm): give it a copy of one's own, never a live database. */
gh_backup_err gh_backup_check(const char *path, gh_backup_info *info);

/* Copy the database at db_path, while servers read and write it, to dest:
 * SQLite's online backup API, a bounded number of pages per step from one
 * read snapshot (in WAL mode a reader holds no writer up, and a snapshot
 * held across the steps keeps the copy from starting over at each write a
 * server commits), a step the database is busy for tried again; written to
 * dest.tmp (mode 0600, a stale one replaced), made a standalone file
 * (rollback journal, no -wal), checked as gh_backup_check does, fsync'd, and
 * renamed to dest. Nothing is left at dest.tmp on failure. */
gh_backup_err gh_backup_take(const char *db_path, const char *dest, gh_backup_info *info);

/* Replace the database at db_path with the copy read from fd, with no
 * server on it (the caller holds the lock that says so): fd's bytes go to
 * db_path.restore (0600), are checked (gh_backup_check), upgraded to this
 * version's schema as an open would, and fsync'd; then the old database's
 * WAL is folded into it and emptied (GH_BACKUP_BUSY or GH_BACKUP_IO, the
 * old database untouched, when that cannot be done; an old file that is no
 * sound database is replaced anyway), its -wal and -shm removed (a WAL left
 * beside the new file would be replayed into it) and the copy renamed over
 * it. Until the rename the old database is whole; after it, the new one. */
gh_backup_err gh_backup_restore(int fd, const char *db_path, gh_backup_info *info);

#endif
