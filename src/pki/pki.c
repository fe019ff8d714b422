/*
 * pki.c: first-run CA and server certificate (OpenSSL 3), and the import of a
 * chain the operator brings.
 *
 * Generation: two EC P-256 keys (EVP_PKEY_Q_keygen). The CA is self-signed,
 * "CN=gatehouse CA (<host>)", basicConstraints critical CA:TRUE pathlen:0,
 * keyUsage critical keyCertSign+cRLSign, a subjectKeyIdentifier, ten years.
 * The server certificate is "CN=<host>" with the SANs every local client
 * uses (localhost, 127.0.0.1, ::1, the host name), EKU serverAuth, keyUsage
 * digitalSignature, an authorityKeyIdentifier pointing at the CA, 825 days.
 * Serials are 16 random bytes with the top bit clear (positive); every
 * signature is SHA-256. notBefore is set a few minutes back so a client whose
 * clock runs slightly behind still accepts a certificate made a moment ago,
 * and notAfter is counted from notBefore: the whole validity, both ends
 * included as RFC 5280 counts them, is the stated number of days and not a
 * second more (Apple clients refuse a server certificate over 825 days).
 * pki_renew.c issues a new server certificate from the same CA when the old
 * one nears its end.
 *
 * Every file goes through gh_pki_write_file: temporary name, exact mode,
 * fsync, rename, then fsync of the directory. Private keys pass through
 * memory BIOs that are cleansed before they are freed.
 */
#include "pki.h"
#include "pki_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define GH_PKI_SKEW_SECONDS (5 * 60)
#define GH_PKI_CN_MAX       64          /* ub-common-name */
#define GH_PKI_CHAIN_MAX    16          /* certificates we accept in a chain */

void gh_pki_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    size_t  used;
    unsigned long code;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    code = ERR_peek_last_error();
    used = strlen(err);
    if (code != 0 && used + 3 < errlen) {
        snprintf(err + used, errlen - used, " (%s)", ERR_reason_error_string(code)
                 ? ERR_reason_error_string(code) : "openssl error");
    }
    ERR_clear_error();
}

int gh_pki_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* Write data to dir/name with exactly mode, atomically (temp + rename). */
static int gh_pki_write_file(const char *dir, const char *name, const void *data,
                             size_t len, mode_t mode)
{
    char        path[PATH_MAX], tmp[PATH_MAX];
    const char *p = data;
    int         fd = -1, dfd = -1, rc = -1;

    if (gh_pki_path(path, sizeof(path), dir, name) < 0
        || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -1;
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        goto done;
    if (fchmod(fd, mode) < 0)
        goto done;
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto done;
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto done;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        (void)fsync(dfd);
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0)
        (void)unlink(tmp);
    return rc;
}

/* Write what a PEM writer put into a memory BIO, then cleanse the BIO. */
static int gh_pki_write_bio(const char *dir, const char *name, BIO *bio, mode_t mode)
{
    char *data = NULL;
    long  len = BIO_get_mem_data(bio, &data);
    int   rc;

    if (len <= 0 || data == NULL)
        return -1;
    rc = gh_pki_write_file(dir, name, data, (size_t)len, mode);
    OPENSSL_cleanse(data, (size_t)len);
    return rc;
}

static int gh_pki_write_key(const char *dir, const char *name, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int  rc = -1;

    if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
        rc = gh_pki_write_bio(dir, name, bio, 0600);
    BIO_free(bio);
    return rc;
}

/* Write one or more certificates, in order, into one PEM file (0644). */
static int gh_pki_write_certs(const char *dir, const char *name, X509 *const *certs,
                              size_t n)
{
    BIO   *bio = BIO_new(BIO_s_mem());
    int    rc = -1;
    size_t i;

    if (bio == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        if (PEM_write_bio_X509(bio, certs[i]) != 1)
            goto done;
    }
    rc = gh_pki_write_bio(dir, name, bio, 0644);
done:
    BIO_free(bio);
    return rc;
}

