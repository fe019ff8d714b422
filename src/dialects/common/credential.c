/*
 * credential.c: reading credentials out of header values (credential.h).
 *
 * Every parser here sees bytes straight from the network, so each one checks
 * length before it copies, never reads past len, and refuses anything it
 * does not fully understand rather than guessing:
 *
 *   Authorization  "Basic" 1*SP base64(user ":" password) | "Bearer" 1*SP token.
 *                  The scheme is case-insensitive (RFC 9110 §11.1). Base64 is
 *                  strict: length a multiple of 4, the standard alphabet only,
 *                  '=' only as the last one or two characters, and the unused
 *                  bits of the last quantum zero, so one credential has exactly
 *                  one encoding. At most GH_BASIC_ENCODED_MAX characters.
 *                  An absent header is NONE, another scheme is NONE (a dialect
 *                  answers it as "no credentials"), an empty or unreadable
 *                  value is MALFORMED.
 *   X-Auth-Token   1..GH_TOKEN_TEXT_MAX visible ASCII characters.
 *   Cookie         RFC 6265 §4.2.1 pairs; the named cookie's value must be
 *                  cookie-octets, optionally in double quotes.
 *
 * The decoded user:password lives in one stack buffer that is wiped on every
 * path out; the caller wipes the gh_credential with gh_credential_wipe.
 */
#include "credential.h"

#include <string.h>

#include <openssl/evp.h>

/* EVP_DecodeBlock writes 3 bytes per 4 characters, padding included. */
#define GH_BASIC_BLOCK_MAX ((GH_BASIC_ENCODED_MAX / 4) * 3)

