/*
 * form.c: the application/x-www-form-urlencoded reader (form.h).
 *
 * The iterator hands out raw views and decodes nothing: checking a piece
 * (escapes, control bytes, decoded length) is one pass that writes nowhere,
 * so a password in a body is copied exactly once, by gh_form_decode into the
 * caller's buffer. gh_form_get walks the whole input before it answers, so a
 * malformed tail or a repeated name is never hidden behind an early match.
 */
#include "form.h"

#include <string.h>

/* The decoded length of a raw piece, or -1 when it is malformed. */
static long gh_form_measure(gh_str raw)
{
    size_t i = 0, n = 0;

    while (i < raw.len) {
        unsigned char c = (unsigned char)raw.data[i];

        if (c == '%') {
            if (raw.len - i < 3 || gh_hex_digit((unsigned char)raw.data[i + 1]) < 0 ||
                gh_hex_digit((unsigned char)raw.data[i + 2]) < 0)
                return -1;
            i += 3;
        } else if (c < 0x20 || c == 0x7f) {
            return -1;
        } else {
            i++;
        }
        n++;
    }
    return (long)n;
}

long gh_form_decode(gh_str raw, char *out, size_t outlen)
{
    long   need = gh_form_measure(raw);
    size_t i = 0, n = 0;

    if (need < 0)
        return -1;
    if (out == NULL || outlen == 0)
        return -2;
    if ((size_t)need >= outlen) {
        gh_wipe(out, outlen);
        return -2;
    }
    while (i < raw.len) {
        char c = raw.data[i];

        if (c == '%') {
            out[n++] = (char)(gh_hex_digit((unsigned char)raw.data[i + 1]) * 16 +
                              gh_hex_digit((unsigned char)raw.data[i + 2]));
            i += 3;
        } else {
            out[n++] = c == '+' ? ' ' : c;
            i++;
        }
    }
    out[n] = '\0';
    return (long)n;
}

void gh_form_iter_init(gh_form_iter *it, gh_str input)
{
    it->input = input;
    it->pos = 0;
    it->pairs = 0;
    it->failed = input.len > GH_FORM_INPUT_MAX || (input.len > 0 && input.data == NULL);
}

int gh_form_next(gh_form_iter *it, gh_str *name, gh_str *value)
{
    while (!it->failed && it->pos < it->input.len) {
        const char *start = it->input.data + it->pos;
        size_t      left = it->input.len - it->pos;
        const char *amp = memchr(start, '&', left);
        size_t      len = amp != NULL ? (size_t)(amp - start) : left;
        const char *eq = memchr(start, '=', len);
        long        nlen, vlen;

        it->pos += len + 1;
        if (len == 0)
            continue;
        if (++it->pairs > GH_FORM_PAIRS_MAX) {
            it->failed = true;
            break;
        }
        if (eq != NULL) {
            *name = (gh_str){ start, (size_t)(eq - start) };
            *value = (gh_str){ eq + 1, len - name->len - 1 };
        } else {
            *name = (gh_str){ start, len };
            *value = (gh_str){ start + len, 0 };
        }
        nlen = gh_form_measure(*name);
        vlen = gh_form_measure(*value);
        if (nlen < 0 || vlen < 0 || nlen > GH_FORM_NAME_MAX || vlen > GH_FORM_VALUE_MAX) {
            it->failed = true;
            break;
        }
        return 1;
    }
    if (it->failed) {
        *name = (gh_str){ NULL, 0 };
        *value = (gh_str){ NULL, 0 };
        return -1;
    }
    return 0;
}

/* Does a raw name decode to want? want is at most GH_FORM_NAME_MAX long and
 * the iterator has checked the name, so the buffer always fits. */
static bool gh_form_name_is(gh_str raw, const char *want, size_t wantlen)
{
    char buf[GH_FORM_NAME_MAX + 1];
    long n = gh_form_decode(raw, buf, sizeof(buf));

    return n >= 0 && (size_t)n == wantlen && memcmp(buf, want, wantlen) == 0;
}

int gh_form_get(gh_str input, const char *name, char *out, size_t outlen)
{
    gh_form_iter it;
    gh_str       n, v, found = { NULL, 0 };
    size_t       wantlen;
    int          r, result = GH_FORM_MALFORMED;
    long         len;

    if (out == NULL || outlen == 0)
        return GH_FORM_TOO_LONG;
    out[0] = '\0';
    if (name == NULL || (wantlen = strlen(name)) > GH_FORM_NAME_MAX)
        goto done;

    gh_form_iter_init(&it, input);
    while ((r = gh_form_next(&it, &n, &v)) == 1) {
        if (!gh_form_name_is(n, name, wantlen))
            continue;
        if (found.data != NULL)
            goto done;
        found = v;
    }
    if (r < 0)
        goto done;
    if (found.data == NULL) {
        result = GH_FORM_ABSENT;
        goto done;
    }

    len = gh_form_decode(found, out, outlen);
    if (len == -2) {
        result = GH_FORM_TOO_LONG;
        goto done;
    }
    if (len < 0 || memchr(out, '\0', (size_t)len) != NULL)
        goto done;
    result = GH_FORM_FOUND;
done:
    if (result != GH_FORM_FOUND)
        gh_wipe(out, outlen);
    return result;
}
