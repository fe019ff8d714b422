/*
 * config_upstream.c: the upstream* keys of the configuration file, where a
 * gateway passes requests on (docs/gateway.md). [server] holds one set; any
 * section declared to carry them (gh_config_upstream_declare: a dialect's
 * section, declared so by the table of dialects) may give any of the same
 * keys again, and each key it gives wins over [server]'s, key by key: a
 * section that gives only `upstream` keeps [server]'s CA, timeouts and
 * keep-alive. The section need not be declared otherwise: one that carries
 * only these keys is a section all the same.
 *
 * config.c reads the file and asks here first for a key; this file owns the
 * table of the keys, what each section gave, the effective upstream of a
 * section, and the rules between keys (a client certificate with its key).
 */
#include "config_value.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define GH_UP_STR(name, field, kind) \
    { name, kind, offsetof(gh_config_upstream_t, field), \
      sizeof(((gh_config_upstream_t *)0)->field), 0, 0, true }
#define GH_UP_NUM(name, field, lo, hi) \
    { name, GH_CONFIG_I64, offsetof(gh_config_upstream_t, field), 0, lo, hi, false }

/* In the order of gh_config_upstream_t; bit i of `given` is key i. */
static const gh_config_key gh_upstream_keys[GH_CONFIG_UPSTREAM_KEYS] = {
    GH_UP_STR("upstream", url, GH_CONFIG_URL),
    GH_UP_STR("upstream_ca", ca, GH_CONFIG_PATH),
    GH_UP_STR("upstream_server_name", server_name, GH_CONFIG_HOST),
    GH_UP_STR("upstream_client_cert", client_cert, GH_CONFIG_PATH),
    GH_UP_STR("upstream_client_key", client_key, GH_CONFIG_PATH),
    GH_UP_NUM("upstream_keepalive", keepalive, 0, 100000),
    GH_UP_NUM("upstream_connect_timeout", connect_timeout, 1, 3600),
    GH_UP_NUM("upstream_timeout", timeout, 1, 86400),
};

enum { GH_UP_CERT = 3, GH_UP_KEY = 4 };

void gh_config_upstream_defaults(gh_config_upstream_t *u)
{
    memset(u, 0, sizeof(*u));
    u->keepalive = 32;
    u->connect_timeout = 5;
    u->timeout = 60;
}

int gh_config_upstream_declare(gh_config *cfg, const char *name, char *err, size_t errlen)
{
    const char *why = NULL;

    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(cfg->upstreams[0].section))
        why = "not a section name";
    else if (strcmp(name, "server") == 0 || gh_config_upstream_index(cfg, name) >= 0)
        why = "named twice";
    else if (cfg->nupstreams == GH_CONFIG_SECTIONS_MAX)
        why = "too many sections";
    if (why != NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "upstream keys of [%s]: %s", name != NULL ? name : "?", why);
        return -1;
    }
    snprintf(cfg->upstreams[cfg->nupstreams].section,
             sizeof(cfg->upstreams[0].section), "%s", name);
    cfg->upstreams[cfg->nupstreams].given = 0;
    gh_config_upstream_defaults(&cfg->upstreams[cfg->nupstreams].settings);
    cfg->nupstreams++;
    return 0;
}

int gh_config_upstream_index(const gh_config *cfg, const char *name)
{
    for (size_t i = 0; name != NULL && i < cfg->nupstreams; i++)
        if (strcmp(cfg->upstreams[i].section, name) == 0)
            return (int)i;
    return -1;
}

const gh_config_key *gh_config_upstream_find(gh_config *cfg, const char *section,
                                             const char *name, void **base, size_t *slot,
                                             bool *section_known)
{
    int s = strcmp(section, "server") == 0 ? -1 : gh_config_upstream_index(cfg, section);

    *section_known = s >= 0 || strcmp(section, "server") == 0;
    if (!*section_known)
        return NULL;
    for (size_t k = 0; k < GH_CONFIG_UPSTREAM_KEYS; k++) {
        if (strcmp(gh_upstream_keys[k].name, name) != 0)
            continue;
        *slot = (size_t)(s + 1) * GH_CONFIG_UPSTREAM_KEYS + k;
        if (s < 0) {
            *base = &cfg->upstream;
        } else {
            *base = &cfg->upstreams[s].settings;
            cfg->upstreams[s].given |= 1u << k;
        }
        return &gh_upstream_keys[k];
    }
    return NULL;
}

void gh_config_upstream(const gh_config *cfg, const char *name, gh_config_upstream_t *out)
{
    int s = gh_config_upstream_index(cfg, name);

    memcpy(out, &cfg->upstream, sizeof(*out));
    if (s < 0)
        return;
    for (size_t k = 0; k < GH_CONFIG_UPSTREAM_KEYS; k++) {
        const gh_config_key *key = &gh_upstream_keys[k];
        size_t len = key->size > 0 ? key->size : sizeof(int64_t);

        if (cfg->upstreams[s].given & (1u << k))
            memcpy((char *)out + key->offset,
                   (const char *)&cfg->upstreams[s].settings + key->offset, len);
    }
}

/* The later line of a client certificate or key given for section s (-1:
 * [server]) or, when it gave neither, [server]'s; 0 when none was given. */
static int gh_config_upstream_blame(const int *seen, int s, const char **key)
{
    const int *own = seen + (size_t)(s + 1) * GH_CONFIG_UPSTREAM_KEYS;
    int        cert = own[GH_UP_CERT], priv = own[GH_UP_KEY];

    if (cert == 0 && priv == 0 && s >= 0)
        return gh_config_upstream_blame(seen, -1, key);
    *key = gh_upstream_keys[cert >= priv ? GH_UP_CERT : GH_UP_KEY].name;
    return cert >= priv ? cert : priv;
}

int gh_config_upstream_check(const gh_config *cfg, const int *seen, const char **key,
                             const char **why)
{
    for (int s = -1; s < (int)cfg->nupstreams; s++) {
        gh_config_upstream_t u;

        gh_config_upstream(cfg, s < 0 ? NULL : cfg->upstreams[s].section, &u);
        if ((u.client_cert[0] == '\0') != (u.client_key[0] == '\0')) {
            *why = "upstream_client_cert and upstream_client_key go together: both or neither";
            return gh_config_upstream_blame(seen, s, key);
        }
    }
    return 0;
}
