/*
 * test_pki.c: the first-run CA and server certificate, and bring-your-own.
 * Generates into a temporary directory, reads the files back with OpenSSL and
 * checks what a TLS client and nginx will check: the chain verifies, the SANs
 * are there, the key matches, the modes are right. Then feeds gh_pki_import
 * the good chain, a chain out of order, a key that does not match and garbage.
 * Validity: the whole span from notBefore to notAfter (both ends count) is
 * 825 days for the server, never more. Renewal: a certificate of ours issued
 * with a short validity through gh_pki_issue_server is renewed near its end,
 * one brought by the operator never.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../src/pki/pki.h"

typedef struct {
    char dir[256];
    char pki[300];
} fixture;

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);

    assert_true(n > 0 && (size_t)n < len);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long  n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static X509 *load_cert(const char *dir, const char *name)
{
    char  path[512];
    FILE *f;
    X509 *x;

    path_of(path, sizeof(path), dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *dir, const char *name)
{
    char      path[512];
    FILE     *f;
    EVP_PKEY *k;

    path_of(path, sizeof(path), dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

static STACK_OF(X509) *load_chain(const char *dir, const char *name)
{
    char            path[512];
    FILE           *f;
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509           *x;

    path_of(path, sizeof(path), dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    fclose(f);
    return sk;
}

static int verify(X509 *leaf, X509 *ca, const char *host)
{
    X509_STORE     *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int             ok;

    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX_init(ctx, store, leaf, NULL);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    if (host != NULL)
        X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

static mode_t mode_of(const char *dir, const char *name)
{
    char        path[512];
    struct stat st;

    path_of(path, sizeof(path), dir, name);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char     err[256] = "";

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/gh-test-pki-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->pki, sizeof(fx->pki), "%s/pki", fx->dir);
    if (gh_pki_generate(fx->pki, "node1.example.org", err, sizeof(err)) != GH_PKI_OK) {
        fprintf(stderr, "gh_pki_generate: %s\n", err);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char     cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

static void test_files_and_modes(void **state)
{
    fixture    *fx = *state;
    struct stat st;

    assert_true(gh_pki_present(fx->pki));
    assert_int_equal(stat(fx->pki, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(mode_of(fx->pki, "ca.pem"), 0644);
    assert_int_equal(mode_of(fx->pki, "ca.key"), 0600);
    assert_int_equal(mode_of(fx->pki, "server.pem"), 0644);
    assert_int_equal(mode_of(fx->pki, "server.key"), 0600);
    assert_int_equal(mode_of(fx->pki, "server-chain.pem"), 0644);
}

static void test_chain_verifies(void **state)
{
    fixture *fx = *state;
    X509    *ca = load_cert(fx->pki, "ca.pem");
    X509    *srv = load_cert(fx->pki, "server.pem");

    assert_int_equal(verify(srv, ca, "localhost"), 1);
    assert_int_equal(verify(srv, ca, "node1.example.org"), 1);
    assert_int_equal(verify(srv, ca, "other.example.org"), 0);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "10.0.0.1", 0), 0);
    X509_free(srv);
    X509_free(ca);
}

static void test_chain_file_order(void **state)
{
    fixture        *fx = *state;
    STACK_OF(X509) *sk = load_chain(fx->pki, "server-chain.pem");
    X509           *ca = load_cert(fx->pki, "ca.pem");
    X509           *srv = load_cert(fx->pki, "server.pem");

    assert_int_equal(sk_X509_num(sk), 2);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), srv), 0);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 1), ca), 0);
    sk_X509_pop_free(sk, X509_free);
    X509_free(srv);
    X509_free(ca);
}

static void test_extensions(void **state)
{
    fixture  *fx = *state;
    X509     *ca = load_cert(fx->pki, "ca.pem");
    X509     *srv = load_cert(fx->pki, "server.pem");
    char      cn[128];
    const ASN1_INTEGER *serial;
    BIGNUM   *bn;

    /* CA: a CA, may sign certificates, path length 0, SKI, ten years */
    assert_int_equal(X509_check_ca(ca), 1);
    assert_true(X509_get_extension_flags(ca) & EXFLAG_CA);
    assert_int_equal(X509_get_pathlen(ca), 0);
    assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
    assert_true(X509_get_key_usage(ca) & KU_CRL_SIGN);
    assert_non_null(X509_get0_subject_key_id(ca));
    X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "gatehouse CA (node1.example.org)");
    assert_int_equal(X509_cmp_time(X509_get0_notAfter(ca), NULL), 1);

    /* server: not a CA, serverAuth, digitalSignature, AKI = CA's SKI */
    assert_int_equal(X509_check_ca(srv), 0);
    assert_true(X509_get_extended_key_usage(srv) & XKU_SSL_SERVER);
    assert_true(X509_get_key_usage(srv) & KU_DIGITAL_SIGNATURE);
    assert_non_null(X509_get0_authority_key_id(srv));
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(srv),
                                           X509_get0_subject_key_id(ca)), 0);
    X509_NAME_get_text_by_NID(X509_get_subject_name(srv), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "node1.example.org");
    assert_int_equal(X509_get_signature_nid(srv), NID_ecdsa_with_SHA256);

    /* 825 days: a day either side of now + 825 days */
    {
        time_t later = time(NULL) + 826L * 86400, sooner = time(NULL) + 824L * 86400;

        assert_int_equal(X509_cmp_time(X509_get0_notAfter(srv), &later), -1);
        assert_int_equal(X509_cmp_time(X509_get0_notAfter(srv), &sooner), 1);
    }

    /* serial: positive, 16 bytes */
    serial = X509_get0_serialNumber(srv);
    bn = ASN1_INTEGER_to_BN(serial, NULL);
    assert_false(BN_is_negative(bn));
    assert_int_equal(BN_num_bytes(bn), 16);
    BN_free(bn);
    assert_int_not_equal(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(ca)), 0);

    X509_free(srv);
    X509_free(ca);
}

