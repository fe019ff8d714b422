/*
 * service_recheck.c: the live sessions of directory users rechecked
 * (docs/directory.md). A directory user's session carries the role its
 * groups gave at login; every recheck_interval of its profile, the users
 * with live sessions are looked up again, with the service account and
 * without their password (gh_directory_lookup), and what the answer means
 * (gh_directory_recheck_decide) is done as an administrator's change would
 * be: a new role is written to the shadow account, which the change log
 * carries to every worker's sessions; a user gone, disabled or in no mapped
 * group has each live session revoked (audited "by directory recheck") and
 * its cached credentials dropped.
 *
 * Every worker's timer calls this once a second, off the event loop; the
 * store makes it once for the whole server. Each shadow account keeps, as an
 * attribute of its own ("directory"/"recheck"), when it was last checked
 * and when the directory last answered for it, in epoch milliseconds. The
 * accounts due are those with a stored session whose last check is an
 * interval old, the least recent first, a bounded number of pages of them
 * per profile and call; each is claimed in a write transaction that moves
 * its last check to now, so of several workers one alone asks the
 * directory, and the next asks an interval later. An account never
 * checked is claimed without a question: its login was the check, and the
 * clock starts there. A directory that does not answer is asked once per
 * call and profile: the other accounts due count as not answered without
 * waiting out the timeouts again.
 */
#include "service.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "directory_profiles.h"

#define RECHECK_NS   "directory"
#define RECHECK_NAME "recheck"
/* A last check older than two intervals and this: the account was not
 * being rechecked (no live sessions, or the server was down); the
 * directory's last answer for it counts from now (its login was one). */
#define RECHECK_STALE_MS 5000
/* One round of one profile: pages of GH_STORE_PAGE_MAX accounts at most,
 * no new page once this long has gone by. */
#define RECHECK_PAGES     16
#define RECHECK_BUDGET_MS 1000

/* The account's last check and last answer: GH_STORE_NOT_FOUND when none
 * is kept (or it does not read as two numbers: counted as none). */
static gh_store_err recheck_state(gh_service *svc, int64_t id, int64_t *checked,
                                  int64_t *confirmed)
{
    char value[GH_ATTRIBUTE_VALUE_MAX + 1];
    gh_store_err err;

    *checked = *confirmed = 0;
    err = gh_store_attribute_get(svc->store, id, RECHECK_NS, RECHECK_NAME, value,
                                 sizeof(value));
    if (err == GH_STORE_OK &&
        sscanf(value, "%" SCNd64 " %" SCNd64, checked, confirmed) != 2)
        err = GH_STORE_NOT_FOUND;
    return err;
}

static gh_store_err recheck_write(gh_service *svc, int64_t id, int64_t checked,
                                  int64_t confirmed)
{
    char value[64];

    snprintf(value, sizeof(value), "%" PRId64 " %" PRId64, checked, confirmed);
    return gh_store_attribute_set(svc->store, id, RECHECK_NS, RECHECK_NAME, value);
}

typedef enum {
    RECHECK_NOT_DUE = 0,        /* checked within the interval, or claimed by another */
    RECHECK_FIRST,              /* never checked: its login was the check */
    RECHECK_DUE
} recheck_claim_result;

/* One try of recheck_claim, inside its transaction: *result its end. */
static recheck_claim_result recheck_claim_once(gh_service *svc, int64_t id, int64_t now,
                                               int64_t interval, int64_t *confirmed,
                                               gh_store_err *result)
{
    recheck_claim_result rc = RECHECK_NOT_DUE;
    int64_t checked = 0;
    gh_store_err err;

    *confirmed = 0;
    err = recheck_state(svc, id, &checked, confirmed);
    if (err == GH_STORE_NOT_FOUND) {
        err = GH_STORE_OK;
        rc = RECHECK_FIRST;
    } else if (err == GH_STORE_OK && checked <= now - interval) {
        rc = RECHECK_DUE;
    }
    if (err == GH_STORE_OK) {
        if (rc == RECHECK_FIRST || (rc == RECHECK_DUE &&
                                    checked < now - 2 * interval - RECHECK_STALE_MS))
            *confirmed = now;
        if (rc != RECHECK_NOT_DUE)
            err = recheck_write(svc, id, now, *confirmed);
    }
    *result = err;
    return rc;
}

/* Take the account's recheck if it is still due at now, with *confirmed
 * the directory's last answer for it; the claim runs again when another
 * writer changed what it read before it committed (GH_STORE_BUSY). */
static recheck_claim_result recheck_claim(gh_service *svc, int64_t id, int64_t now,
                                          int64_t interval, int64_t *confirmed)
{
    recheck_claim_result rc = RECHECK_NOT_DUE;
    gh_store_err err = GH_STORE_BUSY;

    *confirmed = 0;
    for (int tries = 0; err == GH_STORE_BUSY && tries < GH_STORE_TX_TRIES; tries++) {
        err = gh_store_begin(svc->store);
        if (err != GH_STORE_OK)
            break;
        rc = recheck_claim_once(svc, id, now, interval, confirmed, &err);
        err = gh_store_end(svc->store, err);
    }
    return err == GH_STORE_OK ? rc : RECHECK_NOT_DUE;
}

/* NAME of the shadow account NAME@PROFILE; false when it is none. */
static bool recheck_user(const gh_account *acct, char *user, size_t userlen)
{
    size_t n = strlen(acct->name), d = strlen(acct->domain);

    if (n < d + 2 || n - d - 1 >= userlen || acct->name[n - d - 1] != '@' ||
        strcmp(acct->name + n - d, acct->domain) != 0)
        return false;
    memcpy(user, acct->name, n - d - 1);
    user[n - d - 1] = '\0';
    return true;
}

