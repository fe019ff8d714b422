/*
 * powerstore_ldap_domain.c: PowerStore's ldap_domain resource as a
 * directory profile (config.h gh_config_directory), both ways, with no
 * store and no HTTP: powerstore_ldap.c serves it over these, and
 * powerstore_ldap_account.c maps the role map the same way.
 *
 * An ldap_domain is one profile; its id and its domain_name are the
 * profile's name, which is also what a login names (user@DOMAIN, or
 * DOMAIN\user). ldap_servers, port and protocol are the profile's servers
 * (ldap://HOST:PORT or ldaps://HOST:PORT each, one port and one scheme for
 * all); ldap_server_type is its kind; bind_user its service DN; ldap_timeout
 * (milliseconds) its connect timeout (seconds); the search paths are DNs,
 * user_search_path empty meaning the domain's own (dc=a,dc=b of a.b); an
 * object class stands for the filter (objectClass=CLASS). What the core does
 * not do is refused with a value other than its only one: a global catalog,
 * nested group search levels, a group name attribute other than cn.
 */
#include "powerstore_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#define GH_PS_LDAP_PORT   389
#define GH_PS_LDAPS_PORT  636
#define GH_PS_HOST_MAX    253

/* ---- servers ---- */

typedef struct {
    size_t   n;
    char     host[GH_PS_LDAP_SERVERS_MAX][GH_PS_HOST_MAX + 1];
    int64_t  port;
    bool     ldaps;
} gh_ps_servers;

/* The servers of a profile's list: hosts in order, the first URL's port and
 * scheme. A URL libldap does not parse is left out. */
static void gh_ps_servers_read(const char *list, gh_ps_servers *s)
{
    char        url[sizeof(((gh_config_directory *)0)->servers)];
    const char *p = list;

    memset(s, 0, sizeof(*s));
    s->port = GH_PS_LDAP_PORT;
    while (*p != '\0' && s->n < GH_PS_LDAP_SERVERS_MAX) {
        LDAPURLDesc *lud = NULL;
        size_t       len;

        p += strspn(p, " \t,");
        len = strcspn(p, " \t,");
        if (len == 0)
            break;
        snprintf(url, sizeof(url), "%.*s", (int)len, p);
        p += len;
        if (ldap_url_parse(url, &lud) == LDAP_URL_SUCCESS && lud->lud_host != NULL &&
            strlen(lud->lud_host) <= GH_PS_HOST_MAX) {
            if (s->n == 0) {
                s->ldaps = strcmp(lud->lud_scheme, "ldaps") == 0;
                s->port = lud->lud_port > 0 ? lud->lud_port
                                            : s->ldaps ? GH_PS_LDAPS_PORT : GH_PS_LDAP_PORT;
            }
            snprintf(s->host[s->n++], GH_PS_HOST_MAX + 1, "%s", lud->lud_host);
        }
        if (lud != NULL)
            ldap_free_urldesc(lud);
    }
}

