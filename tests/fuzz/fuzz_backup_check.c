/*
 * fuzz_backup_check.c: libFuzzer target for the file `gatehouse restore`
 * is given (store_backup.c: gh_backup_check): its header read for the size
 * it claims, then SQLite's integrity_check, the schema version and the
 * tables of a gatehouse database. The input is the file. Whatever it holds,
 * the answer is one of the errors or OK with counts that are not negative;
 * never a crash, and no file left beside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/core/store_backup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64], side[80];
    static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
    gh_backup_info info = { 0 };
    gh_backup_err  err;
    FILE          *f;

    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/fuzz_backup_check.%ld.db", (long)getpid());
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    err = gh_backup_check(path, &info);
    if (err > GH_BACKUP_ERROR || (err == GH_BACKUP_OK && (info.accounts < 0 ||
                                                          info.sessions < 0)))
        abort();
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
        if (access(side, F_OK) == 0)
            abort();
    }
    unlink(path);
    return 0;
}
