/*
 * fuzz_range.c: libFuzzer target for the PowerStore Range header parser
 * (gh_ps_range_parse) and the paging it feeds (gh_ps_page_plan). The input
 * is the raw header value. A parsed range must be ordered and bounded, and
 * every page planned from it (over an empty, a small and a large collection)
 * must lie inside its collection and hold at most GH_PS_LIMIT_MAX items.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/powerstore/powerstore_internal.h"

static void check_page(const gh_ps_range *range, size_t total)
{
    gh_ps_page page;
    int        rc = gh_ps_page_plan(NULL, range, total, &page);

    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && (total == 0 || range->first < total))
        abort();
    if (rc == 0 && (page.count > GH_PS_LIMIT_MAX || page.first + page.count > total ||
                    (total > 0 && page.count == 0) || (total > 0 && !page.partial)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char       *copy = malloc(size + 1);
    gh_ps_range range;
    int         rc;

    if (copy == NULL)
        return 0;
    /* An exact-size copy, so reading one byte past the value is caught. */
    memcpy(copy, data, size);
    rc = gh_ps_range_parse((gh_str){ copy, size }, &range);
    if (rc != 1 && rc != -1)
        abort();
    if (rc == 1) {
        if (range.first > GH_PS_INDEX_MAX || (range.has_last && (range.last < range.first ||
                                                                 range.last > GH_PS_INDEX_MAX)))
            abort();
        check_page(&range, 0);
        check_page(&range, 3);
        check_page(&range, 100000);
    }
    free(copy);
    return 0;
}
