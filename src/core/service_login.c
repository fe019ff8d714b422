/*
 * service_login.c: checking a password (see service.h), with the lockout of
 * lockout.h. Two counters answer for each login: the one of (account,
 * source), against the lockout threshold, and the account's over every
 * source, against the much higher account-wide threshold. Both are read
 * before the hash and counted after a failure in one write transaction, in
 * the store, by the thread that did the hash: every worker and a restarted
 * server see the same counts. An account-wide lock of a real account is also
 * written to the account (a dialect may show it as locked). A lock refuses new
 * logins only; it ends no session.
 *
 * Every refusal also counts toward the throttle of its source (in the shared
 * block, checked here and, before a hash is queued, on the event loop):
 * password spraying across many accounts slows the sprayer down. The
 * source's counter, as the block holds it once counted, is copied to the
 * store in the same transaction as the lockout counters, so that a restart
 * loads it back (service_sync.c) and the sprayer does not start over.
 *
 * Nothing in the answer tells which names exist: the hash runs for every
 * attempt (the account's, or a dummy for an unknown name), unknown names
 * are counted and locked like real ones, and every refusal writes its
 * counters, so locked, unknown and wrong cost the same. Only the audit log
 * says which it was.
 *
 * A name that is no local account, or NAME@PROFILE, is checked against a
 * directory profile (directory.h): PROFILE, else the default profile, which
 * takes a name whose part after its last '@' names no profile whole (an
 * Active Directory userPrincipalName, NAME@DOMAIN). Local
 * accounts always win: the directory is asked only when the store has no
 * local account of the name. A directory user who logs in has a shadow
 * account, NAME@PROFILE in the profile's domain with no password, written
 * at each login with the role its groups gave: sessions, the credential
 * cache and the lockout name it like any account, and an administrator may
 * disable or lock it. Its lockout counters are those of the shadow name,
 * whichever way the user logged in; a locked name is refused before any
 * bind. A directory that does not answer refuses with GH_AUTH_UNAVAILABLE
 * and counts nothing.
 *
 * For the metrics (metrics.h) each check is one login: a refusal counted
 * here as the audit log names it, a pass once its outcome is known
 * (service.h); each lock the counters set is one lockout.
 */
#include "service.h"

#include "directory_profiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"

typedef struct {
    char       source[GH_SOURCE_MAX];
    uint8_t    throttle_key[GH_DIGEST_LEN];
    gh_failure pair;     /* (account, source) */
    gh_failure wide;     /* the account over every source */
} login_counters;

static void fill_principal(const gh_account *acct, gh_principal *who)
{
    memset(who, 0, sizeof(*who));
    who->account_id = acct->id;
    memcpy(who->user, acct->name, sizeof(who->user));
    who->role = acct->role;
    who->password_change_required = acct->password_change_required;
}

static gh_throttle_policy throttle_policy(const gh_config *c)
{
    return (gh_throttle_policy){ c->throttle_failures, c->throttle_window, c->throttle_delay,
                                 c->throttle_max_delay };
}

int64_t gh_service_throttle_wait(const gh_service *svc, const char *client_addr,
                                 uint32_t *failures)
{
    gh_throttle_policy p = throttle_policy(svc->config);
    char source[GH_SOURCE_MAX];
    uint8_t key[GH_DIGEST_LEN];
    int64_t ms;

    gh_lockout_source(client_addr, source);
    gh_lockout_key_throttle(svc->secret, source, key);
    ms = gh_shared_throttle_wait(svc->shared, key, gh_now_ms(), &p, failures);
    return (ms + 999) / 1000;
}

void gh_service_throttle_fail(const gh_service *svc, const char *client_addr)
{
    gh_throttle_policy p = throttle_policy(svc->config);
    char source[GH_SOURCE_MAX];
    uint8_t key[GH_DIGEST_LEN];

    gh_lockout_source(client_addr, source);
    gh_lockout_key_throttle(svc->secret, source, key);
    (void)gh_shared_throttle_fail(svc->shared, key, gh_now_ms(), &p);
    gh_wipe(key, sizeof(key));
}

/* An unknown user costs the same hash as a known one, so timing does not
 * tell which names exist. The dummy hash is made once per thread. */
