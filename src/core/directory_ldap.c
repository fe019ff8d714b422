/*
 * directory_ldap.c: checking a directory password with OpenLDAP's libldap
 * (directory.h), synchronously, in the calling thread.
 *
 * Each thread keeps two connections per profile: one bound as the service
 * account, which searches (the user's entry, then the groups), and one on
 * which users bind, whose identity is never used for anything else. Both are
 * opened on first use, to the profile's servers in order (the first that
 * answers, with StartTLS when asked, its certificate always verified against
 * the profile's CA), and reused; one that fails for a reason of transport
 * (server down, timeout) is closed, and the check is tried once more on a
 * fresh connection, which is how a server coming back, or the next server
 * of the list, is found again without a restart.
 *
 * The user's name is escaped for the filter by libldap
 * (ldap_bv2escaped_filter_value, RFC 4515), never here. An empty password
 * is refused before any bind: to LDAP it would be an unauthenticated bind,
 * which succeeds. The service account's password is read from its file at
 * each connect and wiped after the bind.
 */
#include "directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <ldap.h>

#include "token.h"

typedef struct {
    gh_config_directory *profile;   /* a copy of the one connected for (malloc'd) */
    LDAP                *search;    /* bound as the service account */
    LDAP                *bind;      /* users bind here */
    uint64_t             used;      /* when last used, in this thread's count */
} gh_dir_conn;

static _Thread_local gh_dir_conn gh_dir_conns[GH_DIRECTORY_MAX];
static _Thread_local uint64_t    gh_dir_uses;

static void gh_dir_drop(LDAP **ld)
{
    if (*ld != NULL)
        ldap_unbind_ext_s(*ld, NULL, NULL);
    *ld = NULL;
}

void gh_directory_close_thread(void)
{
    for (size_t i = 0; i < GH_DIRECTORY_MAX; i++) {
        gh_dir_drop(&gh_dir_conns[i].search);
        gh_dir_drop(&gh_dir_conns[i].bind);
        free(gh_dir_conns[i].profile);
        gh_dir_conns[i].profile = NULL;
    }
}

/* Would connections made for profile a serve profile b? The same servers,
 * TLS and service account, and the same version: a profile changed through
 * the API has a new revision, its password file perhaps new contents. */
static bool gh_dir_same_connection(const gh_config_directory *a, const gh_config_directory *b)
{
    return a->revision == b->revision && a->starttls == b->starttls &&
           a->connect_timeout == b->connect_timeout && a->bind_timeout == b->bind_timeout &&
           strcmp(a->servers, b->servers) == 0 && strcmp(a->ca, b->ca) == 0 &&
           strcmp(a->bind_dn, b->bind_dn) == 0 &&
           strcmp(a->bind_password_file, b->bind_password_file) == 0;
}

/* This thread's connections for p, by name, with a copy of p to search by:
 * callers pass a copy of one version of a profile (the file's, or the
 * store's at one revision), and connections made for another version are
 * closed and made afresh. A new name takes a free slot, else the least
 * recently used one. NULL: no memory. */
static gh_dir_conn *gh_dir_slot(const gh_config_directory *p)
{
    gh_dir_conn *c = NULL, *lru = &gh_dir_conns[0];

    for (size_t i = 0; i < GH_DIRECTORY_MAX && c == NULL; i++) {
        gh_dir_conn *s = &gh_dir_conns[i];

        if (s->profile != NULL && strcmp(s->profile->name, p->name) == 0)
            c = s;
        else if (lru->profile != NULL && (s->profile == NULL || s->used < lru->used))
            lru = s;
    }
    if (c == NULL)
        c = lru;
    if (c->profile == NULL || strcmp(c->profile->name, p->name) != 0 ||
        !gh_dir_same_connection(c->profile, p)) {
        gh_dir_drop(&c->search);
        gh_dir_drop(&c->bind);
    }
    if (c->profile == NULL && (c->profile = malloc(sizeof(*p))) == NULL)
        return NULL;
    if (c->profile != p)
        memcpy(c->profile, p, sizeof(*p));
    c->used = ++gh_dir_uses;
    return c;
}

