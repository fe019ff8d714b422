/*
 * redfish.h: the Redfish dialect (DSP0266), implemented in redfish.c: the
 * table dialect.c lists, and the session-login body parser, exported so it
 * can be unit-tested and fuzzed on its own.
 */
#ifndef GH_REDFISH_H
#define GH_REDFISH_H

#include "../common/dialect.h"

#define GH_REDFISH_LOGIN_MALFORMED 1   /* not a JSON object: 400 MalformedJSON */
#define GH_REDFISH_LOGIN_MISSING   2   /* UserName or Password absent or not a string: 400 PropertyMissing */

/* Its name: what its sessions and the attributes it keeps are stored under. */
#define GH_REDFISH_NAME "redfish"

extern const gh_dialect gh_redfish_dialect;

/* Parse a session-login body {"UserName": "...", "Password": "..."} into
 * user and password (NUL-terminated; userlen and pwlen count the NUL).
 * 0 on success, GH_REDFISH_LOGIN_MALFORMED for bad JSON,
 * GH_REDFISH_LOGIN_MISSING for a missing or non-string property. The caller
 * wipes password with gh_wipe. */
int gh_redfish_parse_login(gh_str body, char *user, size_t userlen, char *password, size_t pwlen);

#endif
