/*
 * gh.h: what every part of gatehouse shares: sizes, the string view and the
 * clock. Nothing here knows HTTP, nginx or a dialect.
 */
#ifndef GH_H
#define GH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GH_USER_NAME_MAX   64   /* bytes of an account name, without the NUL */
#define GH_DOMAIN_MAX      64   /* bytes of a domain/profile name */
#define GH_PASSWORD_MAX    256  /* bytes of a password we accept at all */
#define GH_ADDR_MAX        46   /* INET6_ADDRSTRLEN */
#define GH_DIGEST_LEN      32   /* SHA-256 */
#define GH_DIALECT_NAME_MAX 15  /* bytes of a dialect's name (a session's, an
                                   attribute's), without the NUL */

/* A view of bytes owned by someone else; not NUL-terminated. */
typedef struct {
    const char *data;
    size_t      len;
} gh_str;

#define GH_STR(lit) ((gh_str){ (lit), sizeof(lit) - 1 })

/* Wall-clock seconds since the epoch. */
int64_t gh_now(void);
/* Milliseconds of the monotonic clock (the same in every process of the
 * machine): for short delays that must not jump with the wall clock. */
int64_t gh_now_ms(void);
/* Wall-clock milliseconds since the epoch: for times written to the store,
 * which must mean the same after a restart (gh_now_ms's do not after a boot). */
int64_t gh_epoch_ms(void);

/* Wipe a secret so the compiler cannot drop the store (explicit_bzero: a
 * memset the compiler must keep, at memset's speed). */
void gh_wipe(void *p, size_t n);

/* The value of a hexadecimal digit of either case, or -1 for any other byte. */
int gh_hex_digit(int c);

/* Copy a view into a NUL-terminated buffer; false if it does not fit or holds a NUL. */
bool gh_str_copy(char *dst, size_t dstlen, gh_str src);

#endif
