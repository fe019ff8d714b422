"""Several gatehouse nodes as one (issue 16, docs/scale-out.md): three nodes
on one Redis store. A session made on one node is good on every other; a
logout on one is obeyed by the others within 100 ms (the one timing bound
these tests assert, measured from the logout's answer to each node's first
refusal); every dialect's login travels; the command line reaches every
node; and Redis holds no password, token or CSRF secret in plain text."""

import time
from pathlib import Path

import gatehouse_harness as H
from gatehouse_harness import SESSIONS, wait_for
from ovirt_util import API as OVIRT_API, bearer, cookie_value, get_token
from test_powerstore_ldap import DOMAINS as LDAP_DOMAINS, admin, lab_body

SYSTEMS = "/redfish/v1/Systems"
PS = "/api/rest"
PVE = "/api2/json"

# The promise: a logout on one node is refused on every other within this.
# The sanitizer build runs several times slower: it gets the harness's margin.
PROMISE = H.CHANGE_PROMISE + (H.CHANGE_MARGIN if H.SANITIZE else 0.0)


def keep_alive(gh, **kw):
    """A session with its connection opened (one request made), so a
    later request is one round trip, without a TLS handshake."""
    s = gh.session(**kw)
    s.get(gh.url + "/redfish/v1/", timeout=10)
    return s


def status(s, gh, token, path=SYSTEMS):
    return s.get(gh.url + path, headers={"X-Auth-Token": token}, timeout=10).status_code


def test_login_on_a_used_on_b_and_c_logout_on_c_refused_everywhere_at_once(cluster):
    a, b, c = cluster.nodes
    token, location, body, _ = a.login()
    assert body["UserName"] == "admin"
    sa, sb, sc = keep_alive(a), keep_alive(b), keep_alive(c)
    # made on A, good on B and C at once: no wait for a propagation
    assert status(sb, b, token) == 200
    assert status(sc, c, token) == 200
    assert status(sa, a, token) == 200
    # the same session everywhere: each node lists it
    for gh in (a, b, c):
        assert location in gh.sessions_server_side()
    r = sc.delete(c.url + location, headers={"X-Auth-Token": token}, timeout=10)
    t0 = time.monotonic()
    assert r.status_code in (200, 204), r.text
    first_401 = {}
    # A and B polled back to back from the logout's answer
    while len(first_401) < 2 and time.monotonic() - t0 < 10:
        for name, s, gh in (("A", sa, a), ("B", sb, b)):
            if name not in first_401 and status(s, gh, token) == 401:
                first_401[name] = time.monotonic() - t0
    assert len(first_401) == 2, f"the logout on C was not obeyed within 10 s: {first_401}"
    late = {k: round(v * 1000, 1) for k, v in first_401.items() if v >= PROMISE}
    assert not late, f"first 401 after the logout on C, in ms: {late} (promise " \
                     f"{PROMISE * 1000:.0f} ms)"
    assert status(sc, c, token) == 401
    for gh in (a, b, c):
        assert location not in gh.sessions_server_side()


def test_every_dialect_logs_in_on_one_node_and_is_served_by_another(cluster):
    a, b, c = cluster.nodes
    pw = a.users["operator"]
    # Redfish Basic, for an account added on A's command line: B and C know it
    for gh in (b, c):
        r = gh.request("GET", SYSTEMS, auth=("operator", pw))
        assert r.status_code == 200, r.text
    # oVirt: an SSO token from A as Bearer on B, a persistent-auth cookie from
    # B sent to C
    tok = get_token(a, "operator@internal", pw)
    r = b.request("GET", OVIRT_API, headers=bearer(tok, Accept="application/xml"))
    assert r.status_code == 200, r.text
    r = b.request("HEAD", OVIRT_API, auth=("operator@internal", pw),
                  headers={"Prefer": "persistent-auth"})
    assert r.status_code == 200, r.text
    jsession = cookie_value(r.headers.get("Set-Cookie"))
    a.secrets.add(jsession)
    r = c.request("GET", OVIRT_API + "/vms", headers={"Cookie": f"JSESSIONID={jsession}",
                                                      "Prefer": "persistent-auth"})
    assert r.status_code == 200, r.text
    # PowerStore: login_session on A; the cookie on B; a write with the CSRF
    # token A gave, on C (the token is the servers' shared secret's HMAC)
    with a.session(auth=("admin", a.admin_password)) as s:
        r = s.get(a.url + PS + "/login_session", timeout=10)
        assert r.status_code == 200, r.text
        cookie, csrf = s.cookies["auth_cookie"], r.headers["DELL-EMC-TOKEN"]
    a.secrets.update({cookie, csrf})
    r = b.request("GET", PS + "/volume", headers={"Cookie": f"auth_cookie={cookie}"})
    assert r.status_code == 200, r.text
    upw = H.new_password()
    a.secrets.add(upw)
    r = c.request("POST", PS + "/local_user", headers={"Cookie": f"auth_cookie={cookie}",
                                                        "DELL-EMC-TOKEN": csrf},
                  json={"name": "psuser", "password": upw, "role_id": "3"})
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    r = a.request("DELETE", PS + "/local_user/" + user_id,
                  headers={"Cookie": f"auth_cookie={cookie}", "DELL-EMC-TOKEN": csrf})
    assert r.status_code == 204, r.text
    # Proxmox VE: a ticket from B as the cookie on C, its CSRF token on A
    r = b.request("POST", PVE + "/access/ticket",
                  data={"username": "admin@pam", "password": a.admin_password})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    a.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    cookie = {"PVEAuthCookie": d["ticket"]}
    r = c.request("GET", PVE + "/nodes", cookies=cookie)
    assert r.status_code == 200, r.text
    url = PVE + "/access/users/admin@pam/token/scale"
    r = a.request("POST", url, cookies=cookie,
                  headers={"CSRFPreventionToken": d["CSRFPreventionToken"]})
    assert r.status_code == 200, r.text
    secret = r.json()["data"]["value"]
    a.secrets.add(secret)
    # the API token made on A, on B
    r = b.request("GET", PVE + "/nodes",
                  headers={"Authorization": f"PVEAPIToken=admin@pam!scale={secret}"})
    assert r.status_code == 200, r.text


