"""redis_server.py: throw-away Redis servers for the scale-out tests
(docs/scale-out.md): Debian's redis-server 7.0, its replicas and three
redis-sentinels, all on 127.0.0.1, each in a directory of its own.

    r = RedisServer(base_dir)                        # appendonly yes, appendfsync always
    r = RedisServer(base_dir, user="gatehouse")      # an ACL user with a password
    r = RedisServer(base_dir, password=True)         # requirepass (the default user)
    r = RedisServer(base_dir, tls=True)              # TLS only, a test CA (r.pki)
    r.start(); r.url; r.store_keys(); r.cli("DBSIZE")
    r.kill9(); r.start()                             # the same port, dir and AOF
    replica = RedisServer(base_dir, replica_of=r).start()
    s = Sentinels(base_dir, r).start()               # 3 sentinels, quorum 2
    s.wait_failover(r, replica)
    ... stop() each

What gatehouse needs of the server (docs/scale-out.md): `appendonly yes`
and `appendfsync always`, so that a write is on disk before Redis answers
it and a session gatehouse acknowledged survives a kill -9 of Redis; `save
""`, no RDB snapshots beside the AOF. The tests inspect what Redis holds with
redis-cli (Debian's redis-tools), never with a client library of their own.

Processes run in their own process group (start_new_session) and are
stopped by PID only: stop() sends SIGTERM (Redis ends cleanly), kill9()
SIGKILL. Every wait is for a condition, with a bound.
"""

import os
import secrets
import signal
import subprocess
from pathlib import Path

from gatehouse_harness import free_port, wait_until
from upstream_nginx import UpstreamPki

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_SENTINEL = "/usr/bin/redis-sentinel"
REDIS_CLI = "/usr/bin/redis-cli"

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
MASTER_NAME = "gatehouse"          # the Sentinel name of the primary
# The ACL docs/scale-out.md gives gatehouse's Redis user: its keys and its
# channel (the default prefix gh:), every command but the dangerous ones,
# and ROLE (the check that a server is the primary). OPS_USER is the tests'
# own, for replication, the sentinels and redis-cli.
GATEHOUSE_ACL = "~gh:* &gh:* +@all -@dangerous +role"
OPS_USER = "ops"


def _require(*paths):
    """A missing Redis binary is a failure of the test, never a skip: `make
    test` installs them (scripts/install-deps: redis-server redis-sentinel
    redis-tools)."""
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: run scripts/install-deps "
                           "(redis-server redis-sentinel redis-tools)")


def _write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return Path(path)


