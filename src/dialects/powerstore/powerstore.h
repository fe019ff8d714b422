/*
 * powerstore.h: the Dell PowerStore REST API dialect (everything under
 * /api/rest), implemented in powerstore*.c: Basic credentials on any request,
 * or the auth_cookie session from GET /api/rest/login_session with its
 * DELL-EMC-TOKEN CSRF header; logout; local_user and role; paging, select
 * and filters over the bundled read-only resources. docs/powerstore.md says
 * what a client sees.
 */
#ifndef GH_POWERSTORE_H
#define GH_POWERSTORE_H

#include "../common/dialect.h"

/* Its name: what its sessions and the attributes it keeps are stored under. */
#define GH_PS_NAME "powerstore"

extern const gh_dialect gh_powerstore_dialect;

#endif
