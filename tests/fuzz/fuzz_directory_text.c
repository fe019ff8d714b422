/*
 * fuzz_directory_text.c: libFuzzer target for the text a directory profile
 * written through the API is stored as (config_directory.c:
 * gh_config_directory_write and _read, the store's directory_profiles.text).
 * The input is read over a profile's defaults; what is taken is judged by
 * the rules of the file (gh_config_directory_valid), and a profile that
 * keeps them (the only kind the store is given) is written out again and
 * read back into a second profile, which must then equal the first key by
 * key: the store gives back what it was given. Never a crash, a string
 * field without its NUL, or a text that does not fit its bound. The
 * store's own line, bind_password_sealed, goes round with the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/config.h"

static char text[GH_DIRECTORY_TEXT_MAX * 2], again[GH_DIRECTORY_TEXT_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gh_config_directory a, b;
    const char *why;

    if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    gh_config_directory_defaults(&a);
    memcpy(a.name, "corp", 5);
    if (!gh_config_directory_read(&a, text, &why))
        return 0;
    if (memchr(a.servers, '\0', sizeof(a.servers)) == NULL ||
        memchr(a.readonly_groups, '\0', sizeof(a.readonly_groups)) == NULL ||
        memchr(a.kind, '\0', sizeof(a.kind)) == NULL ||
        memchr(a.bind_password_sealed, '\0', sizeof(a.bind_password_sealed)) == NULL)
        abort();
    if (!gh_config_directory_valid(&a, &why))
        return 0;
    if (!gh_config_directory_write(&a, again, sizeof(again)))
        abort();                            /* every profile fits the bound */
    gh_config_directory_defaults(&b);
    memcpy(b.name, "corp", 5);
    if (!gh_config_directory_read(&b, again, &why) || strcmp(a.servers, b.servers) != 0 ||
        strcmp(a.user_filter, b.user_filter) != 0 ||
        strcmp(a.operator_groups, b.operator_groups) != 0 || a.enabled != b.enabled ||
        a.search_timeout != b.search_timeout || strcmp(a.kind, b.kind) != 0 ||
        a.is_default != b.is_default || a.starttls != b.starttls ||
        strcmp(a.bind_password_sealed, b.bind_password_sealed) != 0)
        abort();
    return 0;
}
