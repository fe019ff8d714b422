/*
 * audit.h: the audit log, one JSON object per line (jansson), appended with a
 * single write(2) so lines from many workers and threads never interleave.
 * Records name users, addresses and methods; never a password or a token,
 * raw or hashed (a session is named by its public id only).
 */
#ifndef GH_AUDIT_H
#define GH_AUDIT_H

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

/* Open path for appending (created 0600). *out owned by the caller. NULL path
 * or "" gives a log that writes nothing. 0 on success, -1 with errno. */
int gh_audit_open(const char *path, gh_audit **out);
void gh_audit_close(gh_audit *audit);

/* One record. Any string may be NULL (left out). method is how the client
 * authenticated or what it did ("basic", "session", a dialect's "NAME-login", ...);
 * detail is a short reason ("bad password", "locked"). */
void gh_audit_write(gh_audit *audit, gh_audit_event event, const char *user,
                    const char *client_addr, const char *method,
                    const char *session_id, const char *detail);

/* "login", "login_failed", ... Static storage. */
const char *gh_audit_event_name(gh_audit_event event);

#endif
