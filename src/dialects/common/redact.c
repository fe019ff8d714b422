/*
 * redact.c: takes credentials out of a log line.
 *
 * A line nginx writes for a request quotes what the client sent: its request
 * line (", request: \"GET /x?token=... HTTP/1.1\""), its host and referrer,
 * and, in the message itself, a bad or oversized header line ("client sent
 * invalid header line: \"X-Auth-Token: ...\"", "client sent duplicate header
 * line: \"Authorization: ...\", previous value: \"Authorization: ...\"", over
 * HTTP/2 "client sent header \"cookie\" with invalid value: \"...\""). The
 * line is only text by then, so this works on the text, with three rules that
 * do not depend on which message it is:
 *
 *   - a parameter, NAME=VALUE, whose name (percent-decoded, any case) holds a
 *     credential word below: the value goes, up to the '&' or '#' that ends
 *     it, or to where nginx's own text resumes: a '"' followed by ',',
 *     " while " or the end; a blank followed by "HTTP/" (the request line's
 *     version); " while " or ", client: " (what nginx adds after a message);
 *   - a header, NAME: VALUE or "NAME" (HTTP/2 names the header in quotes
 *     before its value), whose name holds a credential word and starts the
 *     line or follows a '"' or a blank: everything after it goes, up to the
 *     end of the message (" while " or ", client: ") or of the line. A header
 *     value may hold any character, quotes included, so no nearer end is
 *     safe; the message's own wording goes with it, the client, server,
 *     request and host that nginx adds stay;
 *   - a URL's user information, "://USER:PASSWORD@": all of it goes.
 *
 * The credential words match what the dialects take as credentials and what
 * clients commonly send as one (token, password, access_token,
 * refresh_token, client_secret, Authorization, Cookie, X-Auth-Token,
 * DELL-EMC-TOKEN, CSRFPreventionToken, JSESSIONID, auth_cookie, ...) as
 * substrings, so a name that merely contains one ("author") loses its value
 * too: a line may say less than it could, never a secret. What ends a value
 * is what a client must percent-encode inside one ('&', '#', a blank, '"'),
 * and then only in the combinations above: a raw blank or quote inside a
 * value does not end it.
 *
 * Input is any bytes (newlines inside a quoted header value included), the
 * output never longer than the room given; one pass, nothing allocated.
 */
#include "redact.h"

#include <stdbool.h>
#include <string.h>

#include "../../core/gh.h"

#define GH_REDACT_NAME_MAX 128   /* decoded bytes of a name worth reading */

static const char *const gh_redact_words[] = {
    "auth", "token", "passw", "pwd", "secret", "cookie", "session", "ticket",
    "csrf", "credential", "key", "signature", "assertion", "jwt",
};

typedef struct {
    char   *out;
    size_t  cap;
    size_t  n;
} gh_redact_buf;

static void gh_redact_put(gh_redact_buf *b, const char *s, size_t len)
{
    size_t room = b->cap - b->n;

    if (len > room)
        len = room;
    if (len > 0) {
        memcpy(b->out + b->n, s, len);
        b->n += len;
    }
}

static bool gh_redact_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A byte of a header name as clients spell them. Not '.': a host name
 * ("auth.example.org:8443") is not a header. */
static bool gh_redact_hname(unsigned char c)
{
    return gh_redact_alnum(c) || c == '-' || c == '_';
}

/* A byte of a parameter name, still percent-encoded. */
static bool gh_redact_pname(unsigned char c)
{
    return gh_redact_alnum(c) || c >= 0x80 || (c != 0 && strchr("%_-.~+[]*!$", c) != NULL);
}

static bool gh_redact_starts(const char *in, size_t len, size_t at, const char *s)
{
    size_t n = strlen(s);

    return at <= len && len - at >= n && memcmp(in + at, s, n) == 0;
}

/* Whether a name holds a credential word, once %XX and '+' are decoded and
 * letters lowered. A name too long to decode is taken as one. */
