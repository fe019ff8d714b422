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
    GH_DIR_UNAVAILABLE      /* no server answered, or the service account was refused */
} gh_directory_result;

#define GH_DIRECTORY_GROUPS_READ 256  /* groups of one user looked at, at most */

/* Check user (the value of the profile's user_attribute) and password
 * against profile p. On GH_DIR_OK *role is the best role its groups give.
 * why receives a short reason for the audit log (never a password). The
 * password is not kept. */
gh_directory_result gh_directory_verify(const gh_config_directory *p, const char *user,
                                        const char *password, size_t password_len,
                                        gh_role *role, char *why, size_t whylen);

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
