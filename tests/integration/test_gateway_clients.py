"""The real clients, unchanged, through `gatehouse serve` in gateway mode
(`[server] upstream` = upstream_nginx.py: Debian's nginx serving the bundled
trees as static files): the oVirt SDK replay and Debian's libgovirt, the
PowerStore replays (PyPowerStore, gopowerstore) and Proxmox VE's proxmoxer.
Each runs the flow of its own test file (imported, not copied), and the
upstream's access log then shows that the client's API requests arrived
there while gatehouse's own endpoints (logins, sessions, SSO, local users,
API tokens) never did.

What gateway mode changes for a client, and why (the assertions below say
it too):
- PowerStore queries (`select`, `name=eq.X`, `order`, paging by `Range`) are
  the upstream's to apply: gatehouse passes the query on unchanged, and the
  static upstream ignores it (whole documents, every member, no 206). So
  PyPowerStore's `select=id,name` gets whole volumes, and gopowerstore's
  `order=id`, which the bundled tree refuses (400), gets the upstream's 200.
  `login_session`, `local_user` and `role` stay gatehouse's and keep
  applying `select`.
- The oVirt API root (`/ovirt-engine/api`) is the engine's own document in
  gateway mode: the bundled tree has none (gatehouse renders one), so the
  upstream serves the engine's <api> (upstream_nginx.py) and the clients
  read its links and product_info.
- Proxmox VE: `nodes/nosuch/status` is the upstream's own 404 (nginx's
  page), which proxmoxer reads by its status alone."""

import pytest

import gatehouse_harness as H
from conftest import _finish, _new
from ovirt_util import API as OVIRT_API, LOGOUT, TOKEN, bearer
from test_ovirt_sdk import connect
from test_ovirt_sdk import test_sdk_gets_a_new_token_once_on_401 as sdk_new_token_flow
from test_ovirt_sdk import test_sdk_session as sdk_session_flow
from test_powerstore_clients import (LOGIN_SESSION_DETAILS_QUERY, LOCAL_USER_DETAILS_QUERY,
                                     SELECT_ID_AND_NAME, SELECT_VERSION, GoPowerStoreReplay,
                                     PowerStoreError, PyPowerStoreReplay, go_query)
from test_proxmox import test_api_token_lifecycle as proxmox_token_flow
from test_proxmox import test_password_login_and_reads as proxmox_reads_flow
from test_proxmox import test_ticket_renewal as proxmox_renewal_flow
from upstream_nginx import MARK, UpstreamNginx

PS = "/api/rest"
PVE = "/api2/json"


@pytest.fixture(scope="module")
def upstream(base_dir):
    up = UpstreamNginx(base_dir, name="clients-upstream")
    yield up
    up.stop()


@pytest.fixture(scope="module")
def gw(base_dir, upstream):
    """One gateway for the module, every dialect guarding the upstream, with
    the accounts of the shared server (admin, operator, reader)."""
    gh = _new(base_dir, "gw-clients", {"lockout": {"lockout_threshold": 0},
                                       "server": {"upstream": upstream.url}}, start=False)
    gh.add_user("operator", "Operator")
    gh.add_user("reader", "ReadOnly")
    gh.start()
    try:
        yield gh
    finally:
        _finish(gh)


def seen_since(upstream, mark):
    return upstream.seen()[mark:]


def none_of(seen, *parts):
    hits = [line for line in seen if any(p in line for p in parts)]
    assert not hits, f"gatehouse's own endpoints reached the upstream: {hits}"


# -------------------------------------------------------------------- oVirt

def test_ovirt_sdk_session(gw, upstream):
    mark = len(upstream.seen())
    sdk_session_flow(gw)
    seen = seen_since(upstream, mark)
    assert f"GET {OVIRT_API} 200" in seen
    assert f"GET {OVIRT_API}/vms 200" in seen and f"GET {OVIRT_API}/hosts 200" in seen
    assert any(line.startswith(f"GET {OVIRT_API}/clusters/") for line in seen), seen
    none_of(seen, TOKEN, LOGOUT)


def test_ovirt_sdk_reads_the_upstreams_root(gw, upstream):
    """The <api> document the SDK gets is the engine's (upstream's), not the
    one gatehouse renders on the bundled tree."""
    conn = connect(gw)
    api = conn.get("")
    assert api.findtext("product_info/name") == "oVirt Engine (upstream)"
    token = conn._sso_token
    conn.close()
    assert gw.get(OVIRT_API, headers=bearer(token)).status_code == 401


