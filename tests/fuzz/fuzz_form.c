/*
 * fuzz_form.c: libFuzzer target for the application/x-www-form-urlencoded
 * reader: walks every pair with the iterator and decodes it, then asks
 * gh_form_get for the names the oVirt token endpoint reads, with a roomy and
 * a tiny output buffer. Checks that limits hold and output is terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/form.h"

static const char *const gh_fuzz_names[] = { "grant_type", "username", "password", "scope", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char  value[GH_FORM_VALUE_MAX + 1];
    char         name[GH_FORM_NAME_MAX + 1];
    char         tiny[4];
    gh_str       in = { (const char *)data, size }, n, v;
    gh_form_iter it;
    unsigned     pairs = 0;
    int          r;

    gh_form_iter_init(&it, in);
    while ((r = gh_form_next(&it, &n, &v)) == 1) {
        long nl = gh_form_decode(n, name, sizeof(name));
        long vl = gh_form_decode(v, value, sizeof(value));

        /* The iterator checked both: they must decode and fit. */
        if (nl < 0 || vl < 0 || name[nl] != '\0' || value[vl] != '\0')
            abort();
        if (++pairs > GH_FORM_PAIRS_MAX)
            abort();
    }
    if (r != 0 && r != -1)
        abort();

    for (size_t i = 0; i < sizeof(gh_fuzz_names) / sizeof(gh_fuzz_names[0]); i++) {
        r = gh_form_get(in, gh_fuzz_names[i], value, sizeof(value));
        if (r != GH_FORM_FOUND && r != GH_FORM_ABSENT && r != GH_FORM_MALFORMED)
            abort();
        if (r == GH_FORM_FOUND && strlen(value) > GH_FORM_VALUE_MAX)
            abort();
        if (r != GH_FORM_FOUND && value[0] != '\0')
            abort();
        r = gh_form_get(in, gh_fuzz_names[i], tiny, sizeof(tiny));
        if (r == GH_FORM_FOUND ? strlen(tiny) >= sizeof(tiny) : tiny[0] != '\0')
            abort();
    }
    return 0;
}
