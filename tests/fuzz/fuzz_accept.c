/*
 * fuzz_accept.c: libFuzzer target for the Accept header check
 * (gh_accept_allows), which the Redfish SSE stream asks before it opens. The
 * input is the raw header value, read from an exact-size copy. Checks what
 * must hold whatever the bytes: a value without a '/' takes no type unless
 * it is blank, and a value that takes a type also takes it when "*" "/" "*"
 * is added as another range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/http.h"

static const char *const types[] = { "text/event-stream", "application/json", "a/b" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    char *more = malloc(size + 5);

    if (copy == NULL || more == NULL)
        goto done;
    memcpy(copy, data, size);
    memcpy(more, data, size);
    memcpy(more + size, ",*/*", 4);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        bool ok = gh_accept_allows((gh_str){ copy, size }, types[i]);
        bool blank = true;

        for (size_t k = 0; k < size; k++)
            blank = blank && (copy[k] == ' ' || copy[k] == '\t');
        if (ok && !blank && memchr(copy, '/', size) == NULL)
            abort();
        if (ok && !gh_accept_allows((gh_str){ more, size + 4 }, types[i]))
            abort();
    }
done:
    free(copy);
    free(more);
    return 0;
}
