/*
 * config_directory.c: the [directory NAME] sections of the configuration
 * file, one directory profile each (docs/directory.md), at most
 * GH_DIRECTORY_MAX of them. config.c reads the file and asks here for a key
 * of a section whose name starts with "directory ": the first key of a new
 * NAME takes the next free profile, with its defaults. This file owns the
 * table of the keys, their defaults, and the rules a profile must keep,
 * checked once the whole file is read: servers that are ldap:// or ldaps://
 * URLs and nothing more (libldap parses them), StartTLS on ldap:// only, a
 * service DN with its password file, group DNs that parse as DNs, at least
 * one group mapped to a role, and one default profile at most.
 */
#include "config_value.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <ldap.h>

#define GH_DIR_PREFIX "directory "
/* The stored text's own line: the sealed service password (config.h). */
#define GH_DIR_SEALED "bind_password_sealed"
#define GH_DIR_BASE64 \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

#define GH_DIR_STR(name, field, kind, empty) \
    { name, kind, offsetof(gh_config_directory, field), \
      sizeof(((gh_config_directory *)0)->field), 0, 0, empty }
#define GH_DIR_NUM(name, field, lo, hi) \
    { name, GH_CONFIG_I64, offsetof(gh_config_directory, field), 0, lo, hi, false }
#define GH_DIR_BOOL(name, field) \
    { name, GH_CONFIG_BOOL, offsetof(gh_config_directory, field), 0, 0, 0, false }

/* The keys by index: the table below is filled by these, so that a key
 * added anywhere keeps every index the checks use right, and the count
 * is checked against config.h's. */
enum {
    GH_DIR_K_SERVERS = 0,
    GH_DIR_K_STARTTLS,
    GH_DIR_K_CA,
    GH_DIR_K_BIND_DN,
    GH_DIR_K_BIND_PASSWORD_FILE,
    GH_DIR_K_USER_BASE,
    GH_DIR_K_USER_FILTER,
    GH_DIR_K_USER_ATTRIBUTE,
    GH_DIR_K_GROUP_ATTRIBUTE,
    GH_DIR_K_GROUP_BASE,
    GH_DIR_K_GROUP_FILTER,
    GH_DIR_K_GROUP_MEMBER_ATTRIBUTE,
    GH_DIR_K_ADMINISTRATOR_GROUPS,
    GH_DIR_K_OPERATOR_GROUPS,
    GH_DIR_K_READONLY_GROUPS,
    GH_DIR_K_CONNECT_TIMEOUT,
    GH_DIR_K_BIND_TIMEOUT,
    GH_DIR_K_SEARCH_TIMEOUT,
    GH_DIR_K_RECHECK_INTERVAL,
    GH_DIR_K_DEFAULT,
    GH_DIR_K_KIND,
    GH_DIR_K_ENABLED,
    GH_DIR_K_COUNT
};

_Static_assert(GH_DIR_K_COUNT == GH_DIRECTORY_KEYS, "GH_DIRECTORY_KEYS is the keys' count");

