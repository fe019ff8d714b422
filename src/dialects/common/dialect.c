/*
 * dialect.c: the table of dialects, the one file that names them: the list
 * in src/dialects/dialects.def, expanded here into their declarations and
 * gh_dialects[]; the choice of a dialect by path; the loading of the
 * bundled tree with each dialect's render hook; the configuration with each
 * dialect's declared section, every dialect's section carrying the upstream*
 * keys (so [redfish] upstream = URL guards Redfish alone), and the paths of
 * the dialects' firmware uploads and event streams as the defaults of
 * upload_paths and stream_paths; and, for the store, the names of the dialects
 * that sessions stored before schema 5 gave by number. It sits above every dialect:
 * it uses them, and nothing in a dialect uses it. A dialect owns its prefix
 * and everything below it on a segment boundary, matched ignoring ASCII case
 * as HPE iLO matches paths (gh_path_under): "/redfish", "/redfish/" and
 * "/Redfish/v1" are Redfish's, "/redfishx" is nobody's. How to add a dialect:
 * src/dialects/README.md.
 */
#include "dialect.h"
#include "gateway.h"

#include <stdio.h>

#define GH_DIALECT(name) extern const gh_dialect gh_##name##_dialect;
#include "../dialects.def"
#undef GH_DIALECT

const gh_dialect *const gh_dialects[] = {
#define GH_DIALECT(name) &gh_##name##_dialect,
#include "../dialects.def"
#undef GH_DIALECT
    NULL
};

unsigned gh_dialect_index(const gh_dialect *d)
{
    for (unsigned i = 0; d != NULL && gh_dialects[i] != NULL && i < GH_METRICS_NO_DIALECT; i++) {
        if (gh_dialects[i] == d)
            return i;
    }
    return GH_METRICS_NO_DIALECT;
}

/* Request bodies a gateway streams to the upstream unbuffered: Redfish's
 * UpdateService, where OpenBMC's HttpPushUri (the service itself) and
 * MultipartHttpPushUri (.../update) take firmware images, and PowerStore's
 * software package upload. Answers it passes on unbuffered: the Redfish
 * EventService's Server-Sent Events stream. (docs/gateway.md) */
static const char gh_dialect_upload_paths[] =
    "/redfish/v1/UpdateService, /api/rest/software_package/upload";
static const char gh_dialect_stream_paths[] = "/redfish/v1/EventService/SSE";

int gh_dialect_config_defaults(gh_config *cfg, char *err, size_t errlen)
{
    gh_config_defaults(cfg);
    snprintf(cfg->upload_paths, sizeof(cfg->upload_paths), "%s", gh_dialect_upload_paths);
    snprintf(cfg->stream_paths, sizeof(cfg->stream_paths), "%s", gh_dialect_stream_paths);
    /* The gateway's [authorize] rules, shared by every dialect. */
    if (gh_config_declare(cfg, &gh_gateway_config, err, errlen) != 0)
        return -1;
    for (size_t i = 0; gh_dialects[i] != NULL; i++) {
        if (gh_dialects[i]->config != NULL &&
            gh_config_declare(cfg, gh_dialects[i]->config, err, errlen) != 0)
            return -1;
        if (gh_config_upstream_declare(cfg, gh_dialects[i]->name, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Before schema 5 the store named a session's dialect by a number: these
 * names, in that order (1, 2, 3). History: never reordered or extended. */
static const char *const gh_dialect_numbered[] = { "redfish", "ovirt", "powerstore" };

void gh_dialect_store_setup(void)
{
    gh_store_numbered_dialects(gh_dialect_numbered,
                               sizeof(gh_dialect_numbered) / sizeof(gh_dialect_numbered[0]));
}

const gh_dialect *gh_dialect_for_path(gh_str path)
{
    if (path.data == NULL || path.len == 0)
        return NULL;
    for (size_t i = 0; gh_dialects[i] != NULL; i++) {
        const char *prefix = gh_dialects[i]->prefix;

        if (prefix != NULL && prefix[0] != '\0' && gh_path_under(path, prefix))
            return gh_dialects[i];
    }
    return NULL;
}

int gh_tree_load(const char *root, gh_tree **out, char *err, size_t errlen)
{
    char     scratch[1];
    gh_tree *t = NULL;
    int      rc = -1;

    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (out == NULL) {
        snprintf(err, errlen, "no tree to load into");
        goto done;
    }
    *out = NULL;
    if (gh_tree_load_files(root, &t, err, errlen) != 0)
        goto done;
    for (size_t i = 0; gh_dialects[i] != NULL; i++) {
        if (gh_dialects[i]->render != NULL && gh_dialects[i]->render(t, err, errlen) != 0)
            goto done;
    }
    if (gh_tree_seal(t, root, err, errlen) != 0)
        goto done;
    *out = t;
    t = NULL;
    rc = 0;
done:
    gh_tree_free(t);
    return rc;
}