static void test_keys_match(void **state)
{
    fixture  *fx = *state;
    X509     *ca = load_cert(fx->pki, "ca.pem");
    X509     *srv = load_cert(fx->pki, "server.pem");
    EVP_PKEY *ca_key = load_key(fx->pki, "ca.key");
    EVP_PKEY *srv_key = load_key(fx->pki, "server.key");

    assert_int_equal(X509_check_private_key(srv, srv_key), 1);
    assert_int_equal(X509_check_private_key(ca, ca_key), 1);
    assert_int_equal(EVP_PKEY_get_id(srv_key), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(srv_key), 256);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(ca_key);
    X509_free(srv);
    X509_free(ca);
}

static void test_import_own_chain(void **state)
{
    fixture *fx = *state;
    char     chainp[512], keyp[512], dest[512], err[256] = "";
    size_t   chain_len, key_len;
    char    *chain, *key;
    X509    *ca, *imported_ca;

    path_of(chainp, sizeof(chainp), fx->pki, "server-chain.pem");
    path_of(keyp, sizeof(keyp), fx->pki, "server.key");
    path_of(dest, sizeof(dest), fx->dir, "byo");
    chain = slurp(chainp, &chain_len);
    key = slurp(keyp, &key_len);

    assert_int_equal(gh_pki_import(dest, chain, chain_len, key, key_len, err, sizeof(err)),
                     GH_PKI_OK);
    assert_true(gh_pki_present(dest));
    assert_int_equal(mode_of(dest, "server.key"), 0600);
    assert_int_equal(mode_of(dest, "server-chain.pem"), 0644);
    assert_int_equal(access(dest, F_OK), 0);
    ca = load_cert(fx->pki, "ca.pem");
    imported_ca = load_cert(dest, "ca.pem");
    assert_int_equal(X509_cmp(ca, imported_ca), 0);     /* the last of the chain */
    X509_free(ca);
    X509_free(imported_ca);
    {
        char   copy[512];
        size_t copy_len;
        char  *again;

        path_of(copy, sizeof(copy), dest, "server-chain.pem");
        again = slurp(copy, &copy_len);
        assert_int_equal(copy_len, chain_len);
        assert_memory_equal(again, chain, chain_len);   /* copied as given */
        free(again);
        path_of(copy, sizeof(copy), dest, "ca.key");
        assert_int_not_equal(access(copy, F_OK), 0);    /* no CA key of ours */
    }
    free(chain);
    free(key);
}