def test_ovirt_sdk_new_token_once_on_401(gw, upstream):
    mark = len(upstream.seen())
    sdk_new_token_flow(gw)
    seen = seen_since(upstream, mark)
    # the GET refused for its ended token never arrived; its repetition did
    assert seen.count(f"GET {OVIRT_API}/clusters 200") == 1, seen
    none_of(seen, TOKEN, LOGOUT)


def test_libgovirt_through_the_gateway(make_server, upstream, tmp_path):
    """Debian's libgovirt (its own test's flow): Basic admin@internal with
    Prefer: persistent-auth over HTTP/1.1, the CA from gatehouse's
    pki-resource, the API root and each collection it links from the
    upstream, in one gatehouse session (the JSESSIONID set on the upstream's
    answer)."""
    from test_ovirt_libgovirt import govirt_available
    if not govirt_available():
        pytest.skip("gir1.2-govirt-1.0 missing: scripts/install-deps")
    from test_ovirt_libgovirt import test_libgovirt_over_http1_basic_persistent_auth as flow
    gh = make_server(config={"server": {"upstream": upstream.url}})
    mark = len(upstream.seen())
    flow(gh, tmp_path)
    seen = seen_since(upstream, mark)
    for path in (OVIRT_API, OVIRT_API + "/vms", OVIRT_API + "/hosts", OVIRT_API + "/clusters"):
        assert f"GET {path} 200" in seen, (path, seen)
    none_of(seen, "/pki-resource")


# --------------------------------------------------------------- PowerStore

def test_pypowerstore_through_the_gateway(gw, upstream):
    """PyPowerStore's sequence (test_powerstore_clients.py) where gateway
    mode changes nothing for it; the queries go on unchanged for the
    upstream to apply."""
    mark = len(upstream.seen())
    c = PyPowerStoreReplay(gw, "admin", gw.admin_password)
    versions = c.request("GET", PS + "/software_installed", querystring=SELECT_VERSION)
    assert versions[0]["release_version"] == "3.6.0.0"
    # login_session is gatehouse's, with its select applied
    assert set(c.login_session) == set(LOGIN_SESSION_DETAILS_QUERY["select"].split(","))
    assert c.login_session["user"] == "admin" and c.dell_emc_token and c.cookie
    vols = c.request("GET", PS + "/volume", querystring=SELECT_ID_AND_NAME, all_pages=True)
    assert [v["name"] for v in vols] == ["vmfs-datastore-01", "oracle-data-01", "scratch-01"]
    assert set(vols[0]) > {"id", "name"}         # the static upstream ignores select
    hosts = c.request("GET", PS + "/host", querystring=SELECT_ID_AND_NAME)
    assert sorted(h["name"] for h in hosts) == ["esx-prod-01", "linux-db-01"]
    roles = c.request("GET", PS + "/role", querystring=SELECT_ID_AND_NAME)
    assert len(roles) == 5 and all(set(r) == {"id", "name"} for r in roles)
    pw = H.new_password()
    gw.secrets.add(pw)
    made = c.request("POST", PS + "/local_user",
                     payload={"name": "pyuser", "password": pw, "role_id": "3"})
    assert c.request("PATCH", PS + "/local_user/" + made["id"], payload={"role_id": "4"}) is None
    got = c.request("GET", PS + "/local_user/" + made["id"], querystring=LOCAL_USER_DETAILS_QUERY)
    assert got["name"] == "pyuser" and got["role_id"] == "4"
    assert c.request("DELETE", PS + "/local_user/" + made["id"]) is None
    # a write to the upstream's resource with the session's token passes the
    # CSRF check and arrives (the static upstream answers 405 itself)
    with pytest.raises(PowerStoreError) as e:
        c.request("POST", PS + "/volume", payload={"name": "new-vol", "size": 1 << 30})
    assert e.value.response.status_code == 405
    assert e.value.response.headers["X-Upstream"] == MARK
    token, cookie = c.dell_emc_token, c.cookie
    assert c.logout_session().status_code == 204
    r = c._send("GET", PS + "/volume", headers={
        **c.headers, "DELL-EMC-TOKEN": token, "Cookie": f"auth_cookie={cookie}"})
    assert r.status_code == 401 and "X-Upstream" not in r.headers
    seen = seen_since(upstream, mark)
    assert f"GET {PS}/software_installed?select=release_version 200" in seen, seen
    assert f"GET {PS}/volume?select=id%2Cname 200" in seen, seen
    assert f"POST {PS}/volume 405" in seen
    none_of(seen, "/login_session", "/local_user", "/logout", "/role")


