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

/* What a command that replaces the embedded store holds: serve.lock, as a
 * server takes it, and store.lock exclusive (cli_store_lock.h). */
typedef struct {
    int serve;
    int store;
} gh_guard_idle;

/* Both locks for a command that must run beside no server on data_dir and
 * no other command using its store (`store copy`, `restore`): DIR/run made
 * when missing, what written where a server writes its address. 0, or -1
 * (printed, naming the server that holds serve.lock, or saying that a
 * command holds store.lock; nothing held then). Let go with
 * gh_guard_unlock_idle. */
int gh_guard_lock_idle(const char *data_dir, const char *what, gh_guard_idle *held);
void gh_guard_unlock_idle(gh_guard_idle *held);

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
