/*
 * proxmox.h: the Proxmox VE API dialect (everything under /api2/json),
 * implemented in proxmox*.c: tickets from POST /api2/json/access/ticket as
 * the PVEAuthCookie cookie with the CSRFPreventionToken header on writes, API
 * tokens (Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET) and their
 * management, and a small bundled tree. docs/proxmox.md says what a client
 * sees.
 */
#ifndef GH_PROXMOX_H
#define GH_PROXMOX_H

#include "../common/dialect.h"

extern const gh_dialect gh_proxmox_dialect;

#endif
