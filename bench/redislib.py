"""redislib.py: the servers of bench/run's rows 12 to 15, gatehouse on the
Redis store (issue 16, docs/scale-out.md).

- redis-server: the integration tests' throw-away Redis
  (tests/integration/redis_server.py, imported, not copied): Debian's
  redis-server on 127.0.0.1 with the settings docs/scale-out.md asks for,
  appendonly yes and appendfsync always, so a login's session is fsynced
  before it is answered, as the promise needs;
- nodes: gatehouse data directories on that Redis, made as
  docs/scale-out.md tells an operator to: the first initialised on the
  store (`[store] url` in its gatehouse.conf before `gatehouse init`, which
  makes the secret file DATA/store-secret), the others initialised on their
  own, then given the same [store] section and a copy of that secret file
  (0600, the data directory's owner's);
- Latency: one client timing, per session, how long after a login's 201 on
  node A node B first answers the token with 200 (create -> use), and how
  long after a logout's answer on A node B first answers it with 401
  (revoke -> refused), polling B on a kept connection.

Everything is stopped by PID (RedisServer.stop, benchlib.stop).
"""

import http.client
import json
import ssl
import sys
import time
from pathlib import Path

import benchlib as bl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import redis_server  # noqa: E402
import scale_harness  # noqa: E402

SESSIONS = "/redfish/v1/SessionService/Sessions"


class RedisNodes:
    """A redis-server and n gatehouse nodes (bl.Gatehouse) on it, named
    name-a, name-b, ...; config: every node's gatehouse.conf but [store]."""

    def __init__(self, base, name, gatehouse_bin, config, admin_password, n=1):
        self.base = Path(base)
        self.redis = redis_server.RedisServer(self.base, f"{name}-redis")
        self.owner = scale_harness.service_owner()
        self.config = config
        self.nodes = [bl.Gatehouse(base, f"{name}-{chr(ord('a') + i)}", gatehouse_bin, config,
                                   admin_password) for i in range(n)]

    def start(self):
        """Start Redis and the nodes; on a failure, stop what started."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self.redis.start()
        # bench/run stops what it started on a signal or at exit: Redis too
        bl._running.append(self.redis.proc)
        first = self.nodes[0]
        first.set_config({**self.config, "store": {"url": self.redis.url}})
        first.init()
        secret = first.data / "store-secret"
        if not secret.exists():
            raise RuntimeError(f"`gatehouse init` on the Redis store ({self.redis.url}) made no "
                               f"secret file at {secret}: is the Redis store built?")
        for g in self.nodes[1:]:
            g.init()
            copy = scale_harness.copy_private(secret, g.dir / "keys" / "store-secret",
                                              self.owner)
            g.set_config({**self.config, "store": {"url": self.redis.url, "secret_file": copy}})
        for g in self.nodes:
            g.start()
        return self

    def pids(self):
        """redis-server's PID (its threads count with it)."""
        return [self.redis.pid] if self.redis.pid else []

    def stop(self):
        for g in self.nodes:
            if g.proc is not None:
                g.stop()
        if self.redis.proc is not None and self.redis.proc in bl._running:
            bl._running.remove(self.redis.proc)
        self.redis.stop()


class Keep:
    """One kept-alive HTTPS connection to a node (http.client), reopened
    after the server closes it."""

    def __init__(self, g):
        self.g = g
        self.ctx = ssl.create_default_context(cafile=g.ca)
        self.c = None

    def request(self, method, path, headers=None, body=None):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPSConnection("127.0.0.1", self.g.port, context=self.ctx,
                                                     timeout=30)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, r, data
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def propagation(a, b, password, samples, retry=0.001, timeout=10.0):
    """samples sessions: each logged in on a, then b polled (every retry
    seconds) until it answers the token 200, then the session logged out
    on a and b polled back to back until it answers 401. Returns
    {"create": [seconds], "revoke": [seconds]}, each sorted."""
    ka, kb = Keep(a), Keep(b)
    body = json.dumps({"UserName": "admin", "Password": password})
    create, revoke = [], []
    try:
        for _ in range(samples):
            st, r, data = ka.request("POST", SESSIONS, {"Content-Type": "application/json"}, body)
            if st != 201:
                raise RuntimeError(f"login on {a.dir.name} answered {st}: {data[:200]!r}")
            t0 = time.monotonic()
            token, location = r.getheader("X-Auth-Token"), r.getheader("Location")
            hdr = {"X-Auth-Token": token}
            while kb.request("GET", "/redfish/v1/Systems", hdr)[0] != 200:
                if time.monotonic() - t0 > timeout:
                    raise RuntimeError(f"a session made on A was not good on B within {timeout} s")
                time.sleep(retry)
            create.append(time.monotonic() - t0)
            st, _, _ = ka.request("DELETE", location, hdr)
            if st not in (200, 204):
                raise RuntimeError(f"logout on {a.dir.name} answered {st}")
            t0 = time.monotonic()
            while kb.request("GET", "/redfish/v1/Systems", hdr)[0] != 401:
                if time.monotonic() - t0 > timeout:
                    raise RuntimeError(f"a logout on A was not obeyed on B within {timeout} s")
            revoke.append(time.monotonic() - t0)
    finally:
        ka.close()
        kb.close()
    return {"create": sorted(create), "revoke": sorted(revoke)}
