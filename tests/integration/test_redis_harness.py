"""The Redis harness itself (redis_server.py), before any test rests on it:
a server starts with the settings docs/scale-out.md asks for, what it
acknowledged survives a kill -9, an ACL user and TLS work as configured,
and Sentinel promotes the replica when the primary dies."""

import secrets
import subprocess

import pytest

from redis_server import RedisServer, Sentinels


@pytest.fixture
def redis_made(base_dir):
    made = []

    def make(*args, **kw):
        r = RedisServer(base_dir, *args, **kw)
        made.append(r)
        return r

    yield made, make
    for r in reversed(made):
        r.stop()


def test_start_with_the_durable_settings(redis_made):
    _, make = redis_made
    r = make().start()
    got = dict(zip(*[iter(r.cli("CONFIG", "GET", "append*").splitlines())] * 2))
    assert got["appendonly"] == "yes" and got["appendfsync"] == "always"
    assert r.cli_run("--raw", "CONFIG", "GET", "save").stdout == b"save\n\n"
    assert r.cli("CONFIG", "GET", "bind").splitlines()[1] == "127.0.0.1"
    assert r.role() == "master"
    r.cli("SET", "gh-test:a", "1")
    r.cli("HSET", "gh-test:h", "f", "v")
    assert r.keys("gh-test:*") == ["gh-test:a", "gh-test:h"]
    assert r.dump("gh-test:*") == {"gh-test:a": b"1\n", "gh-test:h": b"f\nv\n"}


def test_aof_survives_kill9_and_restart_on_the_same_port(redis_made):
    _, make = redis_made
    r = make().start()
    port, pid = r.port, r.pid
    values = {f"k{i}": secrets.token_hex(8) for i in range(200)}
    for k, v in values.items():
        r.cli("SET", k, v)        # each answered only once fsynced (appendfsync always)
    r.kill9()
    assert not r.ping()
    r.start()
    assert r.port == port and r.pid != pid
    assert all(r.cli("GET", k) == v for k, v in values.items())
    assert r.cli("DBSIZE") == str(len(values))


def test_acl_user_and_password(redis_made):
    """The ACL user gets what docs/scale-out.md grants gatehouse: the
    commands and scripts of the store on its keys and channel, ROLE, WAIT,
    CLIENT SETNAME; nothing dangerous, no other key."""
    _, make = redis_made
    r = make(user="gatehouse").start()
    assert r.cli("ACL", "WHOAMI") == "ops"
    assert r.password_file.read_text().strip() == r.password
    assert r.password_file.stat().st_mode & 0o077 == 0
    assert r.store_keys()["username"] == "gatehouse"
    base = r.cli_args()[:5]
    env = dict(r.cli_env(), REDISCLI_AUTH=r.password)

    def as_gatehouse(*args):
        p = subprocess.run(base + ["--user", "gatehouse", "--raw", *args], capture_output=True,
                           timeout=10, env=env)
        return p.stdout.decode().strip()
    assert as_gatehouse("PING") == "PONG"
    assert as_gatehouse("ROLE").splitlines()[0] == "master"
    assert as_gatehouse("CLIENT", "SETNAME", "gatehouse") == "OK"
    assert as_gatehouse("EVAL", "redis.call('HSET', KEYS[1], 'a', '1'); "
                        "redis.call('XADD', KEYS[2], '0-1', 'k', 'v'); "
                        "return redis.call('PUBLISH', 'gh:chg:bell', '1')",
                        "2", "gh:acct:1", "gh:chg") == "0"
    assert as_gatehouse("WAIT", "0", "10") == "0"
    assert as_gatehouse("HGETALL", "gh:acct:1") == "a\n1"
    assert "NOPERM" in as_gatehouse("SET", "other:key", "1")
    assert "can't access" in as_gatehouse("EVAL", "return redis.call('GET', 'other:key')", "0")
    assert "NOPERM" in as_gatehouse("CONFIG", "GET", "dir")
    assert "NOPERM" in as_gatehouse("KEYS", "*")
    # without the password, or as the default user, nothing is answered
    q = subprocess.run(base + ["PING"], capture_output=True, timeout=10)
    assert b"PONG" not in q.stdout


def test_tls(redis_made):
    _, make = redis_made
    r = make(tls=True, client_certs=True).start()
    assert r.url.startswith("rediss://127.0.0.1:")
    assert r.cli("CONFIG", "GET", "tls-port").splitlines()[1] == str(r.port)
    assert r.cli("CONFIG", "GET", "port").splitlines()[1] == "0"
    keys = r.store_keys()
    assert keys["tls_ca"] == str(r.pki.ca) and keys["tls_cert"] == str(r.pki.client_cert)
    # plain text on the TLS port gets no answer
    q = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(r.port), "PING"],
                       capture_output=True, timeout=10)
    assert b"PONG" not in q.stdout


def test_sentinel_failover_promotes_the_replica(redis_made, base_dir):
    made, make = redis_made
    primary = make(user="gatehouse").start()
    replica = make(name="replica", replica_of=primary).start()
    primary.wait_replica_synced(replica)
    assert replica.role() == "slave"
    sentinels = Sentinels(base_dir, primary)
    made.extend(sentinels.all)
    sentinels.start()
    assert sentinels.master_port() == primary.port
    assert sentinels.url.startswith("redis-sentinel://127.0.0.1:")
    primary.cli("SET", "before", "failover")
    assert primary.cli("WAIT", "1", "1000") == "1"
    primary.kill9()
    sentinels.wait_failover(primary, replica)
    assert replica.role() == "master"
    assert replica.cli("GET", "before") == "failover"
    replica.cli("SET", "after", "failover")
    assert sentinels.master_port() == replica.port