def _all_refuse(nodes, check):
    """A check for obeyed_at_once: every node answers as after the change."""
    return lambda: all(check(gh) for gh in nodes)


def test_command_line_reaches_every_node(cluster):
    a, b, c = cluster.nodes
    nodes = (a, b, c)
    pw = cluster.add_user("carol", "Operator")
    # each node caches carol's Basic credential, and holds a session of hers
    for gh in nodes:
        assert gh.request("GET", SYSTEMS, auth=("carol", pw)).status_code == 200
    token, _, body, _ = b.login("carol")
    for gh in nodes:
        assert gh.token_status(token) == 200
    # `user passwd` on C: the old password is refused everywhere, the new works
    new = H.new_password("carol")
    c.cli("user", "passwd", "carol", "--password-file", c.secret_file(new))
    a.users["carol"] = new
    a.secrets.add(new)
    H.obeyed_at_once(_all_refuse(nodes, lambda gh: gh.request(
        "GET", SYSTEMS, auth=("carol", pw)).status_code == 401))
    for gh in nodes:
        assert gh.request("GET", SYSTEMS, auth=("carol", new)).status_code == 200
    # `session revoke ID` on A: the session is refused on every node
    token, _, body, _ = c.login("carol")
    for gh in nodes:
        assert gh.token_status(token) == 200
    a.cli("session", "revoke", body["Id"])
    H.obeyed_at_once(_all_refuse(nodes, lambda gh: gh.token_status(token) == 401))
    # `user lock` on B: sessions and Basic refused on every node
    token, _, _, _ = a.login("carol")
    for gh in nodes:
        assert gh.token_status(token) == 200
    b.cli("user", "lock", "carol")
    H.obeyed_at_once(_all_refuse(nodes, lambda gh: gh.token_status(token) == 401 and gh.request(
        "GET", SYSTEMS, auth=("carol", new)).status_code == 401))
    c.cli("user", "unlock", "carol")
    wait_for(lambda: all(gh.request("GET", SYSTEMS, auth=("carol", new)).status_code == 200
                         for gh in nodes), 10, "carol unlocked on every node")
    # `user del` on C: gone everywhere
    c.cli("user", "del", "carol")
    H.obeyed_at_once(_all_refuse(nodes, lambda gh: gh.request(
        "GET", SYSTEMS, auth=("carol", new)).status_code == 401))


def test_an_account_made_through_the_api_of_one_node_logs_in_on_another(cluster):
    a, b, c = cluster.nodes
    pw = H.new_password("dave")
    a.secrets.add(pw)
    with a.admin() as s:
        r = s.post(a.url + H.ACCOUNTS, json={"UserName": "dave", "Password": pw,
                                             "RoleId": "ReadOnly"}, timeout=10)
    assert r.status_code == 201, r.text
    a.users["dave"] = pw
    token, _, _, _ = b.login("dave")
    assert c.token_status(token) == 200


class FakeSlapd:
    """What lab_body reads of a slapd, for a domain only written, never bound."""
    ldap_url = "ldap://127.0.0.1:1389"

    def __init__(self, service_password):
        self.service_password = service_password


