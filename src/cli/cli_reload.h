/*
 * cli_reload.h: what `gatehouse serve --reload` does besides rendering the
 * configuration: find the running server's nginx master, let nginx test a
 * configuration, and hand the master the new one. Private to src/cli.
 */
#ifndef GH_CLI_RELOAD_H
#define GH_CLI_RELOAD_H

#include <sys/types.h>

/* The nginx master serving data_dir: the pid in run_dir/nginx.pid, which must
 * be the live process holding the data directory's lock. Refuses, saying why,
 * when no server runs there or its master is gone. Returns 0, or -1 (printed). */
int gh_reload_master(const char *data_dir, const char *run_dir, pid_t *master);

/* Run `nginx -q -t -p prefix -c conf` and wait for it: 0 when the test
 * passes, -1 when it fails (nginx printed why on stderr) or cannot run. */
int gh_reload_test(const char *nginx, const char *prefix, const char *conf);

/* SIGHUP the master, then wait until it has forked a worker on the new
 * configuration and told the old ones to finish, the sign that it took it
 * (a master that cannot, say a port it cannot bind, logs why and keeps
 * serving on the old one, its old workers too). Returns 0, or -1 (printed)
 * when that does not happen within GH_RELOAD_WAIT_SECONDS. */
#define GH_RELOAD_WAIT_SECONDS 60
int gh_reload_signal(pid_t master);

#endif
