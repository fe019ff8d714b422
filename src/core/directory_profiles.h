/*
 * directory_profiles.h: directory profiles changed while the server runs
 * (docs/directory.md, "Changed through the API"). The effective profiles are
 * the configuration file's [directory NAME] sections overlaid by the ones an
 * administrator wrote through a dialect's API, by name: a stored profile
 * replaces the file's of its name whole, and one deleted through the API
 * stays deleted (a tombstone in the store) across restarts, until it is
 * written again. At most GH_DIRECTORY_MAX are in effect.
 *
 * Every call reads the store (service_directory.c): a password check against
 * a directory reads its profile afresh, so every worker and every hash-pool
 * thread checks with the profile as last written, with no cache to go stale;
 * a cached credential or a session token never comes here. A change is
 * written with a row of the change log (GH_CHANGE_DIRECTORY) in one
 * transaction, audited (actor and profile, never a password), and drops the
 * cached credentials of that profile's users at once; a profile disabled or
 * deleted also ends their sessions, in every worker within 100 ms.
 *
 * A bind password given through the API is written by the service to a file
 * of the data directory (directory/NAME.password, mode 0600), which the
 * stored profile's bind_password_file names: the database holds no password,
 * and nothing reads one back.
 *
 * A dialect maps resources of its own onto profiles, telling them apart by
 * kind where it needs to; nothing here knows them.
 */
#ifndef GH_DIRECTORY_PROFILES_H
#define GH_DIRECTORY_PROFILES_H

#include "config.h"
#include "service.h"

/* Profiles in effect, in the order of the file, then the stored ones the
 * file does not have, by name. Copies: the caller owns them. */
typedef struct {
    size_t              n;
    gh_config_directory v[GH_DIRECTORY_MAX];
} gh_directory_profiles;

/* Every profile in effect. GH_STORE_OK, or the store's error. */
gh_store_err gh_service_directory_list(gh_service *svc, gh_directory_profiles *out);

/* The profile in effect called name into *out; GH_STORE_NOT_FOUND when
 * there is none (never was, or deleted). */
gh_store_err gh_service_directory_get(gh_service *svc, const char *name,
                                      gh_config_directory *out);

/* The first profile in effect of kind (GH_DIRECTORY_KIND_LDAP or _AD),
 * enabled or not; GH_STORE_NOT_FOUND when there is none. */
gh_store_err gh_service_directory_first(gh_service *svc, const char *kind,
                                        gh_config_directory *out);

/* The profile in effect marked default (at most one is), enabled or not;
 * GH_STORE_NOT_FOUND when there is none. */
gh_store_err gh_service_directory_default(gh_service *svc, gh_config_directory *out);

typedef enum {
    GH_DIRPUT_OK = 0,
    GH_DIRPUT_INVALID,      /* breaks a rule of the file's: *why says which */
    GH_DIRPUT_FULL,         /* a new name, and GH_DIRECTORY_MAX are in effect */
    GH_DIRPUT_NOT_FOUND,    /* delete: no such profile in effect */
    GH_DIRPUT_FAILED        /* the store, or the password file, failed */
} gh_directory_put_result;

/* Write profile p (p->name names it: a new one, or one in effect replaced
 * whole), checked by the rules the configuration file's profiles keep
 * (gh_config_directory_valid) and, among all in effect, one default at most.
 * bind_password (bind_password_len bytes, may be NULL: keep p's
 * bind_password_file as given) is a new service password: written to the
 * data directory's file for p, which p's bind_password_file is set to; never
 * kept anywhere else. actor and client_addr are for the audit log. why
 * (may be NULL) receives the reason of a refusal, never a secret. */
gh_directory_put_result gh_service_directory_put(gh_service *svc, const gh_config_directory *p,
                                                 const char *bind_password,
                                                 size_t bind_password_len, const char *actor,
                                                 const char *client_addr, char *why,
                                                 size_t whylen);

/* Delete the profile in effect called name (a tombstone when the file has
 * it); its users' sessions end, their cached credentials are dropped, a
 * password file the API wrote for it is removed. */
gh_directory_put_result gh_service_directory_delete(gh_service *svc, const char *name,
                                                    const char *actor,
                                                    const char *client_addr);

/* What a change of profile name ("" or NULL: any) means to this server:
 * the cached credentials of its users dropped, and the sessions of users of
 * profiles no longer in effect or disabled removed from the shared block.
 * The change log's apply (service_sync.c) and the writers above call it. */
gh_store_err gh_service_directory_apply(gh_service *svc, const char *name);

#endif