def test_gopowerstore_through_the_gateway(gw, upstream):
    mark = len(upstream.seen())
    pw = gw.add_user("csi", "Administrator")
    c = GoPowerStoreReplay(gw, "csi", pw)
    assert c.token and "auth_cookie" in c.s.cookies
    gw.secrets.add(c.s.cookies["auth_cookie"])
    # order=id: the bundled tree refuses it (400); the upstream decides here
    meta, installed = c.query("GET", "software_installed", params=go_query(
        ("select", "id,is_cluster,release_version,build_version,build_id"),
        ("order", "id"), ("offset", "0"), ("limit", "1000")))
    assert meta["status"] == 200 and installed[0]["release_version"] == "3.6.0.0"
    meta, clusters = c.query("GET", "cluster", params=go_query(
        ("select", "id,name,management_address,state,system_time")))
    assert meta["status"] == 200 and clusters[0]["id"] == "0"
    meta, vols = c.query("GET", "volume", params=go_query(("select", "*"),
                                                         ("name", "eq.oracle-data-01")))
    assert meta["status"] == 200 and "oracle-data-01" in [v["name"] for v in vols]
    # a write to the upstream's resource as Query sends it (the jar's cookie,
    # the last DELL-EMC-TOKEN, Basic): it arrives, and the static upstream's
    # own 405 (an HTML page, which Query could not read) passes unchanged
    r = c.s.request("POST", f"{gw.url}{PS}/volume", headers={"DELL-EMC-TOKEN": c.token},
                    data=b'{"name":"go-vol","size":1073741824}', timeout=10)
    assert r.status_code == 405 and r.headers["X-Upstream"] == MARK, r.text
    # the session behind the jar revoked: Basic still carries every request
    gw.cli("session", "revoke", "--user", "csi")
    meta, vols = c.query("GET", "volume")
    assert meta["status"] == 200 and len(vols) == 3
    # a ReadOnly account's write is refused by gatehouse and never arrives,
    # also after the client's login-and-repeat on 403
    ro = GoPowerStoreReplay(gw, "reader", gw.users["reader"])
    meta, err = ro.query("POST", "volume", body={"name": "ro-vol", "size": 1})
    assert meta["status"] == 403 and err["messages"][0]["code"] == "0xE1403002"
    seen = seen_since(upstream, mark)
    assert seen.count(f"POST {PS}/volume 405") == 1, seen
    assert any(line.startswith(f"GET {PS}/software_installed?") and "order=id" in line
               for line in seen), seen
    none_of(seen, "/login_session", "/local_user")


# -------------------------------------------------------------- Proxmox VE

def test_proxmoxer_through_the_gateway(gw, upstream):
    mark = len(upstream.seen())
    proxmox_reads_flow(gw)
    proxmox_renewal_flow(gw)
    proxmox_token_flow(gw)
    seen = seen_since(upstream, mark)
    for line in (f"GET {PVE}/version 200", f"GET {PVE}/nodes 200",
                 f"GET {PVE}/nodes/pve1/status 200", f"GET {PVE}/nodes/nosuch/status 404"):
        assert line in seen, (line, seen)
    none_of(seen, "/access/")


def test_declared_get_body_that_never_comes_is_not_waited_for(gw, upstream):
    """libgovirt's retry after its 401 (test_ovirt_libgovirt.py): a GET with
    Basic and Content-Length: 17, and no body. Passed on, the proxy waited
    for the 17 bytes until client_body_timeout and broke the connection
    (libgovirt: "Connection terminated unexpectedly"). A GET's body is
    dropped as on the bundled tree: answered at once with the upstream's
    document, no body passed on, the connection closed; and a GET whose body
    does arrive keeps its connection."""
    from test_ovirt_libgovirt import RETRY_BODY, get_head, raw_exchange, status_of
    creds = "admin@internal:" + gw.admin_password
    mark = len(upstream.seen())
    first, after = raw_exchange(gw, get_head(creds), more=get_head(creds) + RETRY_BODY)
    assert status_of(first) == 200 and b"oVirt Engine (upstream)" in first, first[:400]
    assert b"\r\nConnection: close\r\n" in first
    assert status_of(after) is None
    first, after = raw_exchange(gw, get_head(creds) + RETRY_BODY,
                                more=get_head(creds) + RETRY_BODY)
    assert status_of(first) == 200 and b"\r\nConnection: keep-alive\r\n" in first
    assert status_of(after) == 200 and b"oVirt Engine (upstream)" in after
    assert upstream.seen()[mark:] == [f"GET {OVIRT_API} 200"] * 3
