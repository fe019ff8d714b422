"""The counters of /metrics beside the requests' (docs/metrics.md): logins by
dialect and result, lockouts, sessions created by dialect and ended by
reason, the hash pool's queue depth and wait, the credential cache's hits
and misses, and the store's operations by backend.

Each test reads /metrics, makes known traffic against the real module over
HTTPS, and asserts exactly what moved: every series of the family, so that
an event counted twice, or under another label, fails as surely as one not
counted. A login's count lands before its answer is sent; an end the
worker's timer or change log brings is waited for, never slept for."""

import gatehouse_harness as H
from metrics_util import LANDS, moved, samples, value, wait_moved
from ovirt_util import bearer, get_token, token_request

LOGIN_SESSION = "/api/rest/login_session"
TICKET = "/api2/json/access/ticket"


def logins(by):
    """gatehouse_logins_total's series from {(dialect, result): n}."""
    return {(("dialect", d), ("result", r)): n for (d, r), n in by.items()}


def ends(**by):
    """gatehouse_sessions_ended_total's series from reason=n."""
    return {(("reason", r),): n for r, n in by.items()}


def created(**by):
    """gatehouse_sessions_created_total's series from dialect=n."""
    return {(("dialect", d),): n for d, n in by.items()}


def redfish_login(gh, user, password, expect):
    r = gh.request("POST", H.SESSIONS, json={"UserName": user, "Password": password})
    assert r.status_code == expect, (user, r.status_code, r.text[:300])
    if r.status_code == 201:
        gh.secrets.add(r.headers["X-Auth-Token"])
    return r


def pve_ticket(gh, user, password, expect):
    r = gh.request("POST", TICKET, data={"username": f"{user}@pam", "password": password})
    assert r.status_code == expect, (user, r.status_code, r.text[:300])
    if r.status_code == 200:
        d = r.json()["data"]
        gh.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    return r


def ps_login(gh, user, password, expect):
    r = gh.get(LOGIN_SESSION, auth=(user, password))
    assert r.status_code == expect, (user, r.status_code, r.text[:300])
    if r.status_code == 200:
        gh.secrets.update({r.headers["DELL-EMC-TOKEN"], r.cookies["auth_cookie"]})
    return r


def account_path(gh, name):
    with gh.admin() as s:
        for m in s.get(gh.url + H.ACCOUNTS, timeout=10).json()["Members"]:
            if s.get(gh.url + m["@odata.id"], timeout=10).json()["UserName"] == name:
                return m["@odata.id"]
    raise AssertionError(f"no account {name}")


def disable(gh, name):
    with gh.admin() as s:
        r = s.patch(gh.url + account_path(gh, name), json={"Enabled": False}, timeout=10)
    assert r.status_code == 200, r.text


