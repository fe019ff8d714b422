/*
 * ovirt.h: the oVirt / Red Hat Virtualization engine dialect, implemented in
 * ovirt.c. So far it serves the certificate download every oVirt client
 * starts with; the SSO token endpoint and the API follow (issue 3).
 */
#ifndef GH_OVIRT_H
#define GH_OVIRT_H

#include "dialect.h"

extern const gh_dialect gh_ovirt_dialect;

#endif
