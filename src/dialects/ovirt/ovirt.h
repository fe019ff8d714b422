/*
 * ovirt.h: the oVirt / Red Hat Virtualization engine dialect: the CA
 * download, the SSO token endpoint and its logout, and the REST API at
 * /ovirt-engine/api with Bearer tokens, Basic user@profile and persistent-auth
 * sessions. ovirt.c is the entry; ovirt_internal.h lists the other files.
 */
#ifndef GH_OVIRT_H
#define GH_OVIRT_H

#include "../common/dialect.h"

/* Its name: what its sessions and the attributes it keeps are stored under. */
#define GH_OVIRT_NAME "ovirt"

extern const gh_dialect gh_ovirt_dialect;

#endif