def test_logins_by_dialect_and_result(make_server):
    """Good logins on every dialect, a Basic credential logged in once and
    then found in the cache (no login), wrong passwords, unknown users, a
    lockout and the locked account's right password, a disabled account:
    each counted once, under its dialect and result, with the sessions the
    good ones made."""
    gh = make_server({"lockout": {"lockout_threshold": 3, "lockout_duration": 600}})
    admin = gh.admin_password
    for name in ("op", "dis", "ps", "rb"):
        gh.add_user(name, "Operator")
    disable(gh, "dis")
    wrong = H.new_password("Wrong")
    gh.secrets.add(wrong)
    before = samples(gh)

    for _ in range(3):
        redfish_login(gh, "admin", admin, 201)
        get_token(gh, "admin@internal")
        pve_ticket(gh, "admin", admin, 200)
        ps_login(gh, "ps", gh.users["ps"], 200)      # checked once, then cached
        assert gh.get("/redfish/v1/Systems", auth=("rb", gh.users["rb"])).status_code == 200
    # Unknown names lock like real ones: no name but op fails 3 times here.
    redfish_login(gh, "admin", wrong, 401)
    for _ in range(2):
        redfish_login(gh, "ghost", wrong, 401)
    for _ in range(3):                                # the third locks op here
        redfish_login(gh, "op", wrong, 401)
    redfish_login(gh, "op", gh.users["op"], 401)      # locked: right or wrong alike
    redfish_login(gh, "dis", gh.users["dis"], 401)
    assert token_request(gh, "admin@internal", wrong).status_code == 400
    pve_ticket(gh, "nobody", wrong, 401)
    ps_login(gh, "ps", wrong, 401)
    after = samples(gh)

    assert moved(before, after, "gatehouse_logins_total") == logins({
        ("redfish", "success"): 4, ("redfish", "wrong_password"): 4,
        ("redfish", "unknown_user"): 2, ("redfish", "locked"): 1, ("redfish", "disabled"): 1,
        ("ovirt", "success"): 3, ("ovirt", "wrong_password"): 1,
        ("proxmox", "success"): 3, ("proxmox", "unknown_user"): 1,
        ("powerstore", "success"): 1, ("powerstore", "wrong_password"): 1})
    assert moved(before, after, "gatehouse_lockouts_total") == {(): 1}
    assert moved(before, after, "gatehouse_sessions_created_total") == created(
        redfish=3, ovirt=3, proxmox=3, powerstore=3)
    # ps and rb: one miss each, then two hits each; ps's wrong password a miss
    assert moved(before, after, "gatehouse_credcache_misses_total") == {(): 3}
    assert moved(before, after, "gatehouse_credcache_hits_total") == {(): 4}
    assert value(after, "gatehouse_sessions") == 12


