/*
 * service_directory.c: directory profiles in effect, and their changes
 * through the API (directory_profiles.h). The profiles in effect are made
 * afresh at each call from the configuration's and the store's rows: the
 * file's, in its order, each one replaced by a stored profile of its name
 * or taken out by a tombstone, then the stored ones the file does not have.
 * A stored row this code cannot read takes its name out (fail closed: no
 * login against a profile half understood).
 *
 * A change is checked by the file's own rules (config_directory.c), written
 * with its change row, then applied at once here and by every worker's
 * change log: cached credentials of the profile's users dropped, and, when
 * it is disabled or gone, their sessions removed from the shared block (the
 * store's went in the write's transaction). A profile's users are its
 * shadow accounts, NAME@PROFILE in domain PROFILE (service_login.c).
 *
 * A new service password goes to DATA_DIR/directory/NAME.password. When
 * the store is shared (Redis) the other nodes have no such file: the
 * profile's text then carries the password sealed under the server secret
 * (directory_seal.c), and each node, when it applies the profile's change
 * and when it picks the profile, writes its own file from the seal when the
 * file is missing or differs, and removes it with the profile. A seal that
 * does not open takes the file away (fail closed: no bind) and says so in
 * the audit log, without the password.
 */
#include "directory_profiles.h"
#include "directory_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define GH_DIR_PASSWORD_DIR "directory"

static int password_write(const char *path, const char *pw, size_t len);
static int password_path(gh_service *svc, const char *name, char *out, size_t outlen);
static void password_from_seal(gh_service *svc, gh_config_directory *p);