/* The server's key (server.key, 0600), then its chain with ca
 * (server-chain.pem) and itself alone (server.pem): the key before the
 * certificates, the chain nginx reads before server.pem (pki_renew.c tells a
 * cut-short write by that order). */
static int gh_pki_write_server(const char *dir, EVP_PKEY *key, X509 *srv, X509 *ca)
{
    X509 *chain[2] = { srv, ca };

    if (gh_pki_write_key(dir, GH_PKI_SERVER_KEY, key) < 0
        || gh_pki_write_certs(dir, GH_PKI_SERVER_CHAIN, chain, 2) < 0
        || gh_pki_write_certs(dir, GH_PKI_SERVER_CERT, &srv, 1) < 0)
        return -1;
    return 0;
}

static int gh_pki_random_serial(X509 *x)
{
    unsigned char bytes[16];
    BIGNUM       *bn = NULL;
    int           rc = -1;

    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return -1;
    bytes[0] &= 0x7f;          /* positive */
    bytes[0] |= 0x40;          /* and a full 16 bytes long, never zero */
    bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
    if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
        rc = 0;
    BN_free(bn);
    return rc;
}

static int gh_pki_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX      ctx;
    X509_EXTENSION *ext;
    int             ok;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* A certificate with serial, validity, subject cn and key filled in; issuer
 * is the subject itself when issuer_name is NULL. Valid for seconds in all,
 * from a few minutes ago: notAfter is the last second of the validity, since
 * both ends count. Owned by the caller. */
static X509 *gh_pki_new_cert(const char *cn, EVP_PKEY *key, const X509_NAME *issuer_name,
                             long seconds)
{
    X509      *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    time_t     now = time(NULL);

    if (x == NULL || name == NULL || seconds <= 0)
        goto fail;
    if (X509_set_version(x, X509_VERSION_3) != 1 || gh_pki_random_serial(x) < 0)
        goto fail;
    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -GH_PKI_SKEW_SECONDS, &now) == NULL
        || X509_time_adj_ex(X509_getm_notAfter(x), 0,
                            seconds - 1 - GH_PKI_SKEW_SECONDS, &now) == NULL)
        goto fail;
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1)
        goto fail;
    if (X509_set_subject_name(x, name) != 1
        || X509_set_issuer_name(x, issuer_name != NULL ? issuer_name : name) != 1
        || X509_set_pubkey(x, key) != 1)
        goto fail;
    X509_NAME_free(name);
    return x;
fail:
    X509_NAME_free(name);
    X509_free(x);
    return NULL;
}

