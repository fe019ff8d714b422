/*
 * cli_store_lock.h: the lock that keeps a command opening the embedded
 * store apart from one replacing it. Private to src/cli.
 */
#ifndef GH_CLI_STORE_LOCK_H
#define GH_CLI_STORE_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#define GH_STORE_LOCK_FILE "store.lock"

/* Take DIR/run/store.lock (DIR/run made 0700 when missing), without
 * waiting: shared for a command that opens the embedded store, exclusive
 * for one that replaces the database (`restore`, `store copy`). Returns the
 * descriptor, to close when done, or -1 with errno (EWOULDBLOCK: held the
 * other way; ENAMETOOLONG: the path does not fit). path (size bytes, at
 * least GH_PATH_MAX) gets the lock file's path either way. */
int gh_store_lock_take(const char *data_dir, bool exclusive, char *path, size_t size);

#endif
