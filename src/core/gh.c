/*
 * gh.c: the few helpers every module shares: the clock, wiping secrets,
 * reading a hex digit, and copying a string view into a fixed buffer.
 */
#include "gh.h"

#include <string.h>
#include <time.h>

int64_t gh_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t gh_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gh_epoch_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gh_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

int gh_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool gh_str_copy(char *dst, size_t dstlen, gh_str src)
{
    if (dstlen == 0 || src.len >= dstlen || (src.len > 0 && src.data == NULL))
        return false;
    if (src.len > 0 && memchr(src.data, '\0', src.len) != NULL)
        return false;
    if (src.len > 0)
        memcpy(dst, src.data, src.len);
    dst[src.len] = '\0';
    return true;
}