static gh_password_result verify_dummy(gh_service *svc, const char *password, size_t len)
{
    static _Thread_local char dummy[GH_PASSWORD_HASH_MAX];

    if (dummy[0] == '\0' &&
        gh_password_hash(&svc->config->argon2, "gatehouse", 9, dummy) != GH_PASSWORD_OK)
        return GH_PASSWORD_ERROR;
    return gh_password_verify(dummy, password, len) == GH_PASSWORD_ERROR
           ? GH_PASSWORD_ERROR : GH_PASSWORD_MISMATCH;
}

static gh_store_err counter_read(gh_service *svc, gh_failure *f)
{
    uint8_t key[GH_DIGEST_LEN], owner[GH_DIGEST_LEN];
    gh_store_err err;

    memcpy(key, f->key, sizeof(key));
    memcpy(owner, f->owner, sizeof(owner));
    err = gh_store_failure_get(svc->store, key, f);
    if (err == GH_STORE_NOT_FOUND) {
        memset(f, 0, sizeof(*f));
        memcpy(f->key, key, sizeof(key));
        memcpy(f->owner, owner, sizeof(owner));
        err = GH_STORE_OK;
    }
    return err;
}

/* Key both counters of (user, client_addr) and read them from the store. */
static gh_store_err counters_read(gh_service *svc, const char *user, const char *client_addr,
                                  login_counters *lc)
{
    gh_store_err err;

    memset(lc, 0, sizeof(*lc));
    gh_lockout_source(client_addr, lc->source);
    gh_lockout_key_throttle(svc->secret, lc->source, lc->throttle_key);
    gh_lockout_owner(svc->secret, user, lc->pair.owner);
    memcpy(lc->wide.owner, lc->pair.owner, GH_DIGEST_LEN);
    gh_lockout_key_source(svc->secret, lc->pair.owner, lc->source, lc->pair.key);
    gh_lockout_key_account(svc->secret, lc->pair.owner, lc->wide.key);
    err = counter_read(svc, &lc->pair);
    if (err == GH_STORE_OK)
        err = counter_read(svc, &lc->wide);
    return err;
}

/* Lock the account as it is now, not as read before the hash: a change made
 * meanwhile (a new password, a disable) must not be written over. */
static void lock_account(gh_service *svc, gh_account *acct, int64_t until)
{
    gh_store_err err = GH_STORE_ERROR;

    for (int tries = 0; tries < 3; tries++) {
        if (acct->locked_until >= until)
            return;
        acct->locked_until = until;
        err = gh_service_account_update(svc, acct, acct->generation);
        if (err != GH_STORE_CONFLICT ||
            gh_store_account_get_by_id(svc->store, acct->id, acct) != GH_STORE_OK)
            break;
    }
}

/* Copy the source's throttle counter, as the block holds it now, to the
 * store (one put: the block is its truth while the server runs, and this
 * copy is what a restart loads back). */
static gh_store_err throttle_save(gh_service *svc, const uint8_t key[GH_DIGEST_LEN])
{
    gh_throttle_policy p = throttle_policy(svc->config);
    int64_t now = gh_now_ms(), epoch = gh_epoch_ms();
    gh_throttle_count c;

    memcpy(c.key, key, GH_DIGEST_LEN);
    if (!gh_shared_throttle_get(svc->shared, now, &p, &c))
        return GH_STORE_OK;     /* taken for another source meanwhile */
    gh_throttle_rebase(&c, now, epoch);
    return gh_store_throttle_put(svc->store, &c, (gh_throttle_end_ms(&c, &p) + 999) / 1000);
}

/* Every refused login slows its source down, whichever account it tried:
 * counted in the block, where the event loop reads it. */
static void throttle_failure(gh_service *svc, const uint8_t key[GH_DIGEST_LEN])
{
    gh_throttle_policy p = throttle_policy(svc->config);

    (void)gh_shared_throttle_fail(svc->shared, key, gh_now_ms(), &p);
}

/* Write both lockout counters back as they are now, counting nothing: a
 * refusal of a locked login (a guesser held at one source must not go on
 * toward the account-wide lock) costs what any other refusal does. Read
 * again inside the transaction so that failures counted meanwhile by other
 * threads are not written over. */
static gh_store_err counters_rewrite(gh_service *svc, login_counters *lc)
{
    gh_store_err err = gh_store_begin(svc->store);

    if (err == GH_STORE_OK)
        err = counter_read(svc, &lc->pair);
    if (err == GH_STORE_OK)
        err = counter_read(svc, &lc->wide);
    if (err == GH_STORE_OK)
        err = gh_store_failure_put(svc->store, &lc->pair);
    if (err == GH_STORE_OK)
        err = gh_store_failure_put(svc->store, &lc->wide);
    return gh_store_end(svc->store, err);
}