def test_session_limits(make_server):
    """A login the per-account limit refuses counts as limit, on each
    dialect, and makes no session; one token per user (oVirt) ends the
    earlier token as pushed out by a limit."""
    gh = make_server({"sessions": {"max_sessions_per_account": 2},
                      "ovirt": {"single_token_per_user": "true"}})
    gh.add_user("lim", "Operator")
    pw = gh.users["lim"]
    before = samples(gh)

    redfish_login(gh, "lim", pw, 201)
    redfish_login(gh, "lim", pw, 201)
    redfish_login(gh, "lim", pw, 503)
    pve_ticket(gh, "lim", pw, 503)
    assert token_request(gh, "lim@internal", pw).status_code == 503
    first = get_token(gh, "admin@internal")
    get_token(gh, "admin@internal")                  # ends the first
    after = samples(gh)

    assert moved(before, after, "gatehouse_logins_total") == logins({
        ("redfish", "success"): 2, ("redfish", "limit"): 1, ("proxmox", "limit"): 1,
        ("ovirt", "limit"): 1, ("ovirt", "success"): 2})
    assert moved(before, after, "gatehouse_sessions_created_total") == created(
        redfish=2, ovirt=2)
    assert moved(before, after, "gatehouse_sessions_ended_total") == ends(limit=1)
    assert value(after, "gatehouse_sessions") == 3
    r = gh.get("/ovirt-engine/api", headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 401


def test_sessions_ended_by_logout_and_revocation(make_server):
    """Every way a session ends but time, each counted once whichever
    worker applies it: a logout; `gatehouse session revoke ID` and
    `--user NAME`; an administrator deleting another's session; an account
    disabled through the API; `gatehouse user lock`."""
    gh = make_server()
    for name in ("op", "op2", "op3"):
        gh.add_user(name, "Operator")
    before = samples(gh)

    t = [redfish_login(gh, "admin", gh.admin_password, 201) for _ in range(4)]
    tokens = [(r.headers["X-Auth-Token"], r.headers["Location"]) for r in t]
    op = [redfish_login(gh, "op", gh.users["op"], 201) for _ in range(2)]
    op2 = [redfish_login(gh, "op2", gh.users["op2"], 201) for _ in range(2)]
    redfish_login(gh, "op3", gh.users["op3"], 201)
    assert gh.logout(*tokens[0]).status_code == 204
    gh.cli("session", "revoke", tokens[1][1].rsplit("/", 1)[1])
    gh.cli("session", "revoke", "--user", "op3")
    with gh.admin() as s:
        r = s.delete(gh.url + op[0].headers["Location"], timeout=10)
        assert r.status_code == 204, r.text
    disable(gh, "op")
    gh.cli("user", "lock", "op2")

    assert wait_moved(gh, before, "gatehouse_sessions_ended_total",
                      ends(logout=1, revoked=6)) == ends(logout=1, revoked=6)
    after = samples(gh)
    assert moved(before, after, "gatehouse_sessions_created_total") == created(redfish=9)
    assert value(after, "gatehouse_sessions") == 2
    assert gh.token_status(tokens[2][0]) == 200
    assert gh.token_status(op2[0].headers["X-Auth-Token"]) == 401


def test_sessions_ended_by_time(make_server):
    """An oVirt token unused past its idle timeout (1 s) ends as idle; a
    Redfish session past the absolute lifetime (2 s), before its idle end,
    as lifetime. Each is found by the worker's timer, not by a request."""
    gh = make_server({"sessions": {"session_lifetime": 2},
                      "ovirt": {"token_idle_timeout": 1}})
    before = samples(gh)
    redfish_login(gh, "admin", gh.admin_password, 201)
    get_token(gh, "admin@internal")
    assert wait_moved(gh, before, "gatehouse_sessions_ended_total",
                      ends(idle=1, lifetime=1)) == ends(idle=1, lifetime=1)
    assert value(samples(gh), "gatehouse_sessions") == 0


def hash_wait(s):
    """(count, +Inf bucket, sum) of gatehouse_hash_wait_seconds."""
    return (value(s, "gatehouse_hash_wait_seconds_count"),
            value(s, "gatehouse_hash_wait_seconds_bucket", le="+Inf"),
            value(s, "gatehouse_hash_wait_seconds_sum"))


def test_hash_pool_wait_and_queue(make_server):
    """Every password check queues in a hash pool once: the histogram of
    the wait counts exactly the checks (session logins, Basic misses, wrong
    passwords alike), not the Basic requests the cache answered; the queue
    is empty again once they are answered."""
    gh = make_server()
    gh.add_user("rb", "Operator")
    wrong = H.new_password("Wrong")
    gh.secrets.add(wrong)
    before = samples(gh)
    for _ in range(4):
        redfish_login(gh, "admin", gh.admin_password, 201)
    for _ in range(3):
        assert gh.get("/redfish/v1/Systems", auth=("rb", gh.users["rb"])).status_code == 200
    for _ in range(2):
        assert gh.get("/redfish/v1/Systems", auth=("rb", wrong)).status_code == 401
    after = samples(gh)

    count, inf, total = (a - b for a, b in zip(hash_wait(after), hash_wait(before)))
    assert count == 4 + 1 + 2 and inf == count
    assert total >= 0
    buckets = sorted((float(dict(labels)["le"]), v) for (n, labels), v in after.items()
                     if n == "gatehouse_hash_wait_seconds_bucket")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)     # cumulative
    assert value(after, "gatehouse_hash_queue_depth") == 0


def test_credcache_hits_misses_and_a_password_change(make_server):
    """Basic credentials: the first request a miss (and a login), the rest
    hits; a password change (`gatehouse user passwd`) drops the entry, so
    the new password is a miss again and the old one a miss refused."""
    gh = make_server()
    gh.add_user("rb", "Operator")
    old = gh.users["rb"]
    before = samples(gh)
    for _ in range(5):
        assert gh.get("/redfish/v1/Systems", auth=("rb", old)).status_code == 200
    new = H.new_password("rb")
    gh.secrets.add(new)
    gh.cli("user", "passwd", "rb", "--password-file", gh.secret_file(new))
    H.wait_for(lambda: gh.get("/redfish/v1/Systems", auth=("rb", old)).status_code == 401,
               LANDS, "the old password refused")
    assert gh.get("/redfish/v1/Systems", auth=("rb", new)).status_code == 200
    assert gh.get("/redfish/v1/Systems", auth=("rb", new)).status_code == 200
    after = samples(gh)

    # the old password's hits until the change reached the workers are
    # hits; what moved past them is exact
    hits = moved(before, after, "gatehouse_credcache_hits_total")[()]
    misses = moved(before, after, "gatehouse_credcache_misses_total")[()]
    refused = moved(before, after, "gatehouse_logins_total")[
        (("dialect", "redfish"), ("result", "wrong_password"))]
    assert refused == 1
    assert misses == 1 + refused + 1
    assert moved(before, after, "gatehouse_logins_total") == logins({
        ("redfish", "success"): 2, ("redfish", "wrong_password"): 1})
    assert hits >= 4 + 1


