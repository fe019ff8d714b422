"""Sentinel failover (issue 16, docs/scale-out.md): three nodes on
`redis-sentinel://` (three sentinels, quorum 2, a primary and two replicas,
wait_replicas 1 by default with Sentinel). kill -9 of the primary: once the
sentinels have promoted a replica, every session made before works on
every node (each was on a replica before its login was answered: WAIT),
and once the other replica follows the new primary (a write waits for
one), new logins work and the command line reaches every node again."""

from gatehouse_harness import SESSIONS, wait_for
from redis_server import Sentinels
from scale_harness import credentials, use

RECOVERY = 30.0     # bound on the nodes finding the new primary (no promise: a hang)


def served(r, what):
    """True on a 200 (or a login's 201), False on a 503 (the store not found yet); anything
    else, a 401 above all (a session lost), fails the test."""
    assert r.status_code in (200, 201, 503), f"{what}: {r.status_code} {r.text[:300]}"
    return r.status_code in (200, 201)


def test_sessions_survive_a_failover_and_new_logins_work(make_cluster, make_redis, base_dir):
    primary = make_redis(user="gatehouse")
    replicas = [make_redis(name=f"replica{i}", replica_of=primary) for i in range(2)]
    for replica in replicas:
        primary.wait_replica_synced(replica)
    sentinels = Sentinels(base_dir, primary)
    try:
        sentinels.start(replicas=2)
        cl = make_cluster(sentinels.store_keys(), redis_files=primary)
        a, b, c = cl.nodes
        made = [credentials(gh) for gh in (a, b, c)]
        tokens = [gh.login()[0] for gh in (a, b, c) for _ in range(5)]
        primary.kill9()
        new = sentinels.wait_failover(primary, replicas)
        # Each node may still be finding the new primary (503 meanwhile);
        # a lost session would be a 401.
        for gh in (a, b, c):
            for t in tokens:
                wait_for(lambda: served(gh.get("/redfish/v1/Systems", headers={
                    "X-Auth-Token": t}), f"{gh.name} token"), RECOVERY,
                    f"{gh.name} serving a session made before the failover")
            for creds in made:
                for kind, cred in creds.items():
                    wait_for(lambda: served(use(gh, cred), f"{gh.name} {kind}"), RECOVERY,
                             f"{gh.name} serving {kind} made before the failover")
        # new logins, on each node, good on the others, once the other
        # replica follows the new primary (503 meanwhile: a write waits for it)
        for gh, other in ((a, b), (b, c), (c, a)):
            wait_for(lambda: served(gh.request("POST", SESSIONS, json={
                "UserName": "admin", "Password": gh.admin_password}), f"{gh.name} login"),
                RECOVERY, f"a new login on {gh.name} after the failover")
            token, _, _, _ = gh.login()
            assert other.token_status(token) == 200
        assert new.keys("gh:sess:*"), "the new primary holds no session"
        # the command line writes to the new primary; every node obeys
        a.cli("session", "revoke", "--user", "admin")
        wait_for(lambda: all(gh.token_status(tokens[-1]) == 401 for gh in (a, b, c)), 10,
                 "a revocation after the failover reached every node")
    finally:
        sentinels.stop()
