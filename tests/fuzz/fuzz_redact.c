/*
 * fuzz_redact.c: libFuzzer target for gh_redact_line, which reads every
 * error-log line, client bytes included. The input's first byte picks where a
 * known credential is planted (a query parameter, an Authorization header
 * line, an HTTP/2 "header \"cookie\" with invalid value", a URL's user
 * information), its second where the rest splits into the text before and
 * after it. Whatever that text is, the credential must not come out, and the
 * output must fit the room given (which the third byte shrinks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/redact.h"

#define SECRET "Zq9SECRETvalue7Yw"

static const char *const plants[] = {
    "?token=" SECRET,
    "&password=" SECRET,
    "\"Authorization: Bearer " SECRET,
    "\"X-Auth-Token: " SECRET,
    "\"cookie\" with invalid value: \"JSESSIONID=" SECRET,
    "https://user:" SECRET "@example.org/",
    "\"dell-emc-token\":" SECRET,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *plant;
    size_t      split, plen, len, cap, n;
    char       *line, *out;

    if (size < 3 || memmem(data, size, SECRET, sizeof(SECRET) - 1) != NULL)
        return 0;
    plant = plants[data[0] % (sizeof(plants) / sizeof(plants[0]))];
    plen = strlen(plant);
    split = data[1] % (size - 2 + 1);
    len = (size - 3) + plen;
    cap = len * 3 - (data[2] % (len * 3 + 1));

    line = malloc(len);
    out = malloc(cap + 1);
    if (line == NULL || out == NULL)
        abort();
    split = split > size - 3 ? size - 3 : split;
    memcpy(line, data + 3, split);
    memcpy(line + split, plant, plen);
    memcpy(line + split + plen, data + 3 + split, size - 3 - split);

    n = gh_redact_line(line, len, out, cap);
    if (n > cap || memmem(out, n, SECRET, sizeof(SECRET) - 1) != NULL)
        abort();
    free(line);
    free(out);
    return 0;
}
