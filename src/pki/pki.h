/*
 * pki.h: the certificates nginx presents. On first run gatehouse makes its own
 * small CA (EC P-256, ten years) and a server certificate it signs (825 days
 * from notBefore to notAfter, SAN localhost, 127.0.0.1, ::1 and the host
 * name), and issues a new server certificate from that CA when the old one
 * nears its end; or it takes a certificate chain and key the operator brings,
 * and never replaces those. Either way the pki directory ends up
 * holding the same five files:
 *
 *   ca.pem            0644  the CA clients should trust (last certificate of the chain)
 *   ca.key            0600  the CA's key (only when gatehouse made the CA)
 *   server.pem        0644  the server certificate alone
 *   server.key        0600  its key
 *   server-chain.pem  0644  server first, CA last: nginx's ssl_certificate
 *
 * Files are written to a temporary name, synced and renamed into place, so a
 * crash leaves either the old file or the new one. Nothing here prints.
 */
#ifndef GH_PKI_H
#define GH_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define GH_PKI_CA_CERT      "ca.pem"
#define GH_PKI_CA_KEY       "ca.key"
#define GH_PKI_SERVER_CERT  "server.pem"
#define GH_PKI_SERVER_KEY   "server.key"
#define GH_PKI_SERVER_CHAIN "server-chain.pem"

#define GH_PKI_DAY          86400L
#define GH_PKI_CA_DAYS      3652   /* ten years */
#define GH_PKI_SERVER_DAYS  825    /* the whole validity: the most Apple clients accept */
#define GH_PKI_RENEW_DAYS   30     /* `serve` renews a certificate of ours this near its end */

typedef enum {
    GH_PKI_OK = 0,
    GH_PKI_BAD_INPUT,   /* a given certificate or key is unreadable, encrypted,
                           out of order, or the key does not match */
    GH_PKI_IO,          /* a file could not be written */
    GH_PKI_CRYPTO       /* OpenSSL failed to make a key or a certificate */
} gh_pki_err;

typedef enum {
    GH_PKI_KEPT = 0,    /* gatehouse's own, and not near its end */
    GH_PKI_RENEWED,     /* gatehouse's own and near its end (or past it): replaced */
    GH_PKI_SUPPLIED     /* not signed by a CA key of gatehouse's: left alone */
} gh_pki_renewal;

/* True when pki_dir holds ca.pem, server.pem, server.key and server-chain.pem. */
bool gh_pki_present(const char *pki_dir);

/* Create pki_dir (0700) if it is missing, make a new CA and a server
 * certificate for hostname (NULL: gethostname()), and write the five files.
 * On failure err holds one line saying what went wrong. */
gh_pki_err gh_pki_generate(const char *pki_dir, const char *hostname,
                           char *err, size_t errlen);

/* Bring your own: chain_pem holds the server certificate first and every
 * certificate up to the CA after it (the CA last); key_pem the server's
 * unencrypted private key. Checks the order of the chain and that the key
 * matches the first certificate, then writes server-chain.pem (chain_pem as
 * given), server.key (key_pem as given), server.pem (the first certificate)
 * and ca.pem (the last certificate). The caller wipes key_pem. */
gh_pki_err gh_pki_import(const char *pki_dir, const char *chain_pem, size_t chain_len,
                         const char *key_pem, size_t key_len,
                         char *err, size_t errlen);

/* Issue a new server key and certificate for hostname (NULL: gethostname())
 * from pki_dir's own CA (ca.pem and ca.key), valid for seconds in all from a
 * few minutes ago, never past the CA's end, and replace server.key,
 * server-chain.pem and server.pem. GH_PKI_BAD_INPUT when pki_dir holds no CA
 * key of gatehouse's (certificates the operator brought). */
gh_pki_err gh_pki_issue_server(const char *pki_dir, const char *hostname, long seconds,
                               char *err, size_t errlen);

/* When the server certificate in place (the first of server-chain.pem) is
 * gatehouse's own, signed by ca.pem whose key ca.key is here, and ends within
 * `within` seconds, issue a new one for the same host name, valid for
 * GH_PKI_SERVER_DAYS. Also when a renewal cut short left server.key,
 * server-chain.pem and server.pem disagreeing. *what says which; *not_after is
 * the end of the certificate in place afterwards. */
gh_pki_err gh_pki_renew(const char *pki_dir, long within, gh_pki_renewal *what,
                        time_t *not_after, char *err, size_t errlen);

#endif
