/*
 * cli_gateway.c: the gateway part of the nginx.conf `gatehouse serve`
 * writes (docs/gateway.md). Each dialect's upstream is [server]'s upstream*
 * keys with the dialect's own section's over them (gh_config_upstream); a
 * dialect without one keeps the bundled tree. Every distinct upstream gets
 * one `upstream` block (data/upstream.conf.in); every dialect with an
 * upstream gets a location for its prefix, and every upload or stream path
 * under such a dialect a location of its own before it
 * (data/gateway.conf.in). nginx syntax lives in those templates; this file
 * only works out their values.
 */
#include "cli_gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../dialects/common/dialect.h"
#include "cli_template.h"

#ifndef GH_TREE_DIR
#define GH_TREE_DIR "/usr/share/gatehouse"
#endif
#define GH_GATEWAY_TEMPLATE  GH_TREE_DIR "/gateway.conf.in"
#define GH_UPSTREAM_TEMPLATE GH_TREE_DIR "/upstream.conf.in"
#define GH_GATEWAY_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define GH_GATEWAY_STREAM_READ_SECONDS 3600
#define GH_GATEWAY_MAX     8     /* distinct upstreams: at most one per dialect */
#define GH_GATEWAY_PATHS   64    /* upload and stream paths together */
#define GH_GATEWAY_VARS    16

/* One upstream, as nginx.conf needs it. */
typedef struct {
    gh_config_upstream_t cfg;
    bool  tls;
    char  server[600];      /* the upstream block's server: HOST:PORT or unix:/PATH */
    char  host[520];        /* the Host header: the URL's authority */
    char  sni[520];         /* the name the certificate is checked for */
} gh_gateway_up;

typedef struct {
    gh_gateway_up up[GH_GATEWAY_MAX];
    size_t        nup;
    int           of[GH_GATEWAY_MAX];   /* each dialect's index in up, or -1 */
} gh_gateway_plan;

typedef struct {
    char path[1024];
    bool upload, stream;
    int  up;
} gh_gateway_path;

/* Split an http(s):// or unix: URL (config_value.c checked it) into u. */
static void gh_gateway_split(gh_gateway_up *u)
{
    const char *url = u->cfg.url, *auth, *end, *colon;
    size_t      len;

    if (strncmp(url, "unix:", 5) == 0) {
        snprintf(u->server, sizeof(u->server), "%s", url);
        snprintf(u->host, sizeof(u->host), "localhost");
        return;
    }
    u->tls = strncmp(url, "https://", 8) == 0;
    auth = url + (u->tls ? 8 : 7);
    end = auth + strcspn(auth, "/");
    len = (size_t)(end - auth);
    snprintf(u->host, sizeof(u->host), "%.*s", (int)len, auth);
    colon = auth[0] == '[' ? memchr(auth, ']', len) : auth;
    colon = colon != NULL ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
    if (colon != NULL)
        snprintf(u->server, sizeof(u->server), "%s", u->host);
    else
        snprintf(u->server, sizeof(u->server), "%s:%d", u->host, u->tls ? 443 : 80);
    len = (size_t)((colon != NULL ? colon : end) - auth);
    if (auth[0] == '[')
        snprintf(u->sni, sizeof(u->sni), "%.*s", (int)(len - 2), auth + 1);
    else
        snprintf(u->sni, sizeof(u->sni), "%.*s", (int)len, auth);
    if (u->cfg.server_name[0] != '\0')
        snprintf(u->sni, sizeof(u->sni), "%s", u->cfg.server_name);
    if (u->cfg.ca[0] == '\0')
        snprintf(u->cfg.ca, sizeof(u->cfg.ca), "%s", GH_GATEWAY_SYSTEM_CA);
}

/* Each dialect's upstream, the same ones shared. */
static void gh_gateway_plan_make(const gh_config *cfg, gh_gateway_plan *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t d = 0; gh_dialects[d] != NULL && d < GH_GATEWAY_MAX; d++) {
        gh_config_upstream_t u;
        size_t               i;

        p->of[d] = -1;
        gh_config_upstream(cfg, gh_dialects[d]->name, &u);
        if (u.url[0] == '\0')
            continue;
        for (i = 0; i < p->nup; i++)
            if (memcmp(&p->up[i].cfg, &u, sizeof(u)) == 0)
                break;
        if (i == p->nup) {
            p->up[i].cfg = u;
            p->nup++;
        }
        p->of[d] = (int)i;
    }
    /* split after comparing: the CA default is not a key the user gave */
    for (size_t i = 0; i < p->nup; i++)
        gh_gateway_split(&p->up[i]);
}

