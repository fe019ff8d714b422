/*
 * pki_internal.h: what pki.c shares with pki_renew.c. Private to src/pki.
 */
#ifndef GH_PKI_INTERNAL_H
#define GH_PKI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pki.h"

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

/* A new server key and certificate for host, signed by ca with ca_key,
 * valid for seconds in all and never past the CA's end, written into pki_dir
 * atomically file by file: server.key, then server-chain.pem (with ca), then
 * server.pem (pki_renew.c tells a cut-short write by that order). Made
 * before anything is written. The one way gatehouse makes a server
 * certificate: at init (gh_pki_generate) and at renewal alike. */
gh_pki_err gh_pki_new_server(const char *pki_dir, const char *host, X509 *ca,
                             EVP_PKEY *ca_key, long seconds, char *err, size_t errlen);

#endif