static const gh_config_key gh_directory_keys[GH_DIRECTORY_KEYS] = {
    [GH_DIR_K_SERVERS] = GH_DIR_STR("servers", servers, GH_CONFIG_TEXT, false),
    [GH_DIR_K_STARTTLS] = GH_DIR_BOOL("starttls", starttls),
    [GH_DIR_K_CA] = GH_DIR_STR("ca", ca, GH_CONFIG_PATH, true),
    [GH_DIR_K_BIND_DN] = GH_DIR_STR("bind_dn", bind_dn, GH_CONFIG_TEXT, true),
    [GH_DIR_K_BIND_PASSWORD_FILE] =
        GH_DIR_STR("bind_password_file", bind_password_file, GH_CONFIG_PATH, true),
    [GH_DIR_K_USER_BASE] = GH_DIR_STR("user_base", user_base, GH_CONFIG_TEXT, false),
    [GH_DIR_K_USER_FILTER] = GH_DIR_STR("user_filter", user_filter, GH_CONFIG_TEXT, false),
    [GH_DIR_K_USER_ATTRIBUTE] =
        GH_DIR_STR("user_attribute", user_attribute, GH_CONFIG_TEXT, false),
    [GH_DIR_K_GROUP_ATTRIBUTE] =
        GH_DIR_STR("group_attribute", group_attribute, GH_CONFIG_TEXT, true),
    [GH_DIR_K_GROUP_BASE] = GH_DIR_STR("group_base", group_base, GH_CONFIG_TEXT, true),
    [GH_DIR_K_GROUP_FILTER] = GH_DIR_STR("group_filter", group_filter, GH_CONFIG_TEXT, false),
    [GH_DIR_K_GROUP_MEMBER_ATTRIBUTE] =
        GH_DIR_STR("group_member_attribute", group_member_attribute, GH_CONFIG_TEXT, false),
    [GH_DIR_K_ADMINISTRATOR_GROUPS] =
        GH_DIR_STR("administrator_groups", administrator_groups, GH_CONFIG_TEXT, true),
    [GH_DIR_K_OPERATOR_GROUPS] =
        GH_DIR_STR("operator_groups", operator_groups, GH_CONFIG_TEXT, true),
    [GH_DIR_K_READONLY_GROUPS] =
        GH_DIR_STR("readonly_groups", readonly_groups, GH_CONFIG_TEXT, true),
    [GH_DIR_K_CONNECT_TIMEOUT] = GH_DIR_NUM("connect_timeout", connect_timeout, 1, 300),
    [GH_DIR_K_BIND_TIMEOUT] = GH_DIR_NUM("bind_timeout", bind_timeout, 1, 300),
    [GH_DIR_K_SEARCH_TIMEOUT] = GH_DIR_NUM("search_timeout", search_timeout, 1, 300),
    [GH_DIR_K_RECHECK_INTERVAL] =
        GH_DIR_NUM("recheck_interval", recheck_interval, 0, GH_DIRECTORY_RECHECK_MAX),
    [GH_DIR_K_DEFAULT] = GH_DIR_BOOL("default", is_default),
    [GH_DIR_K_KIND] = GH_DIR_STR("kind", kind, GH_CONFIG_NAME, false),
    [GH_DIR_K_ENABLED] = GH_DIR_BOOL("enabled", enabled),
};

/* The index of a key in the table, by name (a stored profile's line). */
static size_t gh_config_directory_key(const char *name)
{
    size_t k = 0;

    while (k < GH_DIRECTORY_KEYS && strcmp(gh_directory_keys[k].name, name) != 0)
        k++;
    return k;
}

void gh_config_directory_defaults(gh_config_directory *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->user_filter, sizeof(d->user_filter), "%s", "(objectClass=*)");
    snprintf(d->user_attribute, sizeof(d->user_attribute), "%s", "uid");
    snprintf(d->group_attribute, sizeof(d->group_attribute), "%s", "memberOf");
    snprintf(d->group_filter, sizeof(d->group_filter), "%s", "(objectClass=groupOfNames)");
    snprintf(d->group_member_attribute, sizeof(d->group_member_attribute), "%s", "member");
    d->connect_timeout = 5;
    d->bind_timeout = 5;
    d->search_timeout = 10;
    d->recheck_interval = 300;
    snprintf(d->kind, sizeof(d->kind), "%s", GH_DIRECTORY_KIND_LDAP);
    d->enabled = true;
}

bool gh_config_directory_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > GH_DOMAIN_MAX || strcmp(name, "internal") == 0)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == n;
}

const gh_config_directory *gh_config_directory_get(const gh_config *cfg, const char *name)
{
    for (size_t i = 0; cfg != NULL && name != NULL && i < cfg->ndirectories; i++)
        if (strcmp(cfg->directories[i].name, name) == 0)
            return &cfg->directories[i];
    return NULL;
}

