/*
 * ovirt_fixture.h: what the oVirt dialect's unit tests share beyond
 * dialect_fixture.h (the store, the shared block, the accounts and run()):
 * setup(), which adds pki/ca.pem and pki/server.pem to the data directory for
 * the CA download and a fourth account (renew: ReadOnly with a password change
 * pending), done(), body accessors, Basic credentials, a token from the SSO
 * endpoint, the JSESSIONID cookie and a count of the dialect's sessions.
 * Included by each test file; the helpers are static inline.
 */
#ifndef GH_TEST_OVIRT_FIXTURE_H
#define GH_TEST_OVIRT_FIXTURE_H

#include <sys/stat.h>

#include <openssl/evp.h>

#include "../../src/dialects/ovirt/ovirt_internal.h"
#include "../../src/dialects/redfish/redfish.h"
#include "dialect_fixture.h"

#define CA_TEXT     "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define SERVER_TEXT "-----BEGIN CERTIFICATE-----\nSERVER\n-----END CERTIFICATE-----\n"

static inline void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static inline int setup(void **state)
{
    fixture *f = fixture_new(&gh_ovirt_dialect, "ovirt");
    char path[128];

    snprintf(path, sizeof(path), "%s/pki", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/pki/ca.pem", f->dir);
    write_text(path, CA_TEXT);
    snprintf(path, sizeof(path), "%s/pki/server.pem", f->dir);
    write_text(path, SERVER_TEXT);
    f->svc.data_dir = f->dir;
    fixture_ready(f);
    add_account(f, "renew", GH_ROLE_READONLY, false, true);
    *state = f;
    return 0;
}

/* The body as a string; fails the test when it holds a NUL or is not
 * terminated after body_len bytes (every body of this dialect is). */
static inline const char *body_of(const result *r)
{
    if (r->resp.body == NULL)
        return "";
    assert_int_equal(strnlen(r->resp.body, r->resp.body_len + 1), r->resp.body_len);
    return r->resp.body;
}

static inline void done(result *r)
{
    json_decref(r->json);
    gh_response_free(&r->resp);
}

static inline const char *str_at(const result *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

/* "Basic base64(user:password)" into out. */
static inline const char *basic(char *out, size_t outlen, const char *user, const char *password)
{
    char plain[256];
    unsigned char enc[400];
    int n;

    snprintf(plain, sizeof(plain), "%s:%s", user, password);
    n = EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)strlen(plain));
    snprintf(out, outlen, "Basic %.*s", n, enc);
    return out;
}

/* A token from the SSO endpoint, the way the Python SDK asks for one. */
static inline void get_token(fixture *f, const char *username, char token[GH_TOKEN_TEXT_LEN + 1])
{
    char body[256];
    result r;

    snprintf(body, sizeof(body), "grant_type=password&scope=ovirt-app-api&username=%s"
             "&password=password1", username);
    r = run(f, "POST", GH_OVIRT_TOKEN, body, "Accept", "application/json",
            "Content-Type", "application/x-www-form-urlencoded", NULL);
    assert_int_equal(r.resp.status, 200);
    assert_non_null(str_at(&r, "access_token"));
    snprintf(token, GH_TOKEN_TEXT_LEN + 1, "%s", str_at(&r, "access_token"));
    done(&r);
}

/* The value of Set-Cookie's JSESSIONID, or "" when none was set. */
static inline void cookie_of(const result *r, char *out, size_t outlen)
{
    const char *c = hdr(r, "Set-Cookie");
    size_t n = 0;

    out[0] = '\0';
    if (c == NULL || strncmp(c, "JSESSIONID=", 11) != 0)
        return;
    c += 11;
    while (c[n] != '\0' && c[n] != ';')
        n++;
    snprintf(out, outlen, "%.*s", (int)n, c);
}

/* Live sessions of the oVirt dialect in the store. */
static inline int count_sessions_cb(const gh_session_record *rec, void *arg)
{
    if (strcmp(rec->dialect, GH_OVIRT_NAME) == 0)
        (*(int *)arg)++;
    return 0;
}

static inline int ovirt_sessions(fixture *f)
{
    int n = 0;

    assert_int_equal(gh_store_session_foreach(f->store, -1, count_sessions_cb, &n), GH_STORE_OK);
    return n;
}

#endif