/* Count a failure in both lockout counters, each one atomic step of the
 * store (gh_store_failure_count): failures counted meanwhile by other
 * threads, workers or nodes are never lost. */
static gh_store_err count_lockout(gh_service *svc, login_counters *lc, int64_t now,
                                  bool locked, bool *pair_locked, bool *wide_locked)
{
    int64_t threshold = gh_service_setting(svc, GH_SET_LOCKOUT_THRESHOLD);
    int64_t reset_after = gh_service_setting(svc, GH_SET_LOCKOUT_RESET_AFTER);
    int64_t duration = gh_service_setting(svc, GH_SET_LOCKOUT_DURATION);
    gh_store_err err;

    *pair_locked = *wide_locked = false;
    if (threshold <= 0)
        return GH_STORE_OK;
    if (locked)
        return counters_rewrite(svc, lc);
    err = gh_store_failure_count(svc->store, lc->pair.key, lc->pair.owner, now, reset_after,
                                 threshold, duration, &lc->pair, pair_locked);
    if (err == GH_STORE_OK)
        err = gh_store_failure_count(svc->store, lc->wide.key, lc->wide.owner, now,
                                     reset_after, svc->config->lockout_account_threshold,
                                     duration, &lc->wide, wide_locked);
    return err;
}

/* A refused login: the throttle's copy, the lockout counters, then what a
 * lock entails. */
static void note_failure(gh_service *svc, gh_account *acct, const char *user,
                         login_counters *lc, const char *client_addr, const char *method,
                         int64_t now, bool locked, const char *why)
{
    bool pair_locked = false, wide_locked = false;
    gh_store_err err;

    gh_service_audit(svc, GH_AUDIT_LOGIN_FAILED, user, client_addr, method, NULL, why);
    err = throttle_save(svc, lc->throttle_key);
    if (err == GH_STORE_OK)
        err = count_lockout(svc, lc, now, locked, &pair_locked, &wide_locked);
    if (err != GH_STORE_OK)
        return;
    /* A cached credential is checked before any counter: drop it, so the
     * locked source is refused even the right password. */
    if ((pair_locked || wide_locked) && acct != NULL)
        gh_shared_cred_drop_account(svc->shared, acct->id);
    if (pair_locked) {
        gh_service_audit(svc, GH_AUDIT_LOCKOUT, user, client_addr, method, NULL,
                         "too many failed logins from this source");
        gh_metrics_lockout();
    }
    if (wide_locked) {
        gh_service_audit(svc, GH_AUDIT_LOCKOUT, user, client_addr, method, NULL,
                         "too many failed logins from all sources");
        gh_metrics_lockout();
    }
    if (wide_locked && acct != NULL)
        lock_account(svc, acct, lc->wide.locked_until);
}

/* After a good password: forget this source's failures, end an expired
 * lock, and rehash when the configured parameters changed. */
static void note_success(gh_service *svc, gh_account *acct, const login_counters *lc,
                         const char *password, size_t len)
{
    bool dirty = false;

    if (lc->pair.failures != 0 || lc->pair.locked_until != 0)
        (void)gh_store_failure_delete(svc->store, lc->pair.key);
    if (acct->locked_until != 0) {
        acct->locked_until = 0;
        dirty = true;
    }
    if (svc->config->upgrade_hashes &&
        gh_password_needs_rehash(acct->password_hash, &svc->config->argon2) &&
        gh_password_hash(&svc->config->argon2, password, len, acct->password_hash) ==
            GH_PASSWORD_OK)
        dirty = true;
    if (dirty)
        (void)gh_store_account_update(svc->store, acct, acct->generation);
}

/* The shadow account of a directory user after a good bind: added at the
 * first login, its role written when its groups changed, its lock of
 * failed logins ended. */
static gh_store_err shadow_write(gh_service *svc, const gh_config_directory *p,
                                 const char *name, bool known, gh_role role, gh_account *acct)
{
    if (!known) {
        memset(acct, 0, sizeof(*acct));
        snprintf(acct->name, sizeof(acct->name), "%s", name);
        snprintf(acct->domain, sizeof(acct->domain), "%s", p->name);
        acct->role = role;
        acct->enabled = true;
        return gh_store_account_add(svc->store, acct);
    }
    if (acct->role == role && acct->locked_until == 0)
        return GH_STORE_OK;
    acct->role = role;
    acct->locked_until = 0;
    return gh_service_account_update(svc, acct, acct->generation);
}

