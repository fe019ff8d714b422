/*
 * account.h: the rules every way of making or changing an account applies
 * alike (the command line, each dialect's account service), so an account one
 * of them accepts is never one another refuses.
 */
#ifndef GH_ACCOUNT_H
#define GH_ACCOUNT_H

#include "gh.h"
#include "store.h"

/* An account name: 1 to GH_USER_NAME_MAX ASCII letters, digits, '.', '_' and
 * '-', the first a letter or digit (a leading '-' would read as a command-line
 * option). No ':' or '@', which Basic and user@domain logins use as separators. False for
 * NULL. */
bool gh_account_name_valid(const char *name);

/* The length of a password of len bytes in characters, which is what the
 * MinPasswordLength / MaxPasswordLength policy counts: UTF-8 continuation
 * bytes do not count. The bytes are not checked to be UTF-8. 0 for NULL. */
size_t gh_account_password_chars(const char *pw, size_t len);

/* True when the account is locked at time now (by failed logins from every
 * source, or by an administrator). */
bool gh_account_locked(const gh_account *acct, int64_t now);
/* True when an administrator locked it: its sessions end too. */
bool gh_account_admin_locked(const gh_account *acct);

#endif