static bool gh_dir_transport_error(int rc)
{
    return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
           rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
           rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

/* The service password from its file, without the line's end. */
static int gh_dir_service_password(const gh_config_directory *p, char *pw, size_t pwlen,
                                   size_t *len)
{
    FILE *f = fopen(p->bind_password_file, "re");
    int   rc = -1;

    *len = 0;
    if (f == NULL)
        goto done;
    *len = fread(pw, 1, pwlen - 1, f);
    while (*len > 0 && (pw[*len - 1] == '\n' || pw[*len - 1] == '\r'))
        (*len)--;
    pw[*len] = '\0';
    rc = ferror(f) || *len == 0 ? -1 : 0;
    fclose(f);
done:
    return rc;
}

/* Options of a new handle: LDAPv3, no referrals, the timeouts, TLS that
 * verifies the server against the profile's CA (a context of its own). */
static int gh_dir_options(LDAP *ld, const gh_config_directory *p)
{
    struct timeval net = { (time_t)p->connect_timeout, 0 };
    struct timeval op = { (time_t)p->bind_timeout, 0 };
    int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
    int rc;

    rc = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    if (rc == LDAP_OPT_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (rc == LDAP_OPT_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
    if (rc == LDAP_OPT_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
    if (rc == LDAP_OPT_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (rc == LDAP_OPT_SUCCESS && p->ca[0] != '\0')
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, p->ca);
    if (rc == LDAP_OPT_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    return rc;
}

/* Bind ld as the service account (nothing to do without one). */
static int gh_dir_service_bind(LDAP *ld, const gh_config_directory *p)
{
    char          pw[GH_PASSWORD_MAX + 1];
    struct berval cred;
    size_t        len = 0;
    int           rc;

    if (p->bind_dn[0] == '\0')
        return LDAP_SUCCESS;
    if (gh_dir_service_password(p, pw, sizeof(pw), &len) != 0) {
        rc = LDAP_LOCAL_ERROR;
        goto done;
    }
    cred.bv_val = pw;
    cred.bv_len = len;
    rc = ldap_sasl_bind_s(ld, p->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
done:
    gh_wipe(pw, sizeof(pw));
    return rc;
}

/* Open a handle to the first of p's servers that answers (with StartTLS
 * when asked; bound as the service account when service is true). */
static int gh_dir_open(const gh_config_directory *p, bool service, LDAP **out, char *why,
                       size_t whylen)
{
    char        url[512];
    const char *s = p->servers;
    int         rc = LDAP_CONNECT_ERROR;

    *out = NULL;
    while (*out == NULL && *(s += strspn(s, " \t,")) != '\0') {
        size_t n = strcspn(s, " \t,");
        LDAP  *ld = NULL;

        snprintf(url, sizeof(url), "%.*s", (int)n, s);
        s += n;
        rc = ldap_initialize(&ld, url);
        if (rc == LDAP_SUCCESS)
            rc = gh_dir_options(ld, p);
        /* libldap connects at the first operation: connect now, so that a
         * server that does not answer is passed over for the next. */
        if (rc == LDAP_SUCCESS)
            rc = ldap_connect(ld);
        if (rc == LDAP_SUCCESS && p->starttls)
            rc = ldap_start_tls_s(ld, NULL, NULL);
        if (rc == LDAP_SUCCESS && service)
            rc = gh_dir_service_bind(ld, p);
        if (rc == LDAP_SUCCESS)
            *out = ld;
        else if (ld != NULL)
            ldap_unbind_ext_s(ld, NULL, NULL);
        if (rc != LDAP_SUCCESS)
            snprintf(why, whylen, "%s: %s%s", url, ldap_err2string(rc),
                     rc == LDAP_LOCAL_ERROR && service ? " (service password file)" : "");
    }
    return rc;
}

int gh_directory_probe(const gh_config_directory *p, char *why, size_t whylen)
{
    LDAP *ld = NULL;
    int   rc = gh_dir_open(p, true, &ld, why, whylen);

    gh_dir_drop(&ld);
    return rc == LDAP_SUCCESS ? 0 : -1;
}

typedef struct {
    char  *dn;                                   /* ldap_memfree */
    char   name[GH_USER_NAME_MAX + 1];           /* user_attribute's value: as stored */
    char  *groups[GH_DIRECTORY_GROUPS_READ];     /* malloc'd */
    size_t ngroups;
} gh_dir_user;

static void gh_dir_user_free(gh_dir_user *u)
{
    ldap_memfree(u->dn);
    for (size_t i = 0; i < u->ngroups; i++)
        free(u->groups[i]);
    memset(u, 0, sizeof(*u));
}

/* "(&BASE(ATTR=VALUE))" with VALUE escaped by libldap. */
static int gh_dir_filter(const char *base, const char *attr, const char *value, char *out,
                         size_t outlen)
{
    struct berval in, esc = { 0, NULL };
    int rc;

    in.bv_val = (char *)value;
    in.bv_len = strlen(value);
    rc = ldap_bv2escaped_filter_value(&in, &esc);
    if (rc == 0 && (size_t)snprintf(out, outlen, "(&%s(%s=%s))", base, attr, esc.bv_val) >= outlen)
        rc = LDAP_FILTER_ERROR;
    ber_memfree(esc.bv_val);
    return rc == 0 ? LDAP_SUCCESS : rc;
}

static void gh_dir_add_group(gh_dir_user *u, const char *dn, size_t len)
{
    char *copy;

    if (u->ngroups == GH_DIRECTORY_GROUPS_READ || (copy = strndup(dn, len)) == NULL)
        return;
    u->groups[u->ngroups++] = copy;
}

/* The entries of a search, each a group the user is in. */
static int gh_dir_group_search(LDAP *ld, const gh_config_directory *p, gh_dir_user *u)
{
    struct timeval tv = { (time_t)p->search_timeout, 0 };
    char          *attrs[] = { (char *)"1.1", NULL };
    char           filter[GH_DIRECTORY_DN_MAX * 4];
    LDAPMessage   *res = NULL;
    int            rc;

    rc = gh_dir_filter(p->group_filter, p->group_member_attribute, u->dn, filter,
                       sizeof(filter));
    if (rc == LDAP_SUCCESS)
        rc = ldap_search_ext_s(ld, p->group_base[0] != '\0' ? p->group_base : p->user_base,
                               LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv,
                               GH_DIRECTORY_GROUPS_READ, &res);
    if (rc == LDAP_SIZELIMIT_EXCEEDED)
        rc = LDAP_SUCCESS;      /* the first ones are enough to map */
    for (LDAPMessage *e = ldap_first_entry(ld, res); rc == LDAP_SUCCESS && e != NULL;
         e = ldap_next_entry(ld, e)) {
        char *dn = ldap_get_dn(ld, e);

        if (dn != NULL)
            gh_dir_add_group(u, dn, strlen(dn));
        ldap_memfree(dn);
    }
    ldap_msgfree(res);
    return rc;
}

/* The user's name as entry e holds it in the profile's user_attribute,
 * into u->name: of its values, the one the directory matched to user
 * (the same without regard to case, as directories match names; else the
 * first). user itself when the entry shows none that fits. */
static void gh_dir_stored_name(LDAP *ld, LDAPMessage *e, const gh_config_directory *p,
                               const char *user, gh_dir_user *u)
{
    struct berval **vals = ldap_get_values_len(ld, e, p->user_attribute);
    const struct berval *pick = NULL;

    for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
        const struct berval *v = vals[i];

        if (v->bv_len == 0 || v->bv_len > GH_USER_NAME_MAX || memchr(v->bv_val, '\0', v->bv_len))
            continue;
        if (pick == NULL || (v->bv_len == strlen(user) &&
                             strncasecmp(v->bv_val, user, v->bv_len) == 0))
            pick = v;
    }
    if (pick != NULL)
        snprintf(u->name, sizeof(u->name), "%.*s", (int)pick->bv_len, pick->bv_val);
    else
        snprintf(u->name, sizeof(u->name), "%s", user);
    ldap_value_free_len(vals);
}

/* The user's entry: exactly one, its DN, its name as stored, and its groups. */
static int gh_dir_find_user(LDAP *ld, const gh_config_directory *p, const char *user,
                            gh_dir_user *u, bool *found)
{
    struct timeval tv = { (time_t)p->search_timeout, 0 };
    char          *attrs[] = { (char *)p->user_attribute,
                               p->group_attribute[0] != '\0' ? (char *)p->group_attribute : NULL,
                               NULL };
    char           filter[GH_DIRECTORY_DN_MAX * 4];
    LDAPMessage   *res = NULL, *e;
    struct berval **vals = NULL;
    int            rc;

    *found = false;
    rc = gh_dir_filter(p->user_filter, p->user_attribute, user, filter, sizeof(filter));
    if (rc != LDAP_SUCCESS)
        return LDAP_SUCCESS;    /* a name too long to search for matches no one */
    rc = ldap_search_ext_s(ld, p->user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
                           &tv, 2, &res);
    if (rc == LDAP_SIZELIMIT_EXCEEDED || rc == LDAP_NO_SUCH_OBJECT)
        rc = LDAP_SUCCESS;      /* ambiguous, or no base: nobody */
    else if (rc == LDAP_SUCCESS && ldap_count_entries(ld, res) == 1)
        *found = true;
    e = *found ? ldap_first_entry(ld, res) : NULL;
    if (e != NULL && (u->dn = ldap_get_dn(ld, e)) == NULL)
        *found = false;
    if (*found)
        gh_dir_stored_name(ld, e, p, user, u);
    if (*found && p->group_attribute[0] != '\0')
        vals = ldap_get_values_len(ld, e, p->group_attribute);
    for (size_t i = 0; vals != NULL && vals[i] != NULL; i++)
        gh_dir_add_group(u, vals[i]->bv_val, vals[i]->bv_len);
    ldap_value_free_len(vals);
    ldap_msgfree(res);
    if (*found && p->group_attribute[0] == '\0')
        rc = gh_dir_group_search(ld, p, u);
    return rc;
}

typedef struct {
    gh_directory_gate fn;
    void             *arg;
} gh_dir_gate;

/* One attempt on this thread's connections, opened as needed: the user's
 * entry and groups, then, with a password (cred not NULL) and gate's
 * leave, its bind. */
static int gh_dir_attempt(gh_dir_conn *c, const char *user, struct berval *cred,
                          const gh_dir_gate *gate, gh_dir_user *u, bool *found,
                          bool *refused, char *why, size_t whylen)
{
    const gh_config_directory *p = c->profile;
    int rc = LDAP_SUCCESS;

    gh_dir_user_free(u);
    if (c->search == NULL)
        rc = gh_dir_open(p, true, &c->search, why, whylen);
    if (rc == LDAP_SUCCESS)
        rc = gh_dir_find_user(c->search, p, user, u, found);
    if (rc != LDAP_SUCCESS) {
        if (gh_dir_transport_error(rc))
            gh_dir_drop(&c->search);
        if (why[0] == '\0')
            snprintf(why, whylen, "search: %s", ldap_err2string(rc));
        return rc;
    }
    if (!*found || cred == NULL)
        return LDAP_SUCCESS;
    if (gate != NULL && !gate->fn(gate->arg, u->name)) {
        *refused = true;
        return LDAP_SUCCESS;
    }
    if (c->bind == NULL)
        rc = gh_dir_open(p, false, &c->bind, why, whylen);
    if (rc == LDAP_SUCCESS)
        rc = ldap_sasl_bind_s(c->bind, u->dn, LDAP_SASL_SIMPLE, cred, NULL, NULL, NULL);
    if (gh_dir_transport_error(rc))
        gh_dir_drop(&c->bind);
    if (rc != LDAP_SUCCESS && why[0] == '\0')
        snprintf(why, whylen, "bind: %s", ldap_err2string(rc));
    return rc;
}

/* The best role u's groups give, or the role map gives u's own DN (a map
 * may name a user as well as a group). */
static gh_role gh_dir_user_role(const gh_config_directory *p, const gh_dir_user *u)
{
    const char *self[1] = { u->dn };
    gh_role     groups = gh_directory_role(p, (const char *const *)u->groups, u->ngroups);
    gh_role     own = gh_directory_role(p, self, 1);

    if (groups == GH_ROLE_NONE)
        return own;
    return own != GH_ROLE_NONE && own < groups ? own : groups;
}

/* The user's entry, groups and (with cred) bind, tried once more on fresh
 * connections after a failure of transport, then what it means: the role
 * of the groups, or why there is none. */
static gh_directory_result gh_dir_check(const gh_config_directory *p, const char *user,
                                        struct berval *cred, const gh_dir_gate *gate,
                                        gh_role *role, char *why, size_t whylen)
{
    gh_directory_result res = GH_DIR_UNAVAILABLE;
    gh_dir_conn        *c = gh_dir_slot(p);
    gh_dir_user         u;
    bool                found = false, refused = false;
    int                 rc = LDAP_OTHER;

    memset(&u, 0, sizeof(u));
    if (c == NULL) {
        snprintf(why, whylen, "%s", "out of memory");
        return res;
    }
    for (int tries = 0; tries < 2; tries++) {
        why[0] = '\0';
        rc = gh_dir_attempt(c, user, cred, gate, &u, &found, &refused, why, whylen);
        if (refused || (!gh_dir_transport_error(rc) && rc != LDAP_CONNECT_ERROR))
            break;
    }
    if (refused) {
        res = GH_DIR_REFUSED;
        snprintf(why, whylen, "%s", "refused before the bind");
    } else if (rc == LDAP_SUCCESS && !found) {
        res = GH_DIR_NO_USER;
        snprintf(why, whylen, "%s", "no such directory user");
    } else if (rc == LDAP_SUCCESS) {
        *role = gh_dir_user_role(p, &u);
        res = *role == GH_ROLE_NONE ? GH_DIR_NO_ROLE : GH_DIR_OK;
        snprintf(why, whylen, "%s", res == GH_DIR_OK ? "" : "in no group mapped to a role");
    } else if (cred != NULL && found &&
               (rc == LDAP_INVALID_CREDENTIALS || !gh_dir_transport_error(rc))) {
        res = GH_DIR_BAD_PASSWORD;
    }
    gh_dir_user_free(&u);
    return res;
}

gh_directory_result gh_directory_verify(const gh_config_directory *p, const char *user,
                                        const char *password, size_t password_len,
                                        gh_directory_gate gate, void *gate_arg,
                                        gh_role *role, char *why, size_t whylen)
{
    struct berval cred = { (ber_len_t)password_len, (char *)password };
    gh_dir_gate   g = { gate, gate_arg };

    *role = GH_ROLE_NONE;
    why[0] = '\0';
    if (password_len == 0 || user[0] == '\0') {
        snprintf(why, whylen, "%s", "empty name or password");
        return password_len == 0 ? GH_DIR_BAD_PASSWORD : GH_DIR_NO_USER;
    }
    return gh_dir_check(p, user, &cred, gate != NULL ? &g : NULL, role, why, whylen);
}

gh_directory_result gh_directory_lookup(const gh_config_directory *p, const char *user,
                                        gh_role *role, char *why, size_t whylen)
{
    *role = GH_ROLE_NONE;
    why[0] = '\0';
    if (user[0] == '\0') {
        snprintf(why, whylen, "%s", "empty name");
        return GH_DIR_NO_USER;
    }
    return gh_dir_check(p, user, NULL, NULL, role, why, whylen);
}
