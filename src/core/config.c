/*
 * config.c: the configuration file and its defaults.
 *
 * The file is INI, parsed by libinih; this file owns what the core's keys
 * mean. One table lists every core key with its section, its place in
 * gh_config, its type and its bounds, so parsing, range checks and the
 * documentation in docs/gatehouse.conf.example have one thing to agree with.
 * A section someone else owns brings a table of the same shape
 * (gh_config_section, config.h); once declared it is read by the same code,
 * into the settings area of the gh_config, with the same rules; or, for a
 * section whose keys are not known in advance (the gateway's [authorize],
 * a key per path), by its own line hook, handed each key and value whole.
 *
 * Reading is strict: an unknown section or key, a key given twice, a number
 * that is not wholly a number or falls outside its range, a string that does
 * not fit or holds characters it must not, and a line longer than inih reads
 * whole are all errors, reported as "FILE:LINE: key: reason". Nothing is
 * changed in the caller's gh_config unless the whole file is good.
 *
 * The system libinih is built without INI_HANDLER_LINENO, so its handler is
 * not told the line number. Lines are therefore fed to inih by our own reader,
 * which counts them, and refuses what inih would quietly misread: a line too
 * long for its buffer (split in two and parsed as two lines), a NUL byte (the
 * rest of the line dropped) and an indented key (taken as a continuation of
 * the key above).
 */
#include "config_value.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

/* A key of the core's own sections: the field is in gh_config itself. */
typedef struct {
    const char    *section;
    gh_config_key  key;
} gh_config_core_key;