const gh_config_directory *gh_config_directory_default(const gh_config *cfg)
{
    for (size_t i = 0; cfg != NULL && i < cfg->ndirectories; i++)
        if (cfg->directories[i].is_default)
            return &cfg->directories[i];
    return NULL;
}

const gh_config_key *gh_config_directory_find(gh_config *cfg, const char *section,
                                              const char *name, void **base, size_t *slot,
                                              bool *section_known, const char **why)
{
    const char *pname = section + sizeof(GH_DIR_PREFIX) - 1;
    gh_config_directory *d;

    *section_known = strncmp(section, GH_DIR_PREFIX, sizeof(GH_DIR_PREFIX) - 1) == 0;
    *why = NULL;
    if (!*section_known)
        return NULL;
    if (!gh_config_directory_name_ok(pname)) {
        *why = "not a profile name (1 to 64 letters, digits, '.', '_', '-'; not internal)";
        return NULL;
    }
    d = (gh_config_directory *)gh_config_directory_get(cfg, pname);
    if (d == NULL) {
        if (cfg->ndirectories == GH_DIRECTORY_MAX) {
            *why = "too many [directory NAME] sections (at most 4)";
            return NULL;
        }
        d = &cfg->directories[cfg->ndirectories++];
        gh_config_directory_defaults(d);
        snprintf(d->name, sizeof(d->name), "%s", pname);
    }
    for (size_t k = 0; k < GH_DIRECTORY_KEYS; k++) {
        if (strcmp(gh_directory_keys[k].name, name) != 0)
            continue;
        *base = d;
        *slot = (size_t)(d - cfg->directories) * GH_DIRECTORY_KEYS + k;
        return &gh_directory_keys[k];
    }
    return NULL;
}

/* Each URL of a list: ldap:// or ldaps://, host and port, nothing more.
 * *cleartext: an ldap:// server other than this host (127.x, ::1,
 * localhost) without StartTLS, to which a user's bind would carry the
 * password in the clear. */
static bool gh_config_directory_servers_ok(const char *servers, bool starttls, bool *cleartext)
{
    char        url[512];
    const char *p = servers;
    size_t      n, count = 0;
    bool        ok = true;

    while (ok && *p != '\0') {
        LDAPURLDesc *lud = NULL;

        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        if (n >= sizeof(url))
            return false;
        memcpy(url, p, n);
        url[n] = '\0';
        p += n;
        count++;
        ok = ldap_url_parse(url, &lud) == LDAP_URL_SUCCESS && lud->lud_host != NULL &&
             (strcmp(lud->lud_scheme, "ldap") == 0 ||
              (strcmp(lud->lud_scheme, "ldaps") == 0 && !starttls)) &&
             (lud->lud_dn == NULL || lud->lud_dn[0] == '\0') && lud->lud_attrs == NULL &&
             lud->lud_filter == NULL && lud->lud_exts == NULL;
        if (ok && !starttls && strcmp(lud->lud_scheme, "ldap") == 0 &&
            strcmp(lud->lud_host, "localhost") != 0 && strcmp(lud->lud_host, "::1") != 0 &&
            strncmp(lud->lud_host, "127.", 4) != 0)
            *cleartext = true;
        if (lud != NULL)
            ldap_free_urldesc(lud);
    }
    return ok && count > 0;
}