static bool gh_redact_sensitive(const char *name, size_t len)
{
    char   low[GH_REDACT_NAME_MAX];
    size_t i, n = 0, w;
    int    hi, lo;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (n == sizeof(low))
            return true;
        if (c == '%' && i + 2 < len && (hi = gh_hex_digit((unsigned char)name[i + 1])) >= 0
            && (lo = gh_hex_digit((unsigned char)name[i + 2])) >= 0) {
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        low[n++] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    /* Names are short: a plain search beats memmem's set-up per word. */
    for (i = 0; i < n; i++) {
        for (w = 0; w < sizeof(gh_redact_words) / sizeof(gh_redact_words[0]); w++) {
            const char *word = gh_redact_words[w];

            if (low[i] == word[0] && gh_redact_starts(low, n, i, word))
                return true;
        }
    }
    return false;
}

/* Where the text nginx adds after a message begins, at or after from. */
static size_t gh_redact_message_end(const char *in, size_t len, size_t from)
{
    size_t p;

    for (p = from; p < len; p++) {
        if ((in[p] == ' ' && gh_redact_starts(in, len, p, " while "))
            || (in[p] == ',' && gh_redact_starts(in, len, p, ", client: ")))
            return p;
    }
    return len;
}

/* Where a parameter's value that starts at from ends. */
static size_t gh_redact_value_end(const char *in, size_t len, size_t from)
{
    size_t p;

    for (p = from; p < len; p++) {
        unsigned char c = (unsigned char)in[p];

        if (c == '&' || c == '#')
            return p;
        if (c == '"' && (p + 1 == len || in[p + 1] == ','
                         || gh_redact_starts(in, len, p + 1, " while ")))
            return p;
        if ((c == ' ' || c == '\t') && gh_redact_starts(in, len, p + 1, "HTTP/"))
            return p;
        if ((c == ' ' && gh_redact_starts(in, len, p, " while "))
            || (c == ',' && gh_redact_starts(in, len, p, ", client: ")))
            return p;
    }
    return len;
}

/* A credential header named at i: copies its name, redacts the rest of the
 * message, and sets *next to where copying resumes. */
static bool gh_redact_header_at(const char *in, size_t len, size_t i, size_t floor,
                                gh_redact_buf *b, size_t *next)
{
    size_t k, m, after, end;
    bool   quoted;

    if (!gh_redact_hname((unsigned char)in[i])
        || (i > 0 && in[i - 1] != '"' && in[i - 1] != ' ' && in[i - 1] != '\t'))
        return false;
    for (k = i; k < len && gh_redact_hname((unsigned char)in[k]); k++)
        ;
    quoted = i > 0 && in[i - 1] == '"' && k < len && in[k] == '"';
    for (m = k; m < len && (in[m] == ' ' || in[m] == '\t'); m++)
        ;
    if (m < len && in[m] == ':')
        after = m + 1;
    else if (quoted)
        after = k + 1;
    else
        return false;
    if (!gh_redact_sensitive(in + i, k - i))
        return false;

    end = gh_redact_message_end(in, len, after);
    gh_redact_put(b, in + floor, after - floor);
    if (end > after)
        gh_redact_put(b, " " GH_REDACTED, sizeof(" " GH_REDACTED) - 1);
    *next = end;
    return true;
}

/* A parameter whose '=' is at i and whose name starts no earlier than floor. */
static bool gh_redact_param_at(const char *in, size_t len, size_t i, size_t floor,
                               gh_redact_buf *b, size_t *next)
{
    size_t j, end;

    if (in[i] != '=')
        return false;
    for (j = i; j > floor && gh_redact_pname((unsigned char)in[j - 1]); j--)
        ;
    if (j == i || !gh_redact_sensitive(in + j, i - j))
        return false;

    end = gh_redact_value_end(in, len, i + 1);
    gh_redact_put(b, in + floor, i + 1 - floor);
    if (end > i + 1)
        gh_redact_put(b, GH_REDACTED, sizeof(GH_REDACTED) - 1);
    *next = end;
    return true;
}

/* "://USERINFO@" at i. */
static bool gh_redact_userinfo_at(const char *in, size_t len, size_t i, size_t floor,
                                  gh_redact_buf *b, size_t *next)
{
    size_t k;

    if (in[i] != ':' || !gh_redact_starts(in, len, i, "://"))
        return false;
    for (k = i + 3; k < len && (in[k] == 0 || strchr("/?#@\" \t", in[k]) == NULL); k++)
        ;
    if (k == len || in[k] != '@' || k == i + 3)
        return false;
    gh_redact_put(b, in + floor, i + 3 - floor);
    gh_redact_put(b, GH_REDACTED, sizeof(GH_REDACTED) - 1);
    *next = k;
    return true;
}

size_t gh_redact_line(const char *in, size_t len, char *out, size_t cap)
{
    gh_redact_buf b = { out, cap, 0 };
    size_t        i = 0, floor = 0, next;

    /* Bytes up to i are copied when a rule matches at i (it writes what it
     * keeps itself) and at the end: floor is the first byte not yet copied. */
    while (i < len) {
        if ((in[i] == '=' || in[i] == ':' || gh_redact_hname((unsigned char)in[i]))
            && (gh_redact_header_at(in, len, i, floor, &b, &next)
                || gh_redact_param_at(in, len, i, floor, &b, &next)
                || gh_redact_userinfo_at(in, len, i, floor, &b, &next))) {
            i = floor = next;
            continue;
        }
        i++;
    }
    gh_redact_put(&b, in + floor, len - floor);
    return b.n;
}