/* NAME@PROFILE, the shadow account's name; "@" alone (no one) when it
 * does not fit. */
static void shadow_name(const char *user, const gh_config_directory *p,
                        char name[GH_USER_NAME_MAX + 1])
{
    size_t ulen = strlen(user), plen = strlen(p->name);

    name[0] = '@';
    name[1] = '\0';
    if (ulen + 1 + plen <= GH_USER_NAME_MAX) {
        memcpy(name, user, ulen);
        name[ulen] = '@';
        memcpy(name + ulen + 1, p->name, plen + 1);
    }
}

/* What a directory's answer means to the caller, once counted. */
static gh_auth_result directory_answer(gh_service *svc, const gh_config_directory *p,
                                       gh_directory_result dr, const char *name, bool known,
                                       gh_account *acct, login_counters *lc,
                                       const char *client_addr, const char *method,
                                       const char *why)
{
    char detail[GH_DOMAIN_MAX + 300];

    snprintf(detail, sizeof(detail), "directory %s: %s", p->name, why);
    if (dr == GH_DIR_UNAVAILABLE) {
        gh_service_audit(svc, GH_AUDIT_LOGIN_FAILED, name, client_addr, method, NULL,
                         detail);
        return GH_AUTH_UNAVAILABLE;
    }
    throttle_failure(svc, lc->throttle_key);
    note_failure(svc, known ? acct : NULL, name, lc, client_addr, method, gh_now(), false,
                 detail);
    return GH_AUTH_BAD_CREDENTIALS;
}

/* A profile changed while its user was checked (the check read it before
 * the change): the credential just cached was verified under the old
 * settings, and the change's drop may have come before it was cached. Read
 * after the put, so that either this sees the change or the change's drop
 * comes after the put. */
static void cache_still_good(gh_service *svc, const gh_config_directory *p, int64_t account_id)
{
    gh_config_directory *now = malloc(sizeof(*now));

    if (now == NULL || gh_service_directory_get(svc, p->name, now) != GH_STORE_OK ||
        now->revision != p->revision || !now->enabled)
        gh_shared_cred_drop_account(svc->shared, account_id);
    free(now);
}

/* A directory user's lockout, by the name the directory holds (a shadow
 * account's name): every spelling the directory matches to one user
 * counts as that user, and a locked one is refused before any bind. */
typedef struct {
    gh_service                *svc;
    const gh_config_directory *p;
    const char                *client_addr, *method;
    int64_t                    now;
    char                       name[GH_USER_NAME_MAX + 1];  /* NAME@PROFILE */
    gh_account                 acct;
    bool                       known, read;
    login_counters             lc;
    gh_auth_result             refusal;
} directory_lockout;

/* The shadow account and counters of NAME@PROFILE, for name; false when
 * the store does not answer. */
static bool directory_lockout_read(directory_lockout *l, const char *name)
{
    gh_store_err err;

    shadow_name(name, l->p, l->name);
    err = gh_store_account_get(l->svc->store, l->name, &l->acct);
    if ((err != GH_STORE_OK && err != GH_STORE_NOT_FOUND) ||
        counters_read(l->svc, l->name, l->client_addr, &l->lc) != GH_STORE_OK)
        return false;
    l->known = err == GH_STORE_OK && strcmp(l->acct.domain, l->p->name) == 0;
    l->read = true;
    return true;
}

/* gh_directory_gate: may the user the directory calls name bind? */
static bool directory_lockout_gate(void *arg, const char *name)
{
    directory_lockout *l = arg;

    if (!directory_lockout_read(l, name)) {
        l->refusal = GH_AUTH_UNAVAILABLE;
        return false;
    }
    if ((l->known && gh_account_locked(&l->acct, l->now)) ||
        gh_lockout_locked(&l->lc.pair, l->now) || gh_lockout_locked(&l->lc.wide, l->now)) {
        throttle_failure(l->svc, l->lc.throttle_key);
        note_failure(l->svc, l->known ? &l->acct : NULL, l->name, &l->lc, l->client_addr,
                     l->method, l->now, true, "locked");
        l->refusal = GH_AUTH_LOCKED;
        return false;
    }
    return true;
}

/* user (the name as the directory is asked for it) against profile p:
 * login_name is the name as the client gave it, the key of its cached
 * credential. The shadow account, the lockout and the audit name the user
 * as the directory holds the name, whatever its spelling here. */
