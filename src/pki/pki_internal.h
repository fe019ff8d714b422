/*
 * pki_internal.h: what pki.c shares with pki_renew.c. Private to src/pki.
 */
#ifndef GH_PKI_INTERNAL_H
#define GH_PKI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* One line into err, with OpenSSL's last reason appended; clears its queue. */
void gh_pki_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* dir/name into out; -1 if it does not fit. */
int gh_pki_path(char *out, size_t outlen, const char *dir, const char *name);

/* A pem_password_cb that refuses to prompt: an encrypted key cannot serve
 * nginx unattended, and gatehouse never encrypts its own. */
int gh_pki_no_passphrase(char *buf, int size, int rwflag, void *u);

/* hostname, else gethostname(), as a name fit for a CN and a DNS SAN;
 * "localhost" when it is not. */
void gh_pki_pick_host(const char *hostname, char *host, size_t len);

/* Write a server's key (server.key, 0600), then its chain with ca
 * (server-chain.pem) and itself alone (server.pem), each atomically
 * (temporary name, fsync, rename): the key before the certificates, the
 * chain nginx reads before server.pem (pki_renew.c tells a cut-short write
 * by that order). */
int gh_pki_write_server(const char *dir, EVP_PKEY *key, X509 *srv, X509 *ca);

/* A server certificate for host, signed by ca with ca_key, valid for seconds
 * in all and never past the CA's end. Owned by the caller. */
X509 *gh_pki_make_server(const char *host, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
                         long seconds);

#endif