int gh_cli_gateway_check(const gh_cli_ctx *ctx)
{
    gh_gateway_plan p;

    gh_gateway_plan_make(&ctx->cfg, &p);
    for (size_t i = 0; i < p.nup; i++) {
        const gh_gateway_up *u = &p.up[i];
        const char *what[] = { "upstream_ca", "upstream_client_cert", "upstream_client_key" };
        const char *file[] = { u->cfg.ca, u->cfg.client_cert, u->cfg.client_key };

        for (size_t f = 0; u->tls && f < 3; f++) {
            if (file[f][0] == '\0')
                continue;
            if (!gh_tmpl_path_ok(what[f], file[f]))
                return -1;
            if (access(file[f], R_OK) < 0) {
                gh_cli_err("%s %s (upstream %s) cannot be read by the data directory's "
                           "owner, who runs nginx: %s", what[f], file[f], u->cfg.url,
                           strerror(errno));
                return -1;
            }
        }
    }
    return 0;
}

/* ^PATH(?:/|$), case-insensitive in the location: '.' as [.], a trailing
 * '/' dropped, so the path and everything under it match, never /PATHx. */
static void gh_gateway_match(const char *path, char *out, size_t outlen)
{
    size_t len = strlen(path), o = 0;

    while (len > 1 && path[len - 1] == '/')
        len--;
    out[o++] = '^';
    for (size_t i = 0; i < len && o + 8 < outlen; i++) {
        if (path[i] == '.') {
            memcpy(out + o, "[.]", 3);
            o += 3;
        } else {
            out[o++] = path[i];
        }
    }
    out[o] = '\0';
    if (strcmp(path, "/") != 0)
        snprintf(out + o, outlen - o, "(?:/|$)");
}

static void gh_gateway_var(gh_tmpl_var *vars, size_t *n, const char *name, const char *value)
{
    vars[*n].name = name;
    vars[*n].text = NULL;
    snprintf(vars[*n].value, sizeof(vars[*n].value), "%s", value);
    (*n)++;
}

static void gh_gateway_num(gh_tmpl_var *vars, size_t *n, const char *name, long long v)
{
    char text[32];

    snprintf(text, sizeof(text), "%lld", v);
    gh_gateway_var(vars, n, name, text);
}

/* Render tmpl with vars onto out. */
static int gh_gateway_emit(FILE *out, const char *source, const char *tmpl,
                           const gh_tmpl_var *vars, size_t n)
{
    char  *text = NULL;
    size_t len = 0;

    if (gh_tmpl_render(source, tmpl, vars, n, &text, &len) < 0)
        return -1;
    fwrite(text, 1, len, out);
    free(text);
    return 0;
}

/* One location: a dialect's prefix (upload and stream false) or a path. */
static int gh_gateway_location(FILE *out, const char *tmpl, const gh_config *cfg,
                               const gh_gateway_plan *p, int up, const char *path,
                               bool upload, bool stream)
{
    const gh_gateway_up *u = &p->up[up];
    gh_tmpl_var vars[GH_GATEWAY_VARS];
    char        match[1100], name[48];
    size_t      n = 0;
    int64_t     read = u->cfg.timeout;

    if (stream && read < GH_GATEWAY_STREAM_READ_SECONDS)
        read = GH_GATEWAY_STREAM_READ_SECONDS;
    gh_gateway_match(path, match, sizeof(match));
    snprintf(name, sizeof(name), "gatehouse_upstream_%d", up + 1);
    gh_gateway_var(vars, &n, "MATCH", match);
    gh_gateway_var(vars, &n, "UPLOAD", upload ? "1" : "");
    gh_gateway_num(vars, &n, "UPLOAD_MAX_BYTES", (long long)cfg->upload_max_bytes);
    gh_gateway_var(vars, &n, "STREAM", stream ? "1" : "");
    gh_gateway_var(vars, &n, "HOST", u->host);
    gh_gateway_num(vars, &n, "CONNECT_TIMEOUT", (long long)u->cfg.connect_timeout);
    gh_gateway_num(vars, &n, "TIMEOUT", (long long)u->cfg.timeout);
    gh_gateway_num(vars, &n, "READ_TIMEOUT", (long long)read);
    gh_gateway_var(vars, &n, "TLS", u->tls ? "1" : "");
    gh_gateway_var(vars, &n, "CA", u->cfg.ca);
    gh_gateway_var(vars, &n, "SERVER_NAME", u->sni);
    gh_gateway_var(vars, &n, "CLIENT_CERT", u->tls ? u->cfg.client_cert : "");
    gh_gateway_var(vars, &n, "CLIENT_KEY", u->cfg.client_key);
    gh_gateway_var(vars, &n, "SCHEME", u->tls ? "https" : "http");
    gh_gateway_var(vars, &n, "NAME", name);
    return gh_gateway_emit(out, GH_GATEWAY_TEMPLATE, tmpl, vars, n);
}

/* Add each path of list (commas and blanks between) to paths, as an upload
 * or a stream path, when its dialect has an upstream. */
