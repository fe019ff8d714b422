/*
 * fuzz_directory_seal.c: libFuzzer target for a sealed service password as
 * the shared store gives it back (directory_seal.c: gh_directory_unseal).
 * The input is the sealed text; the first byte picks the profile's name.
 * Anything not sealed under the fixed secret is refused with the output
 * wiped; never a crash, a read past the input or a length past the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/directory_seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[GH_DIGEST_LEN] = { 7 };
    static char sealed[GH_DIRECTORY_SEALED_MAX * 2], pw[GH_PASSWORD_MAX + 1];
    size_t len = 0;

    if (size < 1 || size >= sizeof(sealed) || memchr(data, '\0', size) != NULL)
        return 0;
    memcpy(sealed, data + 1, size - 1);
    sealed[size - 1] = '\0';
    if (gh_directory_unseal(secret, data[0] & 1 ? "lab" : "corp", sealed, pw, &len) &&
        (len == 0 || len > GH_PASSWORD_MAX || pw[len] != '\0'))
        abort();
    return 0;
}