#define GH_CFG_NUM(sec, field, kind, lo, hi) \
    { sec, { #field, kind, offsetof(gh_config, field), 0, lo, hi, false } }
#define GH_CFG_STR(sec, field, kind, empty) \
    { sec, { #field, kind, offsetof(gh_config, field), \
             sizeof(((gh_config *)0)->field), 0, 0, empty } }

/* [store]'s keys: fields of gh_config.store, named without the prefix. */
#define GH_CFG_STORE_NUM(field, lo, hi) \
    { "store", { #field, GH_CONFIG_I64, offsetof(gh_config, store.field), 0, lo, hi, false } }
#define GH_CFG_STORE_STR(field, kind, empty) \
    { "store", { #field, kind, offsetof(gh_config, store.field), \
                 sizeof(((gh_config *)0)->store.field), 0, 0, empty } }

static const gh_config_core_key gh_config_keys[] = {
    GH_CFG_STR("server", listen, GH_CONFIG_ADDR, false),
    GH_CFG_STR("server", http_listen, GH_CONFIG_ADDR, true),
    GH_CFG_STR("server", metrics_listen, GH_CONFIG_ADDR, true),
    GH_CFG_STR("server", user, GH_CONFIG_NAME, true),
    GH_CFG_NUM("server", workers, GH_CONFIG_INT, 0, 1024),
    GH_CFG_STR("server", nginx, GH_CONFIG_PATH, false),
    GH_CFG_STR("server", module, GH_CONFIG_PATH, true),
    GH_CFG_NUM("server", max_body_bytes, GH_CONFIG_I64, 1024, 1073741824),
    GH_CFG_NUM("server", max_header_bytes, GH_CONFIG_I64, 1024, 1048576),
    GH_CFG_NUM("server", idle_connection_seconds, GH_CONFIG_I64, 1, 3600),
    GH_CFG_NUM("server", max_connections, GH_CONFIG_I64, 1, 1000000),
    GH_CFG_STR("server", identity_header_prefix, GH_CONFIG_PREFIX, false),
    GH_CFG_STR("server", upload_paths, GH_CONFIG_PATHS, true),
    GH_CFG_NUM("server", upload_max_bytes, GH_CONFIG_I64, 1024, INT64_C(1) << 40),
    GH_CFG_STR("server", stream_paths, GH_CONFIG_PATHS, true),
    GH_CFG_STR("server", data_tree, GH_CONFIG_PATH, true),
    GH_CFG_STR("server", log_level, GH_CONFIG_LEVEL, false),
    GH_CFG_NUM("sessions", session_timeout, GH_CONFIG_I64, 30, 86400),
    GH_CFG_NUM("sessions", session_lifetime, GH_CONFIG_I64, 0, 31536000),
    GH_CFG_NUM("sessions", max_sessions, GH_CONFIG_I64, 1, 10000000),
    GH_CFG_NUM("sessions", max_sessions_per_account, GH_CONFIG_I64, 1, 10000000),
    GH_CFG_NUM("credcache", credcache_seconds, GH_CONFIG_I64, 0, 86400),
    GH_CFG_NUM("credcache", credcache_entries, GH_CONFIG_I64, 1, 16777216),
    { "password", { "argon2_t_cost", GH_CONFIG_U32, offsetof(gh_config, argon2.t_cost),
                    0, GH_ARGON2_T_MIN, GH_ARGON2_T_MAX, false } },
    { "password", { "argon2_m_cost_kib", GH_CONFIG_U32, offsetof(gh_config, argon2.m_cost_kib),
                    0, GH_ARGON2_M_MIN_KIB, GH_ARGON2_M_MAX_KIB, false } },
    { "password", { "argon2_parallelism", GH_CONFIG_U32, offsetof(gh_config, argon2.parallelism),
                    0, GH_ARGON2_P_MIN, GH_ARGON2_P_MAX, false } },
    GH_CFG_NUM("password", hash_threads, GH_CONFIG_INT, 0, 1024),
    GH_CFG_NUM("password", hash_nice, GH_CONFIG_INT, 0, 19),
    { "password", { "upgrade_hashes", GH_CONFIG_BOOL, offsetof(gh_config, upgrade_hashes),
                    0, 0, 0, false } },
    GH_CFG_NUM("password", min_password_length, GH_CONFIG_I64, 1, GH_PASSWORD_MAX),
    GH_CFG_NUM("password", max_password_length, GH_CONFIG_I64, 1, GH_PASSWORD_MAX),
    GH_CFG_NUM("lockout", lockout_threshold, GH_CONFIG_I64, 0, 1000),
    GH_CFG_NUM("lockout", lockout_duration, GH_CONFIG_I64, 1, 604800),
    GH_CFG_NUM("lockout", lockout_reset_after, GH_CONFIG_I64, 1, 604800),
    GH_CFG_NUM("lockout", lockout_account_threshold, GH_CONFIG_I64, 0, 1000000),
    GH_CFG_NUM("throttle", throttle_failures, GH_CONFIG_I64, 0, 1000000),
    GH_CFG_NUM("throttle", throttle_window, GH_CONFIG_I64, 1, 86400),
    GH_CFG_NUM("throttle", throttle_delay, GH_CONFIG_I64, 1, 3600),
    GH_CFG_NUM("throttle", throttle_max_delay, GH_CONFIG_I64, 1, 86400),
    GH_CFG_NUM("events", max_streams, GH_CONFIG_I64, 0, 100000),
    GH_CFG_NUM("events", keepalive_seconds, GH_CONFIG_I64, 1, 3600),
    GH_CFG_STR("audit", audit_log, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(url, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(username, GH_CONFIG_NAME, true),
    GH_CFG_STORE_STR(password_file, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(tls_ca, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(tls_cert, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(tls_key, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(tls_server_name, GH_CONFIG_PATH, true),
    GH_CFG_STORE_STR(key_prefix, GH_CONFIG_PATH, false),
    GH_CFG_STORE_STR(secret_file, GH_CONFIG_PATH, true),
    GH_CFG_STORE_NUM(connect_timeout_ms, 10, 60000),
    GH_CFG_STORE_NUM(timeout_ms, 10, 60000),
    GH_CFG_STORE_NUM(wait_replicas, -1, 16),
    GH_CFG_STORE_NUM(wait_ms, 1, 60000),
};

#define GH_CONFIG_NKEYS (sizeof(gh_config_keys) / sizeof(gh_config_keys[0]))
/* Where the upstream* keys' slots start in gh_config_parse.seen. */
#define GH_CONFIG_UPSTREAM_SLOT (GH_CONFIG_NKEYS + GH_CONFIG_SECTIONS_MAX * GH_CONFIG_SECTION_KEYS_MAX)
/* Where the [directory NAME] keys' slots start (config_directory.c). */
#define GH_CONFIG_DIRECTORY_SLOT \
    (GH_CONFIG_UPSTREAM_SLOT + (GH_CONFIG_SECTIONS_MAX + 1) * GH_CONFIG_UPSTREAM_KEYS)

typedef struct {
    gh_config  *cfg;            /* the working copy */
    const char *path;
    FILE       *file;
    char       *line;           /* getline's buffer */
    size_t      linecap;
    int         lineno;         /* of the line inih is handling */
    bool        indented;       /* that line starts with a blank */
    /* line each key was set on (0: not): the core's, then GH_CONFIG_SECTION_KEYS_MAX
     * for each declared section, then the upstream* keys of [server] and of
     * each section carrying them (config_upstream.c), then the keys of
     * each [directory NAME] (config_directory.c) */
    int         seen[GH_CONFIG_DIRECTORY_SLOT + GH_DIRECTORY_MAX * GH_DIRECTORY_KEYS];
    bool        failed;
    int         errline;        /* of the first error we reported */
    char       *err;
    size_t      errlen;
} gh_config_parse;

__attribute__((format(printf, 4, 5)))
static void gh_config_error(gh_config_parse *ps, int line, const char *key,
                            const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    if (ps->failed)
        return;
    ps->failed = true;
    ps->errline = line;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (ps->err == NULL || ps->errlen == 0)
        return;
    if (key != NULL)
        snprintf(ps->err, ps->errlen, "%s:%d: %s: %s", ps->path, line, key, reason);
    else
        snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->path, line, reason);
}

void gh_config_defaults(gh_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen, sizeof(cfg->listen), "%s", "127.0.0.1:8443");
    snprintf(cfg->http_listen, sizeof(cfg->http_listen), "%s", "127.0.0.1:8080");
    snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s", "127.0.0.1:9145");
    snprintf(cfg->nginx, sizeof(cfg->nginx), "%s", "/usr/sbin/nginx");
    snprintf(cfg->log_level, sizeof(cfg->log_level), "%s", "error");
    cfg->workers = 0;
    cfg->max_body_bytes = 65536;
    cfg->max_header_bytes = 16384;
    cfg->idle_connection_seconds = 60;
    cfg->max_connections = 1024;
    gh_config_upstream_defaults(&cfg->upstream);
    snprintf(cfg->identity_header_prefix, sizeof(cfg->identity_header_prefix), "%s",
             "X-Gatehouse-");
    cfg->upload_max_bytes = INT64_C(4) << 30;
    cfg->session_timeout = 1800;
    cfg->session_lifetime = 0;
    cfg->max_sessions = 10000;
    cfg->max_sessions_per_account = 64;
    cfg->credcache_seconds = 300;
    cfg->credcache_entries = 4096;
    cfg->argon2.t_cost = 2;
    cfg->argon2.m_cost_kib = 19456;
    cfg->argon2.parallelism = 1;
    cfg->hash_threads = 0;
    cfg->hash_nice = 10;
    cfg->upgrade_hashes = true;
    cfg->min_password_length = 8;
    cfg->max_password_length = 128;
    cfg->lockout_threshold = 5;
    cfg->lockout_duration = 300;
    cfg->lockout_reset_after = 300;
    cfg->lockout_account_threshold = 50;
    cfg->throttle_failures = 10;
    cfg->throttle_window = 300;
    cfg->throttle_delay = 1;
    cfg->throttle_max_delay = 60;
    cfg->max_streams = 64;
    cfg->keepalive_seconds = 15;
    snprintf(cfg->store.key_prefix, sizeof(cfg->store.key_prefix), "%s", "gh:");
    cfg->store.connect_timeout_ms = 500;
    cfg->store.timeout_ms = 1000;
    cfg->store.wait_replicas = -1;
    cfg->store.wait_ms = 100;
}

static bool gh_config_core_section(const char *name)
{
    for (size_t i = 0; i < GH_CONFIG_NKEYS; i++)
        if (strcmp(gh_config_keys[i].section, name) == 0)
            return true;
    return false;
}

int gh_config_declare(gh_config *cfg, const gh_config_section *sec, char *err, size_t errlen)
{
    const size_t align = _Alignof(gh_config_align);
    size_t offset = 0;
    const char *why = NULL;

    if (cfg->nsections > 0) {
        size_t last = cfg->nsections - 1;

        offset = cfg->declared[last].offset + cfg->declared[last].section->size;
        offset = (offset + align - 1) / align * align;
    }
    if (sec == NULL || sec->name == NULL || sec->defaults == NULL)
        why = "not a section";
    else if (gh_config_core_section(sec->name) || gh_config_section_get(cfg, sec) != NULL)
        why = "named twice";
    else if (cfg->nsections == GH_CONFIG_SECTIONS_MAX || sec->nkeys > GH_CONFIG_SECTION_KEYS_MAX)
        why = "too many sections or keys";
    else if (sec->size > sizeof(cfg->section_data) - offset)
        why = "no room for its settings";
    for (size_t i = 0; sec != NULL && sec->name != NULL && why == NULL && i < cfg->nsections; i++)
        if (strcmp(cfg->declared[i].section->name, sec->name) == 0)
            why = "named twice";
    if (why != NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "section [%s]: %s", sec != NULL && sec->name != NULL
                                                      ? sec->name : "?", why);
        return -1;
    }
    memcpy(cfg->section_data + offset, sec->defaults, sec->size);
    cfg->declared[cfg->nsections].section = sec;
    cfg->declared[cfg->nsections].offset = offset;
    cfg->nsections++;
    return 0;
}

const void *gh_config_section_get(const gh_config *cfg, const gh_config_section *sec)
{
    for (size_t i = 0; cfg != NULL && i < cfg->nsections; i++)
        if (cfg->declared[i].section == sec)
            return cfg->section_data + cfg->declared[i].offset;
    return NULL;
}

void *gh_config_section_edit(gh_config *cfg, const gh_config_section *sec)
{
    for (size_t i = 0; cfg != NULL && i < cfg->nsections; i++)
        if (cfg->declared[i].section == sec)
            return cfg->section_data + cfg->declared[i].offset;
    return NULL;
}

/* The key name of section in ps's config: where its settings start (*base),
 * its slot in ps->seen (*slot); NULL when there is none, *section_known
 * saying whether the section is, and *lines the section when it reads its
 * lines itself (gh_config_section.line). */
static const gh_config_key *gh_config_find(gh_config_parse *ps, const char *section,
                                           const char *name, void **base, size_t *slot,
                                           bool *section_known,
                                           const gh_config_section **lines)
{
    gh_config *cfg = ps->cfg;

    *section_known = false;
    *lines = NULL;
    for (size_t i = 0; i < GH_CONFIG_NKEYS; i++) {
        if (strcmp(gh_config_keys[i].section, section) != 0)
            continue;
        *section_known = true;
        if (strcmp(gh_config_keys[i].key.name, name) == 0) {
            *base = cfg;
            *slot = i;
            return &gh_config_keys[i].key;
        }
    }
    for (size_t s = 0; !*section_known && s < cfg->nsections; s++) {
        const gh_config_section *sec = cfg->declared[s].section;

        if (strcmp(sec->name, section) != 0)
            continue;
        *section_known = true;
        *base = cfg->section_data + cfg->declared[s].offset;
        *lines = sec;
        for (size_t k = 0; sec->line == NULL && k < sec->nkeys; k++) {
            if (strcmp(sec->keys[k].name, name) == 0) {
                *base = cfg->section_data + cfg->declared[s].offset;
                *slot = GH_CONFIG_NKEYS + s * GH_CONFIG_SECTION_KEYS_MAX + k;
                return &sec->keys[k];
            }
        }
    }
    return NULL;
}

/* A line of a section that reads its lines itself: the value must be the
 * whole rest of the line (no inline comment cut off of it by inih). */
static int gh_config_line(gh_config_parse *ps, const gh_config_section *sec, void *base,
                          const char *name, const char *value)
{
    char   why[192] = "";
    size_t raw = strlen(ps->line), vlen = strlen(value);

    while (raw > 0 && (ps->line[raw - 1] == '\n' || ps->line[raw - 1] == '\r' ||
                       ps->line[raw - 1] == ' ' || ps->line[raw - 1] == '\t'))
        raw--;
    if (vlen > raw || memcmp(ps->line + raw - vlen, value, vlen) != 0) {
        gh_config_error(ps, ps->lineno, name, "an inline comment is not allowed in [%s]",
                        sec->name);
        return 0;
    }
    if (!sec->line(base, name, value, why, sizeof(why))) {
        gh_config_error(ps, ps->lineno, name, "%s", why[0] != '\0' ? why : "refused");
        return 0;
    }
    return 1;
}

static int gh_config_handler(void *user, const char *section, const char *name,
                             const char *value)
{
    gh_config_parse *ps = user;
    const gh_config_key *key;
    const gh_config_section *lines;
    const char *why = NULL;
    bool section_known = false, upstream_section;
    void *base = NULL;
    size_t slot = 0;

    if (ps->failed)
        return 0;
    if (ps->indented) {
        gh_config_error(ps, ps->lineno, name, "indented (continuation lines are not supported)");
        return 0;
    }
    lines = NULL;
    key = gh_config_directory_find(ps->cfg, section, name, &base, &slot, &section_known, &why);
    if (why != NULL) {
        gh_config_error(ps, ps->lineno, name, "[%s]: %s", section, why);
        return 0;
    }
    if (key != NULL)
        slot += GH_CONFIG_DIRECTORY_SLOT;
    upstream_section = false;
    if (key == NULL && !section_known)
        key = gh_config_upstream_find(ps->cfg, section, name, &base, &slot, &upstream_section);
    if (key != NULL && !section_known)
        slot += GH_CONFIG_UPSTREAM_SLOT;
    else if (key == NULL && !section_known)
        key = gh_config_find(ps, section, name, &base, &slot, &section_known, &lines);
    section_known = key != NULL || section_known || upstream_section;
    if (!section_known) {
        gh_config_error(ps, ps->lineno, name, "unknown section [%s]", section);
        return 0;
    }
    if (lines != NULL && lines->line != NULL)
        return gh_config_line(ps, lines, base, name, value);
    if (key == NULL) {
        gh_config_error(ps, ps->lineno, name, "unknown key in [%s]", section);
        return 0;
    }
    if (ps->seen[slot] != 0) {
        gh_config_error(ps, ps->lineno, name, "given twice (first on line %d)", ps->seen[slot]);
        return 0;
    }
    ps->seen[slot] = ps->lineno;
    if (!gh_config_set(key, value, base, &why)) {
        gh_config_error(ps, ps->lineno, name, "%s", why);
        return 0;
    }
    return 1;
}

/*
 * fgets for inih that counts lines and refuses the lines inih would misread.
 * Returning NULL after any error ends the parse early.
 */
static char *gh_config_reader(char *str, int num, void *stream)
{
    gh_config_parse *ps = stream;
    ssize_t n;
    size_t text;

    if (ps->failed)
        return NULL;
    n = getline(&ps->line, &ps->linecap, ps->file);
    if (n < 0)
        return NULL;
    ps->lineno++;
    if (strlen(ps->line) != (size_t)n) {
        gh_config_error(ps, ps->lineno, NULL, "line holds a NUL byte");
        return NULL;
    }
    /* inih wants room for "\r\n\0" after the text; hold every file, LF or
     * CRLF, to that one limit so the documented length is the real one. */
    text = (size_t)n;
    if (text > 0 && ps->line[text - 1] == '\n')
        text--;
    if (text > 0 && ps->line[text - 1] == '\r')
        text--;
    if (num < 3 || text > (size_t)num - 3) {
        gh_config_error(ps, ps->lineno, NULL, "line longer than %d characters", num - 3);
        return NULL;
    }
    ps->indented = ps->line[0] == ' ' || ps->line[0] == '\t';
    memcpy(str, ps->line, (size_t)n + 1);
    return str;
}

static size_t gh_config_index(const char *name)
{
    size_t i;

    for (i = 0; i < GH_CONFIG_NKEYS; i++)
        if (strcmp(gh_config_keys[i].key.name, name) == 0)
            break;
    return i;
}

/* Blame the later of two keys for a rule between them. */
static void gh_config_pair_error(gh_config_parse *ps, const char *a, const char *b,
                                 const char *reason)
{
    int la = ps->seen[gh_config_index(a)], lb = ps->seen[gh_config_index(b)];

    gh_config_error(ps, la >= lb ? la : lb, la >= lb ? a : b, "%s", reason);
}

/* Rules between keys, checked once the whole file is read. */
static void gh_config_check(gh_config_parse *ps)
{
    const gh_config *c = ps->cfg;
    const char *key = NULL, *why = NULL;
    int line;

    line = gh_config_upstream_check(c, ps->seen + GH_CONFIG_UPSTREAM_SLOT, &key, &why);
    if (line == 0)
        line = gh_config_directory_check(c, ps->seen + GH_CONFIG_DIRECTORY_SLOT, &key, &why);
    if (line > 0)
        gh_config_error(ps, line, key, "%s", why);
    else if (c->argon2.m_cost_kib < 8 * c->argon2.parallelism)
        gh_config_pair_error(ps, "argon2_m_cost_kib", "argon2_parallelism",
                             "argon2_m_cost_kib must be at least 8 * argon2_parallelism");
    else if (c->min_password_length > c->max_password_length)
        gh_config_pair_error(ps, "min_password_length", "max_password_length",
                             "min_password_length exceeds max_password_length");
}

int gh_config_load(gh_config *cfg, const char *path, char *err, size_t errlen)
{
    gh_config_parse ps;
    gh_config work;
    int rc;

    memset(&ps, 0, sizeof(ps));
    ps.path = path != NULL ? path : "(null)";
    ps.err = err;
    ps.errlen = errlen;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        gh_config_error(&ps, 0, NULL, "no configuration file named");
        return -1;
    }
    ps.file = fopen(path, "re");
    if (ps.file == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    memcpy(&work, cfg, sizeof(work));
    ps.cfg = &work;
    rc = ini_parse_stream(gh_config_reader, &ps, gh_config_handler, &ps);
    /* inih reports its own syntax errors only at the end, so one on an
     * earlier line than ours is the first error of the file. */
    if (rc > 0 && (!ps.failed || rc < ps.errline)) {
        ps.failed = false;
        gh_config_error(&ps, rc, NULL, "syntax error (expected [section] or key = value)");
    } else if (!ps.failed && rc != 0) {
        gh_config_error(&ps, ps.lineno, NULL, "out of memory");
    }
    if (!ps.failed && ferror(ps.file))
        gh_config_error(&ps, ps.lineno, NULL, "read error");
    if (!ps.failed)
        gh_config_check(&ps);
    fclose(ps.file);
    free(ps.line);
    if (ps.failed)
        return -1;
    memcpy(cfg, &work, sizeof(*cfg));
    return 0;
}