static int gh_gateway_paths(const char *key, const char *list, bool upload,
                            const gh_gateway_plan *p, gh_gateway_path *paths, size_t *n)
{
    const char *s = list;

    while (*s != '\0') {
        size_t           len, d, i;
        const gh_dialect *dialect;

        s += strspn(s, ", \t");
        len = strcspn(s, ", \t");
        if (len == 0)
            break;
        dialect = gh_dialect_for_path((gh_str) { s, len });
        if (dialect == NULL) {
            gh_cli_err("%s: %.*s is under no dialect's prefix", key, (int)len, s);
            return -1;
        }
        for (d = 0; gh_dialects[d] != dialect; d++)
            ;
        for (i = 0; i < *n; i++)
            if (strlen(paths[i].path) == len && memcmp(paths[i].path, s, len) == 0)
                break;
        if (p->of[d] >= 0 && i == *n && *n == GH_GATEWAY_PATHS) {
            gh_cli_err("%s: more than %d paths in upload_paths and stream_paths", key,
                       GH_GATEWAY_PATHS);
            return -1;
        }
        if (p->of[d] >= 0 && i == *n) {
            snprintf(paths[i].path, sizeof(paths[i].path), "%.*s", (int)len, s);
            paths[i].up = p->of[d];
            (*n)++;
        }
        if (i < *n) {
            paths[i].upload |= upload;
            paths[i].stream |= !upload;
        }
        s += len;
    }
    return 0;
}

/* Longest first: regular expressions are tried in order. */
static int gh_gateway_longer(const void *a, const void *b)
{
    size_t la = strlen(((const gh_gateway_path *)a)->path);
    size_t lb = strlen(((const gh_gateway_path *)b)->path);

    return la > lb ? -1 : la < lb;
}

static int gh_gateway_upstreams(FILE *out, const gh_gateway_plan *p)
{
    char  *tmpl = NULL;
    size_t len = 0;
    int    rc = -1;

    if (gh_cli_read_file(GH_UPSTREAM_TEMPLATE, 64 * 1024, &tmpl, &len) < 0)
        return -1;
    for (size_t i = 0; i < p->nup; i++) {
        gh_tmpl_var vars[3];
        char        name[48];
        size_t      n = 0;

        snprintf(name, sizeof(name), "gatehouse_upstream_%zu", i + 1);
        gh_gateway_var(vars, &n, "NAME", name);
        gh_gateway_var(vars, &n, "SERVER", p->up[i].server);
        gh_gateway_var(vars, &n, "KEEPALIVE", "");
        if (p->up[i].cfg.keepalive > 0)
            snprintf(vars[2].value, sizeof(vars[2].value), "%lld",
                     (long long)p->up[i].cfg.keepalive);
        if (gh_gateway_emit(out, GH_UPSTREAM_TEMPLATE, tmpl, vars, n) < 0)
            goto done;
    }
    rc = 0;
done:
    free(tmpl);
    return rc;
}

static int gh_gateway_locations(FILE *out, const gh_config *cfg, const gh_gateway_plan *p)
{
    gh_gateway_path *paths = calloc(GH_GATEWAY_PATHS, sizeof(*paths));
    char            *tmpl = NULL;
    size_t           len = 0, n = 0;
    int              rc = -1;

    if (paths == NULL || gh_cli_read_file(GH_GATEWAY_TEMPLATE, 64 * 1024, &tmpl, &len) < 0)
        goto done;
    if (gh_gateway_paths("upload_paths", cfg->upload_paths, true, p, paths, &n) < 0
        || gh_gateway_paths("stream_paths", cfg->stream_paths, false, p, paths, &n) < 0)
        goto done;
    qsort(paths, n, sizeof(*paths), gh_gateway_longer);
    for (size_t i = 0; i < n; i++)
        if (gh_gateway_location(out, tmpl, cfg, p, paths[i].up, paths[i].path,
                                paths[i].upload, paths[i].stream) < 0)
            goto done;
    for (size_t d = 0; gh_dialects[d] != NULL && d < GH_GATEWAY_MAX; d++)
        if (p->of[d] >= 0 && gh_gateway_location(out, tmpl, cfg, p, p->of[d],
                                                 gh_dialects[d]->prefix, false, false) < 0)
            goto done;
    rc = 0;
done:
    free(tmpl);
    free(paths);
    return rc;
}

int gh_cli_gateway_render(const gh_cli_ctx *ctx, gh_cli_gateway *gw)
{
    gh_gateway_plan p;
    size_t          ulen = 0, llen = 0;
    FILE           *ups, *locs;
    int             rc = -1;

    gw->upstreams = gw->locations = NULL;
    ups = open_memstream(&gw->upstreams, &ulen);
    locs = open_memstream(&gw->locations, &llen);

    if (ups == NULL || locs == NULL)
        goto done;
    gh_gateway_plan_make(&ctx->cfg, &p);
    if (gh_gateway_upstreams(ups, &p) < 0 || gh_gateway_locations(locs, &ctx->cfg, &p) < 0)
        goto done;
    rc = 0;
done:
    if (ups != NULL && fclose(ups) != 0)
        rc = -1;
    if (locs != NULL && fclose(locs) != 0)
        rc = -1;
    if (rc < 0)
        gh_cli_gateway_free(gw);
    return rc;
}

void gh_cli_gateway_free(gh_cli_gateway *gw)
{
    free(gw->upstreams);
    free(gw->locations);
    gw->upstreams = gw->locations = NULL;
}
