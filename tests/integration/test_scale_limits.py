"""Limits that hold across nodes (issue 16): the per-account session limit
and the lockout thresholds are counted in the shared store, atomically, so
logins racing on three nodes at once get exactly the limit, and failures
spread over the nodes lock an account at exactly the threshold: per source
(one address, any node) and for the whole account (many addresses)."""

import threading

from gatehouse_harness import SESSIONS

LIMIT = 5


def race(jobs):
    """Run every job (a function of no arguments) at once, each in a thread
    of its own started together; their results in order."""
    results = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(i):
        start.wait(30)
        try:
            results[i] = jobs[i]()
        except Exception as e:        # a failed request is a result, shown
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a login never came back"
    return results


def login_job(gh, user, password, source=None):
    def job():
        r = gh.request("POST", SESSIONS, source=source,
                       json={"UserName": user, "Password": password}, timeout=60)
        if "X-Auth-Token" in r.headers:
            gh.secrets.add(r.headers["X-Auth-Token"])
        return r
    return job


def statuses(results):
    out = []
    for r in results:
        assert not isinstance(r, Exception), f"a login failed to answer: {r!r}"
        out.append(r.status_code)
    return out


def test_per_account_session_limit_holds_over_three_nodes(make_cluster, redis):
    cl = make_cluster(redis.store_keys(), redis_files=redis,
                      config={"sessions": {"max_sessions_per_account": LIMIT}})
    pw = cl.add_user("racer", "Operator")
    jobs = [login_job(cl.nodes[i % 3], "racer", pw) for i in range(6 * LIMIT)]
    results = race(jobs)
    got = statuses(results)
    made = [r for r in results if r.status_code == 201]
    assert len(made) == LIMIT, f"{len(made)} sessions made for a limit of {LIMIT}: {got}"
    for r in results:
        if r.status_code != 201:
            assert "X-Auth-Token" not in r.headers
            ids = [m.get("MessageId", "") for m in
                   r.json()["error"].get("@Message.ExtendedInfo", [])]
            assert any(i.endswith((".SessionLimitExceeded", ".CreateLimitReachedForResource"))
                       for i in ids), (r.status_code, ids)
    # every node counted the same sessions: none more on any, one after a logout
    for gh in cl.nodes:
        r = login_job(gh, "racer", pw)()
        assert r.status_code != 201, f"{gh.name} made a session past the limit"
    gone = made[0]
    r = cl.nodes[2].request("DELETE", gone.headers["Location"],
                            headers={"X-Auth-Token": gone.headers["X-Auth-Token"]})
    assert r.status_code in (200, 204)
    again = race([login_job(cl.nodes[i % 3], "racer", pw) for i in range(6)])
    assert statuses(again).count(201) == 1, statuses(again)


def locked_everywhere(cl, user, password, source):
    """Whether every node refuses user's right password from source."""
    return all(gh.request("POST", SESSIONS, source=source,
                          json={"UserName": user, "Password": password}).status_code == 401
               for gh in cl.nodes)


def test_failures_spread_over_nodes_lock_one_source_at_exactly_the_threshold(make_cluster,
                                                                              redis):
    threshold = 4
    cl = make_cluster(redis.store_keys(), redis_files=redis, config={"lockout": {
        "lockout_threshold": threshold, "lockout_account_threshold": 1000,
        "lockout_duration": 600, "lockout_reset_after": 600}})
    below = cl.add_user("below", "Operator")
    at = cl.add_user("at", "Operator")
    cl.nodes[0].secrets.add("Wrong-scale-pw-1")
    # threshold - 1 failures for `below`, threshold for `at`: all at once,
    # over the three nodes, from 127.0.0.2
    jobs = [login_job(cl.nodes[i % 3], "below", "Wrong-scale-pw-1", "127.0.0.2")
            for i in range(threshold - 1)]
    jobs += [login_job(cl.nodes[i % 3], "at", "Wrong-scale-pw-1", "127.0.0.2")
             for i in range(threshold)]
    assert set(statuses(race(jobs))) == {401}
    # `at` is locked for that source on every node, and only for that source
    assert locked_everywhere(cl, "at", at, "127.0.0.2")
    for gh in cl.nodes:
        r = login_job(gh, "at", at, "127.0.0.3")()
        assert r.status_code == 201, f"{gh.name}: {r.status_code} {r.text[:200]}"
    # `below` is not locked: one failure short
    r = login_job(cl.nodes[1], "below", below, "127.0.0.2")()
    assert r.status_code == 201, f"locked one failure early: {r.status_code} {r.text[:200]}"
    # one lock, logged once (by the node that counted the last failure)
    audits = "".join(gh.audit_log.read_text() for gh in cl.nodes)
    assert audits.count('"event":"lockout","user":"at"') == 1, audits[-2000:]
    assert '"event":"lockout","user":"below"' not in audits


def test_failures_from_many_sources_lock_the_account_at_exactly_its_threshold(make_cluster,
                                                                               redis):
    threshold = 6
    cl = make_cluster(redis.store_keys(), redis_files=redis, config={"lockout": {
        "lockout_threshold": 100, "lockout_account_threshold": threshold,
        "lockout_duration": 600, "lockout_reset_after": 600}})
    below = cl.add_user("below", "Operator")
    at = cl.add_user("at", "Operator")
    cl.nodes[0].secrets.add("Wrong-scale-pw-2")
    # one failure per address, each address on the next node
    jobs = [login_job(cl.nodes[i % 3], "below", "Wrong-scale-pw-2", f"127.0.1.{i + 1}")
            for i in range(threshold - 1)]
    jobs += [login_job(cl.nodes[i % 3], "at", "Wrong-scale-pw-2", f"127.0.2.{i + 1}")
             for i in range(threshold)]
    assert set(statuses(race(jobs))) == {401}
    # `at` is locked for every source, on every node: a fresh address too
    assert locked_everywhere(cl, "at", at, "127.0.3.1")
    r = login_job(cl.nodes[0], "below", below, "127.0.3.1")()
    assert r.status_code == 201, f"locked one failure early: {r.status_code} {r.text[:200]}"
    # the account's lock is its Redfish Locked on every node
    for gh in cl.nodes:
        with gh.admin() as s:
            accounts = s.get(gh.url + "/redfish/v1/AccountService/Accounts", timeout=10).json()
            for m in accounts["Members"]:
                acct = s.get(gh.url + m["@odata.id"], timeout=10).json()
                if acct["UserName"] in ("at", "below"):
                    assert acct["Locked"] is (acct["UserName"] == "at"), (gh.name, acct)
