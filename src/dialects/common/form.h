/*
 * form.h: application/x-www-form-urlencoded, for request bodies (the OAuth
 * token endpoint) and URL queries alike: name=value pairs joined by '&', '+'
 * for a space, %XX for any byte. Strict: a '%' not followed by two hex
 * digits, or a raw control byte, makes the whole input malformed. Empty
 * pieces ("a=1&&b=2", a trailing '&') are skipped; a piece without '=' is a
 * name with an empty value. Limits below; nothing is allocated.
 */
#ifndef GH_FORM_H
#define GH_FORM_H

#include "../../core/gh.h"

#define GH_FORM_INPUT_MAX  65536  /* bytes of the whole encoded input */
#define GH_FORM_PAIRS_MAX  64     /* pairs in one input */
#define GH_FORM_NAME_MAX   128    /* decoded bytes of a name */
#define GH_FORM_VALUE_MAX  8192   /* decoded bytes of a value */

typedef enum {
    GH_FORM_FOUND = 0,
    GH_FORM_ABSENT,        /* no pair with that name */
    GH_FORM_MALFORMED,     /* bad escape, control byte, over a limit, or the name twice */
    GH_FORM_TOO_LONG       /* found, but the decoded value (and its NUL) does not fit out */
} gh_form_result;

/* The decoded value of the pair called name (compared exactly, after
 * decoding), NUL-terminated in out. The whole input is checked, so a bad
 * escape anywhere is GH_FORM_MALFORMED, as is a name given twice (RFC 6749
 * §3.2) or a value holding %00. On anything but GH_FORM_FOUND, out is wiped
 * to an empty string: the value may be a password. Returns a gh_form_result. */
int gh_form_get(gh_str input, const char *name, char *out, size_t outlen);

/* Walk the pairs of an input in order. */
typedef struct {
    gh_str   input;
    size_t   pos;
    unsigned pairs;
    bool     failed;
} gh_form_iter;

void gh_form_iter_init(gh_form_iter *it, gh_str input);

/* The next pair as raw (still encoded) views into the input, already checked
 * against the rules and limits above. 1: a pair; 0: the end; -1: malformed
 * (and every later call returns -1 too). Decode with gh_form_decode. */
int gh_form_next(gh_form_iter *it, gh_str *name, gh_str *value);

/* Decode a raw piece into out, NUL-terminated. The decoded length, or -1 if
 * malformed, or -2 if it does not fit in outlen (out is then wiped to ""). */
long gh_form_decode(gh_str raw, char *out, size_t outlen);

#endif