def store_ops(s, backend):
    return value(s, "gatehouse_store_operation_seconds_count", backend=backend)


def test_store_operations_embedded(make_server):
    """Every store call of the workers is timed once, under sqlite."""
    gh = make_server()
    before = samples(gh)
    redfish_login(gh, "admin", gh.admin_password, 201)
    after = samples(gh)
    assert store_ops(after, "sqlite") > store_ops(before, "sqlite")
    assert store_ops(after, "redis") == 0
    assert (value(after, "gatehouse_store_operation_seconds_bucket", backend="sqlite", le="+Inf")
            == store_ops(after, "sqlite"))


def test_redis_store_and_ends_counted_where_they_happen(make_cluster, redis):
    """Two nodes on one Redis store: the store's operations count under
    redis only. A session made on A, used and logged out on B, counts as
    created on A and ended on B, and nowhere twice: A's copy leaves its
    cache by the change log, which is no end. A revocation by the command
    line, which counts nothing, is no node's to count either."""
    cluster = make_cluster(redis.store_keys(), n=2, redis_files=redis)
    a, b = cluster.nodes
    before = {gh.name: samples(gh) for gh in (a, b)}

    token, location, _, _ = a.login()
    assert b.token_status(token) == 200
    assert a.token_status(token) == 200
    assert b.logout(token, location).status_code in (200, 204)
    H.wait_for(lambda: a.token_status(token) == 401, LANDS, "A refuses the token")
    token2, location2, body2, _ = a.login()
    a.cli("session", "revoke", body2["Id"])
    H.wait_for(lambda: a.token_status(token2) == 401, LANDS, "A refuses the revoked token")
    after = {gh.name: samples(gh) for gh in (a, b)}

    def of(gh, name):
        return moved(before[gh.name], after[gh.name], name)

    assert of(a, "gatehouse_sessions_created_total") == created(redfish=2)
    assert of(b, "gatehouse_sessions_created_total") == {}
    assert of(a, "gatehouse_logins_total") == logins({("redfish", "success"): 2})
    assert of(b, "gatehouse_logins_total") == {}
    assert of(a, "gatehouse_sessions_ended_total") == {}
    assert of(b, "gatehouse_sessions_ended_total") == ends(logout=1)
    for gh in (a, b):
        assert store_ops(after[gh.name], "redis") > store_ops(before[gh.name], "redis")
        assert store_ops(after[gh.name], "sqlite") == 0


def test_redis_store_time_ends_counted_once(make_cluster, redis):
    """With a shared store a session ended by time ends where the store's
    sweep deletes it, a grace past its end: counted there, once, however
    many nodes held it (their caches only evict their copies): an oVirt
    token idle past 1 s and a Redis session past a 2 s lifetime, each used
    on both nodes."""
    cluster = make_cluster(redis.store_keys(), n=2, redis_files=redis,
                           config={"sessions": {"session_lifetime": 2},
                                   "ovirt": {"token_idle_timeout": 1}})
    a, b = cluster.nodes
    before = {gh.name: samples(gh) for gh in (a, b)}
    token = get_token(a, "admin@internal")
    assert b.get("/ovirt-engine/api", headers=bearer(token)).status_code == 200
    session, _, _, _ = b.login()
    assert a.token_status(session) == 200

    def ended():
        total = {}
        for gh in (a, b):
            for labels, n in moved(before[gh.name], samples(gh),
                                   "gatehouse_sessions_ended_total").items():
                total[labels] = total.get(labels, 0) + n
        return total

    H.wait_for(lambda: ended() == ends(idle=1, lifetime=1), LANDS,
               "one idle and one lifetime end over both nodes")
    assert a.token_status(session) == 401 and b.token_status(session) == 401
