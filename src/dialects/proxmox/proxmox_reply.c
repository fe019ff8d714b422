/*
 * proxmox_reply.c: how the Proxmox VE dialect answers. Every body is
 * {"data": ...} as the API's JSON format sends it (written as json_text.h
 * writes every body); an error is its status line, whose text says what went
 * wrong ("401 authentication failure", "401 No ticket", "403 Permission
 * check failed"), and {"data": null}, with "errors" naming the parameters at
 * fault on a 400. The reason texts are Proxmox VE's own where it has one.
 *
 * The capabilities of a ticket ("cap") are Proxmox VE's privileges by the
 * part of the ACL tree they are granted on, as its own roles hold them:
 * Administrator all of them, Operator those of PVEVMAdmin with the power
 * management and storage space a VM operator needs, ReadOnly PVEAuditor's.
 */
#include "proxmox_internal.h"
#include "../common/json_text.h"

#include <string.h>

void gh_pve_reply(gh_response *resp, int status, json_t *data)
{
    json_t *body = json_pack("{s:o}", "data", data != NULL ? data : json_null());

    if (gh_json_reply(resp, status, body, GH_PVE_JSON_TYPE) != 0) {
        resp->status = 500;
        resp->reason = NULL;
        gh_response_set_body(resp, NULL, 0, NULL);
    }
}

void gh_pve_fail(gh_response *resp, int status, const char *reason)
{
    if (status < 400 || status > 599)
        status = 500;
    gh_pve_reply(resp, status, NULL);
    resp->reason = reason;
    if (status == 503)
        gh_response_header_add(resp, "Retry-After", "%d", GH_PVE_RETRY_AFTER);
}

void gh_pve_fail_param(gh_response *resp, const char *name, const char *text)
{
    json_t *body = json_pack("{s:n, s:{s:s}}", "data", "errors", name, text);

    if (gh_json_reply(resp, 400, body, GH_PVE_JSON_TYPE) != 0) {
        gh_pve_fail(resp, 400, "Parameter verification failed.");
        return;
    }
    resp->reason = "Parameter verification failed.";
}

bool gh_pve_params_ok(gh_response *resp, gh_pve_params_result rc, const char *unknown)
{
    switch (rc) {
    case GH_PVE_PARAMS_OK:
        return true;
    case GH_PVE_PARAMS_UNKNOWN:
        gh_pve_fail_param(resp, unknown, "property is not defined in schema and the schema "
                          "does not allow additional properties");
        return false;
    case GH_PVE_PARAMS_TOO_LARGE:
        gh_pve_fail(resp, 413, NULL);
        return false;
    default:
        gh_pve_fail(resp, 400, "Parameter verification failed.");
        return false;
    }
}

typedef struct {
    const char *path;        /* the "cap" member: vms, storage, access, nodes, dc, sdn, mapping */
    const char *priv;
    gh_role     least;       /* the least role holding it (ReadOnly holds least) */
} gh_pve_cap;

#define A GH_ROLE_ADMINISTRATOR
#define O GH_ROLE_OPERATOR
#define R GH_ROLE_READONLY
static const gh_pve_cap gh_pve_caps_table[] = {
    { "vms", "VM.Allocate", O }, { "vms", "VM.Audit", R }, { "vms", "VM.Backup", O },
    { "vms", "VM.Clone", O }, { "vms", "VM.Config.CDROM", O }, { "vms", "VM.Config.CPU", O },
    { "vms", "VM.Config.Cloudinit", O }, { "vms", "VM.Config.Disk", O },
    { "vms", "VM.Config.HWType", O }, { "vms", "VM.Config.Memory", O },
    { "vms", "VM.Config.Network", O }, { "vms", "VM.Config.Options", O },
    { "vms", "VM.Console", O }, { "vms", "VM.Migrate", O }, { "vms", "VM.Monitor", O },
    { "vms", "VM.PowerMgmt", O }, { "vms", "VM.Snapshot", O },
    { "vms", "VM.Snapshot.Rollback", O }, { "vms", "Permissions.Modify", A },
    { "storage", "Datastore.Allocate", A }, { "storage", "Datastore.AllocateSpace", O },
    { "storage", "Datastore.AllocateTemplate", O }, { "storage", "Datastore.Audit", R },
    { "storage", "Permissions.Modify", A },
    { "access", "Group.Allocate", A }, { "access", "User.Modify", A },
    { "access", "Permissions.Modify", A },
    { "nodes", "Sys.Audit", R }, { "nodes", "Sys.Console", A }, { "nodes", "Sys.Incoming", A },
    { "nodes", "Sys.Modify", A }, { "nodes", "Sys.PowerMgmt", O }, { "nodes", "Sys.Syslog", A },
    { "nodes", "Permissions.Modify", A },
    { "dc", "Sys.Audit", R }, { "dc", "Sys.Modify", A }, { "dc", "SDN.Audit", R },
    { "dc", "SDN.Allocate", A }, { "dc", "SDN.Use", O },
    { "sdn", "SDN.Audit", R }, { "sdn", "SDN.Allocate", A }, { "sdn", "SDN.Use", O },
    { "sdn", "Permissions.Modify", A },
    { "mapping", "Mapping.Audit", R }, { "mapping", "Mapping.Modify", A },
    { "mapping", "Mapping.Use", O }, { "mapping", "Permissions.Modify", A },
};
#undef A
#undef O
#undef R

json_t *gh_pve_caps(gh_role role)
{
    static const char *const paths[] = { "vms", "storage", "access", "nodes", "dc", "sdn",
                                         "mapping" };
    json_t *caps = json_object();
    bool    ok = caps != NULL;

    for (size_t i = 0; ok && i < sizeof(paths) / sizeof(paths[0]); i++)
        ok = json_object_set_new(caps, paths[i], json_object()) == 0;
    /* The roles are numbered from the most able (1) down. */
    for (size_t i = 0; ok && role != GH_ROLE_NONE &&
                       i < sizeof(gh_pve_caps_table) / sizeof(gh_pve_caps_table[0]); i++) {
        const gh_pve_cap *c = &gh_pve_caps_table[i];

        if (role <= c->least)
            ok = json_object_set_new(json_object_get(caps, c->path), c->priv,
                                     json_integer(1)) == 0;
    }
    if (!ok) {
        json_decref(caps);
        return NULL;
    }
    return caps;
}

const char *gh_pve_role_name(gh_role role)
{
    switch (role) {
    case GH_ROLE_ADMINISTRATOR: return "Administrator";
    case GH_ROLE_OPERATOR:      return "PVEVMAdmin";
    case GH_ROLE_READONLY:      return "PVEAuditor";
    default:                    return "NoAccess";
    }
}
