/*
 * audit.h: the audit log, one JSON object per event (jansson): a line of a
 * file, appended with a single write(2) so lines from many workers and
 * threads never interleave, or a record of syslog(3) ([audit] target =
 * syslog), whose message is the same object. Records name users,
 * addresses and methods; never a password or a token, raw or hashed (a
 * session is named by its public id only).
 */
#ifndef GH_AUDIT_H
#define GH_AUDIT_H

#include "config.h"
#include "gh.h"

typedef struct gh_audit gh_audit;

typedef enum {
    GH_AUDIT_LOGIN = 1,         /* success */
    GH_AUDIT_LOGIN_FAILED,
    GH_AUDIT_LOGOUT,
    GH_AUDIT_EXPIRED,
    GH_AUDIT_REVOKED,
    GH_AUDIT_LOCKOUT,
    GH_AUDIT_ACCOUNT_CHANGED,
    GH_AUDIT_DIRECTORY_CHANGED  /* a directory profile written or deleted */
} gh_audit_event;

/* The request a record is written for, so that an operator can join it to
 * the error log's lines of that request: its id (32 hex digits, nginx's
 * $request_id) and its dialect. Records the command line or a timer writes
 * have none. */
#define GH_AUDIT_REQUEST_ID_LEN 32
typedef struct {
    char        request_id[GH_AUDIT_REQUEST_ID_LEN + 1];   /* "": none */
    const char *dialect;        /* gh_dialect.name (static storage); NULL: none */
    uint32_t    events;         /* 1 << each gh_audit_event written for it */
} gh_audit_origin;

/* Open path for appending (created 0600). *out owned by the caller. NULL path
 * or "" gives a log that writes nothing. 0 on success, -1 with errno. */
int gh_audit_open(const char *path, gh_audit **out);
/* The same over fd, already open for appending on path (fd is the log's
 * from now on, closed by gh_audit_close; path is kept for gh_audit_reopen). */
int gh_audit_open_fd(int fd, const char *path, gh_audit **out);
/* A log whose records go to syslog(3) (ident "gatehouse", the process id,
 * facility as gh_audit_facility names it). openlog() is the process's: one
 * such log per process. */
int gh_audit_open_syslog(const char *facility, gh_audit **out);
/* The log [audit] names: syslog, or the file audit_log (data_dir's
 * GH_AUDIT_FILE when empty). */
int gh_audit_open_config(const gh_config *cfg, const char *data_dir, gh_audit **out);
void gh_audit_close(gh_audit *audit);

/* The file [audit] names, into path (len bytes): false when it names
 * syslog, or the path does not fit. */
#define GH_AUDIT_FILE "audit.log"
bool gh_audit_path(const gh_config *cfg, const char *data_dir, char *path, size_t len);

/* Reopen a file log at its path (created 0600 if gone: logrotate moved it)
 * and write there from now on, in every thread at once: the new file takes
 * the old one's descriptor in one step (dup3), so a record written at the
 * same time lands whole in one file or the other. A log that is not a file
 * is left alone. 0, or -1 with errno (the old file kept). */
int gh_audit_reopen(gh_audit *audit);

/* The syslog(3) facility named ("auth", "authpriv", "daemon", "user",
 * "local0".."local7"); -1 for any other name. */
int gh_audit_facility(const char *name);

/* One record. Any string may be NULL (left out). method is how the client
 * authenticated or what it did ("basic", "session", a dialect's "NAME-login", ...);
 * detail is a short reason ("bad password", "locked"). */
void gh_audit_write(gh_audit *audit, gh_audit_event event, const char *user,
                    const char *client_addr, const char *method,
                    const char *session_id, const char *detail);
/* The same for a request: origin's request_id and dialect are recorded too,
 * and the event noted in origin->events (origin may be NULL). */
void gh_audit_write_for(gh_audit *audit, gh_audit_origin *origin,
                        gh_audit_event event, const char *user, const char *client_addr,
                        const char *method, const char *session_id, const char *detail);

/* "login", "login_failed", ... Static storage. */
const char *gh_audit_event_name(gh_audit_event event);

#endif