static void test_import_refusals(void **state)
{
    fixture *fx = *state;
    char     chainp[512], keyp[512], cakeyp[512], dest[512], err[256];
    size_t   chain_len, key_len, cakey_len;
    char    *chain, *key, *cakey, *reversed;
    char    *second;

    path_of(chainp, sizeof(chainp), fx->pki, "server-chain.pem");
    path_of(keyp, sizeof(keyp), fx->pki, "server.key");
    path_of(cakeyp, sizeof(cakeyp), fx->pki, "ca.key");
    path_of(dest, sizeof(dest), fx->dir, "refused");
    chain = slurp(chainp, &chain_len);
    key = slurp(keyp, &key_len);
    cakey = slurp(cakeyp, &cakey_len);

    /* a key that belongs to another certificate */
    err[0] = '\0';
    assert_int_equal(gh_pki_import(dest, chain, chain_len, cakey, cakey_len, err,
                                   sizeof(err)), GH_PKI_BAD_INPUT);
    assert_non_null(strstr(err, "does not match"));

    /* CA first, server second */
    second = strstr(chain + 1, "-----BEGIN CERTIFICATE-----");
    assert_non_null(second);
    reversed = malloc(chain_len + 1);
    memcpy(reversed, second, chain_len - (size_t)(second - chain));
    memcpy(reversed + (chain_len - (size_t)(second - chain)), chain, (size_t)(second - chain));
    reversed[chain_len] = '\0';
    assert_int_equal(gh_pki_import(dest, reversed, chain_len, key, key_len, err,
                                   sizeof(err)), GH_PKI_BAD_INPUT);
    assert_non_null(strstr(err, "not issued"));

    /* garbage */
    assert_int_equal(gh_pki_import(dest, "hello", 5, key, key_len, err, sizeof(err)),
                     GH_PKI_BAD_INPUT);
    assert_int_equal(gh_pki_import(dest, chain, chain_len, "hello", 5, err, sizeof(err)),
                     GH_PKI_BAD_INPUT);
    assert_int_equal(gh_pki_import(dest, chain, 0, key, key_len, err, sizeof(err)),
                     GH_PKI_BAD_INPUT);
    assert_false(gh_pki_present(dest));

    free(reversed);
    free(chain);
    free(key);
    free(cakey);
}

static void test_generate_is_fresh(void **state)
{
    fixture *fx = *state;
    char     other[512], err[256];
    X509    *a, *b;

    path_of(other, sizeof(other), fx->dir, "again");
    assert_int_equal(gh_pki_generate(other, "localhost", err, sizeof(err)), GH_PKI_OK);
    a = load_cert(fx->pki, "ca.pem");
    b = load_cert(other, "ca.pem");
    assert_int_not_equal(X509_cmp(a, b), 0);
    X509_free(b);
    b = load_cert(other, "server.pem");
    assert_int_equal(X509_check_host(b, "localhost", 0, 0, NULL), 1);
    X509_free(a);
    X509_free(b);
    /* an unwritable place is an I/O error, not a crash */
    assert_int_equal(gh_pki_generate("/proc/gh-no-such/pki", NULL, err, sizeof(err)),
                     GH_PKI_IO);
}

/* Seconds from notBefore through notAfter, both ends included (RFC 5280). */
static long long validity_seconds(const X509 *x)
{
    int days = 0, secs = 0;

    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
                                    X509_get0_notAfter(x)), 1);
    return (long long)days * 86400 + secs + 1;
}

static time_t end_of(const X509 *x)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    return timegm(&tm);
}

static void test_validity_within_the_limit(void **state)
{
    fixture *fx = *state;
    X509    *ca = load_cert(fx->pki, "ca.pem");
    X509    *srv = load_cert(fx->pki, "server.pem");

    /* 825 days in all for the server, backdating included; ten years for the CA */
    assert_true(validity_seconds(srv) <= 825LL * 86400);
    assert_true(validity_seconds(srv) > 825LL * 86400 - 60);
    assert_true(validity_seconds(ca) <= 3652LL * 86400);
    assert_true(validity_seconds(ca) > 3652LL * 86400 - 60);
    /* and valid now, though made a moment ago */
    assert_int_equal(X509_cmp_time(X509_get0_notBefore(srv), NULL), -1);
    X509_free(srv);
    X509_free(ca);
}