typedef struct {
    char (*ids)[GH_SESSION_ID_LEN + 1];
    size_t n, cap;
} recheck_ids;

static int recheck_collect(const gh_session_record *rec, void *arg)
{
    recheck_ids *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char (*ids)[GH_SESSION_ID_LEN + 1] = realloc(l->ids, cap * sizeof(*ids));

        if (ids == NULL)
            return -1;
        l->ids = ids;
        l->cap = cap;
    }
    memcpy(l->ids[l->n++], rec->id, GH_SESSION_ID_LEN + 1);
    return 0;
}

/* Every live session of the account revoked, its cached credentials
 * dropped; the next login (if the directory lets it) starts afresh. */
static void recheck_end(gh_service *svc, const gh_account *acct, const char *why)
{
    recheck_ids l = { NULL, 0, 0 };
    char actor[320];

    snprintf(actor, sizeof(actor), "directory recheck (%s)", why);
    (void)gh_store_session_foreach(svc->store, acct->id, recheck_collect, &l);
    for (size_t i = 0; i < l.n; i++)
        (void)gh_service_session_end(svc, l.ids[i], GH_AUDIT_REVOKED, actor, NULL);
    gh_shared_cred_drop_account(svc->shared, acct->id);
    (void)gh_store_attribute_delete(svc->store, acct->id, RECHECK_NS, RECHECK_NAME);
    free(l.ids);
}

/* The account and its sessions take role, as `gatehouse user` would do it:
 * the change log carries it to every worker. */
static void recheck_role(gh_service *svc, gh_account *acct, gh_role role)
{
    char detail[64];

    acct->role = role;
    if (gh_service_account_update(svc, acct, acct->generation) != GH_STORE_OK)
        return;                 /* changed meanwhile: the next recheck sees it */
    snprintf(detail, sizeof(detail), "role %s", gh_role_name(role));
    gh_service_audit(svc, GH_AUDIT_ACCOUNT_CHANGED, acct->name, NULL, "directory recheck",
                     NULL, detail);
}

/* One claimed account of p: asked (unless p did not answer in this call:
 * *down), then what the answer means done. */
static void recheck_one(gh_service *svc, const gh_config_directory *p, int64_t id,
                        int64_t now, int64_t confirmed, bool *down)
{
    int64_t interval = p->recheck_interval * 1000;
    gh_directory_result dr = GH_DIR_UNAVAILABLE;
    gh_role role = GH_ROLE_NONE;
    char user[GH_USER_NAME_MAX + 1], why[256] = "directory unavailable";
    gh_account acct;

    memset(&acct, 0, sizeof(acct));
    /* A disabled or locked shadow account has no sessions left to check. */
    if (gh_store_account_get_by_id(svc->store, id, &acct) != GH_STORE_OK ||
        strcmp(acct.domain, p->name) != 0 || !acct.enabled || gh_account_admin_locked(&acct) ||
        !recheck_user(&acct, user, sizeof(user)))
        goto done;
    if (!*down)
        dr = gh_directory_lookup(p, user, &role, why, sizeof(why));
    *down = dr == GH_DIR_UNAVAILABLE;
    switch (gh_directory_recheck_decide(dr, acct.role, role, now - confirmed, interval)) {
    case GH_RECHECK_ROLE:
        recheck_role(svc, &acct, role);
        (void)recheck_write(svc, id, now, now);
        break;
    case GH_RECHECK_END:
        recheck_end(svc, &acct, dr == GH_DIR_UNAVAILABLE ? "directory unavailable" : why);
        break;
    case GH_RECHECK_KEEP:
        if (dr == GH_DIR_OK)
            (void)recheck_write(svc, id, now, now);
        break;
    }
done:
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
}

/* Pages of accounts due, until none is left, RECHECK_PAGES were read, or
 * RECHECK_BUDGET_MS went by: bounded, whatever the number of users. */
static gh_store_err recheck_profile(gh_service *svc, const gh_config_directory *p, int64_t now)
{
    int64_t interval = p->recheck_interval * 1000, ids[GH_STORE_PAGE_MAX], confirmed;
    int64_t start = gh_now_ms();
    bool down = false;
    size_t n = 0;
    gh_store_err err = GH_STORE_OK;

    for (int page = 0; err == GH_STORE_OK && page < RECHECK_PAGES &&
                       gh_now_ms() - start < RECHECK_BUDGET_MS; page++) {
        err = gh_store_account_due(svc->store, p->name, RECHECK_NS, RECHECK_NAME,
                                   now - interval, ids, &n);
        for (size_t i = 0; err == GH_STORE_OK && i < n; i++) {
            /* A first claim only starts the clock: the login was a check. */
            if (recheck_claim(svc, ids[i], now, interval, &confirmed) == RECHECK_DUE)
                recheck_one(svc, p, ids[i], now, confirmed, &down);
        }
        if (n < GH_STORE_PAGE_MAX)
            break;
    }
    return err;
}

gh_store_err gh_service_directory_recheck(gh_service *svc, int64_t now_ms)
{
    gh_directory_profiles profiles;
    gh_store_err          err;

    /* The profiles in effect: the file's and those written through the API;
     * a disabled one's users have no sessions left to check. */
    err = gh_service_directory_list(svc, &profiles);
    if (err != GH_STORE_OK)
        return err;
    for (size_t i = 0; i < profiles.n; i++) {
        const gh_config_directory *p = &profiles.v[i];
        gh_store_err e;

        if (p->recheck_interval <= 0 || !p->enabled)
            continue;
        e = recheck_profile(svc, p, now_ms);
        if (e != GH_STORE_OK)
            err = e;
    }
    return err;
}