class _Process:
    """A redis-server or redis-sentinel of the tests: started, stopped by PID."""

    binary = REDIS_SERVER

    def __init__(self, base_dir, name):
        self.dir = Path(base_dir) / f"{name}-{secrets.token_hex(4)}"
        self.dir.mkdir(parents=True)
        os.chmod(self.dir, 0o755)       # a unix socket in it is for gatehouse's workers
        self.name = name
        self.port = free_port()
        self.conf = self.dir / "redis.conf"
        self.log_path = self.dir / "redis.log"
        self.proc = None
        self.pki = None
        self.tls = False

    # Written before each start: a sentinel rewrites its file as it learns.
    def conf_text(self):
        raise NotImplementedError

    def start(self, timeout=START_TIMEOUT):
        """Start (again, on the same port and directory) and wait until it
        answers PING with PONG (an AOF being loaded answers -LOADING)."""
        _require(self.binary, REDIS_CLI)
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        if not self.conf.exists() or self.binary == REDIS_SERVER:
            self.conf.write_text(self.conf_text())
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([self.binary, str(self.conf)], cwd=self.dir,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        ok = wait_until(lambda: self.proc.poll() is not None or self.ping(), timeout, 0.02)
        if ok is None or self.proc.poll() is not None:
            rc = self.proc.poll()
            self.stop()
            raise RuntimeError(f"{self.name} did not start (exit {rc}):\n{self.log_tail()}")
        return self

    def ping(self):
        p = self.cli_run("PING", check=False, timeout=5)
        return p.returncode == 0 and p.stdout.strip() == b"PONG"

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.running else None

    def stop(self):
        """SIGTERM (Redis writes and closes its AOF), wait; SIGKILL if it
        does not end within STOP_TIMEOUT."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def kill9(self):
        """SIGKILL: no shutdown, nothing flushed that was not on disk."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def log_tail(self, n=40):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])

    # ------------------------------------------------------------ redis-cli

    def cli_args(self):
        args = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning"]
        if self.tls:
            args += ["--tls", "--cacert", str(self.pki.ca), "--cert", str(self.pki.client_cert),
                     "--key", str(self.pki.client_key)]
        return args

    def cli_env(self):
        env = dict(os.environ)
        env.pop("REDISCLI_AUTH", None)
        return env

    def cli_run(self, *args, check=True, timeout=30, input=None):
        """redis-cli ARGS against this server; the CompletedProcess (bytes)."""
        p = subprocess.run(self.cli_args() + [str(a) for a in args], capture_output=True,
                           timeout=timeout, env=self.cli_env(), input=input)
        if check and (p.returncode != 0 or p.stdout.startswith(b"ERR") or
                      p.stdout.startswith(b"(error)")):
            raise RuntimeError(f"redis-cli {' '.join(map(str, args))}: rc {p.returncode}\n"
                               f"{p.stdout[:500]!r}\n{p.stderr[:500]!r}")
        return p

    def cli(self, *args, check=True):
        """redis-cli --raw ARGS: the answer as text, one line per element."""
        p = self.cli_run("--raw", *args, check=check)
        return p.stdout.decode(errors="replace").rstrip("\n")


class RedisServer(_Process):
    """One redis-server: a primary, or a replica of another (replica_of)."""

    def __init__(self, base_dir, name="redis", user=None, password=False, tls=False,
                 client_certs=False, replica_of=None, appendfsync="always"):
        super().__init__(base_dir, name)
        self.user = user                  # gatehouse's ACL user (the default user is then off)
        self.password = (f"Redis-{secrets.token_hex(12)}"
                         if (user or password or (replica_of and replica_of.password))
                         else None)
        # With an ACL user, a second one for everything but gatehouse:
        # replication, the sentinels, redis-cli.
        self.ops_password = f"Ops-{secrets.token_hex(12)}" if user else None
        if replica_of is not None:
            self.user = replica_of.user
            self.password = replica_of.password
            self.ops_password = replica_of.ops_password
        self.replica_of = replica_of
        self.appendfsync = appendfsync
        self.client_certs = client_certs  # TLS: clients must show a certificate
        self.tls = tls or (replica_of is not None and replica_of.tls)
        if self.tls:
            self.pki = replica_of.pki if replica_of is not None else \
                UpstreamPki(self.dir / "pki", name="redis.test")
        self.password_file = None
        if self.password:
            self.password_file = _write_private(self.dir / "redis.pw", self.password + "\n")
        self.socket = self.dir / "redis.sock"

    @property
    def admin_auth(self):
        """(user or None, password or None) of whoever administers this
        server: replicas, sentinels and redis-cli."""
        if self.user:
            return OPS_USER, self.ops_password
        return None, self.password

    def conf_text(self):
        lines = [
            "bind 127.0.0.1",
            f"dir {self.dir}",
            f"logfile {self.log_path}",
            "daemonize no",
            f"pidfile {self.dir}/redis.pid",
            f"unixsocket {self.socket}",
            "unixsocketperm 777",
            # the durability gatehouse's promise rests on (docs/scale-out.md)
            "appendonly yes",
            f"appendfsync {self.appendfsync}",
            'save ""',
            "protected-mode yes",
            # a replica is served at once, not 5 s later (the default)
            "repl-diskless-sync-delay 0",
        ]
        if self.tls:
            lines += ["port 0", f"tls-port {self.port}",
                      f"tls-cert-file {self.pki.cert}", f"tls-key-file {self.pki.key}",
                      f"tls-ca-cert-file {self.pki.ca}",
                      f"tls-auth-clients {'yes' if self.client_certs else 'no'}",
                      "tls-replication yes"]
        else:
            lines.append(f"port {self.port}")
        if self.user:
            # gatehouse's user gets what docs/scale-out.md grants it, no more
            lines += ["user default off",
                      f"user {self.user} on >{self.password} {GATEHOUSE_ACL}",
                      f"user {OPS_USER} on >{self.ops_password} ~* &* +@all"]
        elif self.password:
            lines.append(f"requirepass {self.password}")
        if self.replica_of is not None:
            lines += [f"replicaof 127.0.0.1 {self.replica_of.port}",
                      "replica-read-only yes"]
        # a replica, and a primary demoted by Sentinel after a failover
        user, password = self.admin_auth
        if password:
            lines.append(f"masterauth {password}")
        if user:
            lines.append(f"masteruser {user}")
        return "\n".join(lines) + "\n"

    def cli_args(self):
        args = super().cli_args()
        if self.admin_auth[0]:
            args += ["--user", self.admin_auth[0]]
        return args

    def cli_env(self):
        env = super().cli_env()
        if self.admin_auth[1]:
            env["REDISCLI_AUTH"] = self.admin_auth[1]   # not on the command line
        return env

    # --------------------------------------------------------- for gatehouse

    @property
    def url(self):
        """The [store] url of this server (no password: that is a file)."""
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self):
        return f"unix:{self.socket}?db=0"

    def store_keys(self):
        """[store] keys for this server, but for the secret file and the
        files a node holds copies of (password, TLS client key): see
        gatehouse_harness.Cluster."""
        keys = {"url": self.url}
        if self.user:
            keys["username"] = self.user
        if self.tls:
            keys.update(tls_ca=str(self.pki.ca), tls_server_name="redis.test")
            if self.client_certs:
                keys.update(tls_cert=str(self.pki.client_cert), tls_key=str(self.pki.client_key))
        return keys

    # ------------------------------------------------------------ inspection

    def role(self):
        """'master' or 'slave' (ROLE's first element)."""
        return self.cli("ROLE").splitlines()[0]

    def info(self, section="replication"):
        out = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v.strip()
        return out

    def keys(self, pattern="*"):
        """Every key matching pattern (SCAN, never KEYS)."""
        p = self.cli_run("--scan", "--pattern", pattern)
        return sorted(k for k in p.stdout.decode(errors="replace").splitlines() if k)

    def dump(self, pattern="*"):
        """{key: bytes of everything it holds}: each key's name and contents
        (strings, hash fields and values, set and sorted-set members, stream
        entries), as redis-cli --raw prints them, for a test that looks for
        what must never be there (a password, a token)."""
        out = {}
        for key in self.keys(pattern):
            kind = self.cli("TYPE", key)
            cmd = {"string": ["GET", key], "hash": ["HGETALL", key],
                   "set": ["SMEMBERS", key], "zset": ["ZRANGE", key, "0", "-1", "WITHSCORES"],
                   "list": ["LRANGE", key, "0", "-1"],
                   "stream": ["XRANGE", key, "-", "+"]}.get(kind)
            out[key] = b"" if cmd is None else self.cli_run("--raw", *cmd, check=False).stdout
        return out

    def aof_bytes(self):
        """The bytes of every append-only file Redis has written."""
        total = b""
        for f in sorted(self.dir.rglob("*.aof")):
            total += f.read_bytes()
        return total

    def wait_replica_synced(self, replica, timeout=30.0):
        """Wait until replica follows this primary, its link up and its
        offset caught up with the primary's."""
        def synced():
            try:
                r, m = replica.info(), self.info()
            except RuntimeError:
                return False
            return (r.get("master_link_status") == "up"
                    and int(m.get("connected_slaves", "0")) >= 1
                    and r.get("slave_repl_offset") == m.get("master_repl_offset"))
        if wait_until(synced, timeout, 0.05) is None:
            raise AssertionError(f"replica :{replica.port} did not catch up with "
                                 f":{self.port} within {timeout} s\n{replica.log_tail()}")