/* A new pki directory of gatehouse's own under fx->dir. */
static void fresh_pki(fixture *fx, const char *name, char *out, size_t len)
{
    char err[256] = "";

    path_of(out, len, fx->dir, name);
    assert_int_equal(gh_pki_generate(out, "node1.example.org", err, sizeof(err)), GH_PKI_OK);
}

static void test_issue_with_a_chosen_validity(void **state)
{
    fixture *fx = *state;
    char     pki[512], err[256] = "";
    X509    *ca, *srv;
    EVP_PKEY *key;
    STACK_OF(X509) *sk;

    fresh_pki(fx, "short", pki, sizeof(pki));
    assert_int_equal(gh_pki_issue_server(pki, "node1.example.org", 10 * 86400L, err,
                                         sizeof(err)), GH_PKI_OK);
    ca = load_cert(pki, "ca.pem");
    srv = load_cert(pki, "server.pem");
    key = load_key(pki, "server.key");
    assert_int_equal(validity_seconds(srv), 10LL * 86400);
    assert_int_equal(verify(srv, ca, "node1.example.org"), 1);
    assert_int_equal(X509_check_private_key(srv, key), 1);
    sk = load_chain(pki, "server-chain.pem");
    assert_int_equal(sk_X509_num(sk), 2);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), srv), 0);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 1), ca), 0);
    sk_X509_pop_free(sk, X509_free);
    EVP_PKEY_free(key);
    X509_free(srv);
    /* never past the CA's own end */
    assert_int_equal(gh_pki_issue_server(pki, NULL, 20 * 365 * 86400L, err, sizeof(err)),
                     GH_PKI_OK);
    srv = load_cert(pki, "server.pem");
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(srv), X509_get0_notAfter(ca)), 0);
    X509_free(srv);
    X509_free(ca);
}

static void test_renew_ours_near_its_end(void **state)
{
    fixture       *fx = *state;
    char           pki[512], err[256] = "";
    X509          *ca, *old, *srv;
    gh_pki_renewal what;
    time_t         end = 0, now = time(NULL);
    char           cn[128];

    fresh_pki(fx, "renew", pki, sizeof(pki));
    ca = load_cert(pki, "ca.pem");
    /* far from its end: kept */
    assert_int_equal(gh_pki_renew(pki, 30 * 86400L, &what, &end, err, sizeof(err)),
                     GH_PKI_OK);
    assert_int_equal(what, GH_PKI_KEPT);
    old = load_cert(pki, "server.pem");
    assert_int_equal(end, end_of(old));
    X509_free(old);
    /* 29 days left: renewed, by the same CA, for the same host, for 825 days */
    assert_int_equal(gh_pki_issue_server(pki, "node1.example.org", 29 * 86400L, err,
                                         sizeof(err)), GH_PKI_OK);
    old = load_cert(pki, "server.pem");
    assert_int_equal(gh_pki_renew(pki, 30 * 86400L, &what, &end, err, sizeof(err)),
                     GH_PKI_OK);
    assert_int_equal(what, GH_PKI_RENEWED);
    srv = load_cert(pki, "server.pem");
    assert_int_not_equal(X509_cmp(old, srv), 0);
    assert_true(validity_seconds(srv) <= 825LL * 86400);
    assert_true(end > now + 824L * 86400 && end == end_of(srv));
    assert_int_equal(verify(srv, ca, "node1.example.org"), 1);
    X509_NAME_get_text_by_NID(X509_get_subject_name(srv), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "node1.example.org");
    X509_free(old);
    {
        X509     *ca_now = load_cert(pki, "ca.pem");
        EVP_PKEY *key = load_key(pki, "server.key");

        assert_int_equal(X509_cmp(ca, ca_now), 0);        /* clients keep trusting it */
        assert_int_equal(X509_check_private_key(srv, key), 1);
        EVP_PKEY_free(key);
        X509_free(ca_now);
    }
    X509_free(srv);
    /* and then kept again */
    assert_int_equal(gh_pki_renew(pki, 30 * 86400L, &what, &end, err, sizeof(err)),
                     GH_PKI_OK);
    assert_int_equal(what, GH_PKI_KEPT);
    X509_free(ca);
}

