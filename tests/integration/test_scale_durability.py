"""A session acknowledged to a client survives (issue 16): the death of the
node that made it (kill -9 under a login load: every token a node answered
201 for works on the others), and a kill -9 of Redis itself with
`appendfsync always` (restarted on the same AOF: none is lost, under load
too)."""

import threading

import requests

from gatehouse_harness import SESSIONS, wait_for

RECOVERY = 30.0     # bound on a node serving again after Redis is back (no promise: a hang)


class LoginLoad:
    """Threads logging in one after the other, each on the nodes in turn,
    keeping every token a node acknowledged (201) and the node that did."""

    def __init__(self, nodes, threads=4, user="admin"):
        self.nodes = nodes
        self.user = user
        self.acked = []               # (node name, token)
        self.failed = 0               # no answer, or not a 201
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def run(self, i):
        n = i
        while not self.stop_flag.is_set():
            gh = self.nodes[n % len(self.nodes)]
            n += 1
            pw = gh.users[self.user]
            try:
                with requests.Session() as s:
                    s.verify, s.trust_env = gh.ca, False
                    r = s.post(gh.url + SESSIONS, json={"UserName": self.user, "Password": pw},
                               timeout=10)
            except requests.RequestException:
                with self.lock:
                    self.failed += 1
                continue
            with self.lock:
                if r.status_code == 201:
                    gh.secrets.add(r.headers["X-Auth-Token"])
                    self.acked.append((gh.name, r.headers["X-Auth-Token"]))
                else:
                    self.failed += 1

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def count(self, name=None):
        with self.lock:
            return sum(1 for n, _ in self.acked if name is None or n == name)

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(60)
        assert not any(t.is_alive() for t in self.threads)
        return list(self.acked)


def test_kill9_of_a_node_under_login_load_loses_no_acknowledged_session(cluster):
    a, b, c = cluster.nodes
    load = LoginLoad([a, b, c]).start()
    try:
        wait_for(lambda: load.count(b.name) >= 20, 60, "20 logins acknowledged by B")
        b.kill9()
        after = load.count()
        wait_for(lambda: load.count() >= after + 20, 60, "20 more logins on A and C")
    finally:
        acked = load.stop()
    by_b = [t for n, t in acked if n == b.name]
    assert by_b, "B acknowledged nothing before it died"
    lost = [(n, t[:8]) for n, t in acked
            if a.token_status(t) != 200 or c.token_status(t) != 200]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged sessions lost " \
                     f"({len(by_b)} acknowledged by B): {lost[:5]}"


def test_kill9_and_restart_of_redis_loses_no_acknowledged_session(cluster, redis):
    a, b, c = cluster.nodes
    load = LoginLoad([a, b, c]).start()
    try:
        wait_for(lambda: load.count() >= 30, 60, "30 logins acknowledged")
        redis.kill9()
        redis.start()
        after = load.count()
        wait_for(lambda: load.count() >= after + 30, RECOVERY + 30,
                 "30 more logins acknowledged after Redis came back")
    finally:
        acked = load.stop()
    # A restarted node holds nothing but what Redis has: every token from it
    a.restart()
    for gh in (a, b, c):
        wait_for(lambda: gh.token_status(acked[-1][1]) == 200, RECOVERY,
                 f"{gh.name} serving the store again")
    lost = [(n, t[:8]) for n, t in acked
            if any(gh.token_status(t) != 200 for gh in (a, b, c))]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged sessions lost across a " \
                     f"kill -9 of Redis: {lost[:5]}"