static gh_auth_result verify_directory(gh_service *svc, const gh_config_directory *p,
                                       const char *user, const char *login_name,
                                       const char *password, size_t password_len,
                                       const char *client_addr, const char *method,
                                       gh_principal *who, gh_metric_login *metric)
{
    gh_auth_result rc = GH_AUTH_BAD_CREDENTIALS;
    char why[256], detail[96], typed[GH_USER_NAME_MAX + 1];
    uint8_t key[GH_DIGEST_LEN];
    gh_directory_result dr;
    gh_role role = GH_ROLE_NONE;
    directory_lockout *l = calloc(1, sizeof(*l));

    memset(key, 0, sizeof(key));
    if (l == NULL) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    *l = (directory_lockout){ .svc = svc, .p = p, .client_addr = client_addr,
                              .method = method, .now = gh_now() };
    shadow_name(user, p, typed);
    /* A disabled profile is never asked: its users are no one. */
    dr = typed[0] == '@' || !p->enabled
             ? GH_DIR_NO_USER
             : gh_directory_verify(p, user, password, password_len, directory_lockout_gate, l,
                                   &role, why, sizeof(why));
    if (typed[0] == '@' || !p->enabled)
        snprintf(why, sizeof(why), "%s", typed[0] == '@' ? "name too long" : "disabled");
    if (dr == GH_DIR_REFUSED) {
        rc = l->refusal;
        goto done;
    }
    /* No entry was found (or none asked): the name is counted as given. */
    if (!l->read && !directory_lockout_read(l, user)) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    if (dr != GH_DIR_OK) {
        rc = directory_answer(svc, p, dr, l->name, l->known, &l->acct, &l->lc, client_addr,
                              method, why);
        *metric = dr == GH_DIR_NO_USER ? GH_METRIC_LOGIN_UNKNOWN_USER
             : dr == GH_DIR_NO_ROLE ? GH_METRIC_LOGIN_DISABLED : GH_METRIC_LOGINS;
        goto done;
    }
    if (l->known && !l->acct.enabled) {
        gh_service_audit(svc, GH_AUDIT_LOGIN_FAILED, l->name, client_addr, method, NULL,
                         "disabled");
        rc = GH_AUTH_DISABLED;
        goto done;
    }
    if (shadow_write(svc, p, l->name, l->known, role, &l->acct) != GH_STORE_OK) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    if (l->lc.pair.failures != 0 || l->lc.pair.locked_until != 0)
        (void)gh_store_failure_delete(svc->store, l->lc.pair.key);
    fill_principal(&l->acct, who);
    gh_token_credential_key(svc->secret, login_name, strlen(login_name), password,
                            password_len, key);
    gh_shared_cred_put(svc->shared, key, who, l->now + svc->config->credcache_seconds);
    cache_still_good(svc, p, l->acct.id);
    snprintf(detail, sizeof(detail), "directory %s", p->name);
    gh_service_audit(svc, GH_AUDIT_LOGIN, l->name, client_addr, method, NULL, detail);
    rc = GH_AUTH_OK;
done:
    if (l != NULL) {
        gh_wipe(l->acct.password_hash, sizeof(l->acct.password_hash));
        free(l);
    }
    gh_wipe(key, sizeof(key));
    return rc;
}

/* The profile in effect a name may be for, into *p: NAME@PROFILE names
 * one (*dir_user then the NAME part, in buf); a plain name, or one whose
 * '@' is followed by no profile's name (NAME@DOMAIN, AD's
 * userPrincipalName), the default profile, whole, which the caller asks
 * only when the store has no local account of it. GH_STORE_NOT_FOUND:
 * none. Read from the store at each call (directory_profiles.h), so a
 * change through the API holds at once. */
static gh_store_err directory_of(gh_service *svc, const char *user, char *buf, size_t buflen,
                                 const char **dir_user, gh_config_directory *p)
{
    const char *at = strrchr(user, '@');
    gh_store_err err = GH_STORE_NOT_FOUND;

    *dir_user = user;
    if (at != NULL && (size_t)(at - user) < buflen)
        err = gh_service_directory_get(svc, at + 1, p);
    if (err == GH_STORE_NOT_FOUND)
        return gh_service_directory_default(svc, p);
    if (err == GH_STORE_OK) {
        memcpy(buf, user, (size_t)(at - user));
        buf[at - user] = '\0';
        *dir_user = buf;
    }
    return err;
}