static X509 *gh_pki_make_ca(const char *host, EVP_PKEY *key)
{
    char  cn[GH_PKI_CN_MAX + 1];
    X509 *x;
    int   room = GH_PKI_CN_MAX - (int)strlen("gatehouse CA ()");

    snprintf(cn, sizeof(cn), "gatehouse CA (%.*s)", room, host);
    x = gh_pki_new_cert(cn, key, NULL, GH_PKI_CA_DAYS * GH_PKI_DAY);
    if (x == NULL)
        return NULL;
    if (gh_pki_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0
        || gh_pki_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0
        || gh_pki_add_ext(x, x, NID_subject_key_identifier, "hash") < 0
        || X509_sign(x, key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* A server certificate for host, signed by ca with ca_key, valid for seconds
 * in all and never past the CA's end. Owned by the caller. */
static X509 *gh_pki_make_server(const char *host, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
                                long seconds)
{
    char  san[128 + GH_PKI_CN_MAX];
    X509 *x;

    if (strcmp(host, "localhost") == 0)
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1");
    else
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:%s", host);
    x = gh_pki_new_cert(host, key, X509_get_subject_name(ca), seconds);
    if (x == NULL)
        return NULL;
    /* Never past the CA's own end: a client would refuse the chain before. */
    if (ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca)) > 0
        && X509_set1_notAfter(x, X509_get0_notAfter(ca)) != 1) {
        X509_free(x);
        return NULL;
    }
    if (gh_pki_add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") < 0
        || gh_pki_add_ext(x, ca, NID_key_usage, "critical,digitalSignature") < 0
        || gh_pki_add_ext(x, ca, NID_ext_key_usage, "serverAuth") < 0
        || gh_pki_add_ext(x, ca, NID_subject_alt_name, san) < 0
        || gh_pki_add_ext(x, ca, NID_subject_key_identifier, "hash") < 0
        || gh_pki_add_ext(x, ca, NID_authority_key_identifier, "keyid:always") < 0
        || X509_sign(x, ca_key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* A host name fit for a DNS SAN and a CN: letters, digits, '-' and '.'. */
static bool gh_pki_host_ok(const char *host)
{
    size_t n = strlen(host), i;

    if (n == 0 || n > GH_PKI_CN_MAX || host[0] == '.' || host[0] == '-')
        return false;
    for (i = 0; i < n; i++) {
        char c = host[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    }
    return true;
}

void gh_pki_pick_host(const char *hostname, char *host, size_t len)
{
    if (hostname != NULL)
        snprintf(host, len, "%s", hostname);
    else if (gethostname(host, len) < 0)
        snprintf(host, len, "localhost");
    host[len - 1] = '\0';
    if (!gh_pki_host_ok(host))
        snprintf(host, len, "localhost");
}

static int gh_pki_mkdir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return -1;
}

bool gh_pki_present(const char *pki_dir)
{
    static const char *const names[] = {
        GH_PKI_CA_CERT, GH_PKI_SERVER_CERT, GH_PKI_SERVER_KEY, GH_PKI_SERVER_CHAIN
    };
    char        path[PATH_MAX];
    struct stat st;
    size_t      i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (gh_pki_path(path, sizeof(path), pki_dir, names[i]) < 0
            || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
            return false;
    }
    return true;
}

gh_pki_err gh_pki_new_server(const char *pki_dir, const char *host, X509 *ca,
                             EVP_PKEY *ca_key, long seconds, char *err, size_t errlen)
{
    EVP_PKEY  *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509      *srv = NULL;
    gh_pki_err rc = GH_PKI_CRYPTO;

    if (key == NULL || (srv = gh_pki_make_server(host, key, ca, ca_key, seconds)) == NULL) {
        gh_pki_fail(err, errlen, "cannot make the server certificate");
        goto done;
    }
    rc = GH_PKI_IO;
    if (gh_pki_write_server(pki_dir, key, srv, ca) < 0) {
        gh_pki_fail(err, errlen, "cannot write into %s: %s", pki_dir, strerror(errno));
        goto done;
    }
    rc = GH_PKI_OK;
done:
    X509_free(srv);
    EVP_PKEY_free(key);
    return rc;
}

gh_pki_err gh_pki_generate(const char *pki_dir, const char *hostname,
                           char *err, size_t errlen)
{
    char       host[HOST_NAME_MAX + 1];
    EVP_PKEY  *ca_key = NULL;
    X509      *ca = NULL;
    gh_pki_err rc = GH_PKI_CRYPTO;

    gh_pki_pick_host(hostname, host, sizeof(host));
    if (gh_pki_mkdir(pki_dir) < 0) {
        gh_pki_fail(err, errlen, "cannot create %s: %s", pki_dir, strerror(errno));
        return GH_PKI_IO;
    }
    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (ca_key == NULL) {
        gh_pki_fail(err, errlen, "cannot generate an EC P-256 key");
        goto done;
    }
    ca = gh_pki_make_ca(host, ca_key);
    if (ca == NULL) {
        gh_pki_fail(err, errlen, "cannot make the CA certificate");
        goto done;
    }

    /* Keys before certificates: a certificate on disk always has its key. */
    rc = GH_PKI_IO;
    if (gh_pki_write_key(pki_dir, GH_PKI_CA_KEY, ca_key) < 0
        || gh_pki_write_certs(pki_dir, GH_PKI_CA_CERT, &ca, 1) < 0) {
        gh_pki_fail(err, errlen, "cannot write into %s: %s", pki_dir, strerror(errno));
        goto done;
    }
    rc = gh_pki_new_server(pki_dir, host, ca, ca_key, GH_PKI_SERVER_DAYS * GH_PKI_DAY,
                           err, errlen);
done:
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

int gh_pki_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Read every certificate of a PEM chain; returns how many (0 on error). */
static size_t gh_pki_read_chain(const char *pem, size_t len, X509 **certs, size_t max)
{
    BIO   *bio = BIO_new_mem_buf(pem, (int)len);
    size_t n = 0;
    X509  *x;

    if (bio == NULL)
        return 0;
    while (n < max && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        certs[n++] = x;
    ERR_clear_error();        /* the end of the input reads as an error */
    BIO_free(bio);
    return n;
}

gh_pki_err gh_pki_import(const char *pki_dir, const char *chain_pem, size_t chain_len,
                         const char *key_pem, size_t key_len,
                         char *err, size_t errlen)
{
    X509      *certs[GH_PKI_CHAIN_MAX + 1] = { NULL };
    EVP_PKEY  *key = NULL;
    BIO       *bio = NULL;
    size_t     n = 0, i;
    char       path[PATH_MAX];
    gh_pki_err rc = GH_PKI_BAD_INPUT;

    if (chain_len == 0 || chain_len > INT_MAX || key_len == 0 || key_len > INT_MAX) {
        gh_pki_fail(err, errlen, "the certificate or the key file is empty");
        goto done;
    }
    n = gh_pki_read_chain(chain_pem, chain_len, certs, GH_PKI_CHAIN_MAX + 1);
    if (n == 0) {
        gh_pki_fail(err, errlen, "no PEM certificate found in the certificate file");
        goto done;
    }
    if (n > GH_PKI_CHAIN_MAX) {
        gh_pki_fail(err, errlen, "the chain holds more than %d certificates", GH_PKI_CHAIN_MAX);
        goto done;
    }
    for (i = 0; i + 1 < n; i++) {
        if (X509_check_issued(certs[i + 1], certs[i]) != X509_V_OK) {
            gh_pki_fail(err, errlen, "certificate %zu of the chain was not issued by "
                        "certificate %zu: put the server certificate first and each "
                        "issuer after the certificate it signed, the CA last", i + 1, i + 2);
            goto done;
        }
    }
    bio = BIO_new_mem_buf(key_pem, (int)key_len);
    if (bio == NULL)
        goto done;
    key = PEM_read_bio_PrivateKey(bio, NULL, gh_pki_no_passphrase, NULL);
    if (key == NULL) {
        gh_pki_fail(err, errlen, "cannot read the private key (it must be PEM and not "
                    "encrypted)");
        goto done;
    }
    if (X509_check_private_key(certs[0], key) != 1) {
        gh_pki_fail(err, errlen, "the private key does not match the first certificate "
                    "of the chain");
        goto done;
    }
    if (gh_pki_mkdir(pki_dir) < 0) {
        gh_pki_fail(err, errlen, "cannot create %s: %s", pki_dir, strerror(errno));
        rc = GH_PKI_IO;
        goto done;
    }
    rc = GH_PKI_IO;
    if (gh_pki_write_file(pki_dir, GH_PKI_SERVER_KEY, key_pem, key_len, 0600) < 0
        || gh_pki_write_file(pki_dir, GH_PKI_SERVER_CHAIN, chain_pem, chain_len, 0644) < 0
        || gh_pki_write_certs(pki_dir, GH_PKI_SERVER_CERT, &certs[0], 1) < 0
        || gh_pki_write_certs(pki_dir, GH_PKI_CA_CERT, &certs[n - 1], 1) < 0) {
        gh_pki_fail(err, errlen, "cannot write into %s: %s", pki_dir, strerror(errno));
        goto done;
    }
    /* A CA key left by an earlier generation no longer belongs to ca.pem. */
    if (gh_pki_path(path, sizeof(path), pki_dir, GH_PKI_CA_KEY) == 0
        && unlink(path) < 0 && errno != ENOENT) {
        gh_pki_fail(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        goto done;
    }
    rc = GH_PKI_OK;
done:
    for (i = 0; i < n; i++)
        X509_free(certs[i]);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return rc;
}
