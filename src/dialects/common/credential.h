/*
 * credential.h: the credentials a request may carry and the parsers that read
 * them from header values: Authorization (Basic, Bearer), X-Auth-Token, and a
 * named cookie. Each parser takes a raw header value, enforces its limits and
 * never reads past len. Each has a fuzz target.
 */
#ifndef GH_CREDENTIAL_H
#define GH_CREDENTIAL_H

#include "http.h"
#include "../../core/token.h"

/* The longest Basic credential we decode: user@domain:password at their limits,
 * and the base64 text that carries it. Longer values are MALFORMED. */
#define GH_BASIC_DECODED_MAX (GH_USER_NAME_MAX + 1 + GH_DOMAIN_MAX + 1 + GH_PASSWORD_MAX)
#define GH_BASIC_ENCODED_MAX (4 * ((GH_BASIC_DECODED_MAX + 2) / 3))

typedef enum {
    GH_CRED_NONE = 0,
    GH_CRED_BASIC,
    GH_CRED_BEARER,
    GH_CRED_TOKEN,         /* X-Auth-Token, a session cookie: a session token */
    GH_CRED_MALFORMED      /* present but unreadable: refuse with 400/401 */
} gh_cred_kind;

typedef struct {
    gh_cred_kind kind;
    /* Basic: the decoded user (domain split off at the last '@' only when the
     * caller asks) and password. Wipe with gh_credential_wipe. */
    char   user[GH_USER_NAME_MAX + 1];
    char   domain[GH_DOMAIN_MAX + 1];
    char   password[GH_PASSWORD_MAX + 1];
    size_t password_len;
    /* Bearer / token: the token text (view into the request). */
    gh_str token;
} gh_credential;

/* Does a Basic cred name a local account alone? So it does when the
 * dialect resolved its domain to local accounts (oVirt's user@internal:
 * the domain split off, no '@' left in the user); a directory account's
 * name is user@PROFILE, and a name without a domain may be either. */
static inline bool gh_credential_local_only(const gh_credential *cred)
{
    return cred->domain[0] != '\0' && strchr(cred->user, '@') == NULL;
}

/* Parse an Authorization value. split_domain: "user@domain" splits at the last
 * '@' (oVirt); otherwise the whole name is the user. Sets kind to BASIC,
 * BEARER, NONE (header absent: value.data NULL; or another scheme) or
 * MALFORMED (present but empty, bad base64, no ':', an empty user or domain,
 * a control byte in the user, a NUL in the password, over a limit). */
void gh_credential_authorization(gh_str value, bool split_domain, gh_credential *cred);

/* An X-Auth-Token value: TOKEN when 1..GH_TOKEN_TEXT_MAX visible ASCII bytes
 * (surrounding blanks ignored), NONE when absent, MALFORMED otherwise. */
void gh_credential_token(gh_str value, gh_credential *cred);

/* Find cookie name in a Cookie header value; .data NULL when absent or when its
 * value is malformed (not cookie-octets, unbalanced quotes, over
 * GH_TOKEN_TEXT_MAX). The first pair with the name counts; quotes are
 * stripped; an empty value gives .data non-NULL, .len 0. A view into header. */
gh_str gh_credential_cookie(gh_str header, const char *name);

/* header's cookies without those drop(name, arg) says to leave out, in their
 * order and "; "-joined, into out (room for 2 * header.len bytes: a lone ';'
 * between two pairs becomes "; "; no NUL added); the length written, 0 when
 * none is left. A pair is what lies between two
 * ';', its blanks trimmed; its name what comes before its first '=' (the
 * whole pair without one), blanks trimmed; an empty pair is dropped. What a
 * gateway passes on of a Cookie header once gatehouse's own are gone. */
size_t gh_cookies_without(gh_str header, bool (*drop)(gh_str name, void *arg), void *arg,
                          char *out);

/* Wipe the secret parts. */
void gh_credential_wipe(gh_credential *cred);

#endif