/* A local account's password; or, with directories, a directory's. */
static gh_auth_result verify(gh_service *svc, const char *user, const char *password,
                             size_t password_len, const char *client_addr,
                             const char *method, bool directories, gh_principal *who)
{
    gh_auth_result rc = GH_AUTH_BAD_CREDENTIALS;
    int64_t now = gh_now();
    uint8_t key[GH_DIGEST_LEN];
    login_counters lc;
    gh_account acct;
    gh_store_err err;
    gh_password_result pv;
    bool known, locked;
    const gh_config_directory *profile = NULL;
    gh_config_directory prof;
    const char *name = user;
    char dir_user[GH_USER_NAME_MAX + 1];
    gh_metric_login why = GH_METRIC_LOGINS;     /* what rc says, unless set */

    memset(&acct, 0, sizeof(acct));
    memset(key, 0, sizeof(key));
    if (gh_service_throttle_wait(svc, client_addr, NULL) > 0) {
        rc = GH_AUTH_THROTTLED;
        goto done;
    }
    err = directories ? directory_of(svc, user, dir_user, sizeof(dir_user), &name, &prof)
                      : GH_STORE_NOT_FOUND;
    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    profile = err == GH_STORE_OK ? &prof : NULL;
    name = profile != NULL ? name : user;
    if (profile != NULL && name != user) {      /* NAME@PROFILE: never a local account */
        rc = verify_directory(svc, profile, name, user, password, password_len, client_addr,
                              method, who, &why);
        goto done;
    }
    err = gh_store_account_get(svc->store, user, &acct);
    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    if (profile != NULL && (err == GH_STORE_NOT_FOUND || strcmp(acct.domain, "internal") != 0)) {
        rc = verify_directory(svc, profile, user, user, password, password_len, client_addr,
                              method, who, &why);
        goto done;
    }
    if (counters_read(svc, user, client_addr, &lc) != GH_STORE_OK) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    /* A directory user's shadow account has no password of its own. */
    known = err == GH_STORE_OK && strcmp(acct.domain, "internal") == 0;
    locked = (known && gh_account_locked(&acct, now)) || gh_lockout_locked(&lc.pair, now) ||
             gh_lockout_locked(&lc.wide, now);
    /* The hash runs whatever the answer will be, and every refusal writes
     * its counters: locked, unknown and wrong take the same time. */
    pv = known ? gh_password_verify(acct.password_hash, password, password_len)
               : verify_dummy(svc, password, password_len);
    if (pv == GH_PASSWORD_ERROR) {
        rc = GH_AUTH_UNAVAILABLE;
        goto done;
    }
    if (locked || pv != GH_PASSWORD_OK || !acct.enabled)
        throttle_failure(svc, lc.throttle_key);
    if (locked || pv != GH_PASSWORD_OK) {
        note_failure(svc, known ? &acct : NULL, user, &lc, client_addr, method, now, locked,
                     !known ? "unknown user" : locked ? "locked" : "bad password");
        rc = known && locked ? GH_AUTH_LOCKED : GH_AUTH_BAD_CREDENTIALS;
        why = !known ? GH_METRIC_LOGIN_UNKNOWN_USER : GH_METRIC_LOGINS;
        goto done;
    }
    if (!acct.enabled) {
        (void)throttle_save(svc, lc.throttle_key);
        gh_service_audit(svc, GH_AUDIT_LOGIN_FAILED, acct.name, client_addr, method,
                         NULL, "disabled");
        rc = GH_AUTH_DISABLED;
        goto done;
    }
    note_success(svc, &acct, &lc, password, password_len);
    fill_principal(&acct, who);
    gh_token_credential_key(svc->secret, user, strlen(user), password, password_len, key);
    gh_shared_cred_put(svc->shared, key, who, now + svc->config->credcache_seconds);
    gh_service_audit(svc, GH_AUDIT_LOGIN, acct.name, client_addr, method, NULL, NULL);
    rc = GH_AUTH_OK;
done:
    gh_service_login_count(svc, rc, why);
    gh_wipe(key, sizeof(key));
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    return rc;
}

gh_auth_result gh_service_verify_password(gh_service *svc, const char *user,
                                          const char *password, size_t password_len,
                                          const char *client_addr, const char *method,
                                          gh_principal *who)
{
    return verify(svc, user, password, password_len, client_addr, method, true, who);
}

gh_auth_result gh_service_verify_local_password(gh_service *svc, const char *user,
                                                const char *password, size_t password_len,
                                                const char *client_addr, const char *method,
                                                gh_principal *who)
{
    return verify(svc, user, password, password_len, client_addr, method, false, who);
}