static bool gh_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool gh_is_visible(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

/* RFC 9110 §5.6.2 tchar. */
static bool gh_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 6265 §4.1.1 cookie-octet: visible ASCII but DQUOTE, ',', ';' and '\'. */
static bool gh_is_cookie_octet(unsigned char c)
{
    return gh_is_visible(c) && c != '"' && c != ',' && c != ';' && c != '\\';
}

static gh_str gh_trim(gh_str s)
{
    while (s.len > 0 && gh_is_ows(s.data[0])) {
        s.data++;
        s.len--;
    }
    while (s.len > 0 && gh_is_ows(s.data[s.len - 1]))
        s.len--;
    return s;
}

static int gh_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 into out (cap >= in.len / 4 * 3). EVP_DecodeBlock alone would
 * skip surrounding whitespace and count padding as zero bytes; the checks
 * before it rule the first out and the length after it drops the second. */
static int gh_b64_decode(gh_str in, unsigned char *out, size_t cap, size_t *outlen)
{
    size_t pad = 0;
    int    n;

    if (in.len == 0 || in.len % 4 != 0 || in.len / 4 * 3 > cap || in.len > GH_BASIC_ENCODED_MAX)
        return -1;
    if (in.data[in.len - 1] == '=')
        pad = in.data[in.len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < in.len - pad; i++) {
        if (gh_b64_value((unsigned char)in.data[i]) < 0)
            return -1;
    }
    /* The bits after the last whole byte must be zero. */
    if (pad == 2 && (gh_b64_value((unsigned char)in.data[in.len - 3]) & 0x0f) != 0)
        return -1;
    if (pad == 1 && (gh_b64_value((unsigned char)in.data[in.len - 2]) & 0x03) != 0)
        return -1;

    n = EVP_DecodeBlock(out, (const unsigned char *)in.data, (int)in.len);
    if (n < 0 || (size_t)n != in.len / 4 * 3)
        return -1;
    *outlen = (size_t)n - pad;
    return 0;
}

/* user[@domain]:password from base64 into cred; BASIC or MALFORMED. */
static gh_cred_kind gh_parse_basic(gh_str b64, bool split_domain, gh_credential *cred)
{
    unsigned char  buf[GH_BASIC_BLOCK_MAX];
    gh_cred_kind   kind = GH_CRED_MALFORMED;
    const unsigned char *colon, *at = NULL;
    size_t         n = 0, ulen, plen, name_len, dom_len = 0;

    if (gh_b64_decode(b64, buf, sizeof(buf), &n) != 0)
        goto done;
    colon = memchr(buf, ':', n);
    if (colon == NULL)
        goto done;
    ulen = (size_t)(colon - buf);
    plen = n - ulen - 1;
    if (ulen == 0 || plen > GH_PASSWORD_MAX || memchr(colon + 1, '\0', plen) != NULL)
        goto done;
    for (size_t i = 0; i < ulen; i++) {
        if (buf[i] < 0x20 || buf[i] == 0x7f)
            goto done;
    }

    if (split_domain)
        at = memrchr(buf, '@', ulen);
    if (at != NULL) {
        name_len = (size_t)(at - buf);
        dom_len = ulen - name_len - 1;
        if (dom_len == 0 || dom_len > GH_DOMAIN_MAX)
            goto done;
    } else {
        name_len = ulen;
    }
    if (name_len == 0 || name_len > GH_USER_NAME_MAX)
        goto done;

    memcpy(cred->user, buf, name_len);
    cred->user[name_len] = '\0';
    if (at != NULL)
        memcpy(cred->domain, at + 1, dom_len);
    cred->domain[dom_len] = '\0';
    memcpy(cred->password, colon + 1, plen);
    cred->password[plen] = '\0';
    cred->password_len = plen;
    kind = GH_CRED_BASIC;
done:
    gh_wipe(buf, sizeof(buf));
    return kind;
}

/* A token of visible ASCII within the limit. */
static bool gh_token_text_ok(gh_str t)
{
    if (t.len == 0 || t.len > GH_TOKEN_TEXT_MAX)
        return false;
    for (size_t i = 0; i < t.len; i++) {
        if (!gh_is_visible((unsigned char)t.data[i]))
            return false;
    }
    return true;
}

void gh_credential_authorization(gh_str value, bool split_domain, gh_credential *cred)
{
    gh_str scheme, param;
    size_t i = 0;

    gh_wipe(cred, sizeof(*cred));
    cred->kind = GH_CRED_NONE;
    if (value.data == NULL)
        return;

    cred->kind = GH_CRED_MALFORMED;
    value = gh_trim(value);
    while (i < value.len && gh_is_tchar((unsigned char)value.data[i]))
        i++;
    scheme = (gh_str){ value.data, i };
    if (scheme.len == 0 || (i < value.len && value.data[i] != ' '))
        return;
    while (i < value.len && value.data[i] == ' ')
        i++;
    param = (gh_str){ value.data + i, value.len - i };

    if (gh_str_eq_nocase(scheme, "Basic")) {
        cred->kind = gh_parse_basic(param, split_domain, cred);
    } else if (gh_str_eq_nocase(scheme, "Bearer")) {
        if (gh_token_text_ok(param)) {
            cred->kind = GH_CRED_BEARER;
            cred->token = param;
        }
    } else {
        cred->kind = GH_CRED_NONE;
    }
}

void gh_credential_token(gh_str value, gh_credential *cred)
{
    gh_wipe(cred, sizeof(*cred));
    cred->kind = GH_CRED_NONE;
    if (value.data == NULL)
        return;
    value = gh_trim(value);
    if (!gh_token_text_ok(value)) {
        cred->kind = GH_CRED_MALFORMED;
        return;
    }
    cred->kind = GH_CRED_TOKEN;
    cred->token = value;
}

/* The value of one cookie-pair whose name matched: strip optional quotes and
 * check every octet. .data NULL when it is not a valid cookie-value. */
static gh_str gh_cookie_value(gh_str v)
{
    gh_str none = { NULL, 0 };

    if (v.len > 0 && v.data[0] == '"') {
        if (v.len < 2 || v.data[v.len - 1] != '"')
            return none;
        v.data++;
        v.len -= 2;
    }
    if (v.len > GH_TOKEN_TEXT_MAX)
        return none;
    for (size_t i = 0; i < v.len; i++) {
        if (!gh_is_cookie_octet((unsigned char)v.data[i]))
            return none;
    }
    return v;
}

/* Pairs that are not the one asked for are skipped without judgement:
 * browsers send other applications' cookies to the same host, and a
 * stranger's odd cookie must not lock a client out. The first pair with the
 * name decides. */
gh_str gh_credential_cookie(gh_str header, const char *name)
{
    gh_str none = { NULL, 0 };
    size_t nlen, pos = 0;

    if (header.data == NULL || name == NULL)
        return none;
    nlen = strlen(name);
    if (nlen == 0)
        return none;
    for (size_t i = 0; i < nlen; i++) {
        if (!gh_is_tchar((unsigned char)name[i]))
            return none;
    }

    while (pos < header.len) {
        const char *semi = memchr(header.data + pos, ';', header.len - pos);
        size_t      end = semi != NULL ? (size_t)(semi - header.data) : header.len;
        gh_str      pair = gh_trim((gh_str){ header.data + pos, end - pos });

        pos = end + 1;
        if (pair.len > nlen && pair.data[nlen] == '=' && memcmp(pair.data, name, nlen) == 0)
            return gh_cookie_value((gh_str){ pair.data + nlen + 1, pair.len - nlen - 1 });
    }
    return none;
}

size_t gh_cookies_without(gh_str header, bool (*drop)(gh_str name, void *arg), void *arg,
                          char *out)
{
    size_t pos = 0, n = 0;

    while (header.data != NULL && pos < header.len) {
        const char *semi = memchr(header.data + pos, ';', header.len - pos);
        size_t      end = semi != NULL ? (size_t)(semi - header.data) : header.len;
        gh_str      pair = gh_trim((gh_str){ header.data + pos, end - pos });
        const char *eq = pair.len > 0 ? memchr(pair.data, '=', pair.len) : NULL;
        gh_str      name = gh_trim((gh_str){ pair.data,
                                             eq != NULL ? (size_t)(eq - pair.data) : pair.len });

        pos = end + 1;
        if (pair.len == 0 || drop(name, arg))
            continue;
        if (n > 0) {
            out[n++] = ';';
            out[n++] = ' ';
        }
        memcpy(out + n, pair.data, pair.len);
        n += pair.len;
    }
    return n;
}

void gh_credential_wipe(gh_credential *cred)
{
    if (cred == NULL)
        return;
    gh_wipe(cred, sizeof(*cred));
    cred->kind = GH_CRED_NONE;
    cred->token = (gh_str){ NULL, 0 };
}