/* An attribute description: a letter, then letters, digits and '-'. */
static bool gh_config_directory_attr_ok(const char *a)
{
    size_t n = strlen(a);

    return n > 0 && ((a[0] >= 'a' && a[0] <= 'z') || (a[0] >= 'A' && a[0] <= 'Z')) &&
           strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

static bool gh_config_directory_filter_ok(const char *f)
{
    size_t n = strlen(f);

    return n >= 2 && f[0] == '(' && f[n - 1] == ')';
}

bool gh_config_directory_groups_ok(const char *list)
{
    char        dn[GH_DIRECTORY_GROUPS_MAX];
    const char *p = list;
    bool        ok = true;

    while (ok && *p != '\0') {
        LDAPDN parsed = NULL;
        size_t n = strcspn(p, "|");

        if (n >= sizeof(dn))
            return false;
        memcpy(dn, p, n);
        dn[n] = '\0';
        p += n + (p[n] == '|');
        ok = n > 0 && ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
             parsed != NULL;
        if (parsed != NULL)
            ldap_dnfree(parsed);
    }
    return ok;
}

/* The first line given for a profile: blamed for what it lacks. */
static int gh_config_directory_line(const int *own)
{
    int line = 0;

    for (size_t k = 0; k < GH_DIRECTORY_KEYS; k++)
        if (own[k] != 0 && (line == 0 || own[k] < line))
            line = own[k];
    return line;
}

/* The rules of one profile: true when it keeps them, else false with *why.
 * A profile must map a group to a role: one that maps none lets nobody in,
 * surely a mistake. But a profile written through an API (not from_file)
 * that is disabled need not: an API may make a profile first, switched off,
 * then map its groups one by one. */
static bool gh_config_directory_rule(const gh_config_directory *d, const int *own,
                                    bool from_file, const char **why)
{
    bool mapped = d->administrator_groups[0] != '\0' || d->operator_groups[0] != '\0' ||
                  d->readonly_groups[0] != '\0';
    bool cleartext = false;

    if (own[GH_DIR_K_SERVERS] == 0 ||
        own[GH_DIR_K_USER_BASE] == 0)
        *why = "a profile needs servers and user_base";
    else if (strcmp(d->kind, GH_DIRECTORY_KIND_LDAP) != 0 &&
             strcmp(d->kind, GH_DIRECTORY_KIND_AD) != 0)
        *why = "kind is ldap or active_directory";
    else if (!gh_config_directory_servers_ok(d->servers, d->starttls, &cleartext))
        *why = "not a list of ldap://HOST[:PORT] or ldaps://HOST[:PORT] URLs "
               "(ldaps:// and starttls do not go together)";
    else if ((d->bind_dn[0] == '\0') != (d->bind_password_file[0] == '\0'))
        *why = "bind_dn and bind_password_file go together: both or neither";
    else if (!gh_config_directory_attr_ok(d->user_attribute) ||
             !gh_config_directory_attr_ok(d->group_member_attribute) ||
             (d->group_attribute[0] != '\0' && !gh_config_directory_attr_ok(d->group_attribute)))
        *why = "not an attribute name (a letter, then letters, digits and '-')";
    else if (!gh_config_directory_filter_ok(d->user_filter) ||
             !gh_config_directory_filter_ok(d->group_filter))
        *why = "not an LDAP filter in parentheses";
    else if (!gh_config_directory_groups_ok(d->administrator_groups) ||
             !gh_config_directory_groups_ok(d->operator_groups) ||
             !gh_config_directory_groups_ok(d->readonly_groups))
        *why = "not a list of group DNs separated by '|'";
    else if ((from_file || d->enabled) && !mapped)
        *why = "no group is mapped to a role: nobody could log in";
    else if (cleartext)
        *why = "an ldap:// server other than this host needs starttls = yes (or use "
               "ldaps://): passwords never cross a network in the clear";
    else
        return true;
    return false;
}

bool gh_config_directory_valid(const gh_config_directory *p, const char **why)
{
    int own[GH_DIRECTORY_KEYS];

    if (!gh_config_directory_name_ok(p->name)) {
        *why = "not a profile name (1 to 64 letters, digits, '.', '_', '-'; not internal)";
        return false;
    }
    /* A profile written whole (not line by line) gives every key: the two
     * it must give count as given when they are not empty. */
    for (size_t k = 0; k < GH_DIRECTORY_KEYS; k++)
        own[k] = 1;
    own[GH_DIR_K_SERVERS] = p->servers[0] != '\0';
    own[GH_DIR_K_USER_BASE] = p->user_base[0] != '\0';
    return gh_config_directory_rule(p, own, false, why);
}

int gh_config_directory_check(const gh_config *cfg, const int *seen, const char **key,
                              const char **why)
{
    int defaults = 0;

    for (size_t i = 0; i < cfg->ndirectories; i++) {
        const int *own = seen + i * GH_DIRECTORY_KEYS;

        if (!gh_config_directory_rule(&cfg->directories[i], own, true, why)) {
            *key = cfg->directories[i].name;
            return gh_config_directory_line(own);
        }
        if (cfg->directories[i].is_default && ++defaults > 1) {
            size_t k = GH_DIR_K_DEFAULT;

            *key = gh_directory_keys[k].name;
            *why = "only one directory profile may be the default";
            return own[k];
        }
    }
    return 0;
}

/* One key's value as text: a number, true/false, or the string itself. */
static int gh_config_directory_value(const gh_config_key *k, const gh_config_directory *p,
                                     char *out, size_t outlen)
{
    const char *field = (const char *)p + k->offset;

    if (k->type == GH_CONFIG_I64)
        return snprintf(out, outlen, "%lld", (long long)*(const int64_t *)(const void *)field);
    if (k->type == GH_CONFIG_BOOL)
        return snprintf(out, outlen, "%s", *(const bool *)(const void *)field ? "true" : "false");
    return snprintf(out, outlen, "%s", field);
}

bool gh_config_directory_write(const gh_config_directory *p, char *out, size_t outlen)
{
    size_t used = 0;

    for (size_t k = 0; k < GH_DIRECTORY_KEYS; k++) {
        const gh_config_key *key = &gh_directory_keys[k];
        int n = snprintf(out + used, outlen - used, "%s=", key->name);

        if (n < 0 || (size_t)n >= outlen - used)
            return false;
        used += (size_t)n;
        n = gh_config_directory_value(key, p, out + used, outlen - used);
        if (n < 0 || (size_t)n + 1 >= outlen - used)
            return false;
        used += (size_t)n;
        out[used++] = '\n';
        out[used] = '\0';
    }
    if (p->bind_password_sealed[0] != '\0') {
        int n = snprintf(out + used, outlen - used, GH_DIR_SEALED "=%s\n",
                         p->bind_password_sealed);

        if (n < 0 || (size_t)n >= outlen - used)
            return false;
    }
    return true;
}

/* The sealed password's line: base64 that fits, nothing else judged. */
static bool gh_config_directory_sealed(gh_config_directory *p, const char *value,
                                       const char **why)
{
    size_t n = strlen(value);

    if (n >= sizeof(p->bind_password_sealed) || strspn(value, GH_DIR_BASE64) != n) {
        *why = "not a sealed password";
        return false;
    }
    memcpy(p->bind_password_sealed, value, n + 1);
    return true;
}

bool gh_config_directory_read(gh_config_directory *p, const char *text, const char **why)
{
    char line[GH_DIRECTORY_GROUPS_MAX + 64];
    bool ok = true;

    *why = NULL;
    while (ok && *text != '\0') {
        size_t n = strcspn(text, "\n"), k;
        char  *eq;

        if (n >= sizeof(line)) {
            *why = "a line too long";
            return false;
        }
        memcpy(line, text, n);
        line[n] = '\0';
        text += n + (text[n] == '\n');
        if ((eq = strchr(line, '=')) == NULL) {
            *why = "not key=value";
            return false;
        }
        *eq = '\0';
        if (strcmp(line, GH_DIR_SEALED) == 0) {
            ok = gh_config_directory_sealed(p, eq + 1, why);
            continue;
        }
        k = gh_config_directory_key(line);
        if (k == GH_DIRECTORY_KEYS) {
            *why = "not a key of a directory profile";
            return false;
        }
        ok = gh_config_set(&gh_directory_keys[k], eq + 1, p, why);
    }
    return ok;
}
