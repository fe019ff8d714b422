"""Redis unreachable: fail closed (issue 16, docs/scale-out.md). With the
store gone, every node answers every credential (a session token, an SSO
token, a cookie, a ticket, Basic verified before and Basic never seen) and
every login with 503 in the dialect's own format and a Retry-After header:
never a 2xx, never a 401 that would make a client drop a good session, never
a hang. When Redis answers again, the nodes serve again by themselves,
without a restart; a node started while Redis is down serves 503 and
loads once it answers."""

import os
import signal
import time

from gatehouse_harness import SESSIONS, assert_redfish_error, wait_for
from scale_harness import OVIRT_TOKEN, credentials, use

NOTICE = 10.0       # bound on a node noticing Redis is gone (its bell's PING: 1 s)
RECOVERY = 30.0     # bound on serving again once Redis answers (backoff up to 1 s)
TIMEOUT = 5.0       # no request may wait longer: the store's timeouts are 0.5 s + 1 s


def assert_unavailable(kind, r):
    """r is a 503 in the format of the dialect kind belongs to, with
    Retry-After (a whole number of seconds)."""
    assert r.status_code == 503, f"{kind}: {r.status_code} {r.text[:300]}"
    assert r.headers.get("Retry-After", "").isdigit(), f"{kind}: {dict(r.headers)}"
    ctype = r.headers.get("Content-Type", "")
    if kind.startswith(("redfish", "basic")):
        assert_redfish_error(r, 503, "ServiceTemporarilyUnavailable")
    elif kind == "ovirt-sso":           # OAuth's error, or the REST API's form of it
        body = r.json()
        assert body.get("error") and (body.get("error_description") or body.get("error_code")), \
            body
    elif kind.startswith("ovirt"):
        assert r.text.strip() == "Service unavailable", r.text
    elif kind.startswith("powerstore"):
        assert r.json()["messages"][0]["code"] == "0xE1503001", r.text
    elif kind.startswith("proxmox"):
        assert ctype.startswith("application/json") and r.json() == {"data": None}, r.text
    else:
        raise AssertionError(f"unknown kind {kind}")


def logins(gh, user="admin"):
    """A login of each dialect on gh: {kind: response}."""
    pw = gh.users[user]
    return {
        "redfish-login": gh.request("POST", SESSIONS, json={"UserName": user, "Password": pw},
                                    timeout=TIMEOUT),
        "ovirt-sso": gh.request("POST", OVIRT_TOKEN, headers={"Accept": "application/json"},
                                data={"grant_type": "password", "scope": "ovirt-app-api",
                                      "username": f"{user}@internal", "password": pw},
                                timeout=TIMEOUT),
        "powerstore-login": gh.request("GET", "/api/rest/login_session", auth=(user, pw),
                                       timeout=TIMEOUT),
        "proxmox-login": gh.request("POST", "/api2/json/access/ticket",
                                    data={"username": f"{user}@pam", "password": pw},
                                    timeout=TIMEOUT),
    }


def test_redis_stopped_every_dialect_503_then_served_again(cluster, redis):
    a, b, c = cluster.nodes
    creds = credentials(a)
    for gh in (a, b, c):
        for kind, cred in creds.items():
            assert use(gh, cred).status_code == 200, f"{gh.name} {kind}"
    redis.stop()
    for gh in (a, b, c):
        wait_for(lambda: use(gh, creds["redfish-token"], TIMEOUT).status_code == 503, NOTICE,
                 f"{gh.name} noticed Redis is gone")
    for gh in (a, b, c):
        for kind, cred in creds.items():
            for _ in range(2):          # twice: no answer from a cache the second time either
                assert_unavailable(kind, use(gh, cred, TIMEOUT))
        for kind, r in logins(gh).items():
            assert_unavailable(kind, r)
    redis.start()
    for gh in (a, b, c):
        wait_for(lambda: all(use(gh, cred).status_code == 200 for cred in creds.values()),
                 RECOVERY, f"{gh.name} serving every credential again")
        assert logins(gh)["redfish-login"].status_code == 201


def test_a_node_started_while_redis_is_down_serves_503_then_loads(cluster, redis):
    a, b, c = cluster.nodes
    creds = credentials(b)
    a.stop()
    redis.stop()
    a.start()                       # the open service root answers without the store
    for kind, cred in creds.items():
        assert_unavailable(kind, use(a, cred, TIMEOUT))
    assert_unavailable("redfish-login", logins(a)["redfish-login"])
    redis.start()
    wait_for(lambda: all(use(a, cred).status_code == 200 for cred in creds.values()),
             RECOVERY, "the node started without Redis serving once it answers")


def test_no_answer_waits_past_the_store_timeouts(cluster, redis):
    """Redis stopped answering (SIGSTOP: connections open, nothing read):
    the nodes answer 503 within the store's timeouts, never hang."""
    a, b, c = cluster.nodes
    creds = credentials(a)
    os.kill(redis.pid, signal.SIGSTOP)
    try:
        for gh in (a, b, c):
            wait_for(lambda: use(gh, creds["redfish-token"], TIMEOUT).status_code == 503,
                     NOTICE, f"{gh.name} noticed Redis is silent")
            for kind, cred in creds.items():
                t0 = time.monotonic()
                r = use(gh, cred, TIMEOUT + 5)
                assert time.monotonic() - t0 < TIMEOUT, f"{gh.name} {kind} waited"
                assert_unavailable(kind, r)
    finally:
        os.kill(redis.pid, signal.SIGCONT)
    for gh in (a, b, c):
        wait_for(lambda: use(gh, creds["redfish-token"]).status_code == 200, RECOVERY,
                 f"{gh.name} serving again")