class Sentinel(_Process):
    binary = REDIS_SENTINEL

    def __init__(self, base_dir, primary, name="sentinel", quorum=2):
        super().__init__(base_dir, name)
        self.primary = primary
        self.quorum = quorum
        self.tls = primary.tls
        self.pki = primary.pki

    def conf_text(self):
        p = self.primary
        lines = [
            "bind 127.0.0.1",
            f"dir {self.dir}",
            f"logfile {self.log_path}",
            "daemonize no",
            f"pidfile {self.dir}/sentinel.pid",
            "sentinel resolve-hostnames no",
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {p.port} {self.quorum}",
            f"sentinel down-after-milliseconds {MASTER_NAME} 500",
            f"sentinel failover-timeout {MASTER_NAME} 5000",
            f"sentinel parallel-syncs {MASTER_NAME} 1",
        ]
        if self.tls:
            lines += ["port 0", f"tls-port {self.port}",
                      f"tls-cert-file {self.pki.cert}", f"tls-key-file {self.pki.key}",
                      f"tls-ca-cert-file {self.pki.ca}", "tls-auth-clients no",
                      "tls-replication yes"]
        else:
            lines.append(f"port {self.port}")
        user, password = p.admin_auth
        if password:
            lines.append(f"sentinel auth-pass {MASTER_NAME} {password}")
        if user:
            lines.append(f"sentinel auth-user {MASTER_NAME} {user}")
        return "\n".join(lines) + "\n"

    def master_port(self):
        """The port this sentinel names for the primary, or None."""
        out = self.cli("SENTINEL", "get-master-addr-by-name", MASTER_NAME, check=False)
        lines = out.splitlines()
        return int(lines[1]) if len(lines) == 2 and lines[1].isdigit() else None

    def counts(self):
        """(other sentinels, replicas) this sentinel knows of the primary."""
        m = self.cli("SENTINEL", "master", MASTER_NAME, check=False).splitlines()
        d = dict(zip(m[0::2], m[1::2]))
        return int(d.get("num-other-sentinels", 0)), int(d.get("num-slaves", 0))


