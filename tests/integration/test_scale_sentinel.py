"""Sentinel failover (issue 16, docs/scale-out.md): three nodes on
`redis-sentinel://` (three sentinels, quorum 2, a primary and a replica,
wait_replicas 1 by default with Sentinel). kill -9 of the primary: once the
sentinels have promoted the replica, every session made before works on
every node (each was on the replica before its login was answered: WAIT),
new logins work, and the command line reaches every node again."""

from gatehouse_harness import wait_for
from redis_server import Sentinels
from scale_harness import credentials, use

RECOVERY = 30.0     # bound on the nodes finding the new primary (no promise: a hang)


def test_sessions_survive_a_failover_and_new_logins_work(make_cluster, make_redis, base_dir):
    primary = make_redis(user="gatehouse")
    replica = make_redis(name="replica", replica_of=primary)
    primary.wait_replica_synced(replica)
    sentinels = Sentinels(base_dir, primary)
    try:
        sentinels.start()
        cl = make_cluster(sentinels.store_keys(), redis_files=primary)
        a, b, c = cl.nodes
        made = [credentials(gh) for gh in (a, b, c)]
        tokens = [gh.login()[0] for gh in (a, b, c) for _ in range(5)]
        primary.kill9()
        sentinels.wait_failover(primary, replica)
        for gh in (a, b, c):
            wait_for(lambda: gh.token_status(tokens[0]) == 200, RECOVERY,
                     f"{gh.name} serving from the new primary")
        for gh in (a, b, c):
            for t in tokens:
                assert gh.token_status(t) == 200, f"{gh.name}: a session lost in the failover"
            for creds in made:
                for kind, cred in creds.items():
                    r = use(gh, cred)
                    assert r.status_code == 200, f"{gh.name} {kind}: {r.status_code} {r.text[:200]}"
        # new logins, on each node, good on the others
        for gh, other in ((a, b), (b, c), (c, a)):
            token, _, _, _ = gh.login()
            assert other.token_status(token) == 200
        # the command line writes to the new primary; every node obeys
        a.cli("session", "revoke", "--user", "admin")
        wait_for(lambda: all(gh.token_status(tokens[-1]) == 401 for gh in (a, b, c)), 10,
                 "a revocation after the failover reached every node")
        assert replica.keys(), "the new primary holds nothing"
    finally:
        sentinels.stop()