static void test_renew_repairs_a_renewal_cut_short(void **state)
{
    fixture       *fx = *state;
    char           pki[512], from[512], to[512], err[256] = "";
    gh_pki_renewal what;
    time_t         end = 0;
    size_t         len;
    char          *key;
    FILE          *f;

    fresh_pki(fx, "torn", pki, sizeof(pki));
    /* the new key written, the chain not yet: the key no longer fits */
    path_of(from, sizeof(from), pki, "ca.key");
    path_of(to, sizeof(to), pki, "server.key");
    key = slurp(from, &len);
    f = fopen(to, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(key, 1, len, f), len);
    fclose(f);
    free(key);
    assert_int_equal(gh_pki_renew(pki, 30 * 86400L, &what, &end, err, sizeof(err)),
                     GH_PKI_OK);
    assert_int_equal(what, GH_PKI_RENEWED);
    {
        X509     *srv = load_cert(pki, "server-chain.pem");
        EVP_PKEY *k = load_key(pki, "server.key");

        assert_int_equal(X509_check_private_key(srv, k), 1);
        EVP_PKEY_free(k);
        X509_free(srv);
    }
}

static void test_renew_never_touches_a_supplied_certificate(void **state)
{
    fixture       *fx = *state;
    char           src[512], dest[512], chainp[512], keyp[512], err[256] = "";
    char          *chain, *key, *after;
    size_t         chain_len, key_len, after_len;
    gh_pki_renewal what;
    time_t         end = 0;
    X509          *srv;

    /* a certificate a week from its end, brought with --cert/--key */
    fresh_pki(fx, "byo-src", src, sizeof(src));
    assert_int_equal(gh_pki_issue_server(src, "node1.example.org", 7 * 86400L, err,
                                         sizeof(err)), GH_PKI_OK);
    path_of(chainp, sizeof(chainp), src, "server-chain.pem");
    path_of(keyp, sizeof(keyp), src, "server.key");
    chain = slurp(chainp, &chain_len);
    key = slurp(keyp, &key_len);
    path_of(dest, sizeof(dest), fx->dir, "byo-near-end");
    assert_int_equal(gh_pki_import(dest, chain, chain_len, key, key_len, err, sizeof(err)),
                     GH_PKI_OK);
    assert_int_equal(gh_pki_renew(dest, 30 * 86400L, &what, &end, err, sizeof(err)),
                     GH_PKI_OK);
    assert_int_equal(what, GH_PKI_SUPPLIED);
    srv = load_cert(dest, "server.pem");
    assert_int_equal(end, end_of(srv));
    X509_free(srv);
    path_of(chainp, sizeof(chainp), dest, "server-chain.pem");
    after = slurp(chainp, &after_len);
    assert_int_equal(after_len, chain_len);
    assert_memory_equal(after, chain, chain_len);
    free(after);
    /* nor will it issue one there: no CA key of ours */
    assert_int_equal(gh_pki_issue_server(dest, NULL, 86400L, err, sizeof(err)),
                     GH_PKI_BAD_INPUT);
    free(chain);
    free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_and_modes),
        cmocka_unit_test(test_chain_verifies),
        cmocka_unit_test(test_chain_file_order),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_keys_match),
        cmocka_unit_test(test_import_own_chain),
        cmocka_unit_test(test_import_refusals),
        cmocka_unit_test(test_generate_is_fresh),
        cmocka_unit_test(test_validity_within_the_limit),
        cmocka_unit_test(test_issue_with_a_chosen_validity),
        cmocka_unit_test(test_renew_ours_near_its_end),
        cmocka_unit_test(test_renew_repairs_a_renewal_cut_short),
        cmocka_unit_test(test_renew_never_touches_a_supplied_certificate),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
