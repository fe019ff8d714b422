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

/* Create dir (0700) unless it is a directory already. */
int gh_pki_mkdir(const char *dir);

/* hostname, else gethostname(), as a name fit for a CN and a DNS SAN;
 * "localhost" when it is not. */
void gh_pki_pick_host(const char *hostname, char *host, size_t len);

/* Write a private key (0600) or certificates in order (0644) into dir/name,
 * atomically (temporary name, fsync, rename). */
int gh_pki_write_key(const char *dir, const char *name, EVP_PKEY *key);
int gh_pki_write_certs(const char *dir, const char *name, X509 *const *certs, size_t n);

/* A server certificate for host, signed by ca with ca_key, valid for seconds
 * in all and never past the CA's end. Owned by the caller. */
X509 *gh_pki_make_server(const char *host, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
                         long seconds);

#endif