def test_redis_holds_no_password_token_or_csrf_secret(cluster, redis):
    a, b, c = cluster.nodes
    token, _, _, _ = a.login("operator")
    assert b.token_status(token) == 200
    with b.session(auth=("reader", a.users["reader"])) as s:
        r = s.get(b.url + PS + "/login_session", timeout=10)
        assert r.status_code == 200
        a.secrets.update({s.cookies["auth_cookie"], r.headers["DELL-EMC-TOKEN"]})
    tok = get_token(c, "admin@internal", a.admin_password)
    assert tok
    r = c.request("POST", PVE + "/access/ticket",
                  data={"username": "admin@pam", "password": a.admin_password})
    d = r.json()["data"]
    a.secrets.update({d["ticket"], d["CSRFPreventionToken"]})
    # a directory profile's service password, given through the API: sealed
    # in Redis (test_scale_directory.py), never in clear
    dir_pw = H.new_password("Svc")
    a.secrets.add(dir_pw)
    r = admin(b, "POST", LDAP_DOMAINS, json=lab_body(FakeSlapd(dir_pw)))
    assert r.status_code == 201, r.text
    held = redis.dump()
    assert held, "nothing in Redis: the nodes do not use it"
    assert any(b"argon2id" in v for v in held.values()), \
        "no argon2id hash in Redis: where are the accounts?"
    # every password, token, cookie, ticket and CSRF token the nodes handed
    # out or were given (the harness collects them), in plain text
    forms = [s for s in a.secrets if s and len(s) >= 8]
    leaks = [(key, f[:12] + "...") for key, value in held.items() for f in forms
             if f in key or f.encode() in value]
    assert not leaks, f"secrets in plain text in Redis: {leaks}"
    # the server secret is a file on the nodes, never in Redis (a check value only)
    secret = cluster.secret_path.read_bytes()      # 32 raw bytes
    assert len(secret) >= 32
    for form in {secret, secret.hex().encode(), secret.hex().upper().encode()}:
        assert not [k for k, v in held.items() if form in v], "the server secret is in Redis"
    # nor in what Redis wrote to disk
    aof = redis.aof_bytes()
    assert not [f[:12] for f in forms if f.encode() in aof]


def test_a_node_with_a_foreign_secret_serves_no_one(make_cluster, redis):
    """A node whose secret file is not the one the store was made with
    opens no store: it logs no one in, and says which file is wrong."""
    cl = make_cluster(redis.store_keys(), n=2, redis_files=redis, start=False)
    a, b = cl.nodes
    a.start()
    secret = Path(b.config["store"]["secret_file"])
    data = bytearray(secret.read_bytes())
    data[0] ^= 0xff
    secret.write_bytes(bytes(data))
    try:
        b.start(timeout=20)
    except RuntimeError as e:            # serve refused to start: fine, if it says why
        assert str(secret) in str(e), str(e)
    else:
        r = b.request("POST", SESSIONS, json={"UserName": "admin",
                                               "Password": a.admin_password})
        assert r.status_code == 503, f"a node with a foreign secret answered a login " \
                                     f"{r.status_code}: {r.text[:300]}"
        wait_for(lambda: str(secret) in b.stderr_text(), 10,
                 "the node's log names the secret file that does not match")
    assert a.login()[0]


def test_nodes_over_tls_with_an_acl_user_and_a_client_certificate(make_cluster, make_redis):
    """rediss://, verified against its CA, as the ACL user docs/scale-out.md
    grants, with a client certificate Redis requires."""
    redis = make_redis(user="gatehouse", tls=True, client_certs=True)
    cl = make_cluster(redis.store_keys(), n=2, redis_files=redis)
    a, b = cl.nodes
    token, _, _, _ = a.login("operator")
    assert redis.keys("gh:sess:*"), "no session in Redis"
    clients = redis.cli("CLIENT", "LIST").splitlines()
    assert any(" user=gatehouse " in f" {c} " for c in clients), clients
    assert b.token_status(token) == 200


def test_nodes_over_a_unix_socket(make_cluster, redis):
    cl = make_cluster({"url": redis.unix_url}, n=2)
    a, b = cl.nodes
    token, _, _, _ = a.login("operator")
    assert redis.keys("gh:sess:*"), "no session in Redis"
    assert b.token_status(token) == 200


def test_a_setting_and_an_account_changed_through_one_node_hold_on_every_node(cluster):
    """Live settings and account changes made through a dialect's API (not
    the command line) reach every node at once: SessionTimeout PATCHed on A
    is what B and C answer; an account disabled through B's API has its
    session refused on A and C."""
    a, b, c = cluster.nodes
    nodes = (a, b, c)
    readers = {gh: gh.session(auth=("admin", gh.admin_password)) for gh in nodes}
    try:
        with a.admin() as s:
            r = s.patch(a.url + "/redfish/v1/SessionService", json={"SessionTimeout": 1234},
                        timeout=10)
        assert r.status_code in (200, 204), r.text
        H.obeyed_at_once(lambda: all(
            readers[gh].get(gh.url + "/redfish/v1/SessionService",
                            timeout=10).json()["SessionTimeout"] == 1234 for gh in nodes))

        pw = cluster.add_user("erin", "Operator")
        token, _, _, _ = c.login("erin")
        for gh in nodes:
            assert gh.token_status(token) == 200
        with b.admin() as s:
            members = s.get(b.url + H.ACCOUNTS, timeout=10).json()["Members"]
            path = next(m["@odata.id"] for m in members
                        if s.get(b.url + m["@odata.id"], timeout=10).json()["UserName"] == "erin")
            r = s.patch(b.url + path, json={"Enabled": False}, timeout=10)
        assert r.status_code in (200, 204), r.text
        H.obeyed_at_once(_all_refuse(nodes, lambda gh: gh.token_status(token) == 401 and
                                     gh.request("GET", SYSTEMS,
                                                auth=("erin", pw)).status_code == 401))
    finally:
        for s in readers.values():
            s.close()