/* The list of URLs of s into out; false when it does not fit. */
static bool gh_ps_servers_write(const gh_ps_servers *s, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < s->n; i++) {
        bool v6 = strchr(s->host[i], ':') != NULL;
        int  n = snprintf(out + used, outlen - used, "%s%s://%s%s%s:%lld", i > 0 ? " " : "",
                          s->ldaps ? "ldaps" : "ldap", v6 ? "[" : "", s->host[i], v6 ? "]" : "",
                          (long long)s->port);

        if (n < 0 || (size_t)n >= outlen - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

/* A host as ldap_servers names it: a name or an address, nothing more. */
static bool gh_ps_host_ok(const char *h)
{
    size_t n = strlen(h);

    return n > 0 && n <= GH_PS_HOST_MAX &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == n &&
           h[0] != '-' && h[0] != '.';
}

/* ---- text values ---- */

/* An attribute or object class name: a letter, then letters, digits, '-'. */
static bool gh_ps_attr_ok(const char *a)
{
    size_t n = strlen(a);

    return n > 0 && n < 64 && ((a[0] >= 'a' && a[0] <= 'z') || (a[0] >= 'A' && a[0] <= 'Z')) &&
           strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

bool gh_ps_ldap_dn_ok(const char *dn)
{
    LDAPDN parsed = NULL;
    bool   ok = dn[0] != '\0' && strchr(dn, '|') == NULL && strlen(dn) < GH_DIRECTORY_DN_MAX &&
                ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && parsed != NULL;

    if (parsed != NULL)
        ldap_dnfree(parsed);
    return ok;
}

/* The class of a filter that is exactly (objectClass=CLASS), or NULL. */
static json_t *gh_ps_class_of(const char *filter)
{
    static const char pre[] = "(objectClass=";
    size_t n = strlen(filter);
    char   cls[64];

    if (n <= sizeof(pre) || strncasecmp(filter, pre, sizeof(pre) - 1) != 0 ||
        filter[n - 1] != ')' || n - sizeof(pre) >= sizeof(cls))
        return json_null();
    snprintf(cls, sizeof(cls), "%.*s", (int)(n - sizeof(pre)), filter + sizeof(pre) - 1);
    return gh_ps_attr_ok(cls) ? json_string(cls) : json_null();
}

/* dc=a,dc=b of the domain name a.b; false when a label is empty or the DN
 * does not fit. */
static bool gh_ps_domain_dn(const char *name, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    while (*name != '\0') {
        size_t len = strcspn(name, ".");
        int    n;

        if (len == 0)
            return false;
        n = snprintf(out + used, outlen - used, "%sdc=%.*s", used > 0 ? "," : "", (int)len, name);
        if (n < 0 || (size_t)n >= outlen - used)
            return false;
        used += (size_t)n;
        name += len + (name[len] == '.');
    }
    return used > 0;
}

/* ---- ldap_domain: profile to JSON ---- */

json_t *gh_ps_ldap_domain_json(const gh_config_directory *p)
{
    gh_ps_servers s;
    json_t       *hosts = json_array(), *obj;
    bool          ad = strcmp(p->kind, GH_DIRECTORY_KIND_AD) == 0;
    const char   *proto, *type = ad ? "AD" : "OpenLDAP";

    gh_ps_servers_read(p->servers, &s);
    proto = s.ldaps ? "LDAPS" : "LDAP";
    for (size_t i = 0; hosts != NULL && i < s.n; i++)
        json_array_append_new(hosts, json_string(s.host[i]));
    obj = json_pack("{s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:b, "
                    "s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:i}",
                    "id", p->name, "domain_name", p->name, "ldap_servers", hosts,
                    "port", (json_int_t)s.port, "protocol", proto, "protocol_l10n", proto,
                    "ldap_server_type", type, "ldap_server_type_l10n", type,
                    "bind_user", p->bind_dn,
                    "ldap_timeout", (json_int_t)(p->connect_timeout * 1000),
                    "is_global_catalog", 0,
                    "user_id_attribute", p->user_attribute,
                    "user_object_class", gh_ps_class_of(p->user_filter),
                    "user_search_path", p->user_base,
                    "group_name_attribute", "cn",
                    "group_member_attribute", p->group_member_attribute,
                    "group_object_class", gh_ps_class_of(p->group_filter),
                    "group_search_path", p->group_base[0] != '\0' ? p->group_base : p->user_base,
                    "group_search_level", 0);
    return obj;
}

/* ---- ldap_domain: JSON onto a profile ---- */

typedef struct {
    const char *name;
    json_type   type;       /* JSON_TRUE stands for a boolean */
    bool        on_create;  /* may be given at creation only */
} gh_ps_ldap_prop;

static const gh_ps_ldap_prop gh_ps_domain_props[] = {
    { "domain_name", JSON_STRING, true },     { "ldap_servers", JSON_ARRAY, false },
    { "port", JSON_INTEGER, false },          { "protocol", JSON_STRING, false },
    { "ldap_server_type", JSON_STRING, false }, { "bind_user", JSON_STRING, false },
    { "bind_password", JSON_STRING, false },  { "ldap_timeout", JSON_INTEGER, false },
    { "is_global_catalog", JSON_TRUE, false }, { "user_id_attribute", JSON_STRING, false },
    { "user_object_class", JSON_STRING, false }, { "user_search_path", JSON_STRING, false },
    { "group_name_attribute", JSON_STRING, false },
    { "group_member_attribute", JSON_STRING, false },
    { "group_object_class", JSON_STRING, false }, { "group_search_path", JSON_STRING, false },
    { "group_search_level", JSON_INTEGER, false },
};

/* Every member of body is a property of props, of its type, and may be given
 * now; NULL, or the name of the first that is not. */
static const char *gh_ps_props_bad(const json_t *body, const gh_ps_ldap_prop *props, size_t n,
                                   bool create)
{
    const char *key;
    json_t     *v;

    json_object_foreach((json_t *)body, key, v) {
        size_t i;

        for (i = 0; i < n && strcmp(key, props[i].name) != 0; i++)
            ;
        if (i == n || (props[i].on_create && !create) ||
            (props[i].type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != props[i].type))
            return key;
    }
    return NULL;
}

static const char *gh_ps_str(const json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

/* Copy the string member name of body, if any, into out; false when it does
 * not fit or fails ok (NULL: any text). */
static bool gh_ps_take(const json_t *body, const char *name, char *out, size_t outlen,
                       bool (*ok)(const char *))
{
    const char *v = gh_ps_str(body, name);

    if (v == NULL)
        return true;
    if (strlen(v) >= outlen || strlen(v) != json_string_length(json_object_get(body, name)) ||
        (ok != NULL && !ok(v)))
        return false;
    snprintf(out, outlen, "%s", v);
    return true;
}

/* An object class member as the filter (objectClass=CLASS). */
static bool gh_ps_take_class(const json_t *body, const char *name, char *filter, size_t len)
{
    char cls[64];

    if (json_object_get(body, name) == NULL)
        return true;
    cls[0] = '\0';
    if (!gh_ps_take(body, name, cls, sizeof(cls), gh_ps_attr_ok))
        return false;
    snprintf(filter, len, "(objectClass=%s)", cls);
    return true;
}

/* What a new profile of kind ad holds unless the body says otherwise. */
static void gh_ps_domain_fresh(const char *name, bool ad, gh_config_directory *p)
{
    gh_config_directory_defaults(p);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->kind, sizeof(p->kind), "%s", ad ? GH_DIRECTORY_KIND_AD : GH_DIRECTORY_KIND_LDAP);
    p->enabled = false;     /* it maps nobody yet: its first ldap_account enables it */
    p->is_default = false;
    p->group_attribute[0] = '\0';       /* PowerStore searches for groups */
    snprintf(p->user_attribute, sizeof(p->user_attribute), "%s", ad ? "sAMAccountName" : "uid");
    snprintf(p->user_filter, sizeof(p->user_filter), "(objectClass=%s)",
             ad ? "user" : "inetOrgPerson");
    snprintf(p->group_filter, sizeof(p->group_filter), "(objectClass=%s)",
             ad ? "group" : "groupOfNames");
    gh_ps_domain_dn(name, p->user_base, sizeof(p->user_base));
}

/* ldap_servers, port and protocol onto p's servers; false with *bad. */
static bool gh_ps_domain_servers(const json_t *body, gh_config_directory *p, const char **bad)
{
    gh_ps_servers s;
    json_t       *hosts = json_object_get(body, "ldap_servers"), *h;
    json_t       *port = json_object_get(body, "port");
    const char   *proto = gh_ps_str(body, "protocol");
    bool          default_port;
    size_t        i;

    gh_ps_servers_read(p->servers, &s);
    default_port = s.port == (s.ldaps ? GH_PS_LDAPS_PORT : GH_PS_LDAP_PORT);
    if (proto != NULL && strcmp(proto, "LDAP") != 0 && strcmp(proto, "LDAPS") != 0) {
        *bad = "protocol";
        return false;
    }
    if (proto != NULL)
        s.ldaps = strcmp(proto, "LDAPS") == 0;
    if (default_port)       /* a default port follows the protocol */
        s.port = s.ldaps ? GH_PS_LDAPS_PORT : GH_PS_LDAP_PORT;
    if (port != NULL && (json_integer_value(port) < 1 || json_integer_value(port) > 65535)) {
        *bad = "port";
        return false;
    }
    if (port != NULL)
        s.port = json_integer_value(port);
    if (hosts != NULL) {
        s.n = 0;
        if (json_array_size(hosts) == 0 || json_array_size(hosts) > GH_PS_LDAP_SERVERS_MAX) {
            *bad = "ldap_servers";
            return false;
        }
        json_array_foreach(hosts, i, h) {
            if (!json_is_string(h) || strlen(json_string_value(h)) != json_string_length(h) ||
                !gh_ps_host_ok(json_string_value(h))) {
                *bad = "ldap_servers";
                return false;
            }
            snprintf(s.host[s.n++], GH_PS_HOST_MAX + 1, "%s", json_string_value(h));
        }
    }
    if (!gh_ps_servers_write(&s, p->servers, sizeof(p->servers))) {
        *bad = "ldap_servers";
        return false;
    }
    return true;
}

/* The members with one value the core allows: as that value or absent. */
static bool gh_ps_domain_fixed(const json_t *body, const char **bad)
{
    json_t     *gc = json_object_get(body, "is_global_catalog");
    json_t     *level = json_object_get(body, "group_search_level");
    const char *gname = gh_ps_str(body, "group_name_attribute");

    if (gc != NULL && json_is_true(gc))
        *bad = "is_global_catalog";
    else if (level != NULL && json_integer_value(level) != 0)
        *bad = "group_search_level";
    else if (gname != NULL && strcasecmp(gname, "cn") != 0)
        *bad = "group_name_attribute";
    else
        return true;
    return false;
}

/* The text members onto p; false with *bad. */
static bool gh_ps_domain_texts(const json_t *body, gh_config_directory *p, const char **bad)
{
    json_t *timeout = json_object_get(body, "ldap_timeout");

    if (!gh_ps_take(body, "bind_user", p->bind_dn, sizeof(p->bind_dn), gh_ps_ldap_dn_ok))
        *bad = "bind_user";
    else if (!gh_ps_take(body, "user_id_attribute", p->user_attribute,
                         sizeof(p->user_attribute), gh_ps_attr_ok))
        *bad = "user_id_attribute";
    else if (!gh_ps_take(body, "group_member_attribute", p->group_member_attribute,
                         sizeof(p->group_member_attribute), gh_ps_attr_ok))
        *bad = "group_member_attribute";
    else if (!gh_ps_take_class(body, "user_object_class", p->user_filter, sizeof(p->user_filter)))
        *bad = "user_object_class";
    else if (!gh_ps_take_class(body, "group_object_class", p->group_filter,
                               sizeof(p->group_filter)))
        *bad = "group_object_class";
    else if (!gh_ps_take(body, "user_search_path", p->user_base, sizeof(p->user_base),
                         gh_ps_ldap_dn_ok))
        *bad = "user_search_path";
    else if (!gh_ps_take(body, "group_search_path", p->group_base, sizeof(p->group_base),
                         gh_ps_ldap_dn_ok))
        *bad = "group_search_path";
    else if (timeout != NULL && (json_integer_value(timeout) < 1000 ||
                                 json_integer_value(timeout) > 300000))
        *bad = "ldap_timeout";
    else {
        if (timeout != NULL)   /* whole seconds, rounded up */
            p->connect_timeout = (json_integer_value(timeout) + 999) / 1000;
        return true;
    }
    return false;
}

gh_ps_error gh_ps_ldap_domain_apply(const json_t *body, bool create, gh_config_directory *p,
                                    const char **prop)
{
    static const char *const required[] = { "domain_name", "ldap_servers", "bind_user",
                                            "bind_password" };
    const char *type = gh_ps_str(body, "ldap_server_type");

    *prop = gh_ps_props_bad(body, gh_ps_domain_props,
                            sizeof(gh_ps_domain_props) / sizeof(gh_ps_domain_props[0]), create);
    if (*prop != NULL)
        return GH_PS_E_BAD_PROPERTY;
    for (size_t i = 0; create && i < sizeof(required) / sizeof(required[0]); i++) {
        if (json_object_get(body, required[i]) == NULL) {
            *prop = required[i];
            return GH_PS_E_MISSING_PROPERTY;
        }
    }
    if (json_object_get(body, "bind_password") != NULL &&
        json_string_length(json_object_get(body, "bind_password")) == 0) {
        *prop = "bind_password";    /* an empty one would be an anonymous bind */
        return GH_PS_E_BAD_VALUE;
    }
    if (type != NULL && strcmp(type, "OpenLDAP") != 0 && strcmp(type, "AD") != 0) {
        *prop = "ldap_server_type";
        return GH_PS_E_BAD_VALUE;
    }
    if (create) {
        const char *name = gh_ps_str(body, "domain_name");

        if (strlen(name) != json_string_length(json_object_get(body, "domain_name")) ||
            !gh_config_directory_name_ok(name)) {
            *prop = "domain_name";
            return GH_PS_E_BAD_VALUE;
        }
        gh_ps_domain_fresh(name, type != NULL && strcmp(type, "AD") == 0, p);
    } else if (type != NULL) {
        snprintf(p->kind, sizeof(p->kind), "%s",
                 strcmp(type, "AD") == 0 ? GH_DIRECTORY_KIND_AD : GH_DIRECTORY_KIND_LDAP);
    }
    if (!gh_ps_domain_fixed(body, prop) || !gh_ps_domain_servers(body, p, prop) ||
        !gh_ps_domain_texts(body, p, prop))
        return GH_PS_E_BAD_VALUE;
    *prop = NULL;
    return GH_PS_E_COUNT;
}