class Sentinels:
    """Three redis-sentinels watching primary: quorum 2, the primary down
    after 500 ms without an answer, failover-timeout 5000 ms."""

    def __init__(self, base_dir, primary, n=3, quorum=2):
        self.primary = primary
        self.all = [Sentinel(base_dir, primary, f"sentinel{i}", quorum) for i in range(n)]

    def start(self, replicas=1, timeout=30.0):
        """Start them and wait until each knows the other two and the
        primary's replicas: a failover before that could not reach quorum."""
        for s in self.all:
            s.start()
        n = len(self.all)

        def ready():
            return all(s.counts() == (n - 1, replicas) for s in self.all if s.running)
        if wait_until(ready, timeout, 0.05) is None:
            raise AssertionError("the sentinels did not find each other and the replicas "
                                 f"within {timeout} s: {[s.counts() for s in self.all]}")
        return self

    @property
    def url(self):
        """The [store] url: every sentinel, and the primary's name."""
        scheme = "rediss-sentinel" if self.primary.tls else "redis-sentinel"
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.all)
        return f"{scheme}://{hosts}/{MASTER_NAME}/0"

    def store_keys(self):
        keys = self.primary.store_keys()
        keys["url"] = self.url
        return keys

    def master_port(self):
        ports = {s.master_port() for s in self.all if s.running}
        return ports.pop() if len(ports) == 1 else None

    def wait_failover(self, old, candidates, timeout=30.0):
        """After old (the primary) died: wait until every sentinel names one
        of candidates (a RedisServer or a list of them) as the primary and it
        says it is one. Returns that server."""
        if isinstance(candidates, RedisServer):
            candidates = [candidates]
        found = []

        def done():
            port = self.master_port()
            new = next((c for c in candidates if c.port == port), None)
            try:
                if new is not None and new.role() == "master":
                    found.append(new)
                    return True
            except RuntimeError:        # busy reconfiguring
                pass
            return False
        if wait_until(done, timeout, 0.05) is None:
            raise AssertionError(
                f"no failover from :{old.port} to {[c.port for c in candidates]} within "
                f"{timeout} s; sentinels name {[s.master_port() for s in self.all]}\n"
                f"{self.all[0].log_tail()}")
        return found[0]

    def stop(self):
        for s in self.all:
            s.stop()
