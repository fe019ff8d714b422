/*
 * cli_guard.h: what keeps two `gatehouse serve` apart: the data directory's
 * lock, held for the server's whole life, and a probe of each address before
 * nginx listens on it. Private to src/cli.
 */
#ifndef GH_CLI_GUARD_H
#define GH_CLI_GUARD_H

#define GH_GUARD_LOCK_FILE "serve.lock"

/* Take the lock run_dir/serve.lock (flock, exclusive, without waiting) and
 * write this process's pid and listen into it. The descriptor is left open
 * and inherited across exec, so the nginx master, and every worker it forks,
 * hold the lock until the last of them exits. Refuses, saying who holds it,
 * when another server does. Returns the descriptor, or -1 (printed). */
int gh_guard_lock(const char *data_dir, const char *run_dir, const char *listen);

/* Whether a server holds run_dir/serve.lock, found without keeping the lock:
 * 1 when one does, with the pid it wrote (its nginx master) in *pid, or 0
 * there when that process is gone (workers a kill -9 of the master left);
 * 0 when none does; -1 (printed) when the file cannot be read. */
int gh_guard_held(const char *run_dir, long *pid);

/* Bind addr (ADDR:PORT as `serve` takes it: IPv4, [IPv6], localhost or *) the
 * way nginx will, but without SO_REUSEPORT: a listener already there, even one
 * with reuseport, makes the bind fail, where nginx's own bind would succeed and
 * share the port. what names the option in the message. Returns 0 when free,
 * -1 (printed) when taken or unusable. */
int gh_guard_probe(const char *what, const char *addr);

#endif
