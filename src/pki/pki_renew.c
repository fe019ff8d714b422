/*
 * pki_renew.c: a new server certificate from gatehouse's own CA, and the
 * check `serve` makes at every start.
 *
 * A certificate is gatehouse's own when pki/ca.key is here, belongs to
 * pki/ca.pem, and ca.pem's key signed the certificate nginx serves (the first
 * of server-chain.pem). `gatehouse init --cert/--key` removes ca.key, so a
 * certificate the operator brought is never taken for ours and never
 * replaced. Ours and within `within` seconds of its end, it is replaced by a
 * new key and certificate for the same host name (the old certificate's CN)
 * with the full validity; the CA stays, so clients that trust ca.pem trust
 * the new one without a change.
 *
 * The three files cannot be replaced together: the key first, then the chain
 * nginx reads, then server.pem. A renewal cut short leaves them disagreeing,
 * and the next check sees that and issues again.
 */
#include "pki.h"
#include "pki_internal.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

/* The first certificate of dir/name, or NULL. Owned by the caller. */
static X509 *gh_pki_load_cert(const char *dir, const char *name)
{
    char  path[PATH_MAX];
    BIO  *bio;
    X509 *x = NULL;

    if (gh_pki_path(path, sizeof(path), dir, name) < 0)
        return NULL;
    bio = BIO_new_file(path, "r");
    if (bio != NULL)
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return x;
}

/* dir/name's private key, or NULL (missing, unreadable). Owned by the caller. */
static EVP_PKEY *gh_pki_load_key(const char *dir, const char *name)
{
    char      path[PATH_MAX];
    BIO      *bio;
    EVP_PKEY *key = NULL;

    if (gh_pki_path(path, sizeof(path), dir, name) < 0)
        return NULL;
    bio = BIO_new_file(path, "r");
    if (bio != NULL)
        key = PEM_read_bio_PrivateKey(bio, NULL, gh_pki_no_passphrase, NULL);
    BIO_free(bio);
    return key;
}

gh_pki_err gh_pki_issue_server(const char *pki_dir, const char *hostname, long seconds,
                               char *err, size_t errlen)
{
    char       host[HOST_NAME_MAX + 1];
    X509      *ca = gh_pki_load_cert(pki_dir, GH_PKI_CA_CERT);
    EVP_PKEY  *ca_key = gh_pki_load_key(pki_dir, GH_PKI_CA_KEY);
    gh_pki_err rc = GH_PKI_BAD_INPUT;

    if (ca == NULL || ca_key == NULL || X509_check_private_key(ca, ca_key) != 1) {
        gh_pki_fail(err, errlen, "%s holds no CA certificate and key of gatehouse's "
                    "(%s, %s)", pki_dir, GH_PKI_CA_CERT, GH_PKI_CA_KEY);
        goto done;
    }
    gh_pki_pick_host(hostname, host, sizeof(host));
    rc = gh_pki_new_server(pki_dir, host, ca, ca_key, seconds, err, errlen);
done:
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

/* The end of x as a time_t; -1 when it cannot be read. */
static time_t gh_pki_not_after(const X509 *x)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return (time_t)-1;
    return timegm(&tm);
}

/* True when ca's key is here and signed srv: a certificate of gatehouse's own. */
static bool gh_pki_ours(const char *pki_dir, X509 *ca, X509 *srv)
{
    EVP_PKEY *ca_key = gh_pki_load_key(pki_dir, GH_PKI_CA_KEY);
    bool      ours;

    ours = ca_key != NULL && X509_check_private_key(ca, ca_key) == 1
           && X509_verify(srv, X509_get0_pubkey(ca)) == 1;
    EVP_PKEY_free(ca_key);
    ERR_clear_error();
    return ours;
}

/* Renewal cut short: the key, the chain and server.pem disagree. */
static bool gh_pki_torn(const char *pki_dir, X509 *srv)
{
    X509     *alone = gh_pki_load_cert(pki_dir, GH_PKI_SERVER_CERT);
    EVP_PKEY *key = gh_pki_load_key(pki_dir, GH_PKI_SERVER_KEY);
    bool      torn;

    torn = alone == NULL || key == NULL || X509_cmp(alone, srv) != 0
           || X509_check_private_key(srv, key) != 1;
    X509_free(alone);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return torn;
}

gh_pki_err gh_pki_renew(const char *pki_dir, long within, gh_pki_renewal *what,
                        time_t *not_after, char *err, size_t errlen)
{
    X509      *ca = gh_pki_load_cert(pki_dir, GH_PKI_CA_CERT);
    X509      *srv = gh_pki_load_cert(pki_dir, GH_PKI_SERVER_CHAIN);
    char       cn[HOST_NAME_MAX + 1] = "";
    time_t     now = time(NULL);
    gh_pki_err rc = GH_PKI_BAD_INPUT;

    *what = GH_PKI_KEPT;
    if (ca == NULL || srv == NULL) {
        gh_pki_fail(err, errlen, "cannot read %s/%s and %s", pki_dir, GH_PKI_CA_CERT,
                    GH_PKI_SERVER_CHAIN);
        goto done;
    }
    *not_after = gh_pki_not_after(srv);
    rc = GH_PKI_OK;
    if (!gh_pki_ours(pki_dir, ca, srv)) {
        *what = GH_PKI_SUPPLIED;
        goto done;
    }
    if (*not_after != (time_t)-1 && *not_after - now > within && !gh_pki_torn(pki_dir, srv))
        goto done;
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(srv), NID_commonName, cn,
                                  sizeof(cn)) <= 0)
        cn[0] = '\0';
    rc = gh_pki_issue_server(pki_dir, cn[0] != '\0' ? cn : NULL,
                             GH_PKI_SERVER_DAYS * GH_PKI_DAY, err, errlen);
    if (rc != GH_PKI_OK)
        goto done;
    X509_free(srv);
    srv = gh_pki_load_cert(pki_dir, GH_PKI_SERVER_CHAIN);
    *not_after = srv != NULL ? gh_pki_not_after(srv) : (time_t)-1;
    *what = GH_PKI_RENEWED;
done:
    X509_free(srv);
    X509_free(ca);
    return rc;
}