static ssize_t profile_index(const gh_directory_profiles *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static void profile_remove(gh_directory_profiles *l, size_t i)
{
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
    l->n--;
}

/* One stored row over the list made so far. */
static int overlay_row(const gh_stored_directory *row, void *arg)
{
    gh_directory_profiles *l = arg;
    ssize_t i = profile_index(l, row->name);
    gh_config_directory *p;
    const char *why;

    if (i < 0 && (row->text == NULL || l->n == GH_DIRECTORY_MAX))
        return 0;
    if (i < 0)
        i = (ssize_t)l->n++;
    p = &l->v[i];
    gh_config_directory_defaults(p);
    snprintf(p->name, sizeof(p->name), "%s", row->name);
    p->revision = row->revision;
    if (row->text == NULL || !gh_config_directory_read(p, row->text, &why))
        profile_remove(l, (size_t)i);
    return 0;
}

gh_store_err gh_service_directory_list(gh_service *svc, gh_directory_profiles *out)
{
    const gh_config *c = svc->config;

    out->n = 0;
    for (size_t i = 0; c != NULL && i < c->ndirectories && i < GH_DIRECTORY_MAX; i++)
        out->v[out->n++] = c->directories[i];
    return gh_store_directory_foreach(svc->store, overlay_row, out);
}

/* The first profile in effect that name (or, name NULL, kind; or, both
 * NULL, the default mark) picks. */
static gh_store_err pick(gh_service *svc, const char *name, const char *kind,
                         gh_config_directory *out)
{
    gh_directory_profiles *l = malloc(sizeof(*l));
    gh_store_err err = l == NULL ? GH_STORE_ERROR : gh_service_directory_list(svc, l);

    for (size_t i = 0; err == GH_STORE_OK && i < l->n; i++) {
        const gh_config_directory *p = &l->v[i];

        if (name != NULL ? strcmp(p->name, name) == 0
                         : kind != NULL ? strcmp(p->kind, kind) == 0 : p->is_default) {
            *out = *p;
            password_from_seal(svc, out);
            goto done;
        }
    }
    if (err == GH_STORE_OK)
        err = GH_STORE_NOT_FOUND;
done:
    free(l);
    return err;
}

gh_store_err gh_service_directory_get(gh_service *svc, const char *name,
                                      gh_config_directory *out)
{
    return name == NULL ? GH_STORE_NOT_FOUND : pick(svc, name, NULL, out);
}

gh_store_err gh_service_directory_first(gh_service *svc, const char *kind,
                                        gh_config_directory *out)
{
    return kind == NULL ? GH_STORE_NOT_FOUND : pick(svc, NULL, kind, out);
}

gh_store_err gh_service_directory_default(gh_service *svc, gh_config_directory *out)
{
    return pick(svc, NULL, NULL, out);
}

typedef struct {
    gh_service                  *svc;
    const char                  *name;      /* "" = every profile changed */
    const gh_directory_profiles *now;
} apply_ctx;

/* A profile's user: NAME@PROFILE in domain PROFILE. */
static bool shadow_of(const gh_account *a)
{
    size_t n = strlen(a->name), d = strlen(a->domain);

    return strcmp(a->domain, "internal") != 0 && n > d + 1 && a->name[n - d - 1] == '@' &&
           strcmp(a->name + n - d, a->domain) == 0;
}

static int apply_account(const gh_account *a, void *arg)
{
    const apply_ctx *c = arg;
    ssize_t i;
    bool gone;

    if (!shadow_of(a))
        return 0;
    i = profile_index(c->now, a->domain);
    gone = i < 0 || !c->now->v[i].enabled;
    if (gone || c->name[0] == '\0' || strcmp(a->domain, c->name) == 0)
        gh_shared_cred_drop_account(c->svc->shared, a->id);
    /* Ended by the change applied: counted while the block is the whole
     * truth (service_sync.c). */
    if (gone) {
        int ended = gh_shared_session_remove_account(c->svc->shared, a->id);

        if (!gh_shared_cached(c->svc->shared))
            gh_metrics_sessions_ended(GH_METRIC_END_REVOKED, (uint64_t)ended);
    }
    return 0;
}

/* On a shared store, this node's password file of profile name follows
 * the change another node made: written from the seal at once, or removed
 * with the profile (the deleting node removed only its own). */
static void apply_password(gh_service *svc, const char *name, gh_directory_profiles *now)
{
    ssize_t i = profile_index(now, name);
    char path[GH_PATH_MAX];

    /* The name comes from the change log: a profile's name or nothing,
     * never a path. */
    if (!gh_config_directory_name_ok(name) || !gh_store_shared(svc->store))
        return;
    if (i >= 0)
        password_from_seal(svc, &now->v[i]);
    else if (password_path(svc, name, path, sizeof(path)) == 0)
        (void)unlink(path);
}

gh_store_err gh_service_directory_apply(gh_service *svc, const char *name)
{
    gh_directory_profiles *now = malloc(sizeof(*now));
    apply_ctx ctx = { svc, name != NULL ? name : "", now };
    gh_store_err err = now == NULL ? GH_STORE_ERROR : gh_service_directory_list(svc, now);

    if (err == GH_STORE_OK)
        apply_password(svc, ctx.name, now);
    if (err == GH_STORE_OK)
        err = gh_store_account_foreach(svc->store, apply_account, &ctx);
    free(now);
    return err;
}

/* DATA_DIR/directory/NAME.password, or a file name that does not fit: -1. */
static int password_path(gh_service *svc, const char *name, char *out, size_t outlen)
{
    int n = svc->data_dir == NULL ? -1
            : snprintf(out, outlen, "%s/" GH_DIR_PASSWORD_DIR "/%s.password", svc->data_dir,
                       name);

    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The password into its file, whole or not at all: a new file, mode 0600,
 * synced, then renamed over the old one. */
static int password_write(const char *path, const char *pw, size_t len)
{
    char tmp[GH_PATH_MAX + 8], dir[GH_PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, rc = -1;

    /* A temporary name of its own (mkostemp: 0600): workers of a node may
     * write the same file from the same seal at once. */
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
        return -1;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (write(fd, pw, len) == (ssize_t)len && fsync(fd) == 0)
        rc = 0;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc != 0)
        (void)unlink(tmp);
    return rc;
}

/* Does the file at path hold exactly pw (len bytes)? */
static bool password_same(const char *path, const char *pw, size_t len)
{
    char  have[GH_PASSWORD_MAX + 2];
    FILE *f = fopen(path, "re");
    size_t n = f != NULL ? fread(have, 1, sizeof(have), f) : 0;
    bool  same = f != NULL && !ferror(f) && n == len && CRYPTO_memcmp(have, pw, len) == 0;

    if (f != NULL)
        fclose(f);
    OPENSSL_cleanse(have, sizeof(have));
    return same;
}

/* p's password file from its seal, when it has one: this node's own file
 * (the stored path is the writer's), written when missing or different;
 * taken away when the seal does not open. */
static void password_from_seal(gh_service *svc, gh_config_directory *p)
{
    char   pw[GH_PASSWORD_MAX + 1], detail[GH_DOMAIN_MAX + 96];
    size_t len = 0;

    if (p->bind_password_sealed[0] == '\0' || p->bind_dn[0] == '\0')
        return;
    if (password_path(svc, p->name, p->bind_password_file, sizeof(p->bind_password_file)) != 0) {
        p->bind_password_file[0] = '\0';
        return;
    }
    if (!gh_directory_unseal(svc->secret, p->name, p->bind_password_sealed, pw, &len)) {
        (void)unlink(p->bind_password_file);
        snprintf(detail, sizeof(detail),
                 "directory %s service password's seal refused (another server secret?)",
                 p->name);
        gh_service_audit(svc, GH_AUDIT_DIRECTORY_CHANGED, NULL, NULL, NULL, NULL, detail);
        goto done;
    }
    if (!password_same(p->bind_password_file, pw, len) &&
        password_write(p->bind_password_file, pw, len) != 0) {
        snprintf(detail, sizeof(detail), "directory %s service password's file not written",
                 p->name);
        gh_service_audit(svc, GH_AUDIT_DIRECTORY_CHANGED, NULL, NULL, NULL, NULL, detail);
    }
done:
    OPENSSL_cleanse(pw, sizeof(pw));
}

/* The rules among the profiles in effect once p is written. */
static gh_directory_put_result put_check(const gh_directory_profiles *l,
                                         const gh_config_directory *p, const char **why)
{
    if (!gh_config_directory_valid(p, why))
        return GH_DIRPUT_INVALID;
    for (size_t i = 0; i < l->n; i++) {
        if (p->is_default && l->v[i].is_default && strcmp(l->v[i].name, p->name) != 0) {
            *why = "only one directory profile may be the default";
            return GH_DIRPUT_INVALID;
        }
    }
    if (profile_index(l, p->name) < 0 && l->n == GH_DIRECTORY_MAX) {
        *why = "too many directory profiles (at most 4)";
        return GH_DIRPUT_FULL;
    }
    return GH_DIRPUT_OK;
}

static void put_audit(gh_service *svc, const char *actor, const char *client_addr,
                      const char *what, const char *name)
{
    char detail[GH_DOMAIN_MAX + 32];

    snprintf(detail, sizeof(detail), "directory %s %s", name, what);
    gh_service_audit(svc, GH_AUDIT_DIRECTORY_CHANGED, actor, client_addr, NULL, NULL,
                     detail);
}

gh_directory_put_result gh_service_directory_put(gh_service *svc, const gh_config_directory *p,
                                                 const char *bind_password,
                                                 size_t bind_password_len, const char *actor,
                                                 const char *client_addr, char *why,
                                                 size_t whylen)
{
    gh_directory_profiles *l = malloc(sizeof(*l));
    gh_config_directory *copy = malloc(sizeof(*copy));
    char *text = malloc(GH_DIRECTORY_TEXT_MAX);
    gh_directory_put_result res = GH_DIRPUT_FAILED;
    const char *reason = "the store failed";

    if (l == NULL || copy == NULL || text == NULL ||
        gh_service_directory_list(svc, l) != GH_STORE_OK)
        goto done;
    *copy = *p;
    if (bind_password != NULL &&
        (bind_password_len == 0 || bind_password_len > GH_PASSWORD_MAX ||
         memchr(bind_password, '\0', bind_password_len) != NULL)) {
        reason = "the service password is empty, too long or holds a NUL";
        res = GH_DIRPUT_INVALID;
        goto done;
    }
    if (bind_password != NULL && password_path(svc, copy->name, copy->bind_password_file,
                                               sizeof(copy->bind_password_file)) != 0) {
        reason = "no room for the service password's file";
        goto done;
    }
    res = put_check(l, copy, &reason);
    if (res != GH_DIRPUT_OK)
        goto done;
    res = GH_DIRPUT_FAILED;
    reason = "the service password's file could not be written";
    if (bind_password != NULL &&
        password_write(copy->bind_password_file, bind_password, bind_password_len) != 0)
        goto done;
    /* A shared store's other nodes take the password from its seal. */
    reason = "the service password could not be sealed";
    if (bind_password != NULL && gh_store_shared(svc->store) &&
        !gh_directory_seal(svc->secret, copy->name, bind_password, bind_password_len,
                           copy->bind_password_sealed))
        goto done;
    if (bind_password != NULL && !gh_store_shared(svc->store))
        copy->bind_password_sealed[0] = '\0';
    reason = "the store failed";
    if (!gh_config_directory_write(copy, text, GH_DIRECTORY_TEXT_MAX) ||
        gh_store_directory_put(svc->store, copy->name, text, !copy->enabled, NULL) !=
            GH_STORE_OK)
        goto done;
    (void)gh_service_directory_apply(svc, copy->name);
    put_audit(svc, actor, client_addr, "written", copy->name);
    res = GH_DIRPUT_OK;
    reason = "";
done:
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", reason);
    free(l);
    free(copy);
    free(text);
    return res;
}

gh_directory_put_result gh_service_directory_delete(gh_service *svc, const char *name,
                                                    const char *actor,
                                                    const char *client_addr)
{
    gh_config_directory *p = malloc(sizeof(*p));
    gh_directory_put_result res = GH_DIRPUT_FAILED;
    char path[GH_PATH_MAX];
    gh_store_err err;

    err = p == NULL ? GH_STORE_ERROR : gh_service_directory_get(svc, name, p);
    if (err != GH_STORE_OK) {
        res = err == GH_STORE_NOT_FOUND ? GH_DIRPUT_NOT_FOUND : GH_DIRPUT_FAILED;
        goto done;
    }
    /* The file's profile of that name stays hidden by a tombstone; any
     * other is forgotten, so deleted names do not pile up in the store. */
    err = gh_config_directory_get(svc->config, name) != NULL
              ? gh_store_directory_put(svc->store, name, NULL, true, NULL)
              : gh_store_directory_forget(svc->store, name);
    if (err != GH_STORE_OK)
        goto done;
    if (password_path(svc, name, path, sizeof(path)) == 0)
        (void)unlink(path);
    (void)gh_service_directory_apply(svc, name);
    put_audit(svc, actor, client_addr, "deleted", name);
    res = GH_DIRPUT_OK;
done:
    free(p);
    return res;
}
