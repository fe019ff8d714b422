/*
 * directory.h: directory accounts (LDAP, Active Directory; docs/directory.md).
 * A password is checked against a profile of the configuration
 * ([directory NAME]) by a search for the user's entry with the service
 * account, a bind as that entry with the password, and the user's groups,
 * mapped to a role. Synchronous and bounded by the profile's timeouts: call
 * it where password hashes run (a thread-pool task), never on an event loop.
 * Connections are kept per thread and per profile and reused.
 */
#ifndef GH_DIRECTORY_H
#define GH_DIRECTORY_H

#include "config.h"
#include "role.h"

typedef enum {
    GH_DIR_OK = 0,
    GH_DIR_NO_USER,         /* no entry, or more than one, matched the name */
    GH_DIR_BAD_PASSWORD,    /* the directory refused the bind (or the password was empty) */
    GH_DIR_NO_ROLE,         /* the user is in no group mapped to a role */
    GH_DIR_UNAVAILABLE,     /* no server answered, or the service account was refused */
    GH_DIR_REFUSED          /* the gate refused the user found: no bind was tried */
} gh_directory_result;

/* Asked by gh_directory_verify once the user's entry is found and before
 * the bind, with the user's name as the directory holds it (the value of
 * the profile's user_attribute: "dana" for "DANA", since directories match
 * names without regard to case): the caller's lockout, which must count
 * every spelling of one user as that user. false: no bind (GH_DIR_REFUSED). */
typedef bool (*gh_directory_gate)(void *arg, const char *name);

#define GH_DIRECTORY_GROUPS_READ 256  /* groups of one user looked at, at most */

/* Check user (the value of the profile's user_attribute, as typed) and
 * password against profile p, asking gate (with gate_arg) before the bind.
 * On GH_DIR_OK *role is the best role its groups give. why receives a
 * short reason for the audit log (never a password). The password is not
 * kept. */
gh_directory_result gh_directory_verify(const gh_config_directory *p, const char *user,
                                        const char *password, size_t password_len,
                                        gh_directory_gate gate, void *gate_arg,
                                        gh_role *role, char *why, size_t whylen);

/* The same without a password, for a user who logged in before: the
 * user's entry, searched with the service account, and its groups' role.
 * GH_DIR_OK with *role, GH_DIR_NO_USER (gone, or left out by the profile's
 * user_filter: disabled), GH_DIR_NO_ROLE, or GH_DIR_UNAVAILABLE; never
 * GH_DIR_BAD_PASSWORD. Nothing binds as the user. */
gh_directory_result gh_directory_lookup(const gh_config_directory *p, const char *user,
                                        gh_role *role, char *why, size_t whylen);

/* What a recheck of a directory user with live sessions does. */
typedef enum {
    GH_RECHECK_KEEP = 0,    /* nothing changes */
    GH_RECHECK_ROLE,        /* the account and its sessions take the new role */
    GH_RECHECK_END          /* its live sessions end */
} gh_directory_recheck;

/* The decision, from the lookup's answer dr (role: what it gave on
 * GH_DIR_OK), the role the account has, and, for a directory that does not
 * answer, how long ago (ms) it last answered for this user, against the
 * profile's interval (ms): a user gone, disabled or in no mapped group
 * loses the sessions; a directory that does not answer keeps them for one
 * more interval, then ends them (docs/directory.md says why). */
gh_directory_recheck gh_directory_recheck_decide(gh_directory_result dr, gh_role had,
                                                 gh_role role, int64_t since_confirmed_ms,
                                                 int64_t interval_ms);

/* Connect to p's servers and bind as its service account, then let go:
 * 0 when that worked, else -1 with the reason in why (no secret). */
int gh_directory_probe(const gh_config_directory *p, char *why, size_t whylen);

/* The best role (Administrator over Operator over ReadOnly) that the group
 * DNs give under p's map, or GH_ROLE_NONE. DNs compare as libldap
 * normalises them, without regard to case. */
gh_role gh_directory_role(const gh_config_directory *p, const char *const *groups,
                          size_t ngroups);

/* Close this thread's connections (a thread that ends, a test). */
void gh_directory_close_thread(void);

#endif
